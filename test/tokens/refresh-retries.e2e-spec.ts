/**
 * Issue 16, refresh retries: a client retrying a refresh (20 concurrent presentations of one
 * refresh token) got one 200 carrying already-revoked tokens on the memory store and no 200 at all
 * on Redis. Within `tokens.refreshGracePeriod` every retry now gets the same valid pair; outside it
 * a second use is reuse (401, family revoked) — on both adapters, with both stores.
 */
import type { INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it, vi, type TestContext } from 'vitest';
import type { TokensOptions } from '@palisade/nest';
import { ADAPTERS, bootApp, type AdapterName } from '../support/app.js';
import { deleteKeysUnder, redisClient, redisPrefix, redisProblem, REDIS_URL, skipOrFail } from '../support/redis.js';
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
  type TokenResponse,
} from '../support/token-app.js';

type Storage = 'memory' | 'redis';
const STORAGES: readonly Storage[] = ['memory', 'redis'];
/** The short grace period of the "after the window" app. */
const SHORT_GRACE_MS = 300;

interface Booted {
  ready(ctx: TestContext): Promise<INestApplication>;
}

/**
 * Boots the app of one block. With `fakeClock`, the memory storage's app runs on a faked `Date`
 * (installed before boot: the store keeps the `Date.now` it was built with), so a test moves past
 * a grace period instead of waiting; Redis keeps real time (its TTLs run on the server).
 */
function useApp(adapter: AdapterName, storage: Storage, tokens: TokensOptions, fakeClock = false): Booted {
  const prefix = redisPrefix();
  const options: TokensOptions = storage === 'memory' ? tokens : { ...tokens, storage: { redis: REDIS_URL, prefix } };
  let app: INestApplication | undefined;
  beforeAll(async () => {
    if (storage === 'redis' && (await redisProblem()) !== undefined) return;
    if (fakeClock && storage === 'memory') vi.useFakeTimers({ toFake: ['Date'] });
    app = (await bootApp(adapter, tokenAppModule(options))).app;
    if (storage === 'redis') await untilTokenStoreAnswers(app);
  });
  afterAll(async () => {
    await app?.close();
    vi.useRealTimers();
    if (storage === 'redis' && (await redisProblem()) === undefined) {
      const client = redisClient();
      await client.connect();
      await deleteKeysUnder(client, prefix);
      client.disconnect();
    }
  });
  return {
    async ready(ctx) {
      if (storage === 'redis') {
        const problem = await redisProblem();
        if (problem !== undefined) skipOrFail(ctx, `Redis is not reachable at ${REDIS_URL} (${problem})`);
      }
      return app as INestApplication;
    },
  };
}

describe.each(ADAPTERS)('refresh retries on %s', (adapter) => {
  describe.each(STORAGES)('with %s storage', (storage) => {
    describe('default grace period (5 s)', () => {
      const booted = useApp(adapter, storage, {});

      it('20 concurrent refreshes of one token: all 200 with one and the same pair, which works and is not revoked', async (ctx) => {
        const app = await booted.ready(ctx);
        const p0 = await login(app, { id: 'retrier', roles: ['user'] });
        const responses = await Promise.all(Array.from({ length: 20 }, () => refresh(app, p0.refresh_token)));
        expect(responses.map((res) => res.status)).toEqual(responses.map(() => 200));
        const pairs = responses.map((res) => res.body as TokenResponse);
        const first = pairs[0] as TokenResponse;
        expect(new Set(pairs.map((pair) => pair.access_token))).toEqual(new Set([first.access_token]));
        expect(new Set(pairs.map((pair) => pair.refresh_token))).toEqual(new Set([first.refresh_token]));
        expect(first.refresh_token).not.toBe(p0.refresh_token);
        for (const pair of pairs) {
          expect(pair.expires_in).toBeGreaterThan(890);
          expect(pair.expires_in).toBeLessThanOrEqual(900);
        }
        // The pair is valid and unrevoked: its access token works, its refresh token rotates once more.
        expect((await getWith(app, first.access_token)).status).toBe(200);
        expect((await getWith(app, p0.access_token)).status).toBe(200);
        const p2 = await rotate(app, first.refresh_token);
        expect((await getWith(app, p2.access_token)).status).toBe(200);
      });

      it('a retry after the legitimate client already rotated the new token is reuse: 401 and the family revoked', async (ctx) => {
        const app = await booted.ready(ctx);
        const p0 = await login(app, { id: 'stolen' });
        const p1 = await rotate(app, p0.refresh_token);
        const p2 = await rotate(app, p1.refresh_token);
        // A thief replaying p0 within its grace period cannot follow the chain past p1.
        expectRefreshRefused(await refresh(app, p0.refresh_token));
        expectRefreshRefused(await refresh(app, p2.refresh_token));
        for (const pair of [p0, p1, p2]) expectInvalidToken(await getWith(app, pair.access_token));
      });

      it('a retry within the period after a logout gets 401, never the revoked pair', async (ctx) => {
        const app = await booted.ready(ctx);
        const p0 = await login(app, { id: 'leaver' });
        const p1 = await rotate(app, p0.refresh_token);
        // Control: a retry now gets the same pair.
        const retried = await refresh(app, p0.refresh_token);
        expect({ status: retried.status, access: (retried.body as TokenResponse).access_token }).toEqual({ status: 200, access: p1.access_token });
        expect((await logout(app, p1.access_token)).status).toBe(204);
        expectRefreshRefused(await refresh(app, p0.refresh_token));
      });
    });

    describe(`short grace period (${SHORT_GRACE_MS} ms)`, () => {
      const booted = useApp(adapter, storage, { refreshGracePeriod: `${SHORT_GRACE_MS}ms` }, true);

      it('after the period a retry is reuse: 401, and the pair the first use got is revoked', async (ctx) => {
        const app = await booted.ready(ctx);
        const p0 = await login(app, { id: 'slow-retrier' });
        const p1 = await rotate(app, p0.refresh_token);
        // Memory: the faked clock moves past the period. Redis: real time, the grace key's TTL runs on the server.
        if (storage === 'memory') vi.setSystemTime(Date.now() + SHORT_GRACE_MS + 100);
        else await new Promise((resolve) => setTimeout(resolve, SHORT_GRACE_MS + 100));
        expectRefreshRefused(await refresh(app, p0.refresh_token));
        expectRefreshRefused(await refresh(app, p1.refresh_token));
        expectInvalidToken(await getWith(app, p1.access_token));
      });
    });

    describe('grace period off (0)', () => {
      const booted = useApp(adapter, storage, { refreshGracePeriod: 0 });

      it('20 concurrent refreshes: at most one 200, and no 200 carries a token that is already revoked', async (ctx) => {
        const app = await booted.ready(ctx);
        const p0 = await login(app, { id: 'strict' });
        const responses = await Promise.all(Array.from({ length: 20 }, () => refresh(app, p0.refresh_token)));
        const ok = responses.filter((res) => res.status === 200);
        expect(ok.length).toBeLessThanOrEqual(1);
        expect(responses.filter((res) => res.status !== 200).map((res) => res.status)).toEqual(responses.slice(ok.length).map(() => 401));
        // The reuse among them revoked the family: the winner's pair is dead now, as designed.
        for (const res of ok) expectRefreshRefused(await refresh(app, (res.body as TokenResponse).refresh_token));
      });
    });
  });
});
