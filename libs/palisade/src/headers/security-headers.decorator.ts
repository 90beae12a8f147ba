import { Reflector } from '@nestjs/core';
import { appendMetadata } from '../common/append-metadata.js';
import type { SecurityHeadersOverride } from './headers-options.interface.js';

/** @internal One entry per `@SecurityHeaders(...)`, in the order they apply (the top one last). */
export const SecurityHeadersMetadata = Reflector.createDecorator<SecurityHeadersOverride[]>();

/**
 * Changes the security headers of a route, or of every route of a controller. Options have the
 * shape of the module's `headers` options and merge over them: the controller's over the module's,
 * the handler's over the controller's. Validated and compiled once, at application bootstrap.
 *
 * Applied by `SecurityHeadersInterceptor` (registered app-wide with `global: true`, otherwise add
 * `@UseInterceptors(SecurityHeadersInterceptor)`), so it changes the responses of the handler —
 * its result or its exception. A request rejected before the handler (401, 403, 429) keeps the
 * module's stricter headers.
 *
 * @example
 * \@Get('report.html')
 * \@SecurityHeaders({ contentSecurityPolicy: { preset: 'page' } })
 * page(\@CspNonce() nonce: string) { return `<script nonce="${nonce}">…</script>`; }
 *
 * @example
 * \@SecurityHeaders({ crossOriginResourcePolicy: 'cross-origin', cacheControl: 'public, max-age=300' })
 */
export function SecurityHeaders(options: SecurityHeadersOverride): MethodDecorator & ClassDecorator {
  return appendMetadata(SecurityHeadersMetadata, Object.freeze({ ...options }));
}
