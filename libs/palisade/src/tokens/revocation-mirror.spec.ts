import type { Redis } from 'ioredis';
import { describe, expect, it, type TestContext } from 'vitest';
import { deleteKeysUnder, REDIS_URL, redisPrefix, requireRedis } from '../../../../test/support/redis.js';
import { RevocationMirror } from './revocation-mirror.js';

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
  const mirror = new RevocationMirror(REDIS_URL, keys, 100, 1_000);
  ctx.onTestFinished(async () => {
    await mirror.close();
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

  it('ignores keys outside its prefix, and forgets an answer at once for a write of its own', async (ctx) => {
    const { redis, mirror, keys } = await live(ctx);
    mirror.remember('d', false, mirror.epoch);
    await redis.set(`${keys.replace('revoked:', 'other:')}d`, '1', 'PX', 60_000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(mirror.get('d')).toBe(false);
    mirror.forget('d');
    expect(mirror.get('d')).toBeUndefined();
  });

  it('answers nothing once closed', async (ctx) => {
    const { mirror } = await live(ctx);
    mirror.remember('e', true, mirror.epoch);
    expect(mirror.get('e')).toBe(true);
    await mirror.close();
    expect(mirror.isLive).toBe(false);
    expect(mirror.get('e')).toBeUndefined();
  });
});
