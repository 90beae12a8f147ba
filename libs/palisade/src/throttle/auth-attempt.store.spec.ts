import { describe, expect, it, type TestContext } from 'vitest';
import { deleteKeysUnder, redisPrefix, requireRedis } from '../../../../test/support/redis.js';
import type { AttemptPolicy, AuthAttemptStore } from './auth-attempt-store.interface.js';
import { MemoryAuthAttemptStore } from './memory-auth-attempt.store.js';
import { RedisAuthAttemptStore } from './redis-auth-attempt.store.js';

const T0 = 1_700_000_000_000;
const policy = (key: string): AttemptPolicy => ({ key, limit: 3, ttlMs: 60_000, blockMs: 300_000, pendingMs: 30_000 });

/** A memory store on a clock the test moves. */
function memoryStore(maxKeys = 100_000): { store: MemoryAuthAttemptStore; clock: { now: number } } {
  const clock = { now: T0 };
  return { store: new MemoryAuthAttemptStore(maxKeys, 10_000, () => clock.now), clock };
}

async function redisStore(ctx: TestContext): Promise<{ store: AuthAttemptStore; key: (rest: string) => string }> {
  const redis = await requireRedis(ctx);
  const prefix = redisPrefix();
  ctx.onTestFinished(() => deleteKeysUnder(redis, prefix));
  return { store: new RedisAuthAttemptStore(redis), key: (rest) => `${prefix}{${rest}}:auth-failures` };
}

/** The scenario both stores must answer alike (Redis on its own clock: nothing here waits). */
async function reservesBeforeVerifying(store: AuthAttemptStore, key: string): Promise<number> {
  const p = policy(key);
  // Three slots: a fourth concurrent attempt is refused without a block (busy).
  const verdicts = await Promise.all([1, 2, 3, 4].map(() => store.reserveAttempt(p)));
  expect(verdicts.map((v) => v.allowed)).toEqual([true, true, true, false]);
  expect(verdicts[3]).toMatchObject({ blocked: false, retryAfterMs: 1_000 });
  // A success and a non-guess give their slots back; a failure keeps it.
  expect(await store.settleAttempt(p, true, 'success')).toMatchObject({ blocked: false });
  expect(await store.settleAttempt(p, true, 'not-a-guess')).toMatchObject({ blocked: false });
  expect(await store.settleAttempt(p, true, 'failure')).toMatchObject({ blocked: false });
  expect(await store.attemptBlockedFor(key)).toBe(0);
  // One failure counted: two slots left.
  expect((await store.reserveAttempt(p)).allowed).toBe(true);
  expect((await store.reserveAttempt(p)).allowed).toBe(true);
  expect((await store.reserveAttempt(p)).allowed).toBe(false);
  await store.settleAttempt(p, true, 'failure');
  // The third failure reaches the limit: the key is blocked for blockMs.
  const third = await store.settleAttempt(p, true, 'failure');
  expect(third.blocked).toBe(true);
  expect(third.retryAfterMs).toBeGreaterThan(299_000);
  const refused = await store.reserveAttempt(p);
  expect(refused).toMatchObject({ allowed: false, blocked: true });
  expect(refused.retryAfterMs).toBeGreaterThan(299_000);
  return store.attemptBlockedFor(key);
}

describe('MemoryAuthAttemptStore', () => {
  it('reserves before verifying: at most limit attempts at once, failures keep their slot, the limit-th blocks', async () => {
    expect(await reservesBeforeVerifying(memoryStore().store, 'k')).toBe(300_000);
  });

  it('a slot never settled lapses after pendingMs', async () => {
    const { store, clock } = memoryStore();
    const p = policy('k');
    for (let i = 0; i < 3; i++) expect((await store.reserveAttempt(p)).allowed).toBe(true);
    expect((await store.reserveAttempt(p)).allowed).toBe(false);
    clock.now += 30_000;
    expect((await store.reserveAttempt(p)).allowed).toBe(true);
  });

  it('forgets an address with nothing to remember: a clean success leaves no key', async () => {
    const { store } = memoryStore();
    const p = policy('k');
    await store.reserveAttempt(p);
    expect(store.size).toBe(1);
    await store.settleAttempt(p, true, 'success');
    expect(store.size).toBe(0);
  });

  it('when full, fails closed for a new address and never evicts a block', async () => {
    const { store, clock } = memoryStore(100);
    for (let i = 0; i < 100; i++) await store.settleAttempt(policy(`a${i}`), false, 'failure');
    await store.settleAttempt(policy('a0'), false, 'failure');
    await store.settleAttempt(policy('a0'), false, 'failure');
    expect(await store.attemptBlockedFor('a0')).toBe(300_000);
    expect(store.size).toBe(100);
    // A new address: refused (429 for a window), nothing evicted.
    expect(await store.reserveAttempt(policy('newcomer'))).toEqual({ allowed: false, blocked: true, retryAfterMs: 60_000 });
    expect(await store.settleAttempt(policy('newcomer'), false, 'failure')).toMatchObject({ blocked: true });
    expect(store.size).toBe(100);
    expect(await store.attemptBlockedFor('a0')).toBe(300_000);
    // Once the single failures are out of their windows (2 × ttl), the sweep makes room; the block stays.
    clock.now += 120_000;
    expect((await store.reserveAttempt(policy('newcomer'))).allowed).toBe(true);
    expect(store.size).toBe(2);
    expect(await store.attemptBlockedFor('a0')).toBe(180_000);
  });
});

describe('RedisAuthAttemptStore (real Redis)', () => {
  it('answers the same scenario as the memory store', async (ctx) => {
    const { store, key } = await redisStore(ctx);
    expect(await reservesBeforeVerifying(store, key('ip:192.0.2.1'))).toBeGreaterThan(299_000);
  });

  it('100 concurrent reservations of one key: exactly limit are allowed', async (ctx) => {
    const { store, key } = await redisStore(ctx);
    const p = { ...policy(key('ip:192.0.2.2')), limit: 10 };
    const verdicts = await Promise.all(Array.from({ length: 100 }, () => store.reserveAttempt(p)));
    expect(verdicts.filter((v) => v.allowed)).toHaveLength(10);
  });

  it('leaves no key behind for a clean success', async (ctx) => {
    const redis = await requireRedis(ctx);
    const prefix = redisPrefix();
    ctx.onTestFinished(() => deleteKeysUnder(redis, prefix));
    const store = new RedisAuthAttemptStore(redis);
    const p = policy(`${prefix}{ip:192.0.2.3}:auth-failures`);
    await store.reserveAttempt(p);
    expect(await redis.exists(p.key)).toBe(1);
    expect(await redis.pttl(p.key)).toBeGreaterThan(59_000);
    await store.settleAttempt(p, true, 'success');
    expect(await redis.exists(p.key)).toBe(0);
  });
});
