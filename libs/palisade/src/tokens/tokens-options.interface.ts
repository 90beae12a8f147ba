import type { Redis } from 'ioredis';
import type { Duration } from '../common/duration.js';

/** Token storage on Redis (`tokens.storage`). */
export interface RedisTokenStorage {
  /** A `redis://` / `rediss://` URL, or an ioredis client you own (Palisade will not close it). */
  redis: string | Redis;
  /** Prefix of every key, so several apps can share one Redis. Default `'palisade:'`. */
  prefix?: string;
  /** Timeout of each Redis command, in milliseconds or as a duration. Default `'250ms'`. */
  commandTimeout?: Duration;
  /**
   * Mirror the revocation list locally (default `true`): the revocation check of a token seen
   * before costs no Redis round trip. Exact, not time-based: Redis announces every change of a
   * revocation key to every instance (server-assisted client-side caching, `CLIENT TRACKING` in
   * broadcasting mode, on one extra connection per instance), and the mirror forgets that answer.
   * Answers are served only while that connection answers its heartbeat (every 500 ms, at most
   * 1.25 s old); while it is down or silent the mirror is off and every check goes to Redis.
   * Redis 6 or later; a server that refuses `CLIENT TRACKING` leaves it off; not used with a
   * Redis Cluster client (tracking is per node). `false` checks Redis on every request.
   */
  mirrorRevocations?: boolean;
}

/**
 * Token lifecycle: refresh tokens with rotation and reuse detection (OAuth 2.0 Security BCP §4.14),
 * and revocation of access tokens before they expire (a `jti` deny-list).
 *
 * @example
 * tokens: { refreshTokenTtl: '30d', storage: { redis: process.env.REDIS_URL! } }
 */
export interface TokensOptions {
  /** Lifetime of a refresh token family, in milliseconds or as a duration. Default `'30d'`. */
  refreshTokenTtl?: Duration;
  /**
   * Reuse grace period, in milliseconds or as a duration (default `'5s'`, at most `'60s'`; `0`
   * turns it off). A client that retries a refresh (a timeout, two tabs, a flaky network) presents
   * the same refresh token again: within this period after its first use, and as long as the token
   * it was rotated into has not been used, a retry gets the very same new pair (same access token,
   * same refresh token). Outside it, a second use is reuse: 401 and the whole family revoked.
   * The new pair is kept for the period only, encrypted with a key derived from the presented
   * refresh token (which the store never holds).
   */
  refreshGracePeriod?: Duration;
  /**
   * Where refresh tokens and revocations live. `'memory'` (default) is per instance; Redis makes a
   * logout or a reuse detection on one instance hold on every instance.
   */
  storage?: 'memory' | RedisTokenStorage;
  /**
   * What the revocation check does while Redis is unavailable: `false` (default) refuses bearer
   * tokens with 503 — a revoked token must never work; `true` accepts them unchecked (logged).
   */
  failOpen?: boolean;
  /** Most entries the in-memory stores keep (least recently used first out). Default `100_000`. */
  maxMemoryEntries?: number;
}
