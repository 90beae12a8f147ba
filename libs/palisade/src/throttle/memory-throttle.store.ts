import { LRUCache } from 'lru-cache';
import { rollWindow, roomAt, tierKey, toSeconds, type ThrottleHit, type ThrottleStore, type ThrottlerStorageRecord } from './throttle-store.interface.js';

/** One key's sliding-window counter (epoch ms). */
interface Counter {
  /** Start of the current window. */
  start: number;
  /** Hits allowed in the current window. */
  current: number;
  /** Hits allowed in the window before it. */
  previous: number;
  /** End of the block (0 or past: none). */
  blockedUntil: number;
}

/**
 * In-memory, per-instance store (the sliding-window counter of {@link ThrottleStore}). Bounded: at
 * most `maxKeys` counters (least recently used evicted first), each expiring once its hits no
 * longer count and its block has ended; no timer per key — expired counters are dropped when read
 * and swept in one pass at most once per `sweepEveryMs`.
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

  /** `@nestjs/throttler`'s increment; the tier name is part of the counter's identity. */
  async increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName?: string): Promise<ThrottlerStorageRecord> {
    return this.hit({ key: tierKey(key, throttlerName), ttlMs: ttl, limit, blockMs: blockDuration });
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

  /** Synchronous core, shared with the Redis store's fallback. Mirrors the Redis store's script. */
  hit({ key, ttlMs, limit, blockMs }: ThrottleHit): ThrottlerStorageRecord {
    const now = this.now();
    if (now >= this.nextSweep) {
      this.nextSweep = now + this.sweepEveryMs;
      this.counters.purgeStale();
    }
    let counter = this.counters.get(key);
    if (counter === undefined) {
      counter = { start: now, current: 0, previous: 0, blockedUntil: 0 };
      this.counters.set(key, counter, { ttl: 2 * ttlMs });
    } else if (rollWindow(counter, now, ttlMs)) {
      this.counters.set(key, counter, { ttl: Math.max(counter.start + 2 * ttlMs, counter.blockedUntil) - now });
    }
    const { start, previous, current, blockedUntil } = counter;
    // The previous window's weighted share, scaled by ttlMs to stay in integers.
    const weighted = previous * (ttlMs - Math.max(0, now - start));
    if (blockedUntil <= now && weighted + current * ttlMs < limit * ttlMs) {
      counter.current = current + 1;
      const totalHits = counter.current + Math.floor(weighted / ttlMs);
      const until = totalHits < limit ? start + ttlMs : roomAt(start, previous, counter.current, ttlMs, limit, now);
      return { totalHits, timeToExpire: toSeconds(until - now), isBlocked: false, timeToBlockExpire: 0 };
    }
    let until = roomAt(start, previous, current, ttlMs, limit, now);
    if (blockedUntil > now) {
      until = Math.max(until, blockedUntil);
    } else if (blockMs > 0) {
      until = Math.max(until, now + blockMs);
      counter.blockedUntil = until;
      this.counters.set(key, counter, { ttl: Math.max(start + 2 * ttlMs, until) - now });
    }
    const wait = toSeconds(until - now);
    const totalHits = Math.max(limit + 1, current + 1 + Math.floor(weighted / ttlMs));
    return { totalHits, timeToExpire: wait, isBlocked: true, timeToBlockExpire: wait };
  }
}
