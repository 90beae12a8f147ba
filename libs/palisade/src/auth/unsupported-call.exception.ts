import { ForbiddenException } from '@nestjs/common';

/**
 * A call Palisade cannot judge (a microservice message, a GraphQL subscription without an HTTP
 * request, a transport added later) to a handler that is not `@Public()`: refused, never passed.
 * A 403 with Palisade's stable body; the application lists such handlers at startup.
 */
export class UnsupportedCallException extends ForbiddenException {
  constructor() {
    super({ statusCode: 403, error: 'Forbidden', message: 'This handler cannot be called on this transport' });
  }
}
