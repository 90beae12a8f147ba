import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import { nodeRequestOf, nodeResponseOf, type HttpRequestLike } from '../common/http-context.js';
import { TrustedProxy } from '../common/trusted-proxy.js';
import { HTTPS_OPTIONS } from './transport.constants.js';
import type { NormalizedHttpsOptions } from './https-options.normalizer.js';
import { HttpsRequiredException } from './https-required.exception.js';
import { redirectLocation } from './redirect-location.js';

/** Methods a redirect may repeat: safe methods (RFC 9110 §9.2.1) carry no body to leak. */
const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

type RawRequest = IncomingMessage & { originalUrl?: string };

/**
 * Enforces HTTPS (`https.enforce`): passes HTTPS requests (TLS, or a trusted proxy's
 * `X-Forwarded-Proto: https`), redirects plain-HTTP safe requests with a 308 to a host the app
 * serves, and refuses the others with `HttpsRequiredException` (403). Registered by
 * `PalisadeModule` for every route; it runs before guards and handlers.
 * @internal
 */
@Injectable()
export class HttpsEnforcementMiddleware implements NestMiddleware {
  constructor(
    @Inject(HTTPS_OPTIONS) private readonly https: NormalizedHttpsOptions,
    private readonly proxy: TrustedProxy,
  ) {}

  /** Passes, redirects or refuses the request (see the class). */
  use(request: IncomingMessage, response: object, next: (error?: unknown) => void): void {
    const raw = nodeRequestOf(request) as RawRequest;
    if (!this.https.enforce || this.isHttps(raw) || this.isExcluded(raw)) return next();
    const location = this.https.redirect && SAFE_METHODS.has(raw.method ?? '') ? redirectLocation(raw, this.https) : undefined;
    if (location === undefined) return this.onRefused(raw);
    this.redirect(nodeResponseOf(response), location);
  }

  /** True when the request came over HTTPS. */
  protected isHttps(request: RawRequest): boolean {
    return this.proxy.protocol(request as unknown as HttpRequestLike) === 'https';
  }

  /** Sends the 308 to `location`. */
  protected redirect(response: ServerResponse, location: string): void {
    response.statusCode = 308;
    response.setHeader('Location', location);
    response.setHeader('Content-Length', '0');
    response.end();
  }

  /** Refuses a plain-HTTP request that is not redirected. Override to change the answer. */
  protected onRefused(_request: RawRequest): never {
    throw new HttpsRequiredException();
  }

  private isExcluded(request: RawRequest): boolean {
    const { exclude } = this.https;
    if (exclude.length === 0) return false;
    const url = request.originalUrl ?? request.url ?? '/';
    const query = url.indexOf('?');
    const path = query < 0 ? url : url.slice(0, query);
    return exclude.some((prefix) => path.startsWith(prefix) && (path.length === prefix.length || path.charCodeAt(prefix.length) === 47));
  }
}
