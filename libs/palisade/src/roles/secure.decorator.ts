import { applyDecorators } from '@nestjs/common';
import { Throttle, type ThrottleTierOverride } from '../throttle/throttle.decorator.js';
import { Auth, type AuthRequirement } from '../auth/auth.decorator.js';
import type { AuthScheme } from '../auth/principal.interface.js';
import type { Policy as PolicyType } from './policy.interface.js';
import { Policy } from './policy.decorator.js';
import { Roles } from './roles.decorator.js';
import { Scopes } from './scopes.decorator.js';

/** Per-tier limits, as `@Throttle` takes them. */
export type ThrottleRequirement = Record<string, ThrottleTierOverride>;

/** Everything a route or controller requires, in one place (see {@link Secure}). */
export interface SecureOptions {
  /** Accepted schemes, or the object form of `@Auth`. */
  auth?: readonly AuthScheme[] | AuthRequirement;
  /** Any-of roles (as `@Roles`). */
  roles?: readonly string[];
  /** All-of scopes (as `@Scopes`). */
  scopes?: readonly string[];
  /** Policies that must all allow (as `@Policy`). */
  policies?: readonly PolicyType[];
  /** Per-throttler limits (as `@Throttle` of `@nestjs/throttler`). */
  throttle?: ThrottleRequirement;
}

/**
 * All requirements of a route or a controller in one decorator — the analogue of FastAPI's
 * `Security(...)` / `APIRouter(dependencies=[...])`. Equivalent to writing `@Auth`, `@Roles`,
 * `@Scopes`, `@Policy` and `@Throttle` one by one, and accumulates with them the same way.
 *
 * @example
 * \@Controller('reports')
 * \@Secure({ roles: ['analyst'], scopes: ['reports:read'] })
 * export class ReportsController {}
 */
export function Secure(options: SecureOptions): MethodDecorator & ClassDecorator {
  const decorators: (MethodDecorator & ClassDecorator)[] = [];
  const { auth, roles, scopes, policies, throttle } = options;
  if (auth !== undefined) decorators.push(Array.isArray(auth) ? Auth(...(auth as AuthScheme[])) : Auth(auth as AuthRequirement));
  if (roles !== undefined) decorators.push(Roles(...(roles as [string, ...string[]])));
  if (scopes !== undefined) decorators.push(Scopes(...(scopes as [string, ...string[]])));
  if (policies !== undefined) decorators.push(Policy(...(policies as [PolicyType, ...PolicyType[]])));
  if (throttle !== undefined) decorators.push(Throttle(throttle));
  return applyDecorators(...decorators);
}
