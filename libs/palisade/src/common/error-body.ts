import { STATUS_CODES } from 'node:http';

/** Palisade's stable error body: the same three fields, in this order, on every 4xx and 5xx it writes. */
export interface ErrorBody {
  readonly statusCode: number;
  /** The status's reason phrase (`Bad Request`, `Request Header Fields Too Large`…). */
  readonly error: string;
  readonly message: string;
}

/** The error body of `status` with `message`. @internal */
export function errorBody(status: number, message: string): ErrorBody {
  return { statusCode: status, error: STATUS_CODES[status] ?? 'Error', message };
}
