import type { IncomingMessage } from 'node:http';
import { Injectable, type NestMiddleware } from '@nestjs/common';
import { nodeRequestOf, nodeResponseOf } from '../common/http-context.js';
import { SecurityHeadersService } from './security-headers.service.js';

/**
 * Applies the module's security headers in Nest's middleware chain, for every route (Palisade
 * registers it for all paths) on an adapter other than Express and Fastify, where
 * `SecurityHeadersService` has no framework hook to install. A header that cannot be written
 * hands a 500 to the error layer (see `SecurityHeadersService.applyOrReject`).
 * @internal
 */
@Injectable()
export class SecurityHeadersMiddleware implements NestMiddleware {
  constructor(private readonly headers: SecurityHeadersService) {}

  /** Writes the headers (once per request), then continues. */
  use(request: IncomingMessage, response: object, next: (error?: unknown) => void): void {
    const raw = nodeResponseOf(response);
    const error = this.headers.applyOrReject(nodeRequestOf(request), raw);
    if (error === undefined) this.headers.removePoweredBy(raw);
    next(error);
  }
}
