/**
 * Two instances of one app sharing Redis (`tokens.storage: { redis, prefix }`), as behind a load
 * balancer: a logout, a rotation and a reuse detection on one instance hold on the other. Instance
 * A runs on the suite's adapter, instance B on the other one.
 */
import type { INestApplication } from '@nestjs/common';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { ADAPTERS, bootApp, type AdapterName } from '../support/app.js';
import { deleteKeysUnder, keysUnder, redisClient, redisPrefix, redisProblem, REDIS_URL, requireRedis, skipOrFail } from '../support/redis.js';
import {
  expectInvalidToken,
  expectRefreshRefused,
  getWith,
  login,
  logout,
  refresh,
  rotate,
  tokenAppModule,
  untilTokenStoreAnswers,
} from '../support/token-app.js';

/**
 * An ioredis client whose refresh-token rotation (the `palisadeRotateRefresh` script RedisTokenStore
 * defines) waits for the test to open a gate: it freezes one instance between finding a refresh
 * token and rotating it, to interleave another instance's request deterministically.
 */
class GatedSaveRedis extends Redis {
  private release: (() => void) | undefined;
  private gate: Promise<void> = Promise.resolve();
  private enteredResolve: (() => void) | undefined;
  /** Resolves once a save is waiting at the gate. */
  entered: Promise<void> = Promise.resolve();

  /** Makes the next saves wait until {@link open}. */
  close(): void {
    this.gate = new Promise((resolve) => (this.release = resolve));
    this.entered = new Promise((resolve) => (this.enteredResolve = resolve));
  }

  open(): void {
    this.release?.();
  }

  override defineCommand(name: string, definition: { lua: string; numberOfKeys?: number; readOnly?: boolean }): void {
    super.defineCommand(name, definition);
    if (name !== 'palisadeRotateRefresh') return;
    const self = this as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    const original = self[name]!.bind(this);
    self[name] = async (...args: unknown[]) => {
      this.enteredResolve?.();
      await this.gate;
      return original(...args);
    };
  }
}

interface Instances {
  a: INestApplication;
  b: INestApplication;
  prefix: string;
}

/** Boots A and B on one Redis prefix (only when Redis answers); each test requires Redis. */
function useInstances(adapter: AdapterName): Instances & { ready(ctx: TestContext): Promise<Instances> } {
  const other: AdapterName = adapter === 'express' ? 'fastify' : 'express';
  const state = { prefix: redisPrefix() } as Instances & { ready(ctx: TestContext): Promise<Instances> };
  state.ready = async (ctx) => {
    const problem = await redisProblem();
    if (problem !== undefined) skipOrFail(ctx, `Redis is not reachable at ${REDIS_URL} (${problem})`);
    return state;
  };
  beforeAll(async () => {
    if ((await redisProblem()) !== undefined) return;
    const options = { storage: { redis: REDIS_URL, prefix: state.prefix } } as const;
    const [a, b] = await Promise.all([bootApp(adapter, tokenAppModule(options)), bootApp(other, tokenAppModule(options))]);
    state.a = a.app;
    state.b = b.app;
    await Promise.all([untilTokenStoreAnswers(state.a), untilTokenStoreAnswers(state.b)]);
  });
  afterAll(async () => {
    await Promise.all([state.a?.close(), state.b?.close()]);
    if ((await redisProblem()) === undefined) {
      const client = redisClient();
      await client.connect();
      await deleteKeysUnder(client, state.prefix);
      client.disconnect();
    }
  });
  return state;
}

