/**
 * The token lifecycle through `TokenService` in an application's own controller: issue, refresh
 * with rotation, reuse detection (the whole family revoked, access tokens included), logout,
 * expiry and malformed input — on both adapters, with the in-memory store and with Redis.
 */
import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import type { TokensOptions } from '@palisade/nest';
import { ADAPTERS, bootApp, type AdapterName } from '../support/app.js';
import { CHALLENGE, MESSAGE, expectUnauthorized } from '../support/auth.js';
import { nowSeconds } from '../support/forge.js';
import { deleteKeysUnder, redisClient, redisPrefix, redisProblem, REDIS_URL, skipOrFail } from '../support/redis.js';
import {
  expectInvalidToken,
  expectRefreshRefused,
  getWith,
  httpOf,
  login,
  logout,
  refresh,
  rotate,
  TOKEN_AUDIENCE,
  TOKEN_ISSUER,
  tokenAppModule,
  unknownRefreshToken,
  untilTokenStoreAnswers,
} from '../support/token-app.js';
import { signToken, TEST_SECRET } from '../support/tokens.js';

const REFRESH_TOKEN_SHAPE = /^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/;
const THIRTY_DAYS_S = 30 * 24 * 3600;

type Storage = 'memory' | 'redis';
const STORAGES: readonly Storage[] = ['memory', 'redis'];

/**
 * Boots the token app once for the enclosing `describe`. With Redis storage the app is booted only
 * when Redis answers, and {@link TokenApp.ready} then fails (CI) or skips each test.
 */
interface TokenApp {
  app: INestApplication;
  ready(ctx: TestContext): Promise<INestApplication>;
}

function useTokenApp(adapter: AdapterName, storage: Storage): TokenApp {
  const prefix = redisPrefix();
  const options: TokensOptions = storage === 'memory' ? {} : { storage: { redis: REDIS_URL, prefix } };
  const state = {} as TokenApp;
  state.ready = async (ctx) => {
    if (storage === 'redis') {
      const problem = await redisProblem();
      if (problem !== undefined) skipOrFail(ctx, `Redis is not reachable at ${REDIS_URL} (${problem})`);
    }
    return state.app;
  };
  beforeAll(async () => {
    if (storage === 'redis' && (await redisProblem()) !== undefined) return;
    state.app = (await bootApp(adapter, tokenAppModule(options))).app;
    // Safety net (bounded): these tests are about the lifecycle; the regression test below checks
    // that a freshly booted instance answers at once.
    if (storage === 'redis') await untilTokenStoreAnswers(state.app);
  });
  afterAll(async () => {
    await state.app?.close();
    if (storage === 'redis' && (await redisProblem()) === undefined) {
      const client = redisClient();
      await client.connect();
      await deleteKeysUnder(client, prefix);
      client.disconnect();
    }
  });
  return state;
}

