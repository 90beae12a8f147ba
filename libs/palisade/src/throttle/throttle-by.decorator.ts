import { Reflector } from '@nestjs/core';
import type { AuthRequest } from '../auth/auth-options.interface.js';
import type { Duration } from '../common/duration.js';

/** Extracts a discriminator from the request (e.g. the username of a login body). */
export type ThrottleDiscriminator = (request: AuthRequest & { body?: unknown }) => string;

/** Options of {@link ThrottleBy}. */
export interface ThrottleByOptions {
  /**
   * Also limits the caller alone (principal or client IP, every discriminator value together) on
   * this route: `limit` requests per `ttl` (ms or a duration string), blocked for `blockDuration`
   * (default `ttl`) once exceeded. Without it, a caller who varies the discriminator (a fresh
   * username per request) is never limited on the route. Reported as the tier `per-caller` in the
   * rate-limit headers.
   */
  perCaller?: { limit: number; ttl: Duration; blockDuration?: Duration };
}

/** What `@ThrottleBy` records on a handler or controller. @internal */
export interface ThrottleByMetadata extends ThrottleByOptions {
  readonly by: ThrottleDiscriminator;
}

/** @internal */
export const ThrottleByMetadata = Reflector.createDecorator<ThrottleByMetadata>();

/**
 * Narrows a route's counters: the key becomes the caller (principal or client IP) **and** the
 * discriminator, so `POST /auth/login` can allow 10 attempts a minute per client IP and username.
 * Values are hashed before they reach the store. `perCaller` adds a limit on the caller alone, so
 * varying the discriminator buys no fresh budget without end.
 *
 * @example
 * \@Post('login') \@Throttle({ default: { limit: 10, ttl: 60_000 } })
 * \@ThrottleBy((req) => String((req.body as { username?: unknown })?.username ?? ''), { perCaller: { limit: 30, ttl: '1m' } })
 */
export function ThrottleBy(by: ThrottleDiscriminator, options: ThrottleByOptions = {}): ClassDecorator & MethodDecorator {
  return ThrottleByMetadata({ by, ...options });
}
