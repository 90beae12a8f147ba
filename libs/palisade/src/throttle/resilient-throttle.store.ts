import { StoreUnavailableException } from '../common/store-unavailable.exception.js';
import type { StoreOutageMonitor } from '../events/store-outages.service.js';
import type { AttemptOutcome, AttemptPolicy, AttemptVerdict, AuthAttemptStore } from './auth-attempt-store.interface.js';
import type { MemoryAuthAttemptStore } from './memory-auth-attempt.store.js';
import type { MemoryThrottleStore } from './memory-throttle.store.js';
import { tierKey, type ThrottleHit, type ThrottleStore, type ThrottlerStorageRecord } from './throttle-store.interface.js';

/** 503 answered while the shared store is down and `failOpen` is false. */
export class ThrottleStoreUnavailableException extends StoreUnavailableException {
  constructor() {
    super('Rate limiting is temporarily unavailable; retry shortly');
  }
}

/**
 * Applies the outage policy around a shared store (Redis, or one the application brought): every
 * Redis call is bounded by the client's command timeout (and refused at once while disconnected);
 * on failure, `failOpen` counts the request in a local in-memory store instead, otherwise it
 * answers 503. The monitor logs once per outage and once on recovery — recovery needs no restart,
 * the next call simply uses the shared store again.
 * @internal
 */
export class ResilientThrottleStore implements ThrottleStore, AuthAttemptStore {
  constructor(
    private readonly primary: ThrottleStore,
    private readonly fallback: MemoryThrottleStore,
    private readonly failOpen: boolean,
    private readonly monitor: StoreOutageMonitor,
    private readonly attempts?: { readonly primary: AuthAttemptStore; readonly fallback: MemoryAuthAttemptStore },
  ) {}

  /** True while the last call to the shared store failed. */
  get degraded(): boolean {
    return this.monitor.degraded;
  }

  /** `@nestjs/throttler`'s increment; the tier name is part of the counter's identity. */
  async increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName?: string): Promise<ThrottlerStorageRecord> {
    const [record] = await this.incrementMany([{ key: tierKey(key, throttlerName), ttlMs: ttl, limit, blockMs: blockDuration }]);
    return record as ThrottlerStorageRecord;
  }

  async incrementMany(hits: readonly ThrottleHit[]): Promise<ThrottlerStorageRecord[]> {
    return this.guarded(
      () => this.primary.incrementMany(hits),
      () => this.fallback.incrementMany(hits),
    );
  }

  async blockedFor(key: string): Promise<number> {
    return this.guarded(
      () => this.primary.blockedFor(key),
      () => this.fallback.blockedFor(key),
    );
  }

  /** Brute-force reservations: the shared store, else (`failOpen`) the instance's own partition. */
  async reserveAttempt(policy: AttemptPolicy): Promise<AttemptVerdict> {
    const attempts = this.attemptStores();
    return this.guarded(
      () => attempts.primary.reserveAttempt(policy),
      () => attempts.fallback.reserveSync(policy),
    );
  }

  /**
   * Settles where the attempt was reserved as far as can be told: on the shared store, else in the
   * local partition (a slot reserved locally and settled on Redis after it came back lapses by
   * itself after `pendingMs`).
   */
  async settleAttempt(policy: AttemptPolicy, reserved: boolean, outcome: AttemptOutcome): Promise<AttemptVerdict> {
    const attempts = this.attemptStores();
    return this.guarded(
      () => attempts.primary.settleAttempt(policy, reserved, outcome),
      () => attempts.fallback.settleSync(policy, reserved, outcome),
    );
  }

  async attemptBlockedFor(key: string): Promise<number> {
    const attempts = this.attemptStores();
    return this.guarded(
      () => attempts.primary.attemptBlockedFor(key),
      () => attempts.fallback.attemptBlockedFor(key),
    );
  }

  private attemptStores(): { readonly primary: AuthAttemptStore; readonly fallback: MemoryAuthAttemptStore } {
    if (this.attempts === undefined)
      throw new Error('ResilientThrottleStore: built without an attempt store; pass { primary, fallback } as its fifth argument.');
    return this.attempts;
  }

  /**
   * One call to the shared store under the outage policy: its answer (and the store counts as
   * recovered), else the failure is reported and, with `failOpen`, the local store answers instead
   * (otherwise `ThrottleStoreUnavailableException`).
   */
  private async guarded<T>(primary: () => Promise<T>, fallback: () => T | Promise<T>): Promise<T> {
    try {
      const answer = await primary();
      this.monitor.recovered();
      return answer;
    } catch (error) {
      this.failed(error);
      return fallback();
    }
  }

  private failed(error: unknown): void {
    this.monitor.failed(error);
    if (!this.failOpen) throw new ThrottleStoreUnavailableException();
  }
}