describe.each(ADAPTERS)('token lifecycle through TokenService on %s', (adapter) => {
  describe.each(STORAGES)('with %s storage', (storage) => {
    const booted = useTokenApp(adapter, storage);

    it('issues an access token that works and a refresh token of the documented shape', async (ctx) => {
      const app = await booted.ready(ctx);
      const pair = await login(app, { id: 'alice', roles: ['admin'], scopes: ['reports:read', 'reports:write'] });
      expect(pair).toEqual({
        access_token: expect.any(String),
        token_type: 'Bearer',
        expires_in: 900,
        refresh_token: expect.stringMatching(REFRESH_TOKEN_SHAPE),
        refresh_expires_in: expect.any(Number),
      });
      expect(pair.refresh_expires_in).toBeGreaterThan(THIRTY_DAYS_S - 60);
      expect(pair.refresh_expires_in).toBeLessThanOrEqual(THIRTY_DAYS_S);

      const claims = jwt.verify(pair.access_token, TEST_SECRET, { issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE }) as jwt.JwtPayload;
      expect(claims).toMatchObject({ sub: 'alice', roles: ['admin'], scope: 'reports:read reports:write', iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE });
      expect(claims.exp! - claims.iat!).toBe(900);
      expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
      // The family id is the refresh token's first part.
      expect(claims.fid).toBe(pair.refresh_token.split('.')[0]);

      const me = await getWith(app, pair.access_token);
      expect(me.status).toBe(200);
      expect(me.body).toEqual({ id: 'alice', scheme: 'jwt', roles: ['admin'], scopes: ['reports:read', 'reports:write'] });
    });

    it('refresh rotates: a new pair in the same family, and the new access token works', async (ctx) => {
      const app = await booted.ready(ctx);
      const first = await login(app, { id: 'bob', roles: ['user'], scopes: ['orders:read'] });
      const second = await rotate(app, first.refresh_token);
      expect(second.token_type).toBe('Bearer');
      expect(second.expires_in).toBe(900);
      expect(second.refresh_token).toMatch(REFRESH_TOKEN_SHAPE);
      expect(second.refresh_token).not.toBe(first.refresh_token);
      expect(second.access_token).not.toBe(first.access_token);
      // Same family, and the family's lifetime is not extended by rotating.
      expect(second.refresh_token.split('.')[0]).toBe(first.refresh_token.split('.')[0]);
      expect(second.refresh_expires_in).toBeLessThanOrEqual(first.refresh_expires_in);

      const me = await getWith(app, second.access_token);
      expect(me.status).toBe(200);
      expect(me.body).toEqual({ id: 'bob', scheme: 'jwt', roles: ['user'], scopes: ['orders:read'] });
      // And the rotated refresh token rotates again.
      expect((await rotate(app, second.refresh_token)).refresh_token).toMatch(REFRESH_TOKEN_SHAPE);
    });

    it('a replayed refresh token is refused and revokes the whole family: newest refresh token and every access token', async (ctx) => {
      const app = await booted.ready(ctx);
      const p0 = await login(app, { id: 'carol', roles: ['user'] });
      const p1 = await rotate(app, p0.refresh_token);
      const p2 = await rotate(app, p1.refresh_token);
      const bystander = await login(app, { id: 'carol', roles: ['user'] }); // another session of the same user
      for (const pair of [p0, p1, p2]) expect((await getWith(app, pair.access_token)).status).toBe(200);

      // An attacker replays the first refresh token: refused...
      expectRefreshRefused(await refresh(app, p0.refresh_token));
      // ...and the legitimate holder's newest refresh token is dead too (the family is revoked)...
      expectRefreshRefused(await refresh(app, p2.refresh_token));
      // ...as is every access token issued in the family, the newest included.
      for (const pair of [p0, p1, p2]) expectInvalidToken(await getWith(app, pair.access_token));

      // Another family of the same user is untouched.
      expect((await getWith(app, bystander.access_token)).status).toBe(200);
      expect((await rotate(app, bystander.refresh_token)).refresh_token).toMatch(REFRESH_TOKEN_SHAPE);
    });

    it('replaying the refresh token that was just rotated gets the same pair (grace period); once that pair rotated, the replay revokes the family', async (ctx) => {
      const app = await booted.ready(ctx);
      const p0 = await login(app, { id: 'dave' });
      const p1 = await rotate(app, p0.refresh_token);
      const retried = await rotate(app, p0.refresh_token);
      expect({ access: retried.access_token, refresh: retried.refresh_token }).toEqual({ access: p1.access_token, refresh: p1.refresh_token });
      const p2 = await rotate(app, p1.refresh_token);
      expectRefreshRefused(await refresh(app, p0.refresh_token));
      expectRefreshRefused(await refresh(app, p2.refresh_token));
      expectInvalidToken(await getWith(app, p2.access_token));
      // Replaying again changes nothing: still refused, never a 5xx.
      expectRefreshRefused(await refresh(app, p0.refresh_token));
    });

    it('logout (TokenService.revoke(principal.claims)) answers 204; the token then gets 401 invalid_token and its family is revoked', async (ctx) => {
      const app = await booted.ready(ctx);
      const session = await login(app, { id: 'erin', roles: ['user'] });
      const other = await login(app, { id: 'erin', roles: ['user'] });
      const out = await logout(app, session.access_token);
      expect(out.status).toBe(204);
      expect(out.text).toBe('');

      const after = await getWith(app, session.access_token);
      expectUnauthorized(after, MESSAGE.invalid, CHALLENGE.bearerInvalid);
      // The refresh token of the logged-out session no longer renews it.
      expectRefreshRefused(await refresh(app, session.refresh_token));
      // Logging out again with the revoked token is itself a 401.
      expectInvalidToken(await logout(app, session.access_token));
      // The user's other session is not logged out.
      expect((await getWith(app, other.access_token)).status).toBe(200);
    });

    it('with revocation on, a token of the local key without a usable jti is refused (it could not be revoked); with one it works', async (ctx) => {
      const app = await booted.ready(ctx);
      const now = nowSeconds();
      const claims = { sub: 'kim', iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE, iat: now, exp: now + 60 };
      for (const jti of [undefined, 12345, '', 'j'.repeat(257), ['a']]) {
        expectInvalidToken(await getWith(app, signToken(jti === undefined ? claims : { ...claims, jti })));
      }
      // Control: the same claims with a jti are accepted, and its logout holds.
      const token = signToken({ ...claims, jti: randomUUID() });
      expect((await getWith(app, token)).status).toBe(200);
      expect((await logout(app, token)).status).toBe(204);
      expectInvalidToken(await getWith(app, token));
    });

    it('a logout of a token whose exp is absurdly far (1e300) answers 204 and holds, never a 5xx', async (ctx) => {
      const app = await booted.ready(ctx);
      const token = signToken({ sub: 'leo', iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE, jti: randomUUID(), iat: nowSeconds(), exp: 1e300 });
      expect((await getWith(app, token)).status).toBe(200);
      expect((await logout(app, token)).status).toBe(204);
      expectInvalidToken(await getWith(app, token));
    });

    it('logout after a rotation revokes the newest access token, the earlier ones and the refresh token', async (ctx) => {
      const app = await booted.ready(ctx);
      const p0 = await login(app, { id: 'frank' });
      const p1 = await rotate(app, p0.refresh_token);
      expect((await logout(app, p1.access_token)).status).toBe(204);
      expectInvalidToken(await getWith(app, p1.access_token));
      expectInvalidToken(await getWith(app, p0.access_token));
      expectRefreshRefused(await refresh(app, p1.refresh_token));
    });

    it("an expired access token gets 401 'The access token expired' with the expired challenge", async (ctx) => {
      const app = await booted.ready(ctx);
      const now = nowSeconds();
      const expired = signToken({ sub: 'alice', roles: ['admin'], iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE, jti: randomUUID(), iat: now - 960, exp: now - 60 });
      expectUnauthorized(await getWith(app, expired), MESSAGE.expired, CHALLENGE.bearerExpired);
      // Control: the same claims, not expired, are accepted.
      const fresh = signToken({ sub: 'alice', roles: ['admin'], iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE, jti: randomUUID(), iat: now, exp: now + 60 });
      expect((await getWith(app, fresh)).status).toBe(200);
    });

    it('a token accepted moments ago stops working at its exp, even though its verification was cached', async (ctx) => {
      const app = await booted.ready(ctx);
      const now = nowSeconds();
      const shortLived = signToken({ sub: 'judy', iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE, jti: randomUUID(), iat: now, exp: now + 1 });
      expect((await getWith(app, shortLived)).status).toBe(200);
      expect((await getWith(app, shortLived)).status).toBe(200);
      // Poll (no fixed sleep) until the token's second has passed.
      const deadline = Date.now() + 5_000;
      let res = await getWith(app, shortLived);
      while (res.status === 200 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        res = await getWith(app, shortLived);
      }
      expect(Date.now()).toBeGreaterThanOrEqual((now + 1) * 1000);
      expectUnauthorized(res, MESSAGE.expired, CHALLENGE.bearerExpired);
    });

    it('refuses malformed refresh tokens (wrong shape, too long, not a string, empty) with 401, never a 5xx', async (ctx) => {
      const app = await booted.ready(ctx);
      const valid = (await login(app, { id: 'grace' })).refresh_token;
      const [family, secret] = valid.split('.') as [string, string];
      const malformed: unknown[] = [
        // wrong shape
        'not-a-refresh-token',
        `${family}.${secret}.${secret}`,
        `${family}${secret}`,
        `${family}.${secret.slice(1)}`,
        `${family.slice(1)}.${secret}`,
        `${family}.${secret}=`,
        `${family}.${secret.slice(0, -1)}+`,
        ` ${valid}`,
        `${valid}\n`,
        `${family}.${secret.slice(0, -1)}é`,
        `Bearer ${valid}`,
        // too long
        `${valid}A`,
        `${family}.${'A'.repeat(10_000)}`,
        'x'.repeat(100_000),
        // not a string
        12_345,
        true,
        null,
        [valid],
        { token: valid },
        // empty
        '',
      ];
      for (const value of malformed) {
        const res = await refresh(app, value);
        expect({ value, status: res.status, body: res.body as unknown }).toEqual({
          value,
          status: 401,
          body: { statusCode: 401, error: 'Unauthorized', message: 'Invalid refresh token' },
        });
      }
      // No refresh_token at all, or a body that is not an object.
      // (Express's JSON parser answers 400 itself to a top-level string or number: strict mode.)
      for (const body of [{}, [], 'refresh', 42]) {
        const res = await httpOf(app).post('/auth/refresh').set('Content-Type', 'application/json').send(JSON.stringify(body));
        expect({ body, status: res.status }).toEqual({ body, status: typeof body === 'object' || adapter === 'fastify' ? 401 : 400 });
        expect(res.body).toMatchObject({ statusCode: res.status });
      }
      // None of that touched the real token: it still rotates.
      expect((await rotate(app, valid)).refresh_token).toMatch(REFRESH_TOKEN_SHAPE);
    });

    it('refuses a well-formed refresh token of an unknown family, and one with a guessed secret', async (ctx) => {
      const app = await booted.ready(ctx);
      expectRefreshRefused(await refresh(app, unknownRefreshToken()));
      const valid = (await login(app, { id: 'heidi' })).refresh_token;
      const [family] = valid.split('.') as [string, string];
      const guessed = `${family}.${unknownRefreshToken().split('.')[1]!}`;
      expectRefreshRefused(await refresh(app, guessed));
    });

    it('revocation is per token (jti), not per user: another session of the same user keeps working', async (ctx) => {
      const app = await booted.ready(ctx);
      // Two access tokens with the same subject but different jti: revoking one leaves the other.
      const a = await login(app, { id: 'ivan' });
      const b = await login(app, { id: 'ivan' });
      expect((await logout(app, a.access_token)).status).toBe(204);
      expectInvalidToken(await getWith(app, a.access_token));
      expect((await getWith(app, b.access_token)).status).toBe(200);
    });
  });

  it('a freshly booted instance with Redis storage serves token requests at once, not 503 while its connection opens', async (ctx) => {
    const problem = await redisProblem();
    if (problem !== undefined) skipOrFail(ctx, `Redis is not reachable at ${REDIS_URL} (${problem})`);
    const prefix = redisPrefix();
    const { app } = await bootApp(adapter, tokenAppModule({ storage: { redis: REDIS_URL, prefix } }));
    ctx.onTestFinished(async () => {
      await app.close();
      const client = redisClient();
      await client.connect();
      await deleteKeysUnder(client, prefix);
      client.disconnect();
    });
    // Redis is up; app.init() has resolved: the instance is in service and must work.
    const res = await httpOf(app).post('/auth/login').send({ id: 'first-caller' });
    expect({ status: res.status, body: res.body as unknown }).toMatchObject({ status: 200, body: { token_type: 'Bearer' } });
    expect((await getWith(app, (res.body as { access_token: string }).access_token)).status).toBe(200);
  });
});
