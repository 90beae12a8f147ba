/**
 * `@palisade/nest/graphiql`: a self-hosted GraphiQL page (no CDN), public, throttled per client
 * address and under its own nonce-based CSP (the `graphiql` preset), for a GraphQL API guarded by
 * Palisade. Needs `graphiql@3`, `react@18` and `react-dom@18`, optional peer dependencies read only
 * by this entry point.
 * @packageDocumentation
 */
export { GraphiqlModule } from './graphiql.module.js';
export type { GraphiqlOptions } from './graphiql-options.interface.js';
