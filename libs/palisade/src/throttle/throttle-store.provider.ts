import type { OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { MemoryThrottleStore } from './memory-throttle.store.js';
import { RedisThrottleStore } from './redis-throttle.store.js';
import { ResilientThrottleStore } from './resilient-throttle.store.js';
import type { NormalizedThrottleOptions } from './throttle-options.normalizer.js';
import type { ThrottleStore } from './throttle-store.interface.js';

/**
 * Builds the configured store once and owns the Redis connection it opened (a client passed in by
 * the application is left open). The connection never queues commands while down (they fail at
 * once), bounds each command by `commandTimeout`, and reconnects by itself with backoff.
 * @internal
 */
export class ThrottleStoreHolder implements OnApplicationShutdown {
  readonly store: ThrottleStore;
  /** Key prefix for every counter. */
  readonly prefix: string;
  private readonly ownedClient: Redis | undefined;

  constructor(options: NormalizedThrottleOptions | undefined) {
    const memory = new MemoryThrottleStore(options?.maxMemoryKeys);
    const storage = options?.storage;
    if (!storage || storage.kind === 'memory') {
      this.store = memory;
      this.prefix = '';
      return;
    }
    let client: Redis;
    if (typeof storage.redis === 'string') {
      client = new Redis(storage.redis, {
        commandTimeout: storage.commandTimeoutMs,
        connectTimeout: Math.max(1000, storage.commandTimeoutMs * 4),
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        retryStrategy: (attempt) => Math.min(100 * 2 ** Math.min(attempt, 5), 2000),
        lazyConnect: false,
      });
      // Errors surface through commands (and the store's failure policy); don't crash on the event.
      client.on('error', () => undefined);
      this.ownedClient = client;
    } else {
      client = storage.redis;
    }
    this.store = new ResilientThrottleStore(new RedisThrottleStore(client), memory, options.failOpen);
    this.prefix = storage.prefix;
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.ownedClient && this.ownedClient.status !== 'end') {
      await this.ownedClient.quit().catch(() => this.ownedClient?.disconnect());
    }
  }
}
