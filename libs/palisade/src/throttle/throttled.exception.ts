import { HttpStatus } from '@nestjs/common';
import { ThrottlerException } from '@nestjs/throttler';

/**
 * A 429 with Palisade's stable body `{ statusCode: 429, error: 'Too Many Requests', message }`. The
 * guard sets one `Retry-After` header (seconds) beside it. Extends `@nestjs/throttler`'s exception,
 * so filters written for it keep working.
 */
export class ThrottledException extends ThrottlerException {
  /**
   * @param message the fixed sentence of the body.
   * @param retryAfterSeconds when a retry can succeed, in seconds (also sent as `Retry-After` over
   *   HTTP, and as `retryAfter` to GraphQL and WebSocket clients).
   */
  constructor(
    message = 'Too many requests; retry later',
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }

  override getResponse(): object {
    return { statusCode: HttpStatus.TOO_MANY_REQUESTS, error: 'Too Many Requests', message: this.message };
  }
}
