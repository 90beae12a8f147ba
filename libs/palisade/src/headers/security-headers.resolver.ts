import { Inject, Injectable } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { RouteResolver } from '../common/route-resolver.js';
import { forEachRoute, routeName, type Handler } from '../common/routes.js';
import { UsesCspNonceMetadata } from './csp-nonce.decorator.js';
import { HEADERS_OPTIONS } from './headers.constants.js';
import { compileOverrides, type HeaderSet, type NormalizedHeadersOptions } from './headers-options.normalizer.js';
import { SecurityHeadersMetadata } from './security-headers.metadata.js';

/**
 * Compiles the `@SecurityHeaders()` of each route (controller's, then handler's, over the module's
 * headers) once and caches the result. Every route is compiled at application bootstrap, so a bad
 * directive or a `@CspNonce()` on a route whose policy has no nonce stops the app at startup.
 * @internal
 */
@Injectable()
export class SecurityHeadersResolver extends RouteResolver<HeaderSet | null> {
  constructor(
    reflector: Reflector,
    discovery: DiscoveryService,
    scanner: MetadataScanner,
    @Inject(HEADERS_OPTIONS) private readonly headers: NormalizedHeadersOptions,
  ) {
    super(reflector, discovery, scanner);
  }

  override onApplicationBootstrap(): void {
    forEachRoute(this.discovery, this.scanner, (handler, controller) => {
      const set = this.resolve(handler, controller) ?? this.headers.base;
      if (this.reflector.get(UsesCspNonceMetadata, handler) === true && !set.usesNonce) {
        throw new Error(
          `PalisadeModule: ${routeName(handler, controller)} takes @CspNonce() but its Content-Security-Policy has no CSP_NONCE; add CSP_NONCE to script-src or style-src (or use the 'page' preset) in @SecurityHeaders() or headers.contentSecurityPolicy.`,
        );
      }
    });
  }

  /** The route's own headers, or `null` when it has no `@SecurityHeaders()`. */
  protected compute(handler: Handler, controller: object, where: string): HeaderSet | null {
    const onController = this.reflector.get(SecurityHeadersMetadata, controller as Handler) ?? [];
    const onHandler = this.reflector.get(SecurityHeadersMetadata, handler) ?? [];
    if (onController.length === 0 && onHandler.length === 0) return null;
    const layers = [
      ...onController.map((options) => [options, `@SecurityHeaders() on ${(controller as { name?: string }).name ?? 'controller'}`] as const),
      ...onHandler.map((options) => [options, `@SecurityHeaders() on ${where}`] as const),
    ];
    return compileOverrides(this.headers.scope, layers);
  }
}
