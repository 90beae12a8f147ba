/**
 * The self-hosted GraphiQL page while the throttle store's Redis is down, on both adapters (Apollo
 * on Express, Mercurius on Fastify), on a private `redis-server` this suite starts and kills (the
 * shared Redis is never touched). As documented (docs/throttling.md, "Redis trouble";
 * docs/recipes/redis.md, "Outages"): `throttle.failOpen: false` answers 503 with `Retry-After: 1` —
 * refused before the handler, so under the module's strict headers, no nonce handed out — and
 * `failOpen: true` (the default) keeps serving the page, counted in memory.
 */
import type { INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RedisThrottleStorage } from '@palisade/nest';
import { ADAPTERS, bootApp } from '../support/app.js';
import { graphiqlAppMetadata } from '../support/graphiql-app.js';
import { DEFAULT_HEADERS, securityHeadersOf } from '../support/headers.js';
import { redisPrefix, RedisServer, requireRedisServer } from '../support/redis.js';
import { baseUrl, get, THROTTLE_UNAVAILABLE, type PlainResponse } from '../support/throttle.js';

/** Each request must be answered within this (the store's command timeout is 200 ms). */
const CLIENT_TIMEOUT_MS = 3_000;
/** The Redis key counting the page's requests from this test (one client address, the `default` tier). */
const PAGE_KEY = '{ip:127.0.0.1}:GraphiqlController.page:default';

/** Polls until a page request is answered 200 and counted in the (restarted) private Redis. */
async function untilCountedInRedis(app: INestApplication, server: RedisServer, prefix: string): Promise<void> {
  await vi.waitFor(
    async () => {
      expect((await page(app)).status).toBe(200);
      expect(await server.keysUnder(prefix)).toContain(`${prefix}${PAGE_KEY}`);
    },
    { timeout: 20_000, interval: 100 },
  );
}

function page(app: INestApplication): Promise<PlainResponse> {
  return get(`${baseUrl(app)}/graphiql`, { timeoutMs: CLIENT_TIMEOUT_MS });
}

/** The page's answer once Redis, up and counting the app's requests, has been killed. */
async function pageAfterKill(redis: RedisServer, target: { app: INestApplication; prefix: string }): Promise<PlainResponse> {
  await redis.start();
  await untilCountedInRedis(target.app, redis, target.prefix);
  await redis.kill();
  return page(target.app);
}

describe.each(ADAPTERS)('the GraphiQL page while the throttle store’s Redis is down (%s)', (adapter) => {
  let server: RedisServer | Error | undefined;
  const closed = { prefix: redisPrefix() } as { app: INestApplication; prefix: string };
  const open = { prefix: redisPrefix() } as { app: INestApplication; prefix: string };

  beforeAll(async () => {
    server = await RedisServer.launch().catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
    if (!(server instanceof RedisServer)) return;
    const storage = (prefix: string): RedisThrottleStorage => ({ redis: (server as RedisServer).url, prefix, commandTimeout: '200ms' });
    closed.app = (await bootApp(adapter, graphiqlAppMetadata(adapter, { throttle: { storage: storage(closed.prefix), failOpen: false } }))).app;
    // failOpen left unset: the default is under test.
    open.app = (await bootApp(adapter, graphiqlAppMetadata(adapter, { throttle: { storage: storage(open.prefix) } }))).app;
  });

  afterAll(async () => {
    await closed.app?.close();
    await open.app?.close();
    if (server instanceof RedisServer) await server.stop();
  });

  it('counts the page in that Redis while it is up (both apps), so the outage below is its store’s', async (ctx) => {
    const redis = requireRedisServer(ctx, server);
    await redis.start();
    await untilCountedInRedis(closed.app, redis, closed.prefix);
    await untilCountedInRedis(open.app, redis, open.prefix);
    expect(await redis.keysUnder(closed.prefix)).toEqual([`${closed.prefix}${PAGE_KEY}`]);
    expect(await redis.keysUnder(open.prefix)).toEqual([`${open.prefix}${PAGE_KEY}`]);
  });

  it('failOpen: false — the stable 503 JSON body with Retry-After: 1, under the strict default headers, no nonce', async (ctx) => {
    const res = await pageAfterKill(requireRedisServer(ctx, server), closed);
    expect({ status: res.status, body: res.body }).toEqual({ status: 503, body: THROTTLE_UNAVAILABLE });
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['retry-after']).toBe('1');
    // Refused before the handler: the module's strict set, exactly, not the page's nonce policy.
    expect(securityHeadersOf(res.headers)).toEqual(DEFAULT_HEADERS);
    // A hundred at once get the same answer: none waits for Redis, none slips through to the page.
    const flood = await Promise.all(Array.from({ length: 100 }, () => page(closed.app)));
    expect(flood.map((r) => [r.status, r.headers['retry-after'], r.headers['content-security-policy']])).toEqual(
      Array.from({ length: 100 }, () => [503, '1', DEFAULT_HEADERS['content-security-policy']]),
    );
  });

  it('failOpen: true (default) — the page is served, 200 under its nonce policy', async (ctx) => {
    const res = await pageAfterKill(requireRedisServer(ctx, server), open);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    const policy = String(res.headers['content-security-policy']);
    const nonce = /script-src 'nonce-([A-Za-z0-9+/]+={0,2})'/.exec(policy)?.[1];
    expect(nonce, `no script nonce in ${policy}`).toBeDefined();
    expect(policy).toBe(
      `default-src 'none'; base-uri 'none'; connect-src 'self'; font-src data:; form-action 'none'; frame-ancestors 'none'; img-src 'self' data:; object-src 'none'; script-src 'nonce-${nonce}'; script-src-attr 'none'; style-src 'nonce-${nonce}'; style-src-attr 'none'`,
    );
    expect(typeof res.body).toBe('string');
    expect(res.body as string).toContain(`nonce="${nonce}"`);
  });
});
