/**
 * The revocation mirror (`tokens.storage.mirrorRevocations`, on by default with Redis): a token
 * checked once is checked again without a Redis round trip, yet a revocation written by any
 * instance — or straight into Redis — holds at once, also when the mirror's link was down
 * meanwhile; a frozen Redis turns the mirror off within its heartbeat (then 503, failing closed);
 * a Redis without CLIENT TRACKING leaves it off with one warning. Each suite runs a private
 * `redis-server` whose EXISTS count (`INFO commandstats`) tells which checks reached Redis.
 */
import type { INestApplication } from '@nestjs/common';
import { TokenService } from '@palisade/nest';
import { Redis } from 'ioredis';
import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { ADAPTERS, bootApp, type AdapterName } from '../support/app.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { redisPrefix, RedisServer, requireRedisServer, usePrivateRedisServer } from '../support/redis.js';
import { expectInvalidToken, getWith, login, logout, TOKEN_STORE_UNAVAILABLE, tokenAppModule, untilTokenStoreAnswers } from '../support/token-app.js';

/** Polls `condition` every 10 ms; throws after `timeoutMs`. */
async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** How many EXISTS commands (revocation checks) the server has run. */
async function existsCalls(admin: Redis): Promise<number> {
  const stats = await admin.info('commandstats');
  const match = /^cmdstat_exists:calls=(\d+)/m.exec(stats);
  return match ? Number(match[1]) : 0;
}

function jtiOf(token: string): string {
  return (JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as { jti: string }).jti;
}

function mirrored(app: INestApplication): boolean {
  return app.get(TokenService).revocationsMirrored;
}

function expectOk(res: Response): void {
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ id: 'alice', scheme: 'jwt' });
}

