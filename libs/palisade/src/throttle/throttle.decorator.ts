import { applyDecorators, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { SkipThrottle as BaseSkipThrottle, Throttle as BaseThrottle } from '@nestjs/throttler';
import type { Duration } from '../common/duration.js';

/** A value fixed at startup, or computed per request. */
export type ThrottleValue<T> = T | ((context: ExecutionContext) => T | Promise<T>);

/** A route's override of one tier. Durations in milliseconds or as strings (`'1m'`). */
export interface ThrottleTierOverride {
  /** Requests allowed per window. */
  limit?: ThrottleValue<number>;
  /** Window length. */
  ttl?: ThrottleValue<Duration>;
  /** Block length once the limit is exceeded. */
  blockDuration?: ThrottleValue<Duration>;
}

/** @internal Written by a bare `@SkipThrottle()`: skip every tier. */
export const SkipAllThrottlersMetadata = Reflector.createDecorator<boolean>({ transform: () => true });

/**
 * Overrides tiers on a route or controller (handler over controller), as `@nestjs/throttler`'s
 * `@Throttle`, with durations accepted as strings. Naming a tier that is not configured stops the
 * app at startup.
 *
 * @example
 * \@Throttle({ default: { limit: 5, ttl: '1m' } })
 */
export function Throttle(tiers: Record<string, ThrottleTierOverride>): MethodDecorator & ClassDecorator {
  // The metadata is @nestjs/throttler's own (its guard and tools read it); Palisade's resolver
  // parses the durations at startup.
  return BaseThrottle(tiers as Parameters<typeof BaseThrottle>[0]);
}

/**
 * Exempts a route or controller from throttling: every tier with no argument, or the named ones
 * (`@SkipThrottle({ burst: true })`).
 */
export function SkipThrottle(tiers?: Record<string, boolean>): MethodDecorator & ClassDecorator {
  if (tiers === undefined) return applyDecorators(SkipAllThrottlersMetadata(), BaseSkipThrottle());
  return BaseSkipThrottle(tiers);
}
