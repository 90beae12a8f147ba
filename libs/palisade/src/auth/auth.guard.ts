import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { judgeCall, transportOf } from '../transport/invocation.js';
import { Authenticator } from './authenticator.service.js';

/**
 * Authenticates every call of the handlers it guards with the schemes each accepts (`@Auth(...)`,
 * else `auth.defaultSchemes`) and attaches the principal to `request.user`; `@Public()` handlers
 * pass untouched. A failure is a 401 with `WWW-Authenticate` challenges over HTTP, a GraphQL error
 * with `extensions.code: 'UNAUTHENTICATED'` under a resolver, and an `exception` event on a
 * WebSocket. A call of any other kind (a microservice message) is refused unless `@Public()`.
 *
 * Register it globally with `PalisadeModule.forRoot({ ..., global: true })` or per controller,
 * resolver or gateway with `@UseGuards(AuthGuard)`.
 *
 * @example
 * \@Controller('orders') \@UseGuards(AuthGuard) export class OrdersController {}
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(private readonly authenticator: Authenticator) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const transport = transportOf(context);
    if (transport === 'http') return this.authenticate(context);
    if (transport === undefined) return this.authenticator.refuseUnsupported(context);
    return judgeCall(transport, () => this.authenticate(context));
  }

  private authenticate(context: ExecutionContext): boolean | Promise<boolean> {
    const result = this.authenticator.authenticateContext(context);
    return result instanceof Promise ? result.then(() => true) : true;
  }
}
