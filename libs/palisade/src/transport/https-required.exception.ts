import { ForbiddenException } from '@nestjs/common';

/**
 * A 403 with Palisade's stable body `{ statusCode: 403, error: 'Forbidden', message: 'HTTPS is required' }`:
 * a plain-HTTP request that cannot be redirected (a method other than GET, HEAD, OPTIONS or TRACE,
 * or `https.redirect: false`).
 */
export class HttpsRequiredException extends ForbiddenException {
  constructor(message = 'HTTPS is required') {
    super({ statusCode: 403, error: 'Forbidden', message });
  }
}
