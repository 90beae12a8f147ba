import type { ThrottlerStorage } from '@nestjs/throttler';

/** A counter's state after a hit, as `@nestjs/throttler` defines it (times in whole seconds). */
export type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/** One counter to bump: a key and the tier's parameters (milliseconds). */
export interface ThrottleHit {
  /** Full storage key (prefix, hash tag and tier name included). */
  readonly key: string;
  /** Window length in milliseconds. */
  readonly ttlMs: number;
  /** Hits allowed per window; below 1, every hit is refused. */
  readonly limit: number;
  /**
   * Block length in milliseconds once a hit is refused; `0`: no block — hits are let through again
   * as soon as the window has room (`@nestjs/throttler`'s meaning of `blockDuration: 0`).
   */
  readonly blockMs: number;
}

/**
 * Palisade's counter store: `@nestjs/throttler`'s `ThrottlerStorage` (so it plugs into
 * `ThrottlerModule` too) plus a batched increment — every tier of a request in one call, one Redis
 * round trip — and a read of a key's block.
 *
 * **Algorithm (both stores, same answers): a sliding-window counter.** A key counts its passed hits
 * in consecutive windows of `ttl`, the first opened by the key's first hit. A hit made `e` ms into
 * the current window passes when the estimate of the hits of the last `ttl` — the previous
 * window's count weighted by its overlap, plus the current window's — is below the limit:
 * `previous × (ttl − e) / ttl + current < limit`, the counterpart of `@nestjs/throttler`'s "fewer
 * than `limit` hits in the last `ttl`" with two counts instead of a log of every hit. Constant cost
 * and state per key (two counts, the window start, the block end). Refused hits are not counted.
 *
 * Guarantee: at most `limit` hits pass per window, and between any two passed hits `d < ttl` ms
 * apart at most `limit + ⌈limit × d / ttl⌉` pass (both included) — across a window edge at most
 * `limit + 1` within `ttl / limit` (a fixed window lets `2 × limit` through there), and `2 × limit`
 * only when spread over almost a full `ttl` by a caller that spent its whole budget at the very end
 * of the window before.
 *
 * A refused hit blocks the key for `blockDuration` — and at least until the window has room again,
 * so `Retry-After` is when a request actually passes; a blocked key's hits are refused without
 * being counted. `blockDuration: 0` blocks nothing: hits are refused until the window has room.
 *
 * Records (whole **seconds**, rounded up, as in `@nestjs/throttler`): `totalHits` is the estimate
 * after this hit rounded down, so `limit − totalHits` is how many more hits would pass right now (a
 * refused hit reports at least `limit + 1`); `timeToExpire` is the time until the current window
 * closes, or, when no further hit would pass right now, until one would; `isBlocked` means this hit
 * is refused, and `timeToBlockExpire` is then the time until a hit would pass (0 for a passed hit).
 */
export interface ThrottleStore extends ThrottlerStorage {
  /** Bumps every counter of `hits` atomically per key and returns their records in order. */
  incrementMany(hits: readonly ThrottleHit[]): Promise<ThrottlerStorageRecord[]>;
  /** Seconds the key stays blocked by a `blockDuration` block (0 when it is not). */
  blockedFor(key: string): Promise<number>;
}

/** @internal Converts a remaining time in ms to whole seconds, at least 1 while positive. */
export function toSeconds(ms: number): number {
  return ms > 0 ? Math.ceil(ms / 1000) : 0;
}

/**
 * @internal The storage key of `@nestjs/throttler`'s `increment(key, …, throttlerName)`: the tier
 * name is part of a counter's identity, so two tiers never share a counter even when a custom
 * `generateKey` returns the same key for both. `key:name:length(name)` cannot collide: the last
 * `:` is always the one before the length, which fixes where the name starts.
 */
export function tierKey(key: string, throttlerName: string | undefined): string {
  return throttlerName === undefined ? key : `${key}:${throttlerName}:${throttlerName.length}`;
}

/**
 * @internal The earliest time (epoch ms, ≥ `now`) at which a hit would pass a sliding-window
 * counter whose current window opened at `start` with `current` hits, after `previous` hits in the
 * window before — assuming no other hit passes meanwhile. The Redis store's Lua script mirrors it.
 */
export function roomAt(start: number, previous: number, current: number, ttlMs: number, limit: number, now: number): number {
  if (limit < 1) return now + ttlMs;
  // A hit e ms into a window passes when previous × (ttl − e) < (limit − current) × ttl.
  if (current < limit) {
    // In this window, once the previous window's weighted share has shrunk enough.
    if (previous === 0) return now;
    return Math.max(now, start + Math.floor((ttlMs * (previous - limit + current)) / previous) + 1);
  }
  // The window is full: in the next one, once this window's share (as the previous) has shrunk.
  return start + ttlMs + Math.floor((ttlMs * (current - limit)) / current) + 1;
}

/** The state of one sliding-window counter (see {@link roomAt}). @internal */
export interface SlidingWindow {
  /** When the current window opened (ms). */
  start: number;
  /** Hits of the previous window. */
  previous: number;
  /** Hits of the current window. */
  current: number;
}

/**
 * Moves a sliding window forward to `now`: once `ttlMs` has passed, the current window becomes the
 * previous one (or, two windows later, both are past). Returns true when it moved. The Redis
 * scripts do the same, line by line.
 * @internal
 */
export function rollWindow(window: SlidingWindow, now: number, ttlMs: number): boolean {
  if (now - window.start < ttlMs) return false;
  if (now - window.start < 2 * ttlMs) {
    window.previous = window.current;
    window.start += ttlMs;
  } else {
    window.previous = 0;
    window.start = now;
  }
  window.current = 0;
  return true;
}

/**
 * The Lua twin of {@link roomAt}, shared by the Redis throttle and attempt scripts: `room(s, p, c, w,
 * limit)` with `now` a local of the calling script.
 * @internal
 */
export const ROOM_LUA = `local function room(s, p, c, w, limit)
  if limit < 1 then return now + w end
  if c < limit then
    if p == 0 then return now end
    return math.max(now, s + math.floor(w * (p - limit + c) / p) + 1)
  end
  return s + w + math.floor(w * (c - limit) / c) + 1
end`;
