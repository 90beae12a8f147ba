import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { forEachRoute, routeName, type Handler } from '../common/routes.js';
import { PALISADE_OPTIONS } from '../common/palisade.constants.js';
import type { NormalizedPalisadeOptions } from '../common/palisade-options.normalizer.js';
import { UsesCspNonceMetadata } from './csp-nonce.decorator.js';
import type { HeaderSet } from './headers-options.normalizer.js';
import { SecurityHeadersMetadata } from './security-headers.metadata.js';

/**
 * Compiles the `@SecurityHeaders()` of each route (controller's, then handler's, over the module's
 * headers) once and caches the result. Every route is compiled at application bootstrap, so a bad
 * directive or a `@CspNonce()` on a route whose policy has no nonce stops the app at startup.
 * @internal
 */
@Injectable()
export class SecurityHeadersResolver implements OnApplicationBootstrap {
  private readonly cache = new WeakMap<Handler, HeaderSet | null>();

  constructor(
    private readonly reflector: Reflector,
    @Inject(PALISADE_OPTIONS) private readonly options: NormalizedPalisadeOptions,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
  ) {}

  onApplicationBootstrap(): void {
    forEachRoute(this.discovery, this.scanner, (handler, controller) => {
      const set = this.resolve(handler, controller) ?? this.options.headers.base;
      if (this.reflector.get(UsesCspNonceMetadata, handler) === true && !set.usesNonce) {
        throw new Error(
          `PalisadeModule: ${routeName(handler, controller)} takes @CspNonce() but its Content-Security-Policy has no CSP_NONCE; add CSP_NONCE to script-src or style-src (or use the 'page' preset) in @SecurityHeaders() or headers.contentSecurityPolicy.`,
        );
      }
    });
  }

  /** The route's own headers, or `undefined` when it has no `@SecurityHeaders()`. */
  resolve(handler: Handler, controller: object): HeaderSet | undefined {
    let cached = this.cache.get(handler);
    if (cached === undefined) {
      cached = this.compute(handler, controller);
      this.cache.set(handler, cached);
    }
    return cached ?? undefined;
  }

  private compute(handler: Handler, controller: object): HeaderSet | null {
    const onController = this.reflector.get(SecurityHeadersMetadata, controller as Handler) ?? [];
    const onHandler = this.reflector.get(SecurityHeadersMetadata, handler) ?? [];
    if (onController.length === 0 && onHandler.length === 0) return null;
    const where = routeName(handler, controller);
    const layers = [
      ...onController.map((options) => [options, `@SecurityHeaders() on ${(controller as { name?: string }).name ?? 'controller'}`] as const),
      ...onHandler.map((options) => [options, `@SecurityHeaders() on ${where}`] as const),
    ];
    return this.options.headers.compileOverrides(layers);
  }
}
