import { Redis } from 'ioredis';
import { describe, expect, it, type TestContext } from 'vitest';
import { deleteKeysUnder, REDIS_URL, redisPrefix, requireRedis } from '../../../../test/support/redis.js';
import { RevocationMirror } from './revocation-mirror.js';

const TIMINGS = { heartbeatMs: 500, connectTimeoutMs: 1_000 };

async function until(condition: () => boolean, what: string, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A live mirror on the shared Redis, for the revocation keys under a fresh prefix. */
async function live(ctx: TestContext): Promise<{ redis: Redis; mirror: RevocationMirror; keys: string }> {
  const redis = await requireRedis(ctx);
  const prefix = redisPrefix();
  const keys = `${prefix}revoked:`;
  const mirror = new RevocationMirror(REDIS_URL, keys, 100, TIMINGS);
  ctx.onTestFinished(async () => {
    mirror.close();
    await deleteKeysUnder(redis, prefix);
  });
  mirror.start();
  await until(() => mirror.isLive, 'the mirror to go live');
  return { redis, mirror, keys };
}

describe('RevocationMirror (shared Redis, random key prefix)', () => {
  it('serves a remembered answer until Redis announces a change of that key', async (ctx) => {
    const { redis, mirror, keys } = await live(ctx);
    mirror.remember('a', false, mirror.epoch);
    mirror.remember('b', false, mirror.epoch);
    expect([mirror.get('a'), mirror.get('b')]).toEqual([false, false]);
    await redis.set(`${keys}a`, '1', 'PX', 60_000);
    await until(() => mirror.get('a') === undefined, 'the invalidation of a');
    // Only the announced key is forgotten.
    expect(mirror.get('b')).toBe(false);
  });

  it('does not cache an answer read before an invalidation that arrived while the read was in flight', async (ctx) => {
    const { redis, mirror, keys } = await live(ctx);
    const epochAtRead = mirror.epoch;
    await redis.set(`${keys}c`, '1', 'PX', 60_000);
    await until(() => mirror.epoch !== epochAtRead, 'the invalidation');
    mirror.remember('c', false, epochAtRead); // the stale "not revoked" of the earlier read
    expect(mirror.get('c')).toBeUndefined();
  });

  it('does not cache an answer whose read began while it was being set up (before its subscription existed)', async (ctx) => {
    await requireRedis(ctx);
    const mirror = new RevocationMirror(REDIS_URL, `${redisPrefix()}revoked:`, 100, TIMINGS);
    ctx.onTestFinished(() => mirror.close());
    mirror.start();
    // The epoch a revocation check would have read at each turn of the event loop until live.
    let epochWhileSettingUp = mirror.epoch;
    while (!mirror.isLive) {
      epochWhileSettingUp = mirror.epoch;
      await new Promise((resolve) => setImmediate(resolve));
    }
    mirror.remember('f', false, epochWhileSettingUp);
    expect(mirror.get('f')).toBeUndefined();
    mirror.remember('f', false, mirror.epoch);
    expect(mirror.get('f')).toBe(false);
  });

  it("tracks the keys as Redis names them when the application's client has a keyPrefix", async (ctx) => {
    const redis = await requireRedis(ctx);
    const appPrefix = `${redisPrefix()}app:`;
    const client = new Redis(REDIS_URL, { keyPrefix: appPrefix, lazyConnect: true });
    await client.connect();
    const mirror = new RevocationMirror(client, 'palisade:revoked:', 100, TIMINGS);
    ctx.onTestFinished(async () => {
      mirror.close();
      client.disconnect();
      await deleteKeysUnder(redis, appPrefix);
    });
    mirror.start();
    await until(() => mirror.isLive, 'the mirror to go live');
    mirror.remember('g', false, mirror.epoch);
    expect(mirror.get('g')).toBe(false);
    // Written through the prefixed client, as the token store does: Redis sees `<appPrefix>palisade:revoked:g`.
    await client.set('palisade:revoked:g', '1', 'PX', 60_000);
    await until(() => mirror.get('g') === undefined, 'the invalidation of g');
    expect(await client.exists('palisade:revoked:g')).toBe(1);
  });

  it('answers nothing once closed', async (ctx) => {
    const { mirror } = await live(ctx);
    mirror.remember('e', true, mirror.epoch);
    expect(mirror.get('e')).toBe(true);
    mirror.close();
    expect(mirror.isLive).toBe(false);
    expect(mirror.get('e')).toBeUndefined();
  });
});
