import { applyDecorators, UseInterceptors } from '@nestjs/common';
import { appendMetadata } from '../common/append-metadata.js';
import type { SecurityHeadersOverride } from './headers-options.interface.js';
import { SecurityHeadersInterceptor } from './security-headers.interceptor.js';
import { SecurityHeadersMetadata } from './security-headers.metadata.js';

/**
 * Changes the security headers of a route, or of every route of a controller. Options have the
 * shape of the module's `headers` options and merge over them: the controller's over the module's,
 * the handler's over the controller's. Validated and compiled once, at application bootstrap.
 *
 * The decorator attaches `SecurityHeadersInterceptor` to the route or controller itself (routes
 * without overrides pay for no interceptor), so it changes the responses of the handler — its
 * result or its exception. A request rejected before the handler (401, 403, 429) keeps the
 * module's stricter headers.
 *
 * @example
 * \@Get('report.html')
 * \@SecurityHeaders({ contentSecurityPolicy: { preset: 'page' } })
 * page(\@CspNonce() nonce: string) { return `<script nonce="${nonce}">…</script>`; }
 *
 * @example
 * \@SecurityHeaders({ crossOriginResourcePolicy: { policy: 'cross-origin' }, cacheControl: 'public, max-age=300' })
 */
export function SecurityHeaders(options: SecurityHeadersOverride): MethodDecorator & ClassDecorator {
  return applyDecorators(appendMetadata(SecurityHeadersMetadata, Object.freeze({ ...options })), UseInterceptors(SecurityHeadersInterceptor));
}
