import type { Redis } from 'ioredis';
import { describe, expect, it, vi, type TestContext } from 'vitest';
import { deleteKeysUnder, redisClient, redisPrefix, requireRedis } from '../../../../test/support/redis.js';
import { RedisThrottleStore } from './redis-throttle.store.js';
import type { ThrottlerStorageRecord } from './throttle-store.interface.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** The hash tag Redis Cluster hashes a key by: the first non-empty `{…}`, else the whole key. */
function hashTag(key: string): string {
  const open = key.indexOf('{');
  const close = open < 0 ? -1 : key.indexOf('}', open + 1);
  return open >= 0 && close > open + 1 ? key.slice(open + 1, close) : key;
}

/** A store on the shared Redis with a fresh key prefix, cleaned up when the test finishes. */
async function setup(ctx: TestContext): Promise<{ redis: Redis; store: RedisThrottleStore; key: (rest: string) => string }> {
  const redis = await requireRedis(ctx);
  const prefix = redisPrefix();
  ctx.onTestFinished(() => deleteKeysUnder(redis, prefix));
  return { redis, store: new RedisThrottleStore(redis), key: (rest) => `${prefix}${rest}` };
}

describe('RedisThrottleStore (real Redis)', () => {
  it('counts hits per key and reports times in whole seconds', async (ctx) => {
    const { store, key } = await setup(ctx);
    const k = key('{ip:192.0.2.1}:R.get:default');
    const hit = { key: k, limit: 3, ttlMs: 60_000, blockMs: 60_000 };
    expect(await store.incrementMany([hit])).toEqual([{ totalHits: 1, timeToExpire: 60, isBlocked: false, timeToBlockExpire: 0 }]);
    expect(await store.incrementMany([hit])).toEqual([{ totalHits: 2, timeToExpire: 60, isBlocked: false, timeToBlockExpire: 0 }]);
    expect(await store.incrementMany([{ ...hit, key: key('{ip:192.0.2.2}:R.get:default') }])).toMatchObject([{ totalHits: 1 }]);
  });

  it('counts atomically under concurrency from two instances: exactly `limit` hits are allowed', async (ctx) => {
    const { redis, store, key } = await setup(ctx);
    const other = redisClient();
    await other.connect();
    ctx.onTestFinished(() => {
      other.disconnect();
    });
    const stores = [store, new RedisThrottleStore(other)];
    const k = key('{u:alice}:R.get:default');
    const records = (
      await Promise.all(
        Array.from({ length: 200 }, (_, i) => (stores[i % 2] as RedisThrottleStore).incrementMany([{ key: k, limit: 150, ttlMs: 60_000, blockMs: 60_000 }])),
      )
    ).flat();

    const allowed = records.filter((r) => !r.isBlocked);
    expect(allowed).toHaveLength(150);
    expect(allowed.map((r) => r.totalHits).sort((a, b) => a - b)).toEqual(Array.from({ length: 150 }, (_, i) => i + 1));
    // The 151st hit blocks the key; refused hits are not counted.
    expect(records.filter((r) => r.isBlocked).map((r) => r.totalHits)).toEqual(Array.from({ length: 50 }, () => 151));
    expect(await redis.hget(k, 'c')).toBe('150');
  });

  it('blocks the refused hit for blockDuration and reports it through blockedFor', async (ctx) => {
    const { store, key } = await setup(ctx);
    const k = key('{ip:192.0.2.3}:R.get:default');
    const hit = { key: k, limit: 2, ttlMs: 60_000, blockMs: 120_000 };
    expect(await store.blockedFor(k)).toBe(0);
    await store.incrementMany([hit]);
    await store.incrementMany([hit]);
    expect(await store.blockedFor(k)).toBe(0);
    expect(await store.incrementMany([hit])).toEqual([{ totalHits: 3, timeToExpire: 120, isBlocked: true, timeToBlockExpire: 120 }]);
    expect(await store.incrementMany([hit])).toEqual([{ totalHits: 3, timeToExpire: 120, isBlocked: true, timeToBlockExpire: 120 }]);
    expect(await store.blockedFor(k)).toBe(120);
    expect(await store.blockedFor(key('{ip:192.0.2.4}:auth-failures'))).toBe(0);
  });

  it('keeps a block shorter than the window until the window has room, and lets the next hit pass then', async (ctx) => {
    const { store, key } = await setup(ctx);
    const long = key('{ip:192.0.2.5}:R.get:default');
    // Blocked for 150 ms by blockDuration, but the window is full until 60.001 s after the first hit.
    await store.incrementMany([{ key: long, limit: 1, ttlMs: 60_000, blockMs: 150 }]);
    const [refused] = await store.incrementMany([{ key: long, limit: 1, ttlMs: 60_000, blockMs: 150 }]);
    expect(refused).toMatchObject({ totalHits: 2, isBlocked: true });
    expect(refused?.timeToBlockExpire).toBeGreaterThanOrEqual(60);
    expect(refused?.timeToBlockExpire).toBeLessThanOrEqual(61);
    expect(await store.blockedFor(long)).toBeGreaterThanOrEqual(60);

    const short = key('{ip:192.0.2.5}:R.get:short');
    const hit = { key: short, limit: 1, ttlMs: 300, blockMs: 150 };
    await store.incrementMany([hit, hit]);
    expect(await store.blockedFor(short)).toBe(1);
    await vi.waitFor(async () => expect(await store.blockedFor(short)).toBe(0), { timeout: 5_000, interval: 25 });
    expect(await store.incrementMany([hit])).toMatchObject([{ totalHits: 1, isBlocked: false }]);
  });

  it('lets Redis expire the key once its hits no longer count (two windows)', async (ctx) => {
    const { redis, store, key } = await setup(ctx);
    const k = key('{ip:192.0.2.6}:R.get:default');
    const hit = { key: k, limit: 5, ttlMs: 150, blockMs: 150 };
    await store.incrementMany([hit, hit]);
    expect(await redis.pttl(k)).toBeGreaterThan(150);
    await vi.waitFor(async () => expect(await redis.exists(k)).toBe(0), { timeout: 5_000, interval: 25 });
    expect(await store.incrementMany([hit])).toMatchObject([{ totalHits: 1, isBlocked: false }]);
  });

  it('gives every key a TTL covering its window or block, so no counter lives forever', async (ctx) => {
    const { redis, store, key } = await setup(ctx);
    const counting = key('{ip:192.0.2.7}:R.get:default');
    const blocked = key('{ip:192.0.2.7}:R.get:strict');
    await store.incrementMany([
      { key: counting, limit: 5, ttlMs: 30_000, blockMs: 300_000 },
      { key: blocked, limit: 0, ttlMs: 30_000, blockMs: 300_000 },
    ]);
    // A window's hits count, weighted, through the next window: two windows.
    const countingTtl = await redis.pttl(counting);
    expect(countingTtl).toBeGreaterThan(30_000);
    expect(countingTtl).toBeLessThanOrEqual(60_000);
    const blockedTtl = await redis.pttl(blocked);
    expect(blockedTtl).toBeGreaterThan(30_000);
    expect(blockedTtl).toBeLessThanOrEqual(300_000);
  });

  it('bumps three hash-tagged keys (one request, three tiers) in one call and one round trip', async (ctx) => {
    const { redis, store, key } = await setup(ctx);
    const keys = ['burst', 'sustained', 'daily'].map((tier) => key(`{ip:192.0.2.8}:R.get:${tier}`));
    expect(new Set(keys.map(hashTag))).toEqual(new Set(['ip:192.0.2.8']));
    const hits = [
      { key: keys[0] as string, limit: 1, ttlMs: 10_000, blockMs: 10_000 },
      { key: keys[1] as string, limit: 2, ttlMs: 60_000, blockMs: 60_000 },
      { key: keys[2] as string, limit: 5, ttlMs: 86_400_000, blockMs: 86_400_000 },
    ];
    // Load the script first, so the count below is not the one-off EVALSHA → EVAL fallback.
    await store.blockedFor(keys[0] as string);
    await store.incrementMany([{ key: key('{warm-up}:x'), limit: 1, ttlMs: 1_000, blockMs: 1_000 }]);

    const sent = vi.spyOn(redis, 'sendCommand');
    const first = await store.incrementMany(hits);
    expect(sent).toHaveBeenCalledTimes(1);
    sent.mockRestore();

    expect(first).toEqual([
      // Limit 1 reached: the next hit passes 1 ms after the 10 s window closes.
      { totalHits: 1, timeToExpire: 11, isBlocked: false, timeToBlockExpire: 0 },
      { totalHits: 1, timeToExpire: 60, isBlocked: false, timeToBlockExpire: 0 },
      { totalHits: 1, timeToExpire: 86_400, isBlocked: false, timeToBlockExpire: 0 },
    ]);
    expect((await store.incrementMany(hits)).map((r) => [r.totalHits, r.isBlocked])).toEqual([
      [2, true],
      [2, false],
      [2, false],
    ]);
    expect(await Promise.all(keys.map((k) => redis.hget(k, 'c')))).toEqual(['1', '2', '2']);
  });

  it("implements @nestjs/throttler's increment(key, ttl, limit, blockDuration, throttlerName)", async (ctx) => {
    const { store, key } = await setup(ctx);
    const k = key('{ip:192.0.2.9}:R.get:default');
    await store.increment(k, 60_000, 1, 120_000, 'default');
    expect(await store.increment(k, 60_000, 1, 120_000, 'default')).toEqual({ totalHits: 2, timeToExpire: 120, isBlocked: true, timeToBlockExpire: 120 });
  });

  it('counts two tiers on one key separately: the tier name is part of the counter (custom generateKey)', async (ctx) => {
    const { store, key } = await setup(ctx);
    const k = key('same-key-for-every-tier');
    expect((await store.increment(k, 60_000, 1, 60_000, 'burst')).isBlocked).toBe(false);
    expect((await store.increment(k, 60_000, 1, 60_000, 'sustained')).isBlocked).toBe(false);
    expect((await store.increment(k, 60_000, 1, 60_000, 'burst')).isBlocked).toBe(true);
    expect((await store.increment(k, 60_000, 1, 60_000, 'sustained')).isBlocked).toBe(true);
  });

  it('blockDuration 0, limit 2 per 3 s: 9 quick hits, exactly 2 pass and nothing is blocked (regression: a 1 ms block reset the counter)', async (ctx) => {
    const { redis, store, key } = await setup(ctx);
    const k = key('{ip:192.0.2.10}:R.get:default');
    const records: ThrottlerStorageRecord[] = [];
    for (let i = 0; i < 9; i++) {
      // oxlint-disable-next-line no-await-in-loop -- sequential on purpose: each hit sees the last
      records.push(...(await store.incrementMany([{ key: k, limit: 2, ttlMs: 3_000, blockMs: 0 }])));
      // oxlint-disable-next-line no-await-in-loop -- a pause longer than a 1 ms block, shorter than the window
      await sleep(3);
    }
    expect(records.map((r) => r.isBlocked)).toEqual([false, false, ...Array.from({ length: 7 }, () => true)]);
    // The window decides: it has room 3.001 s after the first hit.
    expect(records[8]).toMatchObject({ totalHits: 3, timeToBlockExpire: 3 });
    expect(await store.blockedFor(k)).toBe(0);
    expect(await redis.hget(k, 'c')).toBe('2');
  });

  it('refuses the 4th of hits at 0, 0.8, 1.1, 1.15 s (limit 2 per 1 s), as @nestjs/throttler does, and only that one', async (ctx) => {
    const { store, key } = await setup(ctx);
    const k = key('{ip:192.0.2.11}:R.get:default');
    const hit = { key: k, limit: 2, ttlMs: 1_000, blockMs: 1_000 };
    const start = Date.now();
    const decisions: boolean[] = [];
    for (const offset of [0, 800, 1_100, 1_150]) {
      // oxlint-disable-next-line no-await-in-loop -- a timed sequence
      await sleep(start + offset - Date.now());
      // oxlint-disable-next-line no-await-in-loop -- a timed sequence
      decisions.push(((await store.incrementMany([hit]))[0] as ThrottlerStorageRecord).isBlocked);
    }
    // The 3rd: 2 × 0.9 + 0 < 2 passes; the 4th: 2 × 0.85 + 1 is not below 2. A fixed window passed both.
    expect(decisions).toEqual([false, false, false, true]);
  });

  it('lets one hit through across a window edge where a fixed window let the whole limit through', async (ctx) => {
    const { store, key } = await setup(ctx);
    const k = key('{ip:192.0.2.12}:R.get:default');
    const hit = { key: k, limit: 4, ttlMs: 2_000, blockMs: 0 };
    const start = Date.now();
    await store.incrementMany([hit]); // opens the window
    await sleep(start + 1_800 - Date.now());
    expect((await store.incrementMany([hit, hit, hit])).map((r) => r.isBlocked)).toEqual([false, false, false]);
    await sleep(start + 2_020 - Date.now());
    // From just past the edge, a hit every 10 ms for 200 ms (the next one passes only 500 ms in).
    let passed = 0;
    while (Date.now() < start + 2_220) {
      // oxlint-disable-next-line no-await-in-loop -- sequential on purpose
      if (!((await store.incrementMany([hit]))[0] as ThrottlerStorageRecord).isBlocked) passed += 1;
      // oxlint-disable-next-line no-await-in-loop -- paced on purpose
      await sleep(10);
    }
    expect(passed).toBe(1);
  });
});
