import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Principal } from './principal.interface.js';
import { judgedRequestOf } from '../transport/invocation.js';

/**
 * Injects the authenticated {@link Principal} (or `undefined` on a public or optional handler
 * without credentials), in HTTP route handlers, GraphQL resolvers and WebSocket message handlers.
 *
 * @example
 * \@Get('me') me(\@CurrentUser() user: Principal) { return user; }
 * \@Query(() => Profile) me(\@CurrentUser() user: Principal) { … }
 * \@SubscribeMessage('ping') ping(\@CurrentUser() user: Principal) { … }
 */
export const CurrentUser = createParamDecorator((_data: unknown, context: ExecutionContext): Principal | undefined => {
  return judgedRequestOf(context)?.user as Principal | undefined;
});
