import type { Provider } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { getStorageToken } from '@nestjs/throttler';
import { resolveCustomStore } from '../common/custom-store.js';
import { THROTTLE_OPTIONS } from './throttle.constants.js';
import { RedisConnections } from '../common/redis-connections.js';
import { StoreOutages } from '../events/store-outages.service.js';
import type { AuthAttemptStore } from './auth-attempt-store.interface.js';
import { MemoryAuthAttemptStore } from './memory-auth-attempt.store.js';
import { RedisAuthAttemptStore } from './redis-auth-attempt.store.js';
import { MemoryThrottleStore } from './memory-throttle.store.js';
import { RedisThrottleStore } from './redis-throttle.store.js';
import { ResilientThrottleStore } from './resilient-throttle.store.js';
import type { NormalizedThrottleOptions } from './throttle-options.normalizer.js';
import { THROTTLE_STORE } from './throttle-store.decorator.js';
import type { ThrottleStore } from './throttle-store.interface.js';

/**
 * The configured store, obtained once at startup: memory; Redis (a server, a Cluster, Sentinel or
 * the application's client) behind the outage policy with a memory fallback; or the application's
 * own store behind the same policy.
 * @internal
 */
export class ThrottleStoreHolder {
  private constructor(
    readonly store: ThrottleStore,
    /**
     * Brute-force security state (failures, blocks, reserved slots): a partition of its own, never
     * evicted by the rate-limit counters of ordinary traffic.
     */
    readonly attempts: AuthAttemptStore,
    /** Key prefix for every counter. */
    readonly prefix: string,
  ) {}

  static async create(
    options: NormalizedThrottleOptions | undefined,
    connections: RedisConnections,
    outages: StoreOutages,
    moduleRef: ModuleRef,
  ): Promise<ThrottleStoreHolder> {
    const memory = new MemoryThrottleStore(options?.maxMemoryKeys);
    const memoryAttempts = new MemoryAuthAttemptStore(options?.maxSecurityKeys);
    const storage = options?.storage;
    if (!options || !storage || storage.kind === 'memory') return new ThrottleStoreHolder(memory, memoryAttempts, '');
    const client = storage.kind === 'redis' ? connections.get(storage.connection, storage.commandTimeoutMs) : undefined;
    const primary =
      storage.kind === 'redis' && client
        ? new RedisThrottleStore(client)
        : storage.kind === 'custom'
          ? await resolveCustomStore(storage.store, moduleRef, 'throttle.storage.store')
          : memory;
    const monitor = outages.monitor('throttle', options.failOpen, {
      context: 'PalisadeThrottle',
      down: (reason) =>
        `Shared rate-limit store unavailable (${reason}); ${options.failOpen ? 'counting requests per instance in memory until it returns' : 'answering 503 until it returns'}.`,
      up: 'Shared rate-limit store is back; limits are shared across instances again.',
    });
    // A store the application brought counts requests; brute-force state stays in this instance's
    // own partition then (a Redis store keeps it shared, in its own keys).
    const attempts = { primary: client ? new RedisAuthAttemptStore(client) : memoryAttempts, fallback: memoryAttempts };
    const resilient = new ResilientThrottleStore(primary, memory, options.failOpen, monitor, attempts);
    return new ThrottleStoreHolder(resilient, resilient, storage.prefix);
  }
}

/** The throttle store's providers: the holder, `InjectThrottleStore()`'s token and `@nestjs/throttler`'s storage token. @internal */
export const THROTTLE_STORE_PROVIDERS: Provider[] = [
  {
    provide: ThrottleStoreHolder,
    inject: [THROTTLE_OPTIONS, RedisConnections, StoreOutages, ModuleRef],
    useFactory: (throttle: NormalizedThrottleOptions | undefined, connections: RedisConnections, outages: StoreOutages, moduleRef: ModuleRef) =>
      ThrottleStoreHolder.create(throttle, connections, outages, moduleRef),
  },
  { provide: THROTTLE_STORE, inject: [ThrottleStoreHolder], useFactory: (holder: ThrottleStoreHolder) => holder.store },
  { provide: getStorageToken(), useExisting: THROTTLE_STORE },
];
