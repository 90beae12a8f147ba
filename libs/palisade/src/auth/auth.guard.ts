import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Authenticator } from './authenticator.service.js';

/**
 * Authenticates every request of the routes it guards with the schemes each route accepts
 * (`@Auth(...)`, else `auth.defaultSchemes`) and attaches the principal to `request.user`;
 * `@Public()` routes pass untouched. A failure is a 401 with `WWW-Authenticate` challenges.
 *
 * Register it globally with `PalisadeModule.forRoot({ ..., global: true })` or per controller with
 * `@UseGuards(AuthGuard)`.
 *
 * @example
 * \@Controller('orders') \@UseGuards(AuthGuard) export class OrdersController {}
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(private readonly authenticator: Authenticator) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const result = this.authenticator.authenticateContext(context);
    return result instanceof Promise ? result.then(() => true) : true;
  }
}
