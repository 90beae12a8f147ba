import { Logger, ServiceUnavailableException } from '@nestjs/common';
import type { AttemptOutcome, AttemptPolicy, AttemptVerdict, AuthAttemptStore } from './auth-attempt-store.interface.js';
import type { MemoryAuthAttemptStore } from './memory-auth-attempt.store.js';
import type { MemoryThrottleStore } from './memory-throttle.store.js';
import { tierKey, type ThrottleHit, type ThrottleStore, type ThrottlerStorageRecord } from './throttle-store.interface.js';

/** 503 answered while the shared store is down and `failOpen` is false. */
export class ThrottleStoreUnavailableException extends ServiceUnavailableException {
  constructor() {
    super({ statusCode: 503, error: 'Service Unavailable', message: 'Rate limiting is temporarily unavailable; retry shortly' });
  }
}

/**
 * Applies the failure policy around the shared store: every call is bounded by the client's
 * command timeout (and refused at once while disconnected); on failure, `failOpen` counts the
 * request in a local in-memory store instead, otherwise it answers 503. One warning per outage,
 * one notice on recovery — recovery needs no restart, the next call simply uses Redis again.
 */
export class ResilientThrottleStore implements ThrottleStore, AuthAttemptStore {
  private readonly logger = new Logger('PalisadeThrottle');
  private down = false;

  constructor(
    private readonly primary: ThrottleStore,
    private readonly fallback: MemoryThrottleStore,
    private readonly failOpen: boolean,
    private readonly onChange: (available: boolean) => void = () => undefined,
    private readonly attempts?: { readonly primary: AuthAttemptStore; readonly fallback: MemoryAuthAttemptStore },
  ) {}

  /** True while the last call to the shared store failed. */
  get degraded(): boolean {
    return this.down;
  }

  /** `@nestjs/throttler`'s increment; the tier name is part of the counter's identity. */
  async increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName?: string): Promise<ThrottlerStorageRecord> {
    const [record] = await this.incrementMany([{ key: tierKey(key, throttlerName), ttlMs: ttl, limit, blockMs: blockDuration }]);
    return record as ThrottlerStorageRecord;
  }

  async incrementMany(hits: readonly ThrottleHit[]): Promise<ThrottlerStorageRecord[]> {
    try {
      const records = await this.primary.incrementMany(hits);
      this.recovered();
      return records;
    } catch (error) {
      this.failed(error);
      return this.fallback.incrementMany(hits);
    }
  }

  async blockedFor(key: string): Promise<number> {
    try {
      const seconds = await this.primary.blockedFor(key);
      this.recovered();
      return seconds;
    } catch (error) {
      this.failed(error);
      return this.fallback.blockedFor(key);
    }
  }

  /** Brute-force reservations: the shared store, else (`failOpen`) the instance's own partition. */
  async reserveAttempt(policy: AttemptPolicy): Promise<AttemptVerdict> {
    const attempts = this.attemptStores();
    try {
      const verdict = await attempts.primary.reserveAttempt(policy);
      this.recovered();
      return verdict;
    } catch (error) {
      this.failed(error);
      return attempts.fallback.reserveSync(policy);
    }
  }

  /**
   * Settles where the attempt was reserved as far as can be told: on the shared store, else in the
   * local partition (a slot reserved locally and settled on Redis after it came back lapses by
   * itself after `pendingMs`).
   */
  async settleAttempt(policy: AttemptPolicy, reserved: boolean, outcome: AttemptOutcome): Promise<AttemptVerdict> {
    const attempts = this.attemptStores();
    try {
      const verdict = await attempts.primary.settleAttempt(policy, reserved, outcome);
      this.recovered();
      return verdict;
    } catch (error) {
      this.failed(error);
      return attempts.fallback.settleSync(policy, reserved, outcome);
    }
  }

  async attemptBlockedFor(key: string): Promise<number> {
    const attempts = this.attemptStores();
    try {
      const ms = await attempts.primary.attemptBlockedFor(key);
      this.recovered();
      return ms;
    } catch (error) {
      this.failed(error);
      return attempts.fallback.attemptBlockedFor(key);
    }
  }

  private attemptStores(): { readonly primary: AuthAttemptStore; readonly fallback: MemoryAuthAttemptStore } {
    if (this.attempts === undefined)
      throw new Error('ResilientThrottleStore: built without an attempt store; pass { primary, fallback } as its fifth argument.');
    return this.attempts;
  }

  private failed(error: unknown): void {
    if (!this.down) {
      this.down = true;
      const reason = error instanceof Error ? error.message : String(error);
      this.logger.warn(
        `Shared rate-limit store unavailable (${reason}); ${this.failOpen ? 'counting requests per instance in memory until it returns' : 'answering 503 until it returns'}.`,
      );
      this.onChange(false);
    }
    if (!this.failOpen) throw new ThrottleStoreUnavailableException();
  }

  private recovered(): void {
    if (this.down) {
      this.down = false;
      this.logger.log('Shared rate-limit store is back; limits are shared across instances again.');
      this.onChange(true);
    }
  }
}
