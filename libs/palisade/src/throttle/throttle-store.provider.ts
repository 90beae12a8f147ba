import type { Provider } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { getStorageToken } from '@nestjs/throttler';
import { resolveCustomStore } from '../common/custom-store.js';
import { PALISADE_OPTIONS } from '../common/palisade.constants.js';
import type { NormalizedPalisadeOptions } from '../common/palisade-options.normalizer.js';
import { RedisConnections } from '../common/redis-connections.js';
import { StoreOutages } from '../events/store-outages.service.js';
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
    const storage = options?.storage;
    if (!options || !storage || storage.kind === 'memory') return new ThrottleStoreHolder(memory, '');
    const primary =
      storage.kind === 'redis'
        ? new RedisThrottleStore(connections.get(storage.connection, storage.commandTimeoutMs))
        : await resolveCustomStore(storage.store, moduleRef, 'throttle.storage.store');
    const monitor = outages.monitor('throttle', options.failOpen, {
      context: 'PalisadeThrottle',
      down: (reason) =>
        `Shared rate-limit store unavailable (${reason}); ${options.failOpen ? 'counting requests per instance in memory until it returns' : 'answering 503 until it returns'}.`,
      up: 'Shared rate-limit store is back; limits are shared across instances again.',
    });
    return new ThrottleStoreHolder(new ResilientThrottleStore(primary, memory, options.failOpen, monitor), storage.prefix);
  }
}

/** The throttle store's providers: the holder, `InjectThrottleStore()`'s token and `@nestjs/throttler`'s storage token. @internal */
export const THROTTLE_STORE_PROVIDERS: Provider[] = [
  {
    provide: ThrottleStoreHolder,
    inject: [PALISADE_OPTIONS, RedisConnections, StoreOutages, ModuleRef],
    useFactory: (options: NormalizedPalisadeOptions, connections: RedisConnections, outages: StoreOutages, moduleRef: ModuleRef) =>
      ThrottleStoreHolder.create(options.throttle, connections, outages, moduleRef),
  },
  { provide: THROTTLE_STORE, inject: [ThrottleStoreHolder], useFactory: (holder: ThrottleStoreHolder) => holder.store },
  { provide: getStorageToken(), useExisting: THROTTLE_STORE },
];
