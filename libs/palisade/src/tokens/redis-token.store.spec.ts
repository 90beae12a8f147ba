import type { Redis } from 'ioredis';
import { describe, expect, it, type TestContext } from 'vitest';
import { deleteKeysUnder, keysUnder, redisClient, redisPrefix, requireRedis } from '../../../../test/support/redis.js';
import { RedisTokenStore } from './redis-token.store.js';
import type { RefreshRotation, RefreshTokenRecord } from './token-store.interface.js';

const DAY = 24 * 3600_000;
const MINUTE = 60_000;

/** The hash tag Redis Cluster hashes a key by: the first non-empty `{…}`, else the whole key. */
function hashTag(key: string): string {
  const open = key.indexOf('{');
  const close = open < 0 ? -1 : key.indexOf('}', open + 1);
  return open >= 0 && close > open + 1 ? key.slice(open + 1, close) : key;
}

function record(familyExpiresAt: number, id = 'alice'): RefreshTokenRecord {
  return { principal: { id, roles: ['user'], scopes: ['orders:read'] }, familyExpiresAt };
}

/** A store on the shared Redis with a fresh key prefix; its keys are deleted when the test finishes. */
async function setup(ctx: TestContext): Promise<{ redis: Redis; store: RedisTokenStore; prefix: string }> {
  const redis = await requireRedis(ctx);
  const prefix = redisPrefix();
  ctx.onTestFinished(() => deleteKeysUnder(redis, prefix));
  return { redis, store: new RedisTokenStore(redis, prefix), prefix };
}

/** `count` more connections, each with its own store on `prefix` (closed when the test finishes). */
async function moreStores(ctx: TestContext, prefix: string, count: number): Promise<RedisTokenStore[]> {
  const clients = await Promise.all(
    Array.from({ length: count }, async () => {
      const client = redisClient();
      await client.connect();
      return client;
    }),
  );
  ctx.onTestFinished(() => {
    for (const client of clients) client.disconnect();
  });
  return clients.map((client) => new RedisTokenStore(client, prefix));
}

/** The rotation of a test: successor `next` with access token `jti`, no grace period unless given. */
function rotation(next: string, rec: RefreshTokenRecord, jti: string, accessExpiresAt: number, graceMs = 0, sealedPair = ''): RefreshRotation {
  return { digest: next, record: rec, accessJti: jti, accessExpiresAt, sealedPair, graceMs };
}

