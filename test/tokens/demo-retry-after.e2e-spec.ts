/**
 * Issue 16: the demo's login and refresh answered 503 without `Retry-After` while the token store
 * was down (the guards' 503s had it; the token routes' did not). Every 503 now carries it. On a
 * private `redis-server` this suite starts and kills (the shared Redis is never touched).
 */
import type { Response } from 'supertest';
import { describe, expect, it } from 'vitest';
import { AppModule } from '../../apps/demo/src/app.module.js';
import { loadConfig } from '../../apps/demo/src/config.js';
import { ADAPTERS, bootApp } from '../support/app.js';
import { usePrivateRedisServer } from '../support/redis.js';
import { httpOf, TOKEN_STORE_UNAVAILABLE } from '../support/token-app.js';

function expectUnavailableWithRetryAfter(what: string, res: Response): void {
  expect({ what, status: res.status, body: res.body as unknown, retryAfter: res.headers['retry-after'] }).toEqual({
    what,
    status: 503,
    body: TOKEN_STORE_UNAVAILABLE,
    retryAfter: '1',
  });
}

describe.each(ADAPTERS)('demo token routes while the token store is down, on %s', (adapter) => {
  const privateRedis = usePrivateRedisServer();

  it('login, refresh and logout answer 503 with Retry-After: 1', async (ctx) => {
    const server = privateRedis(ctx);
    await server.start();
    const { app } = await bootApp(adapter, { imports: [AppModule.register(loadConfig({ REDIS_URL: server.url }))] });
    ctx.onTestFinished(() => app.close());
    const login = await httpOf(app).post('/auth/login').send({ username: 'bob', password: 'bob-password' });
    expect(login.status).toBe(200);
    const { refresh_token: refreshToken, access_token: accessToken } = login.body as { refresh_token: string; access_token: string };

    await server.kill();
    expectUnavailableWithRetryAfter('login', await httpOf(app).post('/auth/login').send({ username: 'bob', password: 'bob-password' }).timeout(5_000));
    expectUnavailableWithRetryAfter('refresh', await httpOf(app).post('/auth/refresh').send({ refresh_token: refreshToken }).timeout(5_000));
    expectUnavailableWithRetryAfter('logout', await httpOf(app).post('/auth/logout').set('Authorization', `Bearer ${accessToken}`).timeout(5_000));
  });
});
