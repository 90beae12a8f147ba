/**
 * The shared stores through Redis Sentinel: a private primary, its replica and three sentinels,
 * started and stopped by this file (never the shared server). Throttling and the token lifecycle work through
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
import { keysUnder, redisClient, redisPrefix } from '../support/redis.js';
import { RedisSentinelTopology, requireTopology, SENTINEL_MASTER, until } from '../support/redis-topologies.js';
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

let servers: RedisSentinelTopology | Error | undefined;

beforeAll(async () => {
  servers = await RedisSentinelTopology.launch().catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
}, 60_000);

afterAll(async () => {
  if (servers instanceof RedisSentinelTopology) await servers.stop();
});

const requireSentinel = (ctx: TestContext): RedisSentinelTopology => requireTopology(ctx, servers, 'Redis Sentinel group');

describe.each(ADAPTERS)('stores through Redis Sentinel, on %s', (adapter: AdapterName) => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
    // The private primary only (never the shared server): each test starts empty.
    if (servers instanceof RedisSentinelTopology) await servers.flush();
  });

  it('throttles and runs the token lifecycle on the primary found through { sentinels, name }; the mirror goes live', async (ctx) => {
    const sentinel = requireSentinel(ctx);
    const prefix = redisPrefix();
    const redis = { sentinels: sentinel.sentinelAddresses, name: SENTINEL_MASTER };
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
    await until(
      async () => tokens.revocationsMirrored,
      5_000,
      () => 'the revocation mirror did not go live through Sentinel',
      20,
    );
    const pair = await login(app);
    expect((await getWith(app, pair.access_token)).status).toBe(200);
    expect((await logout(app, pair.access_token)).status).toBe(204);
    expectInvalidToken(await getWith(app, pair.access_token));

    // Everything landed on the primary the sentinel names.
    const primary = redisClient(`redis://127.0.0.1:${await sentinel.primaryPort()}`);
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
      REDIS_SENTINELS: sentinel.sentinelAddresses.join(','),
      REDIS_SENTINEL_NAME: SENTINEL_MASTER,
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
