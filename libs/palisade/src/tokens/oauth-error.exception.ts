import { HttpException } from '@nestjs/common';

/** The error codes of a token endpoint (RFC 6749 §5.2). */
export type OAuthErrorCode = 'invalid_request' | 'invalid_grant' | 'unsupported_grant_type' | 'invalid_scope' | 'invalid_client' | 'unauthorized_client';

/**
 * An error of a token endpoint, with the body RFC 6749 §5.2 prescribes:
 * `{ "error": "invalid_grant", "error_description": "…" }` (400 unless stated).
 */
export class OAuthErrorException extends HttpException {
  constructor(
    readonly error: OAuthErrorCode,
    description: string,
    status = 400,
  ) {
    super({ error, error_description: description }, status);
  }
}
