import { Controller, Get, type ModuleMetadata } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerGuard as UpstreamThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import { afterEach, describe, expect, it, vi, type TestContext } from 'vitest';
import { MemoryThrottleStore, PalisadeModule, Public, RedisThrottleStore, Throttle, type ThrottleStore, type ThrottlerTier } from '@palisade/nest';
import { ADAPTERS, bootApp, type AdapterName } from '../support/app.js';
import { deleteKeysUnder, redisClient, redisPrefix, REDIS_URL, requireRedis } from '../support/redis.js';
import { expectRetryAfter, inSequence, statusesOf, times, TOO_MANY_REQUESTS } from '../support/throttle.js';

/**
 * The throttling semantics Palisade shares with `@nestjs/throttler`, on both stores: a hit counts
 * for `ttl` after it was made (no burst at a window edge), `blockDuration: 0` means no block (never
 * no limit), and a tier's name is part of its counter.
 *
 * The memory store reads `Date.now`, so its timelines run on a fake `Date` (only `Date`: sockets and
 * timers stay real); the Redis store reads Redis's clock, so its timelines run in real time, scaled.
 */

const STORES = ['memory', 'redis'] as const;

/** The supertest client of a booted app. */
type Agent = Awaited<ReturnType<typeof bootApp>>['http'];
type StoreName = (typeof STORES)[number];

@Controller()
@Public()
class WindowController {
  @Get('limited') limited() {
    return { ok: true };
  }

  /** blockDuration 0 through @Throttle (it used to be refused at startup). */
  @Get('unblocked') @Throttle({ default: { limit: 2, ttl: 3_000, blockDuration: 0 } }) unblocked() {
    return { ok: true };
  }
}

