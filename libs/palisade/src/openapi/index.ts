/**
 * `@palisade/nest/openapi`: the OpenAPI document of an application, completed from what Palisade
 * enforces on each route (security schemes, per-operation `security`, 401/403/429/503 responses).
 * Needs `@nestjs/swagger`, an optional peer dependency: only this entry point imports it.
 * @packageDocumentation
 */
export { createPalisadeDocument, ERROR_SCHEMA } from './palisade-document.js';
export type { PalisadeDocumentOptions } from './openapi-options.interface.js';
