import { describe, expect, it } from 'vitest';
import { MemoryThrottleStore } from './memory-throttle.store.js';

/** A clock the test moves by hand (the store reads time only through it). */
function manualClock(start = 1_700_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

const hit = (key: string, limit = 3, ttlMs = 1_000, blockMs = 5_000) => ({ key, limit, ttlMs, blockMs });

describe('MemoryThrottleStore', () => {
  describe('fixed-window semantics (injected clock)', () => {
    it('counts hits in a window and reports the time left in whole seconds', async () => {
      const clock = manualClock();
      const store = new MemoryThrottleStore(1_000, 10_000, clock.now);
      const records = await store.incrementMany([hit('k'), hit('k'), hit('k')]);
      expect(records).toEqual([
        { totalHits: 1, timeToExpire: 1, isBlocked: false, timeToBlockExpire: 0 },
        { totalHits: 2, timeToExpire: 1, isBlocked: false, timeToBlockExpire: 0 },
        { totalHits: 3, timeToExpire: 1, isBlocked: false, timeToBlockExpire: 0 },
      ]);
    });

    it('anchors the window at the first hit: it does not slide with later hits', () => {
      const clock = manualClock();
      const store = new MemoryThrottleStore(1_000, 10_000, clock.now);
      store.hit(hit('k', 3, 10_000));
      clock.advance(6_000);
      expect(store.hit(hit('k', 3, 10_000))).toMatchObject({ totalHits: 2, timeToExpire: 4 });
      clock.advance(4_000);
      expect(store.hit(hit('k', 3, 10_000))).toMatchObject({ totalHits: 1, timeToExpire: 10, isBlocked: false });
    });

    it('blocks the hit past the limit for blockDuration, without counting further hits', () => {
      const clock = manualClock();
      const store = new MemoryThrottleStore(1_000, 10_000, clock.now);
      for (let i = 0; i < 3; i++) store.hit(hit('k'));
      expect(store.hit(hit('k'))).toEqual({ totalHits: 4, timeToExpire: 1, isBlocked: true, timeToBlockExpire: 5 });
      clock.advance(2_000);
      // The window has ended but the block has not.
      expect(store.hit(hit('k'))).toEqual({ totalHits: 4, timeToExpire: 0, isBlocked: true, timeToBlockExpire: 3 });
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

    it('starts afresh once the block expires', () => {
      const clock = manualClock();
      const store = new MemoryThrottleStore(1_000, 10_000, clock.now);
      for (let i = 0; i < 4; i++) store.hit(hit('k'));
      clock.advance(5_000);
      expect(store.hit(hit('k'))).toEqual({ totalHits: 1, timeToExpire: 1, isBlocked: false, timeToBlockExpire: 0 });
      expect(store.hit(hit('k'))).toMatchObject({ totalHits: 2, isBlocked: false });
    });

    it('starts afresh once the window expires', () => {
      const clock = manualClock();
      const store = new MemoryThrottleStore(1_000, 10_000, clock.now);
      for (let i = 0; i < 3; i++) store.hit(hit('k'));
      clock.advance(1_000);
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

    it("implements @nestjs/throttler's increment(key, ttl, limit, blockDuration)", async () => {
      const clock = manualClock();
      const store = new MemoryThrottleStore(1_000, 10_000, clock.now);
      await store.increment('k', 60_000, 1, 120_000);
      expect(await store.increment('k', 60_000, 1, 120_000)).toEqual({ totalHits: 2, timeToExpire: 60, isBlocked: true, timeToBlockExpire: 120 });
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
      clock.advance(2_000);
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