describe.each(ADAPTERS)('revocation mirror, on %s', (adapter: AdapterName) => {
  const other: AdapterName = adapter === 'express' ? 'fastify' : 'express';
  let launched: RedisServer | Error | undefined;
  let admin: Redis | undefined;
  beforeAll(async () => {
    try {
      launched = await RedisServer.launch();
      admin = new Redis(launched.url, { maxRetriesPerRequest: 1 });
      // Some tests kill the server: its reconnect attempts must not surface as unhandled errors.
      admin.on('error', () => undefined);
    } catch (error) {
      launched = error instanceof Error ? error : new Error(String(error));
    }
  });
  afterAll(async () => {
    admin?.disconnect();
    if (launched instanceof RedisServer) await launched.stop();
  });

  /** An app on the private server (closed after the test), its mirror live, and the admin client. */
  async function boot(
    ctx: TestContext,
    storage: Record<string, unknown> = {},
    prefix = redisPrefix(),
  ): Promise<{ app: INestApplication; admin: Redis; prefix: string }> {
    const server = requireRedisServer(ctx, launched);
    await server.start();
    const { app } = await bootApp(adapter, tokenAppModule({ storage: { redis: server.url, prefix, commandTimeout: 200, ...storage } }));
    ctx.onTestFinished(async () => {
      server.resume();
      await app.close();
    });
    await untilTokenStoreAnswers(app);
    if (storage.mirrorRevocations !== false) await until(() => mirrored(app), 'the mirror to go live');
    return { app, admin: admin as Redis, prefix };
  }

  it('checks a token seen before without a Redis round trip: one EXISTS, then none for 20 requests', async (ctx) => {
    const { app, admin } = await boot(ctx);
    const { access_token: token } = await login(app);
    const before = await existsCalls(admin);
    expectOk(await getWith(app, token));
    expect(await existsCalls(admin)).toBe(before + 1);
    for (let i = 0; i < 20; i++) expectOk(await getWith(app, token));
    expect(await existsCalls(admin)).toBe(before + 1);
  });

  it('mirrorRevocations: false checks Redis on every request', async (ctx) => {
    const { app, admin } = await boot(ctx, { mirrorRevocations: false });
    expect(mirrored(app)).toBe(false);
    const { access_token: token } = await login(app);
    const before = await existsCalls(admin);
    for (let i = 0; i < 5; i++) expectOk(await getWith(app, token));
    expect(await existsCalls(admin)).toBe(before + 5);
  });

  it(`a logout on another instance (${other}) holds here at once, although the token's answer was mirrored`, async (ctx) => {
    const { app: here, prefix } = await boot(ctx);
    const server = requireRedisServer(ctx, launched);
    const { app: there } = await bootApp(other, tokenAppModule({ storage: { redis: server.url, prefix, commandTimeout: 200 } }));
    ctx.onTestFinished(() => there.close());
    await untilTokenStoreAnswers(there);
    const { access_token: token } = await login(there);
    expectOk(await getWith(here, token));
    const calls = await existsCalls(admin as Redis);
    expectOk(await getWith(here, token));
    expect(await existsCalls(admin as Redis)).toBe(calls); // answered by the mirror
    expect((await logout(there, token)).status).toBe(204);
    expectInvalidToken(await getWith(here, token));
  });

  it('a revocation written straight into Redis while the link was down is not missed', async (ctx) => {
    const { app, admin, prefix } = await boot(ctx);
    const { access_token: token } = await login(app);
    const jti = jtiOf(token);
    expectOk(await getWith(app, token));
    // Cut the mirror's connection (the only one in subscriber mode), then revoke behind its back.
    expect(await admin.client('KILL', 'TYPE', 'pubsub')).toBeGreaterThanOrEqual(1);
    await admin.set(`${prefix}revoked:${jti}`, '1', 'PX', 60_000);
    expectInvalidToken(await getWith(app, token));
    // The link comes back by itself and serves answers again.
    await until(() => mirrored(app), 'the mirror to be live again');
    const fresh = await login(app);
    expectOk(await getWith(app, fresh.access_token));
    const calls = await existsCalls(admin);
    expectOk(await getWith(app, fresh.access_token));
    expect(await existsCalls(admin)).toBe(calls);
    expectInvalidToken(await getWith(app, token));
  });

  it('Redis down at startup: the app starts without waiting for the mirror, which goes live once Redis is up', async (ctx) => {
    const server = requireRedisServer(ctx, launched);
    await server.kill();
    const prefix = redisPrefix();
    const started = Date.now();
    const { app } = await bootApp(adapter, tokenAppModule({ storage: { redis: server.url, prefix, commandTimeout: 200 } }));
    ctx.onTestFinished(() => app.close());
    // Bounded by the store connections' own startup wait (1 s here), not by the mirror.
    expect(Date.now() - started).toBeLessThan(3_000);
    await server.start();
    await until(() => mirrored(app), 'the mirror to go live after Redis came up', 8_000);
    await untilTokenStoreAnswers(app);
    const { access_token: token } = await login(app);
    expectOk(await getWith(app, token));
    const calls = await existsCalls(admin as Redis);
    expectOk(await getWith(app, token));
    expect(await existsCalls(admin as Redis)).toBe(calls);
    // Revoked elsewhere: only Redis's announcement can tell this instance.
    await (admin as Redis).set(`${prefix}revoked:${jtiOf(token)}`, '1', 'PX', 60_000);
    await until(async () => (await getWith(app, token)).status === 401, 'the revocation to hold', 2_000);
  });

  it('a flushed database is announced too: every mirrored answer is forgotten', async (ctx) => {
    const { app, admin } = await boot(ctx);
    const { access_token: token } = await login(app);
    expectOk(await getWith(app, token));
    const before = await existsCalls(admin);
    expectOk(await getWith(app, token));
    expect(await existsCalls(admin)).toBe(before);
    await admin.flushdb(); // the suite's private server
    await until(
      async () => {
        const calls = await existsCalls(admin);
        expectOk(await getWith(app, token));
        return (await existsCalls(admin)) > calls;
      },
      'a check to reach Redis again',
      2_000,
    );
  });

  it('closes promptly while Redis is frozen', async (ctx) => {
    const server = requireRedisServer(ctx, launched);
    await server.start();
    const { app } = await bootApp(adapter, tokenAppModule({ storage: { redis: server.url, prefix: redisPrefix(), commandTimeout: 200 } }));
    await until(() => mirrored(app), 'the mirror to go live');
    server.pause();
    ctx.onTestFinished(() => server.resume());
    const started = Date.now();
    await app.close();
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('a frozen Redis (SIGSTOP) turns the mirror off within its heartbeat: mirrored tokens then fail closed (503)', async (ctx) => {
    const { app } = await boot(ctx);
    const server = requireRedisServer(ctx, launched);
    const { access_token: token } = await login(app);
    expectOk(await getWith(app, token));
    server.pause();
    const started = Date.now();
    await until(() => !mirrored(app), 'the mirror to drop', 4_000);
    // One missed heartbeat (500 ms each) drops it; answers stop being served even sooner.
    expect(Date.now() - started).toBeLessThan(2_000);
    const res = await getWith(app, token).timeout(5_000);
    expect({ status: res.status, body: res.body as unknown }).toEqual({ status: 503, body: TOKEN_STORE_UNAVAILABLE });
    server.resume();
    await until(() => mirrored(app), 'the mirror to be live again');
    expectOk(await getWith(app, token));
  });
});

describe.each(ADAPTERS)('revocation mirror on a Redis without CLIENT TRACKING, on %s', (adapter: AdapterName) => {
  const privateRedis = usePrivateRedisServer(['--rename-command', 'CLIENT', '']);

  it('stays off, warns once, and every check still goes to Redis (a logout holds)', async (ctx) => {
    const server = privateRedis(ctx);
    const log = new RecordingLogger();
    const { app } = await bootApp(adapter, tokenAppModule({ storage: { redis: server.url, prefix: redisPrefix() } }), log);
    ctx.onTestFinished(() => app.close());
    await untilTokenStoreAnswers(app);
    const { access_token: token } = await login(app);
    expectOk(await getWith(app, token));
    expectOk(await getWith(app, token));
    expect(mirrored(app)).toBe(false);
    expect(log.lines.filter((line) => line.level === 'warn' && line.message.includes('Revocation mirror off'))).toHaveLength(1);
    expect((await logout(app, token)).status).toBe(204);
    expectInvalidToken(await getWith(app, token));
  });
});
