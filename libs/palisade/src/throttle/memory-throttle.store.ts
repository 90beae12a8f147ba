import { LRUCache } from 'lru-cache';
import { toSeconds, type ThrottleHit, type ThrottleStore, type ThrottlerStorageRecord } from './throttle-store.interface.js';

interface Counter {
  hits: number;
  windowEnd: number;
  blockedUntil: number;
}

/**
 * In-memory, per-instance store. Bounded: at most `maxKeys` counters (least recently used evicted
 * first), each expiring with its window or block; no timer per key — expired counters are dropped
 * when read and swept in one pass at most once per `sweepEveryMs`.
 */
export class MemoryThrottleStore implements ThrottleStore {
  private readonly counters: LRUCache<string, Counter>;
  private nextSweep = 0;

  constructor(
    maxKeys = 100_000,
    private readonly sweepEveryMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {
    this.counters = new LRUCache<string, Counter>({ max: maxKeys, ttlAutopurge: false, ttlResolution: 0, perf: { now } });
  }

  /** Number of counters currently held (expired ones included until swept). */
  get size(): number {
    return this.counters.size;
  }

  async increment(key: string, ttl: number, limit: number, blockDuration: number): Promise<ThrottlerStorageRecord> {
    return this.hit({ key, ttlMs: ttl, limit, blockMs: blockDuration });
  }

  async incrementMany(hits: readonly ThrottleHit[]): Promise<ThrottlerStorageRecord[]> {
    return hits.map((hit) => this.hit(hit));
  }

  async blockedFor(key: string): Promise<number> {
    const counter = this.counters.get(key);
    return counter ? toSeconds(counter.blockedUntil - this.now()) : 0;
  }

  /** `incrementMany`, synchronously. */
  incrementManySync(hits: readonly ThrottleHit[]): ThrottlerStorageRecord[] {
    const records: ThrottlerStorageRecord[] = [];
    for (const hit of hits) records.push(this.hit(hit));
    return records;
  }

  /** Synchronous core, shared with the Redis store's fallback. */
  hit({ key, ttlMs, limit, blockMs }: ThrottleHit): ThrottlerStorageRecord {
    const now = this.now();
    if (now >= this.nextSweep) {
      this.nextSweep = now + this.sweepEveryMs;
      this.counters.purgeStale();
    }
    let counter = this.counters.get(key);
    if (counter && counter.blockedUntil > now) {
      return {
        totalHits: counter.hits,
        timeToExpire: toSeconds(counter.windowEnd - now),
        isBlocked: true,
        timeToBlockExpire: toSeconds(counter.blockedUntil - now),
      };
    }
    let fresh = false;
    if (!counter || counter.windowEnd <= now || counter.blockedUntil !== 0) {
      counter = { hits: 0, windowEnd: now + ttlMs, blockedUntil: 0 };
      fresh = true;
    }
    counter.hits += 1;
    const isBlocked = counter.hits > limit;
    if (isBlocked) counter.blockedUntil = now + blockMs;
    if (fresh || isBlocked) {
      this.counters.set(key, counter, { ttl: Math.max(counter.windowEnd, counter.blockedUntil) - now });
    }
    return {
      totalHits: counter.hits,
      timeToExpire: toSeconds(counter.windowEnd - now),
      isBlocked,
      timeToBlockExpire: toSeconds(counter.blockedUntil - now),
    };
  }
}