describe.each(ADAPTERS)('token lifecycle across two instances sharing Redis (A on %s, B on the other adapter)', (adapter) => {
  const instances = useInstances(adapter);

  it('a token issued on A works on B; logged out on A, it is rejected by B (and by A), refresh token included', async (ctx) => {
    const { a, b } = await instances.ready(ctx);
    const pair = await login(a, { id: 'alice', roles: ['admin'] });
    expect((await getWith(b, pair.access_token)).status).toBe(200);
    expect((await logout(a, pair.access_token)).status).toBe(204);
    expectInvalidToken(await getWith(b, pair.access_token));
    expectInvalidToken(await getWith(a, pair.access_token));
    expectRefreshRefused(await refresh(b, pair.refresh_token));
  });

  it('a logout on B is seen by A', async (ctx) => {
    const { a, b } = await instances.ready(ctx);
    const pair = await login(a, { id: 'bob' });
    expect((await logout(b, pair.access_token)).status).toBe(204);
    expectInvalidToken(await getWith(a, pair.access_token));
  });

  it('rotation alternates between instances: each refresh token is good once, wherever it is presented', async (ctx) => {
    const { a, b } = await instances.ready(ctx);
    const p0 = await login(a, { id: 'carol', scopes: ['orders:read'] });
    const p1 = await rotate(b, p0.refresh_token);
    const p2 = await rotate(a, p1.refresh_token);
    const p3 = await rotate(b, p2.refresh_token);
    const who = await getWith(a, p3.access_token);
    expect(who.status).toBe(200);
    expect(who.body).toEqual({ id: 'carol', scheme: 'jwt', roles: [], scopes: ['orders:read'] });
  });

  it('a refresh token used on A and replayed on B: the same pair within the grace period; once that pair rotated, reuse revokes the family on both instances', async (ctx) => {
    const { a, b } = await instances.ready(ctx);
    const p0 = await login(a, { id: 'dave', roles: ['user'] });
    const p1 = await rotate(a, p0.refresh_token);
    // A retry on the other instance, within the grace period: A's pair, not a second one.
    const retried = await rotate(b, p0.refresh_token);
    expect({ access: retried.access_token, refresh: retried.refresh_token }).toEqual({ access: p1.access_token, refresh: p1.refresh_token });
    const p2 = await rotate(a, p1.refresh_token);
    // The replay after the chain moved on, on the other instance: reuse.
    expectRefreshRefused(await refresh(b, p0.refresh_token));
    expectRefreshRefused(await refresh(a, p2.refresh_token));
    // The newest refresh token of the family is dead on both.
    expectRefreshRefused(await refresh(a, p1.refresh_token));
    expectRefreshRefused(await refresh(b, p1.refresh_token));
    // Every access token of the family is rejected on both.
    for (const app of [a, b]) {
      expectInvalidToken(await getWith(app, p0.access_token));
      expectInvalidToken(await getWith(app, p1.access_token));
    }
  });

  it('the same refresh token presented on A and B at once (a retrying client): every presentation gets one and the same pair, which works on both', async (ctx) => {
    const { a, b } = await instances.ready(ctx);
    const p0 = await login(a, { id: 'erin' });
    const results = await Promise.all([refresh(a, p0.refresh_token), refresh(b, p0.refresh_token), refresh(a, p0.refresh_token), refresh(b, p0.refresh_token)]);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    const issued = results.map((r) => r.body as { access_token: string; refresh_token: string });
    expect(new Set(issued.map((pair) => `${pair.access_token} ${pair.refresh_token}`)).size).toBe(1);
    const pair = issued[0]!;
    for (const app of [a, b]) expect((await getWith(app, pair.access_token)).status).toBe(200);
    expect((await rotate(b, pair.refresh_token)).refresh_token).not.toBe(pair.refresh_token);
  });

  it('regression: a refresh racing a family revocation on another instance must not leave a live access token in the revoked family', async (ctx) => {
    await instances.ready(ctx);
    const { b, prefix } = instances;
    // Instance A2 shares the prefix but its refresh-token saves wait at a gate the test holds.
    const gated = new GatedSaveRedis(REDIS_URL, { enableOfflineQueue: true, maxRetriesPerRequest: 1 });
    ctx.onTestFinished(() => {
      gated.open();
      gated.disconnect();
    });
    const { app: a2 } = await bootApp(adapter, tokenAppModule({ storage: { redis: gated, prefix } }));
    ctx.onTestFinished(() => a2.close());
    await untilTokenStoreAnswers(a2);

    const p0 = await login(b, { id: 'grace' });
    const p1 = await rotate(b, p0.refresh_token);
    // A thief holding p1's refresh token refreshes on A2: it found the token, its rotation waits.
    gated.close();
    const thief = refresh(a2, p1.refresh_token).then((res) => res);
    await gated.entered;
    // Meanwhile the user logs out on B: the family and its access tokens are revoked.
    expect((await logout(b, p1.access_token)).status).toBe(204);
    expectInvalidToken(await getWith(b, p1.access_token));
    // A2's rotation runs after the revocation: it is refused (the check and the save are one step).
    gated.open();
    expectRefreshRefused(await thief);
    expectRefreshRefused(await refresh(b, p1.refresh_token));
  });

  it('stores only digests and hash-tagged family keys under the configured prefix', async (ctx) => {
    const { a, prefix } = await instances.ready(ctx);
    const redis = await requireRedis(ctx);
    const pair = await login(a, { id: 'frank' });
    const [family, secret] = pair.refresh_token.split('.') as [string, string];
    const keys = await keysUnder(redis, prefix);
    const familyKeys = keys.filter((key) => key.includes(`{fam:${family}}`));
    expect(familyKeys.length).toBe(3);
    // Neither the refresh token's secret nor the whole token appears in any key or value.
    for (const key of familyKeys) {
      expect(key).not.toContain(secret);
      const type = await redis.type(key);
      const dump = type === 'hash' ? JSON.stringify(await redis.hgetall(key)) : String(await redis.get(key));
      expect(dump).not.toContain(secret);
    }
  });
});
