import { UnauthorizedException } from '@nestjs/common';

/**
 * A 401 with Palisade's stable body `{ statusCode: 401, error: 'Unauthorized', message }`. The
 * `WWW-Authenticate` challenges are set on the response by the guard.
 */
export class AuthenticationFailedException extends UnauthorizedException {
  constructor(message = 'Authentication required') {
    super({ statusCode: 401, error: 'Unauthorized', message });
  }
}
