import { ServiceUnavailableException } from '@nestjs/common';
import type { HttpAdapterHost } from '@nestjs/core';

/**
 * 503 answered while a shared store (throttle counters, tokens) cannot answer and its policy is to
 * fail closed. Palisade sends `Retry-After: 1` beside it wherever it has the response.
 */
export class StoreUnavailableException extends ServiceUnavailableException {
  /** Seconds a client should wait before retrying (sent as `Retry-After`). */
  readonly retryAfterSeconds = 1;

  constructor(message: string) {
    super({ statusCode: 503, error: 'Service Unavailable', message });
  }
}

/**
 * Sets `Retry-After` on `response` (Express `res` or Fastify `reply`) when `error` is a store
 * outage's 503; anything else is left alone. The one place that pairs the two. @internal
 */
export function retryAfterForOutage(adapterHost: HttpAdapterHost | undefined, error: unknown, response: object | undefined): void {
  if (error instanceof StoreUnavailableException && response !== undefined) {
    adapterHost?.httpAdapter?.setHeader(response, 'Retry-After', String(error.retryAfterSeconds));
  }
}
