import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import type { HttpRequestLike } from '../common/http-context.js';
import { PALISADE_OPTIONS } from '../common/palisade.constants.js';
import type { NormalizedPalisadeOptions } from '../common/palisade-options.normalizer.js';
import { requestIdOf } from '../common/request-id.js';

/**
 * Gives every request its id (a trusted proxy's `X-Request-Id`, else a new UUID) and echoes it in
 * the response's `X-Request-Id`, so a client, a log line and a security event can be tied together.
 * @internal
 */
@Injectable()
export class RequestIdMiddleware implements NestMiddleware {
  constructor(@Inject(PALISADE_OPTIONS) private readonly options: NormalizedPalisadeOptions) {}

  use(request: IncomingMessage, response: ServerResponse, next: () => void): void {
    if (!response.headersSent) response.setHeader('X-Request-Id', requestIdOf(request as unknown as HttpRequestLike, this.options.proxy));
    next();
  }
}
