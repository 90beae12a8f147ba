/**
 * The revocation check and the token routes while Redis is away, on a private `redis-server` this
 * suite starts, kills, freezes and restarts (the shared Redis is never touched). Default policy
 * (`tokens.failOpen: false`): bearer tokens get a 503 JSON within the command timeout, never a
 * hang; `failOpen: true` accepts them unchecked; service resumes when Redis comes back.
 */
import type { INestApplication } from '@nestjs/common';
import type { Response } from 'supertest';
import { describe, expect, it, type TestContext } from 'vitest';
import { ADAPTERS, bootApp, type AdapterName } from '../support/app.js';
import { redisPrefix, RedisServer, usePrivateRedisServer } from '../support/redis.js';
import {
  expectInvalidToken,
  getWith,
  httpOf,
  login,
  logout,
  refresh,
  TOKEN_STORE_UNAVAILABLE,
  tokenAppModule,
  untilTokenStoreAnswers,
} from '../support/token-app.js';

const COMMAND_TIMEOUT_MS = 200;
/** Upper bound for "answered promptly": the command timeout plus generous scheduling slack. */
const PROMPT_MS = COMMAND_TIMEOUT_MS + 1_300;
/** The HTTP client gives up after this; a hang shows up as a timeout error, not a stuck test. */
const CLIENT_TIMEOUT_MS = 5_000;

async function timed(send: () => PromiseLike<Response>): Promise<{ res: Response; ms: number }> {
  const started = performance.now();
  const res = await send();
  return { res, ms: performance.now() - started };
}

/** GET /me with a bearer token and the client timeout. */
function me(app: INestApplication, token: string): Promise<Response> {
  return getWith(app, token).timeout(CLIENT_TIMEOUT_MS);
}

function expectUnavailable(res: Response): void {
  expect({ status: res.status, body: res.body as unknown }).toEqual({ status: 503, body: TOKEN_STORE_UNAVAILABLE });
  expect(res.headers['content-type']).toMatch(/^application\/json/);
}

/** Polls `probe` until it answers `status` (bounded); returns the last response. */
async function until(probe: () => PromiseLike<Response>, status: number, timeoutMs = 10_000): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await probe();
    if (res.status === status || Date.now() > deadline) return res;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.each(ADAPTERS)('tokens while Redis is down, on %s', (adapter: AdapterName) => {
  const privateRedis = usePrivateRedisServer();

  /** Redis running, an app on it (closed after the test), and a logged-in session. */
  async function setup(ctx: TestContext, failOpen?: boolean): Promise<{ app: INestApplication; server: RedisServer }> {
    const server = privateRedis(ctx);
    await server.start();
    const storage = { redis: server.url, prefix: redisPrefix(), commandTimeout: COMMAND_TIMEOUT_MS };
    const { app } = await bootApp(adapter, tokenAppModule({ storage, ...(failOpen === undefined ? {} : { failOpen }) }));
    ctx.onTestFinished(async () => {
      server.resume();
      await app.close();
    });
    await untilTokenStoreAnswers(app);
    return { app, server };
  }

  it('fails closed by default: Redis killed → a bearer request gets 503 JSON at once; public and anonymous requests are unaffected', async (ctx) => {
    const { app, server } = await setup(ctx);
    const pair = await login(app);
    expect((await me(app, pair.access_token)).status).toBe(200);

    await server.kill();
    const { res, ms } = await timed(() => me(app, pair.access_token));
    expectUnavailable(res);
    // Temporary, and said so: come back in a second.
    expect(res.headers['retry-after']).toBe('1');
    expect(ms).toBeLessThan(PROMPT_MS);
    // Repeatedly, not just once.
    for (let i = 0; i < 5; i++) expectUnavailable(await me(app, pair.access_token));
    // Routes and callers that need no revocation check still work.
    expect((await httpOf(app).get('/open').timeout(CLIENT_TIMEOUT_MS)).status).toBe(200);
    expect((await httpOf(app).get('/me').timeout(CLIENT_TIMEOUT_MS)).status).toBe(401);
    // Logout and refresh cannot be honoured without the store: 503, never a pretend success.
    expectUnavailable(await logout(app, pair.access_token).timeout(CLIENT_TIMEOUT_MS));
    expectUnavailable(await refresh(app, pair.refresh_token).timeout(CLIENT_TIMEOUT_MS));
  });

  it('fails closed when Redis hangs (SIGSTOP): 503 within the command timeout, no hang', async (ctx) => {
    const { app, server } = await setup(ctx);
    const pair = await login(app);
    server.pause();
    const { res, ms } = await timed(() => me(app, pair.access_token));
    expectUnavailable(res);
    expect(ms).toBeLessThan(PROMPT_MS);
    // Several at once: each bounded by the command timeout, none queued behind the others.
    const started = performance.now();
    const burst = await Promise.all(Array.from({ length: 10 }, () => me(app, pair.access_token)));
    for (const r of burst) expectUnavailable(r);
    expect(performance.now() - started).toBeLessThan(PROMPT_MS);
    server.resume();
    expect((await until(() => me(app, pair.access_token), 200)).status).toBe(200);
  });

  it('failOpen: true accepts bearer tokens unchecked while Redis is down (a revoked one too, as documented); logout still 503', async (ctx) => {
    const { app, server } = await setup(ctx, true);
    const pair = await login(app);
    const revoked = await login(app);
    expect((await logout(app, revoked.access_token)).status).toBe(204);
    expectInvalidToken(await me(app, revoked.access_token));

    await server.kill();
    const { res, ms } = await timed(() => me(app, pair.access_token));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: 'alice', scheme: 'jwt' });
    expect(ms).toBeLessThan(PROMPT_MS);
    // The documented price of failing open: the deny-list cannot be read.
    expect((await me(app, revoked.access_token)).status).toBe(200);
    // Writing to the store still needs the store.
    expectUnavailable(await logout(app, pair.access_token).timeout(CLIENT_TIMEOUT_MS));
    expectUnavailable(await refresh(app, pair.refresh_token).timeout(CLIENT_TIMEOUT_MS));
  });

  it('recovers when Redis restarts: checks pass again and a logout then holds', async (ctx) => {
    const { app, server } = await setup(ctx);
    const before = await login(app);
    await server.kill();
    expectUnavailable(await me(app, before.access_token));

    await server.start();
    // The client reconnects by itself (its retry back-off is at most 2 s): poll, no fixed sleep.
    const back = await until(() => me(app, before.access_token), 200);
    expect(back.status).toBe(200);
    const pair = await login(app);
    expect((await logout(app, pair.access_token)).status).toBe(204);
    expectInvalidToken(await me(app, pair.access_token));
    expect((await me(app, before.access_token)).status).toBe(200);
  });
});
