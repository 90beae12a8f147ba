import type { ContentSecurityPolicyOptions } from '../headers/headers-options.interface.js';
import type { ThrottleTierOverride } from '../throttle/throttle.decorator.js';

/**
 * Options of `GraphiqlModule.forRoot()`: where the self-hosted GraphiQL page is served and what it
 * talks to. Validated once, when the module is built.
 *
 * @example
 * GraphiqlModule.forRoot({ path: '/graphiql', endpoint: '/graphql', throttle: { default: { limit: 30, ttl: '1m' } } })
 */
export interface GraphiqlOptions {
  /**
   * Absolute path of the page (`/graphiql` by default). Its script and style files are served
   * beneath it (`/graphiql/graphiql.min.js`, …), from the same origin.
   */
  path?: string;
  /**
   * The GraphQL endpoint the page sends queries to: an absolute path on the same origin
   * (`/graphql` by default). Another origin is refused: the page sends the user's token with
   * every query, and its policy only lets it connect to its own origin.
   */
  endpoint?: string;
  /** The page's `<title>`. Default `GraphiQL`. */
  title?: string;
  /**
   * Tiers applied to the page and its files, as `@Throttle()` (durations in milliseconds or as
   * strings). The page is public, so they count per client address. Default: the module's tiers.
   * Naming a tier that is not configured stops the app at startup.
   */
  throttle?: Readonly<Record<string, ThrottleTierOverride>>;
  /**
   * The page's Content-Security-Policy, as `@SecurityHeaders()` takes it. Default
   * `{ preset: 'graphiql' }`; `directives` given without a `preset` change that preset
   * (`connect-src` for a subscription origin, say). `script-src` must keep `CSP_NONCE` and must not
   * hold `'unsafe-inline'`: the page loads its scripts by nonce, and the app refuses to start
   * otherwise.
   */
  contentSecurityPolicy?: ContentSecurityPolicyOptions;
}
