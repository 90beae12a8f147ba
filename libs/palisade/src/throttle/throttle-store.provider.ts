import type { RedisConnections } from '../common/redis-connections.js';
import type { AuthAttemptStore } from './auth-attempt-store.interface.js';
import { MemoryAuthAttemptStore } from './memory-auth-attempt.store.js';
import { RedisAuthAttemptStore } from './redis-auth-attempt.store.js';
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
  /**
   * Brute-force security state (failures, blocks, reserved slots): a partition of its own, never
   * evicted by the rate-limit counters of ordinary traffic.
   */
  readonly attempts: AuthAttemptStore;
  /** Key prefix for every counter. */
  readonly prefix: string;

  constructor(options: NormalizedThrottleOptions | undefined, connections: RedisConnections, onChange?: (available: boolean) => void) {
    const memory = new MemoryThrottleStore(options?.maxMemoryKeys);
    const memoryAttempts = new MemoryAuthAttemptStore(options?.maxSecurityKeys);
    const storage = options?.storage;
    if (!storage || storage.kind === 'memory') {
      this.store = memory;
      this.attempts = memoryAttempts;
      this.prefix = '';
      return;
    }
    const client = connections.get(storage.redis, storage.commandTimeoutMs);
    const resilient = new ResilientThrottleStore(new RedisThrottleStore(client), memory, options.failOpen, onChange, {
      primary: new RedisAuthAttemptStore(client),
      fallback: memoryAttempts,
    });
    this.store = resilient;
    this.attempts = resilient;
    this.prefix = storage.prefix;
  }
}