/** Boots a Palisade app with one `default` tier on `store`; the app and its Redis keys go when the test ends. */
async function bootWith(ctx: TestContext, adapter: AdapterName, store: StoreName, tier: ThrottlerTier): Promise<Agent> {
  let storage: 'memory' | { redis: string; prefix: string } = 'memory';
  if (store === 'redis') {
    const redis = await requireRedis(ctx);
    const prefix = redisPrefix();
    ctx.onTestFinished(() => deleteKeysUnder(redis, prefix));
    storage = { redis: REDIS_URL, prefix };
  } else {
    // Before the app boots: the store takes its clock (Date.now) when it is built.
    vi.useFakeTimers({ toFake: ['Date'], now: 1_700_000_000_000 });
  }
  const metadata: ModuleMetadata = {
    imports: [PalisadeModule.forRoot({ throttle: { throttlers: [tier], storage }, global: true })],
    controllers: [WindowController],
  };
  const { app, http } = await bootApp(adapter, metadata);
  ctx.onTestFinished(() => app.close());
  return http;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

/**
 * Sends one request at each offset (ms) from the first — on the fake clock for memory, in real time
 * for Redis — and returns the responses.
 */
async function timeline<T>(store: StoreName, offsets: readonly number[], send: () => PromiseLike<T>): Promise<T[]> {
  const start = Date.now();
  const responses: T[] = [];
  for (const offset of offsets) {
    /* oxlint-disable no-await-in-loop -- a timed sequence */
    if (store === 'memory') vi.setSystemTime(start + offset);
    else await sleep(start + offset - Date.now());
    responses.push(await send());
    /* oxlint-enable no-await-in-loop */
  }
  return responses;
}

describe.each(ADAPTERS)('throttling semantics shared with @nestjs/throttler on %s', (adapter) => {
  afterEach(() => {
    vi.useRealTimers();
  });

  describe.each(STORES)('%s store', (store) => {
    it('refuses the 4th of requests at 0, 1.6, 2.2, 2.3 s (limit 2 per 2 s), as upstream; the fixed window let it through', async (ctx) => {
      // Redis: the same sequence at half scale (limit 2 per 1 s; 0, 0.8, 1.1, 1.15 s), in real time.
      const scale = store === 'memory' ? 1 : 0.5;
      const http = await bootWith(ctx, adapter, store, { name: 'default', limit: 2, ttl: 2_000 * scale });
      const responses = await timeline(
        store,
        [0, 1_600, 2_200, 2_300].map((t) => t * scale),
        () => http.get('/limited'),
      );
      expect(statusesOf(responses)).toEqual([200, 200, 200, 429]);
    });

    it.for([
      { how: "module options ({ limit: 2, ttl: '3s', blockDuration: 0 })", path: '/limited', tier: { name: 'default', limit: 2, ttl: '3s', blockDuration: 0 } },
      { how: '@Throttle({ default: { limit: 2, ttl: 3000, blockDuration: 0 } })', path: '/unblocked', tier: { name: 'default', limit: 100, ttl: '1m' } },
    ] satisfies { how: string; path: string; tier: ThrottlerTier }[])(
      'blockDuration 0 in $how: 9 quick requests, exactly 2 pass (regression: 6 did), and the 429 says when the window has room',
      async ({ path, tier }, ctx) => {
        const http = await bootWith(ctx, adapter, store, tier);
        const responses = await inSequence(9, () => http.get(path));
        expect(statusesOf(responses)).toEqual([200, 200, ...times(7, 429)]);
        expect(responses[8]?.body).toEqual(TOO_MANY_REQUESTS);
        // The window has room 3.001 s after the first request: 4 s on a frozen clock, 3 or 4 in real time.
        expect(expectRetryAfter(responses[8]?.headers['retry-after'], 4)).toBeGreaterThanOrEqual(3);
      },
    );
  });

  describe('memory store, exact clock: Retry-After is when a request passes, to the millisecond', () => {
    it('after the refused 4th of 0, 1.6, 2.2, 2.3 s: blocked for blockDuration (2 s), so Retry-After 2 and a pass at 4.3 s, not before', async (ctx) => {
      const http = await bootWith(ctx, adapter, 'memory', { name: 'default', limit: 2, ttl: 2_000 });
      const start = Date.now();
      const responses = await timeline('memory', [0, 1_600, 2_200, 2_300], () => http.get('/limited'));
      expect(statusesOf(responses)).toEqual([200, 200, 200, 429]);
      const refused = responses[3];
      expect(refused?.body).toEqual(TOO_MANY_REQUESTS);
      expect(refused?.headers['retry-after']).toBe('2');
      vi.setSystemTime(start + 4_299);
      expect((await http.get('/limited')).status).toBe(429);
      vi.setSystemTime(start + 4_300);
      expect((await http.get('/limited')).status).toBe(200);
    });

    it('with blockDuration 0: Retry-After 4 on a frozen clock, as the window has room at 3.001 s, not at 3 s', async (ctx) => {
      const http = await bootWith(ctx, adapter, 'memory', { name: 'default', limit: 2, ttl: '3s', blockDuration: 0 });
      const start = Date.now();
      const responses = await inSequence(3, () => http.get('/limited'));
      expect(responses[2]?.headers['retry-after']).toBe('4');
      vi.setSystemTime(start + 3_000);
      expect((await http.get('/limited')).status).toBe(429);
      vi.setSystemTime(start + 3_001);
      expect((await http.get('/limited')).status).toBe(200);
    });
  });

  describe('Redis store, real time', () => {
    it('honours the Retry-After of a 429: the request passes once it has elapsed', async (ctx) => {
      const http = await bootWith(ctx, adapter, 'redis', { name: 'default', limit: 2, ttl: 1_000 });
      const refused = (await inSequence(3, () => http.get('/limited'))).at(-1);
      expect(refused?.status).toBe(429);
      const seconds = expectRetryAfter(refused?.headers['retry-after'], 2);
      await sleep(seconds * 1_000);
      expect((await http.get('/limited')).status).toBe(200);
    });
  });

  it('refuses authFailures.blockDuration 0 at startup: failures are counted after the check, so without a block guessing would go on', async () => {
    await expect(async () =>
      bootApp(adapter, {
        imports: [PalisadeModule.forRoot({ throttle: { throttlers: [{ limit: 10, ttl: '1m' }], authFailures: { limit: 3, ttl: '1m', blockDuration: 0 } } })],
      }),
    ).rejects.toThrow(
      "PalisadeModule: throttle.authFailures.blockDuration is 0; brute-force protection needs a block. Set a duration such as '5m', or authFailures: false.",
    );
  });

  describe.each(STORES)("@nestjs/throttler's ThrottlerModule on Palisade's %s store, two tiers and a custom generateKey", (store) => {
    it('counts each tier on its own counter, although generateKey returns one key for both', async (ctx) => {
      let storage: ThrottleStore = new MemoryThrottleStore();
      let prefix = '';
      if (store === 'redis') {
        const redis = await requireRedis(ctx);
        prefix = redisPrefix();
        ctx.onTestFinished(() => deleteKeysUnder(redis, prefix));
        const client = redisClient();
        await client.connect();
        ctx.onTestFinished(() => {
          client.disconnect();
        });
        storage = new RedisThrottleStore(client);
      }
      const metadata: ModuleMetadata = {
        imports: [
          ThrottlerModule.forRoot({
            throttlers: [
              { name: 'burst', limit: 3, ttl: 60_000 },
              { name: 'sustained', limit: 2, ttl: 60_000 },
            ],
            storage,
            // One key per client for every tier: the tier name must keep the counters apart.
            generateKey: (_context, tracker) => `${prefix}${tracker}`,
          }),
        ],
        controllers: [WindowController],
        providers: [{ provide: APP_GUARD, useClass: UpstreamThrottlerGuard }],
      };
      const { app, http } = await bootApp(adapter, metadata);
      ctx.onTestFinished(() => app.close());
      const responses = await inSequence(4, () => http.get('/limited'));
      // Shared, each request counted twice: 200, 429. Apart: sustained (2) refuses the 3rd.
      expect(statusesOf(responses)).toEqual([200, 200, 429, 429]);
      expect(responses[1]?.headers['x-ratelimit-remaining-burst']).toBe('1');
      expect(responses[1]?.headers['x-ratelimit-remaining-sustained']).toBe('0');
    });
  });
});
