import type { Redis } from 'ioredis';
import type { Duration } from '../common/duration.js';

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
   * Where refresh tokens and revocations live. `'memory'` (default) is per instance; Redis makes a
   * logout or a reuse detection on one instance hold on every instance.
   */
  storage?: 'memory' | { redis: string | Redis; prefix?: string; commandTimeout?: Duration };
  /**
   * What the revocation check does while Redis is unavailable: `false` (default) refuses bearer
   * tokens with 503 — a revoked token must never work; `true` accepts them unchecked (logged).
   */
  failOpen?: boolean;
  /** Most entries the in-memory stores keep (least recently used first out). Default `100_000`. */
  maxMemoryEntries?: number;
}
