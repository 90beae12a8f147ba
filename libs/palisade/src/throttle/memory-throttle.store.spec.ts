import { ThrottlerStorageService } from '@nestjs/throttler';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryThrottleStore } from './memory-throttle.store.js';
import type { ThrottlerStorageRecord } from './throttle-store.interface.js';

/** A clock the test moves by hand (the store reads time only through it). */
function manualClock(start = 1_700_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

/** A small seeded PRNG, so the random hit sequences are the same on every run. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const hit = (key: string, limit = 3, ttlMs = 1_000, blockMs = 5_000) => ({ key, limit, ttlMs, blockMs });

/** Hits at the given offsets (ms) on Palisade's store and on @nestjs/throttler's, same (fake) clock. */
async function replay(offsets: readonly number[], limit: number, ttl: number, blockDuration: number) {
  const palisade = new MemoryThrottleStore();
  const upstream = new ThrottlerStorageService();
  const start = Date.now();
  const ours: ThrottlerStorageRecord[] = [];
  const theirs: ThrottlerStorageRecord[] = [];
  for (const offset of offsets) {
    vi.setSystemTime(start + offset);
    ours.push(await palisade.increment('k', ttl, limit, blockDuration, 'default'));
    theirs.push(await upstream.increment('k', ttl, limit, blockDuration, 'default'));
  }
  upstream.onApplicationShutdown();
  return { ours, theirs, palisade, start };
}

describe('MemoryThrottleStore', () => {
  describe('sliding-window counter (injected clock)', () => {
    it('counts hits and reports the time left in whole seconds: the window, then when the next hit passes', async () => {
      const clock = manualClock();
      const store = new MemoryThrottleStore(1_000, 10_000, clock.now);
      const records = await store.incrementMany([hit('k', 3, 60_000), hit('k', 3, 60_000), hit('k', 3, 60_000)]);
      expect(records).toEqual([
        { totalHits: 1, timeToExpire: 60, isBlocked: false, timeToBlockExpire: 0 },
        { totalHits: 2, timeToExpire: 60, isBlocked: false, timeToBlockExpire: 0 },
        // Nothing more passes now: the next hit passes 1 ms after the window closes (60.001 s).
        { totalHits: 3, timeToExpire: 61, isBlocked: false, timeToBlockExpire: 0 },
      ]);
    });

    it('weights the previous window by its overlap with the last ttl', () => {
      const clock = manualClock();
      const store = new MemoryThrottleStore(1_000, 10_000, clock.now);
      const h = hit('k', 4, 10_000, 0);
      for (let i = 0; i < 4; i++) store.hit(h);
      clock.advance(12_500); // 25 % into the next window: the previous 4 count as 3
      // 3 + 0 < 4: passes; the estimate is now 4, so the next passes once the share is below 3.
      expect(store.hit(h)).toEqual({ totalHits: 4, timeToExpire: 1, isBlocked: false, timeToBlockExpire: 0 });
      expect(store.hit(h)).toEqual({ totalHits: 5, timeToExpire: 1, isBlocked: true, timeToBlockExpire: 1 });
      clock.advance(1);
      // 2.9996 + 1 < 4: passes; the next one once the share is below 2, i.e. past half the window.
      expect(store.hit(h)).toEqual({ totalHits: 4, timeToExpire: 3, isBlocked: false, timeToBlockExpire: 0 });
      clock.advance(2_499);
      expect(store.hit(h).isBlocked).toBe(true);
      clock.advance(1);
      expect(store.hit(h)).toMatchObject({ totalHits: 4, isBlocked: false });
    });

    it('blocks the refused hit for blockDuration, without counting hits while blocked', () => {
      const clock = manualClock();
      const store = new MemoryThrottleStore(1_000, 10_000, clock.now);
      for (let i = 0; i < 3; i++) store.hit(hit('k', 3, 1_000, 5_000));
      expect(store.hit(hit('k', 3, 1_000, 5_000))).toEqual({ totalHits: 4, timeToExpire: 5, isBlocked: true, timeToBlockExpire: 5 });
      clock.advance(2_000);
      // The window has rolled twice, but the block holds.
      expect(store.hit(hit('k', 3, 1_000, 5_000))).toEqual({ totalHits: 4, timeToExpire: 3, isBlocked: true, timeToBlockExpire: 3 });
      clock.advance(3_000);
      // Block over, and the hits refused meanwhile were not counted: a full budget.
      for (let i = 1; i <= 3; i++) expect(store.hit(hit('k', 3, 1_000, 5_000))).toMatchObject({ totalHits: i, isBlocked: false });
    });

    it('keeps a block shorter than the window until the window has room: Retry-After is when a hit passes', () => {
      const clock = manualClock();
      const store = new MemoryThrottleStore(1_000, 10_000, clock.now);
      store.hit(hit('k', 1, 60_000, 1_000));
      // Blocked for 1 s by blockDuration, but the window is full until 60.001 s.
      expect(store.hit(hit('k', 1, 60_000, 1_000))).toEqual({ totalHits: 2, timeToExpire: 61, isBlocked: true, timeToBlockExpire: 61 });
      clock.advance(60_000);
      expect(store.hit(hit('k', 1, 60_000, 1_000))).toMatchObject({ isBlocked: true, timeToBlockExpire: 1 });
      clock.advance(1);
      expect(store.hit(hit('k', 1, 60_000, 1_000))).toMatchObject({ totalHits: 1, isBlocked: false });
    });

    it('reports a block through blockedFor, in whole seconds rounded up', async () => {
      const clock = manualClock();
      const store = new MemoryThrottleStore(1_000, 10_000, clock.now);
      expect(await store.blockedFor('k')).toBe(0);
      for (let i = 0; i < 4; i++) store.hit(hit('k'));
      expect(await store.blockedFor('k')).toBe(5);
      clock.advance(3_500);
      expect(await store.blockedFor('k')).toBe(2);
      clock.advance(1_500);
      expect(await store.blockedFor('k')).toBe(0);
      expect(await store.blockedFor('other')).toBe(0);
    });

    it('starts afresh once both windows have passed', () => {
      const clock = manualClock();
      const store = new MemoryThrottleStore(1_000, 10_000, clock.now);
      for (let i = 0; i < 3; i++) store.hit(hit('k'));
      clock.advance(2_000);
      expect(store.hit(hit('k'))).toEqual({ totalHits: 1, timeToExpire: 1, isBlocked: false, timeToBlockExpire: 0 });
    });

    it('keeps keys independent, and counts each hit of one incrementMany call', async () => {
      const clock = manualClock();
      const store = new MemoryThrottleStore(1_000, 10_000, clock.now);
      const records = await store.incrementMany([hit('a', 1), hit('b', 5), hit('a', 1)]);
      expect(records.map((r) => [r.totalHits, r.isBlocked])).toEqual([
        [1, false],
        [1, false],
        [2, true],
      ]);
      expect(await store.blockedFor('a')).toBe(5);
      expect(await store.blockedFor('b')).toBe(0);
    });

    it("implements @nestjs/throttler's increment(key, ttl, limit, blockDuration, throttlerName)", async () => {
      const clock = manualClock();
      const store = new MemoryThrottleStore(1_000, 10_000, clock.now);
      await store.increment('k', 60_000, 1, 120_000, 'default');
      expect(await store.increment('k', 60_000, 1, 120_000, 'default')).toEqual({ totalHits: 2, timeToExpire: 120, isBlocked: true, timeToBlockExpire: 120 });
    });
  });

  describe('@nestjs/throttler parity (fake timers)', () => {
    beforeEach(() => {
      vi.useFakeTimers({ now: 1_700_000_000_000, toFake: ['Date', 'setInterval', 'clearInterval'] });
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    it('refuses the 4th of hits at 0, 1.6, 2.2, 2.3 s (limit 2 per 2 s) as upstream does — the fixed window let it through', async () => {
      const { ours, theirs, palisade, start } = await replay([0, 1_600, 2_200, 2_300], 2, 2_000, 2_000);
      expect(theirs.map((r) => r.isBlocked)).toEqual([false, false, false, true]);
      expect(ours.map((r) => r.isBlocked)).toEqual([false, false, false, true]);
      // Retry-After as upstream (the 2 s block), and exact: refused 1 ms before, allowed at it.
      expect(ours[3]).toMatchObject({ timeToBlockExpire: 2 });
      expect(theirs[3]).toMatchObject({ timeToBlockExpire: 2 });
      vi.setSystemTime(start + 4_299);
      expect((await palisade.increment('k', 2_000, 2, 2_000, 'default')).isBlocked).toBe(true);
      vi.setSystemTime(start + 4_300);
      expect((await palisade.increment('k', 2_000, 2, 2_000, 'default')).isBlocked).toBe(false);
    });

    it('blockDuration 0, limit 2 per 3 s: 9 quick hits, 2 pass, as upstream — none is let through by a 0 ms block', async () => {
      const offsets = Array.from({ length: 9 }, (_, i) => i);
      const { ours, theirs, palisade, start } = await replay(offsets, 2, 3_000, 0);
      expect(theirs.filter((r) => !r.isBlocked)).toHaveLength(2);
      expect(ours.map((r) => r.isBlocked)).toEqual([false, false, ...Array.from({ length: 7 }, () => true)]);
      // Nothing is blocked: the window decides, and says when a hit passes (3.001 s after the first).
      expect(ours[8]).toEqual({ totalHits: 3, timeToExpire: 3, isBlocked: true, timeToBlockExpire: 3 });
      expect(await palisade.blockedFor('k:default:7')).toBe(0);
      vi.setSystemTime(start + 3_000);
      expect((await palisade.increment('k', 3_000, 2, 0, 'default')).isBlocked).toBe(true);
      vi.setSystemTime(start + 3_001);
      expect((await palisade.increment('k', 3_000, 2, 0, 'default')).isBlocked).toBe(false);
    });
  });

  describe('no burst at a window edge: the exact bound', () => {
    it('lets limit + 1 through across an edge where a fixed window let 2 × limit through', () => {
      const clock = manualClock(0);
      const store = new MemoryThrottleStore(1_000, 10_000, clock.now);
      const limit = 5;
      const passed: number[] = [];
      const at = (t: number) => {
        clock.advance(t - clock.now());
        if (!store.hit(hit('k', limit, 1_000, 0)).isBlocked) passed.push(t);
      };
      at(0);
      for (let i = 0; i < 4; i++) at(999); // the window's budget spent at its very end
      for (let t = 1_000; t < 1_200; t++) at(t); // a hit every ms for the next ttl / limit
      // A fixed window passed 5 more at 1000 ms. Here one passes (the bound's + 1), the next 200 ms later.
      expect(passed).toEqual([0, 999, 999, 999, 999, 1_001]);
      at(1_200);
      at(1_201);
      expect(passed.slice(-1)).toEqual([1_201]);
    });

    it('reaches 2 × limit only spread over most of a ttl (the bound is exact)', () => {
      const clock = manualClock(0);
      const store = new MemoryThrottleStore(1_000, 10_000, clock.now);
      const passed: number[] = [];
      const at = (t: number) => {
        clock.advance(t - clock.now());
        if (!store.hit(hit('k', 4, 1_000, 0)).isBlocked) passed.push(t);
      };
      at(0); // opens the windows: [0, 1000), [1000, 2000), [2000, 3000)…
      for (let t = 1_996; t < 3_000; t++) at(t); // the second window's budget at its very end, then a hit every ms
      expect(passed).toEqual([0, 1_996, 1_997, 1_998, 1_999, 2_001, 2_251, 2_501, 2_751]);
      // 8 = 2 × limit within 755 ms: limit + ⌈limit × 755 / 1000⌉ = 4 + 4, the bound, reached.
      expect(4 + Math.ceil((4 * (2_751 - 1_996)) / 1_000)).toBe(8);
    });

    it.each([
      { limit: 1, ttlMs: 1_000, blockMs: 0 },
      { limit: 5, ttlMs: 1_000, blockMs: 0 },
      { limit: 7, ttlMs: 3_000, blockMs: 500 },
      { limit: 20, ttlMs: 10_000, blockMs: 0 },
      { limit: 3, ttlMs: 2_000, blockMs: 4_000 },
    ])('never lets more than limit + ⌈limit × d / ttl⌉ pass within d < ttl (limit $limit, ttl $ttlMs ms, block $blockMs ms)', ({ limit, ttlMs, blockMs }) => {
      const clock = manualClock(0);
      const store = new MemoryThrottleStore(1_000, 10_000, clock.now);
      const random = mulberry32(limit * 7_919 + ttlMs);
      const passed: number[] = [];
      let t = 0;
      for (let i = 0; i < 5_000; i++) {
        // Bursts (gaps of 0-2 ms) and pauses (up to a ttl), the pattern that probes window edges.
        t += random() < 0.8 ? Math.floor(random() * 3) : Math.floor(random() * ttlMs);
        clock.advance(t - clock.now());
        if (!store.hit(hit('k', limit, ttlMs, blockMs)).isBlocked) passed.push(t);
      }
      expect(passed.length).toBeGreaterThan(100);
      let worst = 0;
      for (let i = 0; i < passed.length; i++) {
        for (let j = i; j < passed.length && (passed[j] as number) - (passed[i] as number) < ttlMs; j++) {
          const d = (passed[j] as number) - (passed[i] as number);
          const bound = limit + Math.ceil((limit * d) / ttlMs);
          expect(j - i + 1, `hits ${i}..${j} over ${d} ms`).toBeLessThanOrEqual(bound);
          if (d * limit < ttlMs) worst = Math.max(worst, j - i + 1);
        }
      }
      // Within ttl / limit, never more than limit + 1.
      expect(worst).toBeLessThanOrEqual(limit + 1);
    });
  });

  describe('the tier name is part of the counter (custom generateKey)', () => {
    it('counts two tiers on one key separately', async () => {
      const store = new MemoryThrottleStore();
      expect((await store.increment('same-key', 60_000, 1, 60_000, 'burst')).isBlocked).toBe(false);
      expect((await store.increment('same-key', 60_000, 1, 60_000, 'sustained')).isBlocked).toBe(false);
      expect((await store.increment('same-key', 60_000, 1, 60_000, 'burst')).isBlocked).toBe(true);
      expect((await store.increment('same-key', 60_000, 1, 60_000, 'sustained')).isBlocked).toBe(true);
    });

    it('cannot be confused by separators in keys or names', async () => {
      const store = new MemoryThrottleStore();
      await store.increment('x:short', 60_000, 1, 60_000, 'long');
      expect((await store.increment('x', 60_000, 1, 60_000, 'short:long')).isBlocked).toBe(false);
    });
  });

  describe('bounded memory', () => {
    it('holds at most maxKeys counters under a flood of distinct clients', () => {
      const clock = manualClock();
      const store = new MemoryThrottleStore(1_000, 10_000, clock.now);
      let largest = 0;
      for (let i = 0; i < 50_000; i++) {
        store.hit(hit(`ip:${i}`, 100, 60_000));
        largest = Math.max(largest, store.size);
      }
      expect(largest).toBeLessThanOrEqual(1_000);
      expect(store.size).toBeLessThanOrEqual(1_000);
      expect(store.size).toBeGreaterThan(0);
    });

    it('evicts the least recently used counters first: an active client keeps its count', () => {
      const clock = manualClock();
      const store = new MemoryThrottleStore(100, 10_000, clock.now);
      store.hit(hit('active', 1_000, 60_000));
      for (let i = 0; i < 1_000; i++) {
        store.hit(hit(`flood:${i}`, 1_000, 60_000));
        if (i % 50 === 0) store.hit(hit('active', 1_000, 60_000));
      }
      expect(store.hit(hit('active', 1_000, 60_000)).totalHits).toBe(22);
    });

    it('sweeps expired counters once their window has passed', () => {
      const clock = manualClock();
      const store = new MemoryThrottleStore(10_000, 10_000, clock.now);
      for (let i = 0; i < 500; i++) store.hit(hit(`ip:${i}`, 10, 1_000));
      expect(store.size).toBe(500);
      clock.advance(10_001);
      store.hit(hit('late', 10, 1_000));
      expect(store.size).toBe(1);
    });

    it('keeps blocked counters until their block ends, then sweeps them', () => {
      const clock = manualClock();
      const store = new MemoryThrottleStore(10_000, 1_000, clock.now);
      for (let i = 0; i < 3; i++) store.hit(hit('blocked', 1, 1_000, 30_000));
      for (let i = 0; i < 100; i++) store.hit(hit(`ip:${i}`, 10, 1_000));
      // A counter lives two windows: its hits still count, weighted, in the next one.
      clock.advance(2_001);
      store.hit(hit('late', 10, 60_000));
      expect(store.size).toBe(2);
      clock.advance(30_000);
      store.hit(hit('later', 10, 1_000));
      expect(store.size).toBe(2);
    });

    it('sweeps by the injected clock even right after a counter was read (regression: lru-cache cached the time for 1 ms of real time)', () => {
      const clock = manualClock();
      const store = new MemoryThrottleStore(10_000, 10_000, clock.now);
      store.hit(hit('a', 10, 1_000));
      store.hit(hit('a', 10, 1_000)); // a read of a live counter: lru-cache looks at the clock here
      clock.advance(20_000);
      store.hit(hit('b', 10, 1_000));
      expect(store.size).toBe(1);
    });

    it('does not sweep more often than sweepEveryMs', () => {
      const clock = manualClock();
      const store = new MemoryThrottleStore(10_000, 60_000, clock.now);
      store.hit(hit('first', 10, 1_000));
      for (let i = 0; i < 100; i++) store.hit(hit(`ip:${i}`, 10, 1_000));
      clock.advance(5_000);
      store.hit(hit('late', 10, 1_000));
      // Expired, but the next sweep is not due: they linger (bounded by maxKeys) until then.
      expect(store.size).toBe(102);
      clock.advance(60_000);
      store.hit(hit('later', 10, 1_000));
      expect(store.size).toBe(1);
    });
  });
});
