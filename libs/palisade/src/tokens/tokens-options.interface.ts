import type { Type } from '@nestjs/common';
import type { Duration } from '../common/duration.js';
import type { RedisConnection } from '../common/redis-connection.interface.js';
import type { TokenStore } from './token-store.interface.js';

/**
 * Token storage on Redis (`tokens.storage`).
 *
 * @example
 * storage: { redis: 'redis://cache:6379' }
 * storage: { redis: { cluster: ['10.0.0.1:7000', '10.0.0.2:7000'] } }
 * storage: { redis: { sentinels: ['10.0.0.1:26379'], name: 'mymaster', password } }
 */
export interface RedisTokenStorage {
  /**
   * The server: a `redis://` / `rediss://` URL, `{ url, tls?, username?, password? }`, a Cluster
   * (`{ cluster: [seed nodes] }`), a Sentinel group (`{ sentinels, name }`), or an ioredis `Redis`
   * or `Cluster` client you own (Palisade never closes it). See {@link RedisConnection}.
   */
  redis: RedisConnection;
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
   * Redis 6 or later; a server that refuses `CLIENT TRACKING` leaves it off. On a Redis Cluster
   * (tracking is per node) it keeps one such connection per primary, and serves answers only while
   * every slot's primary is linked. Through Sentinel it follows the primary. `false` checks Redis
   * on every request.
   */
  mirrorRevocations?: boolean;
}

/**
 * Refresh tokens and revocations in a store the application brings: an instance, or a class
 * Palisade resolves once (the application's provider of that class, else a new instance with its
 * dependencies injected in Palisade's module). Refused at startup unless it has every method of
 * {@link TokenStore}. A call that rejects is a store outage: 503 with `Retry-After: 1`, and
 * `failOpen` for revocation checks. Inject the store in use with `@InjectTokenStore()`. Nest runs
 * its lifecycle hooks (`onModuleDestroy`…) through that provider too: a store that is also one of
 * your providers sees them twice, so keep them idempotent.
 *
 * @example
 * storage: { store: new MyTokenStore(db) }
 * storage: { store: MyTokenStore } // @Injectable(), dependencies injected
 */
export interface CustomTokenStorage {
  /** The store, or its class. */
  store: TokenStore | Type<TokenStore>;
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
   * Where refresh tokens and revocations live. `'memory'` (default) is per instance; Redis (a
   * server, a Cluster, Sentinel or your client) makes a logout or a reuse detection on one instance
   * hold on every instance; `{ store }` brings your own.
   */
  storage?: 'memory' | RedisTokenStorage | CustomTokenStorage;
  /**
   * What the revocation check does while Redis is unavailable: `false` (default) refuses bearer
   * tokens with 503 — a revoked token must never work; `true` accepts them unchecked (logged).
   */
  failOpen?: boolean;
  /** Most entries the in-memory stores keep (least recently used first out). Default `100_000`. */
  maxMemoryEntries?: number;
}
