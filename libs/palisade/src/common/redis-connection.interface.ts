import type { ConnectionOptions } from 'node:tls';
import type { Cluster, Redis } from 'ioredis';

/** A Redis node's address: `'host:port'` (`'[::1]:6379'` for IPv6) or `{ host, port }`. */
export type RedisNodeAddress = string | { readonly host: string; readonly port: number };

/** Credentials and TLS of the data connections Palisade opens (passed to ioredis as they are). */
export interface RedisConnectionSecurity {
  /** ACL user name (Redis 6+). */
  username?: string;
  /** Password (`AUTH`). */
  password?: string;
  /** TLS: `true` for the system's CAs, or Node's `tls.connect` options (`ca`, `cert`, `key`, `servername`…). */
  tls?: true | ConnectionOptions;
}

/**
 * One Redis server by URL, with credentials and TLS options beside it (a `rediss://` URL alone
 * already means TLS with the system's CAs).
 *
 * @example
 * { url: 'rediss://cache.internal:6380', password: process.env.REDIS_PASSWORD, tls: { ca: readFileSync('ca.pem') } }
 */
export interface RedisUrlConnection extends RedisConnectionSecurity {
  /** A `redis://` or `rediss://` URL. */
  url: string;
}

/**
 * A Redis Cluster, found through a few of its nodes (ioredis discovers the rest). Every key
 * Palisade writes carries a hash tag, so each Lua script touches a single slot.
 *
 * @example
 * { cluster: ['10.0.0.1:7000', '10.0.0.2:7000'], password: process.env.REDIS_PASSWORD }
 */
export interface RedisClusterConnection extends RedisConnectionSecurity {
  /** Seed nodes: at least one. */
  cluster: readonly RedisNodeAddress[];
}

/**
 * A primary found through Redis Sentinel (and found again after a failover).
 *
 * @example
 * { sentinels: ['10.0.0.1:26379', '10.0.0.2:26379'], name: 'mymaster', password: process.env.REDIS_PASSWORD }
 */
export interface RedisSentinelConnection extends RedisConnectionSecurity {
  /** Sentinel addresses: at least one. */
  sentinels: readonly RedisNodeAddress[];
  /** Name of the primary the sentinels monitor (`sentinel monitor <name> …`). */
  name: string;
  /** ACL user name on the sentinels, when they require one. */
  sentinelUsername?: string;
  /** Password of the sentinels, when they require one. */
  sentinelPassword?: string;
  /** TLS to the sentinels themselves (`tls` covers the data connections). */
  sentinelTls?: true | ConnectionOptions;
}

/**
 * Where a shared store's Redis is: a URL, a server with TLS/credentials, a Cluster, a Sentinel
 * group, or an ioredis client the application already has (`Redis` or `Cluster`). Palisade opens
 * one connection per distinct value (a URL string, or the same object passed to several stores)
 * and closes it at shutdown; a client passed in is used as it is and never closed by Palisade.
 * Connections Palisade opens never queue commands while disconnected and bound each command by
 * the store's `commandTimeout`; a client you pass keeps its own settings (give it a
 * `commandTimeout` and `enableOfflineQueue: false` so an outage answers at once).
 */
export type RedisConnection = string | RedisUrlConnection | RedisClusterConnection | RedisSentinelConnection | Redis | Cluster;
