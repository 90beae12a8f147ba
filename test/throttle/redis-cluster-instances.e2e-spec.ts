import { Controller, Get, type INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PalisadeModule, Public } from '@palisade/nest';
import { ADAPTERS, bootApp, type AdapterName } from '../support/app.js';
import { deleteKeysUnder, keysUnder, redisClient, redisPrefix, redisProblem, REDIS_URL, requireRedis } from '../support/redis.js';
import { baseUrl, get, statusesOf, TOO_MANY_REQUESTS } from '../support/throttle.js';

const LIMIT = 20;
const REQUESTS = 60;

@Controller()
class PingController {
  @Get('ping') @Public() ping() {
    return { pong: true };
  }
}

function instanceModule(prefix: string) {
  return {
    imports: [
      PalisadeModule.forRoot({
        throttle: { throttlers: [{ name: 'default', limit: LIMIT, ttl: '1m' }], storage: { redis: REDIS_URL, prefix } },
        global: true,
      }),
    ],
    controllers: [PingController],
  };
}

/**
 * Three instances of one app (three Nest apps, three ports) sharing one Redis prefix on one Redis
 * server, as behind a load balancer (a real Redis Cluster and Sentinel group: test/common/redis-cluster
 * and redis-sentinel e2e suites). Booted only when Redis answers; each test then requires it (skip or CI failure).
 */
function useInstances(adapters: readonly AdapterName[]): { apps: INestApplication[]; prefix: string } {
  const instances = { apps: [] as INestApplication[], prefix: redisPrefix() };
  beforeAll(async () => {
    if ((await redisProblem()) !== undefined) return;
    instances.apps = await Promise.all(adapters.map(async (adapter) => (await bootApp(adapter, instanceModule(instances.prefix))).app));
  });
  afterAll(async () => {
    await Promise.all(instances.apps.map((app) => app.close()));
    if ((await redisProblem()) === undefined) {
      const client = redisClient();
      await client.connect();
      await deleteKeysUnder(client, instances.prefix);
      client.disconnect();
    }
  });
  return instances;
}

/** REQUESTS concurrent GETs, round-robin over the instances, each on its own connection. */
function flood(apps: readonly INestApplication[]) {
  const urls = apps.map((app) => `${baseUrl(app)}/ping`);
  return Promise.all(Array.from({ length: REQUESTS }, (_, i) => get(urls[i % urls.length] as string, { agent: false })));
}

function expectExactlyLimit(responses: Awaited<ReturnType<typeof flood>>): void {
  const statuses = statusesOf(responses);
  expect(statuses.filter((s) => s === 200)).toHaveLength(LIMIT);
  expect(statuses.filter((s) => s === 429)).toHaveLength(REQUESTS - LIMIT);
  for (const response of responses.filter((r) => r.status === 429)) {
    expect(response.body).toEqual(TOO_MANY_REQUESTS);
    expect(response.headers['retry-after']).toMatch(/^[1-9]\d*$/);
  }
}

describe.each(ADAPTERS)('one limit across three app instances sharing Redis, on %s', (adapter) => {
  const instances = useInstances([adapter, adapter, adapter]);

  it(`lets exactly ${LIMIT} of ${REQUESTS} concurrent requests through, spread over the instances`, async (ctx) => {
    const redis = await requireRedis(ctx);
    const responses = await flood(instances.apps);
    expectExactlyLimit(responses);
    // Every instance answered its share: the limit is shared, not per instance.
    const perInstance = [0, 1, 2].map((k) => responses.filter((_, i) => i % 3 === k).map((r) => r.status));
    for (const statuses of perInstance) expect(statuses).toHaveLength(REQUESTS / 3);

    // One counter for the client and route, named with a Redis Cluster hash tag.
    const keys = await keysUnder(redis, instances.prefix);
    expect(keys).toEqual([`${instances.prefix}{ip:127.0.0.1}:PingController.ping:default`]);
    // Exactly the passed hits are counted (refused ones are not).
    expect(await redis.hget(keys[0] as string, 'c')).toBe(String(LIMIT));
    // The key lives while its hits count: this window and, weighted, the next one.
    const ttl = await redis.pttl(keys[0] as string);
    expect(ttl).toBeGreaterThan(60_000);
    expect(ttl).toBeLessThanOrEqual(120_000);
  });

  it('keeps the client blocked on every instance', async (ctx) => {
    await requireRedis(ctx);
    const again = await Promise.all(instances.apps.map((app) => get(`${baseUrl(app)}/ping`, { agent: false })));
    expect(statusesOf(again)).toEqual([429, 429, 429]);
  });
});

describe('one limit across instances on different adapters (express, fastify, express)', () => {
  const instances = useInstances(['express', 'fastify', 'express']);

  it(`lets exactly ${LIMIT} of ${REQUESTS} concurrent requests through`, async (ctx) => {
    await requireRedis(ctx);
    expectExactlyLimit(await flood(instances.apps));
  });
});
