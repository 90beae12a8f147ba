/**
 * The shared stores through Redis Sentinel: a private primary and one sentinel, started and
 * stopped by this file (never the shared server). Throttling and the token lifecycle work through
 * `{ sentinels, name }` and through the demo's `REDIS_SENTINELS` / `REDIS_SENTINEL_NAME`; the data
 * lands on the primary the sentinel names, and the revocation mirror goes live (its connection
 * duplicates the Sentinel client, so it follows the primary too).
 */
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { PalisadeModule, TokenService } from '@palisade/nest';
import { AppModule } from '../../apps/demo/src/app.module.js';
import { DEV_API_KEY, loadConfig } from '../../apps/demo/src/config.js';
import { ADAPTERS, bootApp, type AdapterName } from '../support/app.js';
import { keysUnder, redisClient, redisPrefix, skipOrFail } from '../support/redis.js';
import { RedisSentinelServers } from '../support/redis-cluster.js';
import { TEST_SECRET } from '../support/tokens.js';
import {
  OpenController,
  TOKEN_AUDIENCE,
  TOKEN_ISSUER,
  TokenLifecycleController,
  WhoAmIController,
  expectInvalidToken,
  getWith,
  login,
  logout,
} from '../support/token-app.js';

let servers: RedisSentinelServers | Error | undefined;

beforeAll(async () => {
  try {
    servers = await RedisSentinelServers.launch();
  } catch (error) {
    servers = error instanceof Error ? error : new Error(String(error));
  }
}, 30_000);

afterAll(async () => {
  if (servers instanceof RedisSentinelServers) await servers.stop();
});

function requireSentinel(ctx: TestContext): RedisSentinelServers {
  if (servers instanceof RedisSentinelServers) return servers;
  return skipOrFail(ctx, `cannot start a private Redis Sentinel (${servers?.message ?? 'not launched'})`);
}

async function until(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    // oxlint-disable-next-line no-await-in-loop -- polling
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.each(ADAPTERS)('stores through Redis Sentinel, on %s', (adapter: AdapterName) => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
    // The private primary only (never the shared server): each test starts empty.
    if (servers instanceof RedisSentinelServers) {
      const primary = redisClient(servers.primary.url);
      await primary.connect();
      await primary.flushall();
      primary.disconnect();
    }
  });

  it('throttles and runs the token lifecycle on the primary found through { sentinels, name }; the mirror goes live', async (ctx) => {
    const sentinel = requireSentinel(ctx);
    const prefix = redisPrefix();
    const redis = { sentinels: [`127.0.0.1:${sentinel.sentinelPort}`], name: RedisSentinelServers.NAME };
    ({ app } = await bootApp(adapter, {
      imports: [
        PalisadeModule.forRoot({
          auth: { jwt: { secret: TEST_SECRET, issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE } },
          throttle: { throttlers: [{ name: 'default', limit: 2, ttl: '1m' }], storage: { redis, prefix }, authFailures: false },
          tokens: { storage: { redis, prefix } },
          global: true,
        }),
      ],
      controllers: [TokenLifecycleController, WhoAmIController, OpenController],
    }));
    const http = request(app.getHttpServer());
    expect([(await http.get('/open')).status, (await http.get('/open')).status, (await http.get('/open')).status]).toEqual([200, 200, 429]);

    const tokens = app.get(TokenService);
    await until(() => tokens.revocationsMirrored, 'the revocation mirror to go live through Sentinel');
    const pair = await login(app);
    expect((await getWith(app, pair.access_token)).status).toBe(200);
    expect((await logout(app, pair.access_token)).status).toBe(204);
    expectInvalidToken(await getWith(app, pair.access_token));

    // Everything landed on the primary the sentinel names.
    const primary = redisClient(sentinel.primary.url);
    await primary.connect();
    try {
      const keys = await keysUnder(primary, prefix);
      expect(keys.some((key) => key.startsWith(`${prefix}{fam:`))).toBe(true);
      expect(keys.some((key) => key.startsWith(`${prefix}revoked:`))).toBe(true);
      expect(keys.some((key) => key.startsWith(`${prefix}{`) && !key.startsWith(`${prefix}{fam:`))).toBe(true);
    } finally {
      primary.disconnect();
    }
  });

  it('the demo on REDIS_SENTINELS + REDIS_SENTINEL_NAME: shared throttling and logout', async (ctx) => {
    const sentinel = requireSentinel(ctx);
    const config = loadConfig({
      REDIS_SENTINELS: `127.0.0.1:${sentinel.sentinelPort}`,
      REDIS_SENTINEL_NAME: RedisSentinelServers.NAME,
      THROTTLE_LIMIT: '2',
      THROTTLE_TTL: '1m',
    });
    ({ app } = await bootApp(adapter, { imports: [AppModule.register(config)] }));
    const http = request(app.getHttpServer());
    const login = await http.post('/auth/login').send({ username: 'bob', password: 'bob-password' });
    expect(login.status).toBe(200);
    const token = (login.body as { access_token: string }).access_token;
    expect((await http.post('/auth/logout').set('Authorization', `Bearer ${token}`)).status).toBe(204);
    expect((await http.get('/me').set('Authorization', `Bearer ${token}`)).status).toBe(401);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await http.get('/reports').set('X-API-Key', DEV_API_KEY)).status);
    expect(statuses).toEqual([200, 200, 429]);
  });
});