describe('RedisTokenStore (real Redis)', () => {
  it('rotation states: found with its record, rotated once, then reused (family revoked), then revoked', async (ctx) => {
    const { store } = await setup(ctx);
    const rec = record(Date.now() + DAY);
    await store.saveRefreshToken('fam', 'd1', rec, 'jti-1', Date.now() + 15 * MINUTE);
    expect(await store.findRefreshToken('fam', 'd1')).toEqual({ status: 'ok', record: rec });
    expect(await store.rotateRefreshToken('fam', 'd1', rotation('d2', rec, 'jti-2', Date.now() + 15 * MINUTE))).toEqual({ status: 'rotated' });
    expect(await store.findRefreshToken('fam', 'd2')).toEqual({ status: 'ok', record: rec });
    expect(await store.rotateRefreshToken('fam', 'd1', rotation('x', rec, 'jx', Date.now()))).toEqual({ status: 'reused' });
    expect(await store.rotateRefreshToken('fam', 'd2', rotation('d3', rec, 'j3', Date.now()))).toEqual({ status: 'revoked' });
    expect(await store.findRefreshToken('fam', 'd1')).toEqual({ status: 'revoked' });
  });

  it('an unknown family or digest is missing and leaves the family usable', async (ctx) => {
    const { store } = await setup(ctx);
    const rec = record(Date.now() + DAY);
    await store.saveRefreshToken('fam', 'good', rec, 'j', Date.now() + MINUTE);
    expect(await store.findRefreshToken('nope', 'good')).toEqual({ status: 'missing' });
    expect(await store.rotateRefreshToken('fam', 'guessed', rotation('n', rec, 'jn', Date.now()))).toEqual({ status: 'missing' });
    expect(await store.rotateRefreshToken('fam', 'good', rotation('n', rec, 'jn', Date.now()))).toEqual({ status: 'rotated' });
  });

  it('grace period: a retry gets the sealed pair until the period ends (Redis expires it), then it is reuse', async (ctx) => {
    const { redis, store, prefix } = await setup(ctx);
    const rec = record(Date.now() + DAY);
    await store.saveRefreshToken('fam', 'd0', rec, 'j0', Date.now() + MINUTE);
    expect(await store.rotateRefreshToken('fam', 'd0', rotation('d1', rec, 'j1', Date.now() + MINUTE, 300, 'sealed-1'))).toEqual({ status: 'rotated' });
    expect(await store.rotateRefreshToken('fam', 'd0', rotation('lost', rec, 'jl', Date.now() + MINUTE, 300, 'other'))).toEqual({
      status: 'grace',
      sealedPair: 'sealed-1',
    });
    // The grace pair lives in the family's slot, for the period only.
    const graceKey = `${prefix}{fam:fam}:rt:d0:grace`;
    const ttl = await redis.pttl(graceKey);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(300);
    const deadline = Date.now() + 3_000;
    while ((await redis.exists(graceKey)) === 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await store.rotateRefreshToken('fam', 'd0', rotation('late', rec, 'jz', Date.now() + MINUTE, 300, 'x'))).toEqual({ status: 'reused' });
    expect(await store.findRefreshToken('fam', 'd1')).toEqual({ status: 'revoked' });
  });

  it('grace period: once the successor was used, a retry of its predecessor is reuse within the period', async (ctx) => {
    const { store } = await setup(ctx);
    const rec = record(Date.now() + DAY);
    await store.saveRefreshToken('fam', 'd0', rec, 'j0', Date.now() + MINUTE);
    await store.rotateRefreshToken('fam', 'd0', rotation('d1', rec, 'j1', Date.now() + MINUTE, 60_000, 'sealed-1'));
    await store.rotateRefreshToken('fam', 'd1', rotation('d2', rec, 'j2', Date.now() + MINUTE, 60_000, 'sealed-2'));
    expect(await store.rotateRefreshToken('fam', 'd0', rotation('x', rec, 'jx', Date.now() + MINUTE, 60_000, 'x'))).toEqual({ status: 'reused' });
    expect(await store.rotateRefreshToken('fam', 'd1', rotation('y', rec, 'jy', Date.now() + MINUTE, 60_000, 'y'))).toEqual({ status: 'revoked' });
  });

  it('revokeFamily revokes the family and returns its access tokens (jti → expiry ms); unknown family → empty', async (ctx) => {
    const { store } = await setup(ctx);
    const rec = record(Date.now() + DAY);
    const exp1 = Date.now() + 15 * MINUTE;
    const exp2 = exp1 + MINUTE;
    await store.saveRefreshToken('fam', 'd1', rec, 'jti-1', exp1);
    await store.rotateRefreshToken('fam', 'd1', rotation('d2', rec, 'jti-2', exp2));
    expect(await store.revokeFamily('fam')).toEqual(
      new Map([
        ['jti-1', exp1],
        ['jti-2', exp2],
      ]),
    );
    expect(await store.findRefreshToken('fam', 'd2')).toEqual({ status: 'revoked' });
    expect(await store.revokeFamily('unknown')).toEqual(new Map());
  });

  it('keeps a family in one Redis Cluster slot and expires every key of it with the family', async (ctx) => {
    const { redis, store, prefix } = await setup(ctx);
    const familyExpiresAt = Date.now() + 10 * MINUTE;
    await store.saveRefreshToken('famX', 'd1', record(familyExpiresAt), 'jti-1', Date.now() + MINUTE);
    await store.saveRefreshToken('famX', 'd2', record(familyExpiresAt), 'jti-2', Date.now() + MINUTE);
    const keys = await keysUnder(redis, prefix);
    expect(keys).toHaveLength(4); // family hash, two refresh tokens, the access-token hash
    expect(new Set(keys.map(hashTag))).toEqual(new Set(['fam:famX']));
    const ttls = await Promise.all(keys.map((key) => redis.pttl(key)));
    for (const ttl of ttls) {
      expect(ttl).toBeGreaterThan(10 * MINUTE - 5_000);
      expect(ttl).toBeLessThanOrEqual(10 * MINUTE);
    }
    // Only digests are stored: the record is JSON, the key names carry the digest, not a secret.
    expect(keys.some((key) => key.endsWith(':rt:d1'))).toBe(true);
  });

  it('revokeAccessToken denies the jti until expiresAt (PX ttl), and skips tokens already expired', async (ctx) => {
    const { redis, store, prefix } = await setup(ctx);
    await store.revokeAccessToken('jti-live', Date.now() + 30_000);
    await store.revokeAccessToken('jti-dead', Date.now() - 1);
    expect(await store.isAccessTokenRevoked('jti-live')).toBe(true);
    expect(await store.isAccessTokenRevoked('jti-dead')).toBe(false);
    expect(await store.isAccessTokenRevoked('jti-never')).toBe(false);
    const ttl = await redis.pttl(`${prefix}revoked:jti-live`);
    expect(ttl).toBeGreaterThan(25_000);
    expect(ttl).toBeLessThanOrEqual(30_000);
    expect(await keysUnder(redis, prefix)).toEqual([`${prefix}revoked:jti-live`]);
  });

  it('a revocation on a primary without replicas waits for none (no WAIT): nothing could be promoted over it', async (ctx) => {
    const { redis, prefix } = await setup(ctx);
    const [role, , replicas] = (await redis.role()) as [string, number, unknown[]];
    if (role !== 'master' || replicas.length > 0) return ctx.skip('the shared Redis has replicas');
    // A long wait would show: the revocation answers well before it.
    const store = new RedisTokenStore(redis, prefix, undefined, 5_000);
    const started = performance.now();
    await store.revokeAccessToken('jti-unreplicated', Date.now() + MINUTE);
    await store.revokeFamily('no-such-family');
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(await store.isAccessTokenRevoked('jti-unreplicated')).toBe(true);
  });

  it('a revocation expires with the token: a 50 ms entry is gone once Redis expires it', async (ctx) => {
    const { store } = await setup(ctx);
    await store.revokeAccessToken('short', Date.now() + 50);
    expect(await store.isAccessTokenRevoked('short')).toBe(true);
    const deadline = Date.now() + 2_000;
    // Polling Redis (no fixed sleep): the key's own TTL ends it.
    while ((await store.isAccessTokenRevoked('short')) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(await store.isAccessTokenRevoked('short')).toBe(false);
  });

  it('prefixes isolate stores: the same family id under another prefix is another family', async (ctx) => {
    const { store, prefix } = await setup(ctx);
    const otherPrefix = redisPrefix();
    const redis = await requireRedis(ctx);
    ctx.onTestFinished(() => deleteKeysUnder(redis, otherPrefix));
    const other = new RedisTokenStore(redis, otherPrefix);
    expect(prefix).not.toBe(otherPrefix);
    await store.saveRefreshToken('fam', 'd', record(Date.now() + DAY), 'j', Date.now() + MINUTE);
    expect(await other.findRefreshToken('fam', 'd')).toEqual({ status: 'missing' });
    expect(await store.findRefreshToken('fam', 'd')).toMatchObject({ status: 'ok' });
  });

  it('rotates atomically: 20 parallel rotations of one digest over 5 connections → exactly one rotated', async (ctx) => {
    const { store, prefix } = await setup(ctx);
    const stores = [store, ...(await moreStores(ctx, prefix, 4))];
    const rec = record(Date.now() + DAY);
    await store.saveRefreshToken('race', 'digest', rec, 'jti', Date.now() + MINUTE);
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (stores[i % stores.length] as RedisTokenStore).rotateRefreshToken('race', 'digest', rotation(`next-${i}`, rec, `j-${i}`, Date.now() + MINUTE)),
      ),
    );
    const statuses = outcomes.map((o) => o.status);
    expect(statuses.filter((s) => s === 'rotated')).toHaveLength(1);
    // Without a grace period the first loser detects the reuse (and revokes the family); later ones find it revoked.
    expect(statuses.filter((s) => s === 'reused')).toHaveLength(1);
    expect(statuses.filter((s) => s === 'revoked')).toHaveLength(18);
  });

  it("with a grace period, 20 parallel rotations of one digest → one rotated, 19 grace with the winner's sealed pair", async (ctx) => {
    const { store, prefix } = await setup(ctx);
    const stores = [store, ...(await moreStores(ctx, prefix, 4))];
    const rec = record(Date.now() + DAY);
    await store.saveRefreshToken('race', 'digest', rec, 'jti', Date.now() + MINUTE);
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (stores[i % stores.length] as RedisTokenStore).rotateRefreshToken(
          'race',
          'digest',
          rotation(`next-${i}`, rec, `j-${i}`, Date.now() + MINUTE, 5_000, `sealed-${i}`),
        ),
      ),
    );
    const winner = outcomes.findIndex((o) => o.status === 'rotated');
    expect(winner).toBeGreaterThanOrEqual(0);
    expect(outcomes.filter((o, i) => i !== winner)).toEqual(Array.from({ length: 19 }, () => ({ status: 'grace', sealedPair: `sealed-${winner}` })));
    expect(await store.findRefreshToken('race', `next-${winner}`)).toEqual({ status: 'ok', record: rec });
  });

  it('rotates atomically across many families at once: each family yields exactly one rotation', async (ctx) => {
    const { store, prefix } = await setup(ctx);
    const stores = [store, ...(await moreStores(ctx, prefix, 3))];
    const families = Array.from({ length: 10 }, (_, i) => `fam-${i}`);
    await Promise.all(families.map((fam) => store.saveRefreshToken(fam, 'd', record(Date.now() + DAY), `jti-${fam}`, Date.now() + MINUTE)));
    const attempts = families.flatMap((fam) => Array.from({ length: 8 }, (_, i) => ({ fam, store: stores[i % stores.length] as RedisTokenStore })));
    const outcomes = await Promise.all(
      attempts.map(async ({ fam, store: s }) => ({
        fam,
        status: (await s.rotateRefreshToken(fam, 'd', rotation(`${fam}-next`, record(Date.now() + DAY), 'j', Date.now() + MINUTE))).status,
      })),
    );
    const oks = Object.fromEntries(families.map((fam) => [fam, outcomes.filter((o) => o.fam === fam && o.status === 'rotated').length]));
    expect(oks).toEqual(Object.fromEntries(families.map((fam) => [fam, 1])));
  });
});
