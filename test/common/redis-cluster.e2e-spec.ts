/**
 * The shared stores on a real Redis Cluster (issue 19's ground): six private `redis-server`
 * processes (three primaries, three replicas) started and stopped by this file, in a temp dir,
 * never the shared server. Throttling, brute force and the token lifecycle work through the
 * library's `{ cluster: [seed nodes] }` form and through the demo's `REDIS_CLUSTER_NODES`. The
 * revocation mirror keeps one tracking link per primary and goes live on the Cluster too.
 */
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it, type TestContext, vi } from 'vitest';
import { PalisadeModule, TokenService, type RedisConnection } from '@palisade/nest';
import { AppModule } from '../../apps/demo/src/app.module.js';
import { DEV_API_KEY, loadConfig } from '../../apps/demo/src/config.js';
import { ADAPTERS, bootApp, type AdapterName } from '../support/app.js';
import { redisPrefix } from '../support/redis.js';
import { RedisClusterTopology, requireTopology } from '../support/redis-topologies.js';
import { TEST_SECRET } from '../support/tokens.js';
import {
  INVALID_REFRESH,
  OpenController,
  TOKEN_AUDIENCE,
  TOKEN_ISSUER,
  TokenLifecycleController,
  WhoAmIController,
  expectInvalidToken,
  getWith,
  login,
  logout,
  refresh,
  rotate,
} from '../support/token-app.js';

let cluster: RedisClusterTopology | Error | undefined;

beforeAll(async () => {
  cluster = await RedisClusterTopology.launch().catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
}, 60_000);

afterAll(async () => {
  if (cluster instanceof RedisClusterTopology) await cluster.stop();
});

const requireCluster = (ctx: TestContext): RedisClusterTopology => requireTopology(ctx, cluster, 'Redis Cluster');

function clusterModule(redis: RedisConnection, prefix: string) {
  return {
    imports: [
      PalisadeModule.forRoot({
        auth: { jwt: { secret: TEST_SECRET, issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE } },
        throttle: { throttlers: [{ name: 'default', limit: 3, ttl: '1m' }], storage: { redis, prefix }, authFailures: { limit: 2, ttl: '1m' } },
        tokens: { storage: { redis, prefix } },
        global: true,
      }),
    ],
    controllers: [TokenLifecycleController, WhoAmIController, OpenController],
  };
}

describe.each(ADAPTERS)('stores on a Redis Cluster, on %s', (adapter: AdapterName) => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
    if (cluster instanceof RedisClusterTopology) await cluster.flush();
  });

  it('throttles, blocks brute force and runs the token lifecycle through { cluster: [seed nodes] }', async (ctx) => {
    const servers = requireCluster(ctx);
    // One seed node is enough: ioredis discovers the rest.
    ({ app } = await bootApp(adapter, clusterModule({ cluster: [servers.addresses[0] as string] }, redisPrefix())));
    const http = request(app.getHttpServer());
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await http.get('/open')).status);
    expect(statuses).toEqual([200, 200, 200, 429]);

    const pair = await login(app, { id: 'alice', roles: ['admin'] });
    const next = await rotate(app, pair.refresh_token);
    expect((await getWith(app, next.access_token)).status).toBe(200);
    // Reuse of the first refresh token (outside the grace period's conditions: its successor was used).
    await rotate(app, next.refresh_token);
    const reused = await refresh(app, pair.refresh_token);
    expect({ status: reused.status, body: reused.body as unknown }).toEqual({ status: 401, body: INVALID_REFRESH });

    const fresh = await login(app, { id: 'bob' });
    expect((await logout(app, fresh.access_token)).status).toBe(204);
    expectInvalidToken(await getWith(app, fresh.access_token));
    // Tracking is per node: the mirror keeps a link per primary and goes live on the Cluster too.
    await vi.waitFor(() => expect(app?.get(TokenService).revocationsMirrored).toBe(true), { timeout: 5_000, interval: 50 });

    // Brute force (limit 2): the revoked token above is no guess and was not counted; two guesses
    // are (401, the second blocks the IP); from then on every attempt is a 429.
    const bad = [];
    for (let i = 0; i < 4; i++) bad.push((await http.get('/me').set('Authorization', 'Bearer nope')).status);
    expect(bad).toEqual([401, 401, 429, 429]);
  });

  it('the demo on REDIS_CLUSTER_NODES: shared throttling and logout', async (ctx) => {
    const servers = requireCluster(ctx);
    const config = loadConfig({ REDIS_CLUSTER_NODES: servers.addresses.slice(0, 2).join(','), THROTTLE_LIMIT: '2', THROTTLE_TTL: '1m' });
    expect(config.redis).toEqual({ cluster: servers.addresses.slice(0, 2) });
    ({ app } = await bootApp(adapter, { imports: [AppModule.register(config)] }));
    const http = request(app.getHttpServer());
    const login = await http.post('/auth/login').send({ username: 'alice', password: 'alice-password' });
    expect(login.status).toBe(200);
    const token = (login.body as { access_token: string }).access_token;
    expect((await http.post('/auth/logout').set('Authorization', `Bearer ${token}`)).status).toBe(204);
    expect((await http.get('/me').set('Authorization', `Bearer ${token}`)).status).toBe(401);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await http.get('/reports').set('X-API-Key', DEV_API_KEY)).status);
    expect(statuses).toEqual([200, 200, 429]);
  });
});
