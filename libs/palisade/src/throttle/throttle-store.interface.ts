import type { ThrottlerStorage } from '@nestjs/throttler';

/** A counter's state after a hit, as `@nestjs/throttler` defines it (times in whole seconds). */
export type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/** One counter to bump: a key and the tier's parameters (milliseconds). */
export interface ThrottleHit {
  /** Full storage key (prefix and hash tag included). */
  readonly key: string;
  /** Window length in milliseconds. */
  readonly ttlMs: number;
  /** Hits allowed per window. */
  readonly limit: number;
  /** Block length in milliseconds once the limit is exceeded. */
  readonly blockMs: number;
}

/**
 * Palisade's counter store: `@nestjs/throttler`'s `ThrottlerStorage` (so it plugs into
 * `ThrottlerModule` too) plus a batched increment — every tier of a request in one call, one Redis
 * round trip — and a read of a key's block.
 *
 * Algorithm (both stores): a fixed window per key that opens at the key's first hit and lasts
 * `ttl`; the hit that exceeds `limit` blocks the key for `blockDuration`; when the block ends the
 * key starts afresh. Times in records are whole **seconds**, rounded up, as in `@nestjs/throttler`.
 */
export interface ThrottleStore extends ThrottlerStorage {
  /** Bumps every counter of `hits` atomically per key and returns their records in order. */
  incrementMany(hits: readonly ThrottleHit[]): Promise<ThrottlerStorageRecord[]>;
  /** Seconds the key stays blocked (0 when it is not). */
  blockedFor(key: string): Promise<number>;
}

/** @internal Converts a remaining time in ms to whole seconds, at least 1 while positive. */
export function toSeconds(ms: number): number {
  return ms > 0 ? Math.ceil(ms / 1000) : 0;
}
