import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Principal } from './principal.interface.js';
import { getRequest } from '../common/http-context.js';

/**
 * Injects the authenticated {@link Principal} (or `undefined` on a public or optional route
 * without credentials).
 *
 * @example
 * \@Get('me') me(\@CurrentUser() user: Principal) { return user; }
 */
export const CurrentUser = createParamDecorator((_data: unknown, context: ExecutionContext): Principal | undefined => {
  return getRequest(context).user as Principal | undefined;
});
