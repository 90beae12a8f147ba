import type { Redis } from 'ioredis';
import { describe, expect, it, vi, type TestContext } from 'vitest';
import { deleteKeysUnder, redisClient, redisPrefix, requireRedis } from '../../../../test/support/redis.js';
import { RedisThrottleStore } from './redis-throttle.store.js';

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
    // The 151st hit blocks the key; later hits are refused without being counted.
    expect(records.filter((r) => r.isBlocked).map((r) => r.totalHits)).toEqual(Array.from({ length: 50 }, () => 151));
    expect(await redis.hget(k, 'h')).toBe('151');
  });

  it('blocks the hit past the limit for blockDuration and reports it through blockedFor', async (ctx) => {
    const { store, key } = await setup(ctx);
    const k = key('{ip:192.0.2.3}:R.get:default');
    const hit = { key: k, limit: 2, ttlMs: 60_000, blockMs: 120_000 };
    expect(await store.blockedFor(k)).toBe(0);
    await store.incrementMany([hit]);
    await store.incrementMany([hit]);
    expect(await store.blockedFor(k)).toBe(0);
    expect(await store.incrementMany([hit])).toEqual([{ totalHits: 3, timeToExpire: 60, isBlocked: true, timeToBlockExpire: 120 }]);
    expect(await store.incrementMany([hit])).toEqual([{ totalHits: 3, timeToExpire: 60, isBlocked: true, timeToBlockExpire: 120 }]);
    expect(await store.blockedFor(k)).toBe(120);
    expect(await store.blockedFor(key('{ip:192.0.2.4}:auth-failures'))).toBe(0);
  });

  it('starts afresh once the block ends', async (ctx) => {
    const { store, key } = await setup(ctx);
    const k = key('{ip:192.0.2.5}:R.get:default');
    // Short block, long window: only the block's end can reset the counter.
    const hit = { key: k, limit: 1, ttlMs: 60_000, blockMs: 150 };
    await store.incrementMany([hit, hit]);
    expect(await store.blockedFor(k)).toBe(1);
    await vi.waitFor(async () => expect(await store.blockedFor(k)).toBe(0), { timeout: 5_000, interval: 25 });
    expect(await store.incrementMany([hit])).toEqual([{ totalHits: 1, timeToExpire: 60, isBlocked: false, timeToBlockExpire: 0 }]);
  });

  it('starts afresh once the window ends, and lets Redis expire the key', async (ctx) => {
    const { redis, store, key } = await setup(ctx);
    const k = key('{ip:192.0.2.6}:R.get:default');
    const hit = { key: k, limit: 5, ttlMs: 150, blockMs: 150 };
    await store.incrementMany([hit, hit]);
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
    const countingTtl = await redis.pttl(counting);
    expect(countingTtl).toBeGreaterThan(0);
    expect(countingTtl).toBeLessThanOrEqual(30_000);
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
      { totalHits: 1, timeToExpire: 10, isBlocked: false, timeToBlockExpire: 0 },
      { totalHits: 1, timeToExpire: 60, isBlocked: false, timeToBlockExpire: 0 },
      { totalHits: 1, timeToExpire: 86_400, isBlocked: false, timeToBlockExpire: 0 },
    ]);
    expect((await store.incrementMany(hits)).map((r) => [r.totalHits, r.isBlocked])).toEqual([
      [2, true],
      [2, false],
      [2, false],
    ]);
    expect(await Promise.all(keys.map((k) => redis.hget(k, 'h')))).toEqual(['2', '2', '2']);
  });

  it("implements @nestjs/throttler's increment(key, ttl, limit, blockDuration)", async (ctx) => {
    const { store, key } = await setup(ctx);
    const k = key('{ip:192.0.2.9}:R.get:default');
    await store.increment(k, 60_000, 1, 120_000);
    expect(await store.increment(k, 60_000, 1, 120_000)).toEqual({ totalHits: 2, timeToExpire: 60, isBlocked: true, timeToBlockExpire: 120 });
  });
});
