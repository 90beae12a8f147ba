import { Controller, Get, type INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PalisadeModule, Public, Throttle } from '@palisade/nest';
import { ADAPTERS, bootApp, type AdapterName } from '../support/app.js';
import { freePort, redisClient, redisPrefix, RedisServer, requireRedisServer } from '../support/redis.js';
import { baseUrl, get, inSequence, RequestTimeout, statusesOf, times, THROTTLE_UNAVAILABLE, TOO_MANY_REQUESTS } from '../support/throttle.js';

/** Each request must be answered within this (the store's command timeout is 200 ms). */
const CLIENT_TIMEOUT_MS = 3_000;

@Controller()
@Public()
class OutageController {
  @Get('ping') ping() {
    return { pong: true };
  }

  /** A small limit, to see counting go on (in memory) while Redis is away. */
  @Get('strict') @Throttle({ default: { limit: 3, ttl: 60_000 } }) strict() {
    return { ok: true };
  }

  /** Only the recovery checks call it: its key in Redis proves a request was counted there. */
  @Get('probe') probe() {
    return { ok: true };
  }
}

function outageModule(url: string, prefix: string, failOpen?: boolean) {
  return {
    imports: [
      PalisadeModule.forRoot({
        throttle: {
          throttlers: [{ name: 'default', limit: 100_000, ttl: '1m' }],
          storage: { redis: url, prefix, commandTimeout: '200ms' },
          ...(failOpen === undefined ? {} : { failOpen }),
        },
        global: true,
      }),
    ],
    controllers: [OutageController],
  };
}

type Outcome = number | 'timeout' | `error: ${string}`;

