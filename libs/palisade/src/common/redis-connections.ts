import { Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { NormalizedRedisConnection, NormalizedRedisSecurity } from './redis-connection.normalizer.js';

/** A connection Palisade opened, and how long its first connection may take. */
interface OwnedConnection {
  readonly client: Redis | Cluster;
  readonly connectTimeoutMs: number;
}

/** ioredis reconnection back-off: 100 ms doubling up to 2 s. */
const retryStrategy = (attempt: number): number => Math.min(100 * 2 ** Math.min(attempt, 5), 2000);

function securityOptions(security: NormalizedRedisSecurity): RedisOptions {
  const options: RedisOptions = {};
  if (security.username !== undefined) options.username = security.username;
  if (security.password !== undefined) options.password = security.password;
  if (security.tls !== undefined) options.tls = security.tls;
  return options;
}

/**
 * Opens at most one ioredis connection per configured value for all capabilities (throttling,
 * brute force, token stores) — a single server, a Cluster or a Sentinel group — and closes the
 * ones it opened at shutdown; a client passed in by the application is used as is and never
 * closed. Connections it opens never queue commands while down (they fail at once, so a request
 * never waits for a reconnect), bound each command by a timeout, and reconnect by themselves.
 * @internal
 */
export class RedisConnections implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly owned = new Map<string | object, OwnedConnection>();

  /** The client for `connection`, with `commandTimeoutMs` for a connection opened here. */
  get(connection: NormalizedRedisConnection, commandTimeoutMs: number): Redis | Cluster {
    if (connection.kind === 'client') return connection.client;
    const existing = this.owned.get(connection.source);
    if (existing) return existing.client;
    const connectTimeoutMs = Math.max(1000, commandTimeoutMs * 4);
    const base: RedisOptions = {
      commandTimeout: commandTimeoutMs,
      connectTimeout: connectTimeoutMs,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy,
    };
    let client: Redis | Cluster;
    if (connection.kind === 'url') {
      client = new Redis(connection.url, { ...base, ...securityOptions(connection.security) });
    } else if (connection.kind === 'cluster') {
      const { tls, ...auth } = securityOptions(connection.security);
      client = new Cluster(
        connection.nodes.map((n) => ({ host: n.host, port: n.port })),
        {
          enableOfflineQueue: false,
          clusterRetryStrategy: retryStrategy,
          slotsRefreshTimeout: connectTimeoutMs,
          // ioredis refreshes its slot map on a redirect or a closed connection, not on a timed-out
          // command: without a periodic refresh a client may never find a promoted replica.
          slotsRefreshInterval: 1000,
          redisOptions: { ...base, ...auth, ...(tls === undefined ? {} : { tls }) },
          // With TLS, connect by host name (as the certificate names it), not by resolved address.
          ...(tls === undefined ? {} : { dnsLookup: (address: string, callback: (error: null, address: string) => void) => callback(null, address) }),
        },
      );
    } else {
      const sentinel = connection.sentinel;
      client = new Redis({
        ...base,
        ...securityOptions(connection.security),
        sentinels: connection.sentinels.map((n) => ({ host: n.host, port: n.port })),
        name: connection.name,
        sentinelRetryStrategy: retryStrategy,
        ...(sentinel.username === undefined ? {} : { sentinelUsername: sentinel.username }),
        ...(sentinel.password === undefined ? {} : { sentinelPassword: sentinel.password }),
        ...(sentinel.tls === undefined ? {} : { sentinelTLS: sentinel.tls, enableTLSForSentinelMode: true }),
      });
    }
    // Failures surface through commands and each store's outage policy; the event must not crash.
    client.on('error', () => undefined);
    this.owned.set(connection.source, { client, connectTimeoutMs });
    return client;
  }

  /**
   * Waits (bounded by the connect timeout) for the connections opened at startup, so the first
   * requests do not meet a connection still opening (commands are never queued). A server that
   * does not answer by then is left to the outage policies and to reconnection.
   */
  async onApplicationBootstrap(): Promise<void> {
    await Promise.all(
      [...this.owned.values()].map(async ({ client, connectTimeoutMs }) => {
        if (client.status === 'ready') return;
        const ready = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => done(false), connectTimeoutMs + 250);
          const done = (value: boolean) => {
            clearTimeout(timer);
            client.off('ready', onReady);
            resolve(value);
          };
          const onReady = () => done(true);
          client.once('ready', onReady);
        });
        if (!ready) new Logger('PalisadeRedis').warn('Redis is not reachable at startup; the stores apply their outage policy until it is.');
      }),
    );
  }

  /** Closes the connections opened here (never a client the application passed in). */
  async onApplicationShutdown(): Promise<void> {
    const clients = [...this.owned.values()].map((owned) => owned.client);
    this.owned.clear();
    await Promise.all(clients.map((client) => (client.status === 'end' ? undefined : client.quit().catch(() => client.disconnect()))));
  }
}
