import { ForbiddenException } from '@nestjs/common';

/** A 403 with Palisade's stable body `{ statusCode: 403, error: 'Forbidden', message }`. */
export class AccessDeniedException extends ForbiddenException {
  constructor(message = 'Access denied') {
    super({ statusCode: 403, error: 'Forbidden', message });
  }
}