/** GET with the client timeout; a timeout or a dropped connection is an outcome, not a throw. */
async function attempt(url: string): Promise<Outcome> {
  try {
    return (await get(url, { timeoutMs: CLIENT_TIMEOUT_MS })).status;
  } catch (error) {
    return error instanceof RequestTimeout ? 'timeout' : `error: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/** Several clients requesting `url` back to back until stopped; records every outcome. */
class Traffic {
  readonly outcomes: Outcome[] = [];
  private stopped = false;
  private readonly waiters: { count: number; resolve: () => void }[] = [];
  private readonly workers: Promise<void>[];

  constructor(url: string, clients: number) {
    this.workers = Array.from({ length: clients }, () => this.work(url));
  }

  private async work(url: string): Promise<void> {
    while (!this.stopped) {
      // oxlint-disable-next-line no-await-in-loop -- each client sends its next request once answered
      this.outcomes.push(await attempt(url));
      for (const waiter of this.waiters.filter((w) => this.outcomes.length >= w.count)) waiter.resolve();
    }
  }

  /** Resolves once `more` further requests have been answered. */
  answered(more: number): Promise<void> {
    const count = this.outcomes.length + more;
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  async stop(): Promise<Outcome[]> {
    this.stopped = true;
    await Promise.all(this.workers);
    return this.outcomes;
  }
}

/** Polls until a request to /probe is counted in the (restarted) private Redis: the app recovered. */
async function untilCountedInRedis(app: INestApplication, server: RedisServer, prefix: string): Promise<void> {
  await vi.waitFor(
    async () => {
      expect(await attempt(`${baseUrl(app)}/probe`)).toBe(200);
      expect(await server.keysUnder(prefix)).toContain(`${prefix}{ip:127.0.0.1}:OutageController.probe:default`);
    },
    { timeout: 20_000, interval: 100 },
  );
}

describe.each(ADAPTERS)('throttling through a Redis outage on %s', (adapter: AdapterName) => {
  let server: RedisServer | Error | undefined;
  const open = { prefix: redisPrefix() } as { app: INestApplication; prefix: string };
  const closed = { prefix: redisPrefix() } as { app: INestApplication; prefix: string };

  beforeAll(async () => {
    server = await RedisServer.launch().catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
    if (!(server instanceof RedisServer)) return;
    open.app = (await bootApp(adapter, outageModule(server.url, open.prefix))).app;
    closed.app = (await bootApp(adapter, outageModule(server.url, closed.prefix, false))).app;
  });

  afterAll(async () => {
    if (server instanceof RedisServer) await server.start().catch(() => undefined);
    await open.app?.close();
    await closed.app?.close();
    if (server instanceof RedisServer) await server.stop();
  });

  describe('failOpen: true (default)', () => {
    it('counts in Redis while it is up', async (ctx) => {
      const redis = requireRedisServer(ctx, server);
      await redis.start();
      await untilCountedInRedis(open.app, redis, open.prefix);
      expect(await redis.keysUnder(open.prefix)).not.toEqual([]);
    });

    it('keeps answering 200 while Redis is killed mid-traffic: never a 5xx, never a hung request', async (ctx) => {
      const redis = requireRedisServer(ctx, server);
      await redis.start();
      await untilCountedInRedis(open.app, redis, open.prefix);

      const traffic = new Traffic(`${baseUrl(open.app)}/ping`, 8);
      await traffic.answered(40);
      await redis.kill();
      await traffic.answered(200);
      const outcomes = await traffic.stop();

      expect(outcomes.length).toBeGreaterThanOrEqual(240);
      expect(outcomes.filter((o) => o !== 200)).toEqual([]);
    });

    it('still enforces limits while Redis is down, counting per instance in memory', async (ctx) => {
      const redis = requireRedisServer(ctx, server);
      await redis.kill();
      const responses = await inSequence(5, () => get(`${baseUrl(open.app)}/strict`, { timeoutMs: CLIENT_TIMEOUT_MS }));
      expect(statusesOf(responses)).toEqual([200, 200, 200, 429, 429]);
      expect(responses[3]?.body).toEqual(TOO_MANY_REQUESTS);
    });

    it('keeps answering while Redis hangs (SIGSTOP): each command gives up after commandTimeout', async (ctx) => {
      const redis = requireRedisServer(ctx, server);
      await redis.start();
      await untilCountedInRedis(open.app, redis, open.prefix);
      redis.pause();
      try {
        const outcomes = await Promise.all(Array.from({ length: 10 }, () => attempt(`${baseUrl(open.app)}/ping`)));
        expect(outcomes).toEqual(times(10, 200));
      } finally {
        redis.resume();
      }
    });

    it('recovers by itself when Redis comes back on the same port (no app restart)', async (ctx) => {
      const redis = requireRedisServer(ctx, server);
      await redis.kill();
      expect(await attempt(`${baseUrl(open.app)}/ping`)).toBe(200);
      await redis.start();
      expect(await redis.keysUnder(open.prefix)).toEqual([]);
      await untilCountedInRedis(open.app, redis, open.prefix);
      // Counting continues in Redis: the next hit of the same key is the second one there.
      await get(`${baseUrl(open.app)}/probe`);
      const client = redisClient(redis.url);
      await client.connect();
      try {
        expect(Number(await client.hget(`${open.prefix}{ip:127.0.0.1}:OutageController.probe:default`, 'c'))).toBeGreaterThanOrEqual(2);
      } finally {
        client.disconnect();
      }
    });
  });

  describe('failOpen: false', () => {
    it('answers 503 with the stable JSON body while Redis is down, never hanging', async (ctx) => {
      const redis = requireRedisServer(ctx, server);
      await redis.kill();
      const responses = await Promise.all(Array.from({ length: 5 }, () => get(`${baseUrl(closed.app)}/ping`, { timeoutMs: CLIENT_TIMEOUT_MS })));
      expect(statusesOf(responses)).toEqual(times(5, 503));
      for (const response of responses) {
        expect(response.body).toEqual(THROTTLE_UNAVAILABLE);
        expect(response.headers['content-type']).toMatch(/^application\/json/);
      }
    });

    it('sends Retry-After: 1 with the 503, as documented for failOpen: false', async (ctx) => {
      const redis = requireRedisServer(ctx, server);
      await redis.kill();
      const response = await get(`${baseUrl(closed.app)}/ping`, { timeoutMs: CLIENT_TIMEOUT_MS });
      expect(response.status).toBe(503);
      expect(response.headers['retry-after']).toBe('1');
    });

    it('answers 503 while Redis hangs (SIGSTOP), within the client timeout', async (ctx) => {
      const redis = requireRedisServer(ctx, server);
      await redis.start();
      await untilCountedInRedis(closed.app, redis, closed.prefix);
      redis.pause();
      try {
        expect(await attempt(`${baseUrl(closed.app)}/ping`)).toBe(503);
      } finally {
        redis.resume();
      }
    });

    it('recovers by itself when Redis comes back on the same port', async (ctx) => {
      const redis = requireRedisServer(ctx, server);
      await redis.kill();
      expect(await attempt(`${baseUrl(closed.app)}/ping`)).toBe(503);
      await redis.start();
      await untilCountedInRedis(closed.app, redis, closed.prefix);
      expect(await attempt(`${baseUrl(closed.app)}/ping`)).toBe(200);
    });
  });

  it('boots and answers when Redis is unreachable from the start, and closes promptly', async () => {
    const nowhere = `redis://127.0.0.1:${await freePort()}`;
    const { app } = await bootApp(adapter, outageModule(nowhere, redisPrefix()));
    try {
      const outcomes = await Promise.all(Array.from({ length: 5 }, () => attempt(`${baseUrl(app)}/ping`)));
      expect(outcomes).toEqual(times(5, 200));
    } finally {
      await app.close();
    }
  });
});
