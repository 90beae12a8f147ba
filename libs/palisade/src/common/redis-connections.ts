import { Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';

/**
 * Opens at most one ioredis connection per URL for all capabilities (throttling, token stores) and
 * closes the ones it opened at shutdown; a client passed in by the application is used as is and
 * left open. Connections never queue commands while down (they fail at once, so a request never
 * waits for a reconnect), bound each command by a timeout, and reconnect by themselves.
 * @internal
 */
export class RedisConnections implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly owned = new Map<string, Redis>();

  /** The client for `redis` (a URL or a client), with `commandTimeoutMs` for a new connection. */
  get(redis: string | Redis, commandTimeoutMs: number): Redis {
    if (typeof redis !== 'string') return redis;
    const existing = this.owned.get(redis);
    if (existing) return existing;
    const client = new Redis(redis, {
      commandTimeout: commandTimeoutMs,
      connectTimeout: Math.max(1000, commandTimeoutMs * 4),
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (attempt) => Math.min(100 * 2 ** Math.min(attempt, 5), 2000),
    });
    // Failures surface through commands and each store's failure policy; the event must not crash.
    client.on('error', () => undefined);
    this.owned.set(redis, client);
    return client;
  }

  /**
   * Waits (bounded by the connect timeout) for the connections opened at startup, so the first
   * requests do not meet a connection still opening (commands are never queued). A server that
   * does not answer by then is left to the failure policies and to reconnection.
   */
  async onApplicationBootstrap(): Promise<void> {
    await Promise.all(
      [...this.owned.values()].map(async (client) => {
        if (client.status === 'ready') return;
        const timeout = Math.max(1000, (client.options.connectTimeout ?? 1000) + 250);
        const ready = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => done(false), timeout);
          const done = (value: boolean) => {
            clearTimeout(timer);
            client.off('ready', onReady);
            resolve(value);
          };
          const onReady = () => done(true);
          client.once('ready', onReady);
        });
        if (!ready) new Logger('PalisadeRedis').warn('Redis is not reachable at startup; the stores apply their failure policy until it is.');
      }),
    );
  }

  async onApplicationShutdown(): Promise<void> {
    const clients = [...this.owned.values()];
    this.owned.clear();
    await Promise.all(clients.map((client) => (client.status === 'end' ? undefined : client.quit().catch(() => client.disconnect()))));
  }
}
