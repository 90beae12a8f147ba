import { HttpStatus, type HttpException } from '@nestjs/common';
import { errorBody, type ErrorBody } from '../common/error-body.js';

/**
 * What a GraphQL client (in `extensions`) and a WebSocket client (in the `exception` event) learn
 * of a refused call: Palisade's stable error body, a transport-neutral `code`, and the retry delay
 * in seconds when there is one. The message is the same fixed sentence as over HTTP; nothing of the
 * configuration reaches the client.
 */
export interface CallError extends ErrorBody {
  /** `UNAUTHENTICATED` (401), `FORBIDDEN` (403), `TOO_MANY_REQUESTS` (429), `SERVICE_UNAVAILABLE` (503), `BAD_REQUEST` (400) … */
  readonly code: string;
  /** Seconds before a retry can succeed (429 and 503 only). */
  readonly retryAfter?: number;
}

const CODES: Readonly<Record<number, string>> = {
  [HttpStatus.BAD_REQUEST]: 'BAD_REQUEST',
  [HttpStatus.UNAUTHORIZED]: 'UNAUTHENTICATED',
  [HttpStatus.FORBIDDEN]: 'FORBIDDEN',
  [HttpStatus.NOT_FOUND]: 'NOT_FOUND',
  [HttpStatus.PAYLOAD_TOO_LARGE]: 'PAYLOAD_TOO_LARGE',
  [HttpStatus.TOO_MANY_REQUESTS]: 'TOO_MANY_REQUESTS',
  [HttpStatus.SERVICE_UNAVAILABLE]: 'SERVICE_UNAVAILABLE',
};

/** An exception that knows when to come back (Palisade's 429s and 503s). @internal */
export interface RetryAfterAware {
  /** Seconds before a retry can succeed. */
  readonly retryAfterSeconds?: number;
}

/** The stable error of an HTTP exception, for transports that have no status line. @internal */
export function callErrorOf(exception: HttpException): CallError {
  const status = exception.getStatus();
  const response = exception.getResponse();
  const message =
    typeof response === 'object' && response !== null && typeof (response as { message?: unknown }).message === 'string'
      ? (response as { message: string }).message
      : exception.message;
  const body = errorBody(status, message);
  const code = CODES[status] ?? (status >= 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST');
  const known = (exception as RetryAfterAware).retryAfterSeconds;
  const retryAfter = typeof known === 'number' ? known : status === HttpStatus.SERVICE_UNAVAILABLE ? 1 : undefined;
  return retryAfter === undefined ? { ...body, code } : { ...body, code, retryAfter };
}
