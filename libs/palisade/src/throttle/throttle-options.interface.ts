import type { Type } from '@nestjs/common';
import type { Duration } from '../common/duration.js';
import type { RedisConnection } from '../common/redis-connection.interface.js';
import type { ThrottleStore } from './throttle-store.interface.js';

/** One named limit: at most `limit` requests per `ttl` window for one caller. */
export interface ThrottlerTier {
  /** Name used by `@Throttle({ name: … })` and `@SkipThrottle({ name: true })`. Default `'default'`. */
  name?: string;
  /** Requests allowed per window. */
  limit: number;
  /** Window length, in milliseconds or as a duration (`'60s'`, `'1m'`). */
  ttl: Duration;
  /**
   * How long a caller who exceeded the limit stays blocked (and at least until the window has room);
   * default: the window length. `0`: no block — requests are refused until the window has room.
   */
  blockDuration?: Duration;
}

/**
 * Shared Redis storage for counters (atomic Lua script, one round trip per request).
 *
 * @example
 * storage: { redis: 'redis://cache:6379' }
 * storage: { redis: { cluster: ['10.0.0.1:7000', '10.0.0.2:7000'], password } }
 * storage: { redis: { sentinels: ['10.0.0.1:26379'], name: 'mymaster' } }
 * storage: { redis: existingIoredisClient } // Redis or Cluster; Palisade never closes it
 */
export interface RedisThrottleStorage {
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
}

/**
 * Counters in a store the application brings: an instance, or a class Palisade instantiates once
 * with its dependencies injected (resolved in Palisade's module: list the modules they come from in
 * `forRootAsync({ imports })`). It is refused at startup unless it has `increment`,
 * `incrementMany` and `blockedFor`. Calls that reject are under the same outage policy as Redis
 * (`failOpen`). Inject the store in use with `@InjectThrottleStore()`.
 *
 * @example
 * storage: { store: new MyThrottleStore(client) }
 * storage: { store: MyThrottleStore } // @Injectable(), dependencies injected
 */
export interface CustomThrottleStorage {
  /** The store, or its class. */
  store: ThrottleStore | Type<ThrottleStore>;
  /** Prefix of every key the guards pass to the store. Default `''`. */
  prefix?: string;
}

/**
 * Rate limiting on `@nestjs/throttler`: a sliding-window counter per caller and tier (see
 * `ThrottleStore`), keyed by the authenticated principal, else the client IP (through `trustProxy`;
 * IPv6 grouped by /64).
 *
 * @example
 * throttle: { throttlers: [{ name: 'default', limit: 100, ttl: '1m' }], storage: { redis: process.env.REDIS_URL! } }
 */
export interface ThrottleOptions {
  /** The tiers every route is subject to (override per route with `@Throttle`, skip with `@SkipThrottle`). */
  throttlers: readonly ThrottlerTier[];
  /**
   * Where counters (and brute-force blocks) live. Default `'memory'` (per instance, bounded); Redis
   * (a server, a Cluster, Sentinel or your client) shares them across instances; or a store of yours.
   */
  storage?: 'memory' | RedisThrottleStorage | CustomThrottleStorage;
  /** Most distinct keys the in-memory store holds; the least recently used go first. Default `100_000`. */
  maxMemoryKeys?: number;
  /**
   * Most client addresses the in-memory brute-force state (failure counts, blocks) remembers, in a
   * partition of its own that rate-limit counters never evict. Default `100_000`. An address is held
   * only while it has a failure in its window, a block or an attempt being verified; when the
   * partition is full (after sweeping what expired) a new address is refused with 429 — it fails
   * closed, and never forgets a block to make room.
   */
  maxSecurityKeys?: number;
  /**
   * What happens while Redis is unreachable or slow: `true` (default) lets requests through, counted
   * by a local in-memory store so limits still hold per instance; `false` answers 503 with
   * `Retry-After: 1`. Either way a warning is logged once per outage.
   */
  failOpen?: boolean;
  /**
   * Which rate-limit headers to send on limited routes: `'ietf'` (default: `RateLimit-Policy` and
   * `RateLimit`, IETF httpapi draft), `'legacy'` (`X-RateLimit-Limit/-Remaining/-Reset`), `'both'`,
   * or `false`. `Retry-After` is always sent with a 429.
   */
  headers?: 'ietf' | 'legacy' | 'both' | false;
  /**
   * Brute-force protection: failed guesses (a bad token signature, API key or Basic password, a
   * malformed credential, or a failed login reported through `AuthFailureLimiter`) per client IP.
   * Each attempt reserves a slot before it is verified, so at most `limit` guesses per `ttl` are
   * ever verified, whatever the concurrency. The `limit`-th failure blocks the IP: every
   * authentication attempt from it gets 429 until `blockDuration` ends (`0` is refused: without a
   * block guessing would go on). An expired or revoked genuine token, or one whose signing key is
   * unavailable, is no guess and does not count. Default `{ limit: 10, ttl: '1m', blockDuration: '5m' }`;
   * `false` turns it off.
   */
  authFailures?: { limit: number; ttl: Duration; blockDuration?: Duration } | false;
}
