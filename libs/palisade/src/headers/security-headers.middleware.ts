import type { IncomingMessage } from 'node:http';
import { Injectable, type NestMiddleware } from '@nestjs/common';
import { nodeRequestOf, nodeResponseOf } from '../common/http-context.js';
import { SecurityHeadersService } from './security-headers.service.js';

/**
 * Applies the module's security headers in Nest's middleware chain, for every route (Palisade
 * registers it for all paths). Requests that reached the HTTP server already have them from
 * `SecurityHeadersService`'s server listener; this covers the others (Fastify's `inject()`, an
 * app served through another server) and removes an `X-Powered-By` set after the listener ran.
 * @internal
 */
@Injectable()
export class SecurityHeadersMiddleware implements NestMiddleware {
  constructor(private readonly headers: SecurityHeadersService) {}

  /** Writes the headers unless the server listener already did, then continues. */
  use(request: IncomingMessage, response: object, next: (error?: unknown) => void): void {
    const raw = nodeResponseOf(response);
    this.headers.applyDefaults(nodeRequestOf(request), raw);
    this.headers.removePoweredBy(raw);
    next();
  }
}
