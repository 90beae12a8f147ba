import { Reflector } from '@nestjs/core';
import { applyDecorators } from '@nestjs/common';
import type { AuthScheme } from './principal.interface.js';

/** Options of {@link Auth} in its object form. */
export interface AuthRequirement {
  /** Schemes this route accepts, tried in order. Default: the module's `auth.defaultSchemes`. */
  schemes?: readonly AuthScheme[];
  /**
   * Let anonymous callers through with no principal (`@CurrentUser()` is `undefined`). A caller
   * who presents a credential must still present a valid one: a bad credential is a 401.
   */
  optional?: boolean;
}

/** @internal Metadata written by `@Auth`. */
export const AuthMetadata = Reflector.createDecorator<AuthRequirement>();
/**
 * @internal Written by decorators that need a caller (`@Roles`, `@Scopes`, `@Policy`): on a handler
 * of a `@Public()` controller, it makes that handler require authentication again.
 */
export const RequiresPrincipalMetadata = Reflector.createDecorator<boolean>({ transform: () => true });
/** @internal Metadata written by `@Public`. */
export const PublicMetadata = Reflector.createDecorator<boolean>({ transform: () => true });

/**
 * Declares which authentication schemes a route or controller accepts.
 *
 * Precedence: a handler's `@Auth` replaces its controller's (`schemes` and `optional` are taken
 * from the handler when it sets them, otherwise from the controller).
 *
 * @example
 * \@Auth('jwt', 'api-key')            // either scheme
 * \@Auth({ optional: true })          // anonymous allowed, principal when credentials are sent
 */
export function Auth(...schemes: AuthScheme[]): MethodDecorator & ClassDecorator;
export function Auth(requirement: AuthRequirement): MethodDecorator & ClassDecorator;
export function Auth(...args: (AuthScheme | AuthRequirement)[]): MethodDecorator & ClassDecorator {
  const [first] = args;
  const requirement: AuthRequirement = typeof first === 'object' && first !== null ? { ...first } : { schemes: args as AuthScheme[] };
  return applyDecorators(AuthMetadata(requirement));
}

/**
 * Exempts a route, or every route of a controller, from authentication: no credential is read
 * and no principal is attached.
 *
 * @example
 * \@Get('health') \@Public() health() { return { status: 'ok' }; }
 */
export function Public(): MethodDecorator & ClassDecorator {
  return applyDecorators(PublicMetadata());
}
