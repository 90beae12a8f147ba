import { Logger, ServiceUnavailableException } from '@nestjs/common';
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
export class ResilientThrottleStore implements ThrottleStore {
  private readonly logger = new Logger('PalisadeThrottle');
  private down = false;

  constructor(
    private readonly primary: ThrottleStore,
    private readonly fallback: MemoryThrottleStore,
    private readonly failOpen: boolean,
    private readonly onChange: (available: boolean) => void = () => undefined,
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
