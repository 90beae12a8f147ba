import type { RedisConnections } from '../common/redis-connections.js';
import { MemoryThrottleStore } from './memory-throttle.store.js';
import { RedisThrottleStore } from './redis-throttle.store.js';
import { ResilientThrottleStore } from './resilient-throttle.store.js';
import type { NormalizedThrottleOptions } from './throttle-options.normalizer.js';
import type { ThrottleStore } from './throttle-store.interface.js';

/**
 * Builds the configured store once: memory, or Redis behind the failure policy (with a memory
 * fallback).
 * @internal
 */
export class ThrottleStoreHolder {
  readonly store: ThrottleStore;
  /** Key prefix for every counter. */
  readonly prefix: string;

  constructor(options: NormalizedThrottleOptions | undefined, connections: RedisConnections, onChange?: (available: boolean) => void) {
    const memory = new MemoryThrottleStore(options?.maxMemoryKeys);
    const storage = options?.storage;
    if (!storage || storage.kind === 'memory') {
      this.store = memory;
      this.prefix = '';
      return;
    }
    const client = connections.get(storage.redis, storage.commandTimeoutMs);
    this.store = new ResilientThrottleStore(new RedisThrottleStore(client), memory, options.failOpen, onChange);
    this.prefix = storage.prefix;
  }
}
