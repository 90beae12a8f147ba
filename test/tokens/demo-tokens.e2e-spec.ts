/**
 * The demo's token routes (DESIGN.md "Demo API contract": POST /auth/login, /auth/refresh,
 * /auth/logout) against the demo AppModule in-process, on both adapters. A fresh app per test: the
 * demo blocks an IP after 10 failed authentications, and several tests fail a few on purpose.
 */
import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import jwt from 'jsonwebtoken';
import type { Response } from 'supertest';
import { describe, expect, it } from 'vitest';
import { AppModule } from '../../apps/demo/src/app.module.js';
import { DEV_API_KEY, DEV_JWT_SECRET, loadConfig } from '../../apps/demo/src/config.js';
import { ADAPTERS } from '../support/app.js';
import { nowSeconds } from '../support/forge.js';
import { useFreshApp } from '../support/throttle.js';
import { httpOf, unknownRefreshToken } from '../support/token-app.js';

const REFRESH_TOKEN_SHAPE = /^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/;
const DEMO_ISSUER = 'palisade-demo';
const DEMO_AUDIENCE = 'palisade-demo';
const BEARER_INVALID = 'Bearer realm="palisade-demo", error="invalid_token", error_description="The access token is invalid"';

interface DemoTokens {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
}

async function demoLogin(app: INestApplication, username = 'alice', password = `${username}-password`): Promise<DemoTokens> {
  const res = await httpOf(app).post('/auth/login').send({ username, password });
  expect({ status: res.status, body: res.body as unknown }).toMatchObject({ status: 200 });
  return res.body as DemoTokens;
}

function demoRefresh(app: INestApplication, body: unknown): Promise<Response> {
  return httpOf(app)
    .post('/auth/refresh')
    .send(body as object);
}

function me(app: INestApplication, token: string): Promise<Response> {
  return httpOf(app).get('/me').set('Authorization', `Bearer ${token}`);
}

/** The demo's 401 for a rejected bearer token: JSON body and the RFC 6750 invalid_token challenge. */
function expectTokenRejected(res: Response): void {
  expect(res.status).toBe(401);
  expect(res.body).toEqual({ statusCode: 401, error: 'Unauthorized', message: 'Invalid credentials' });
  expect(res.headers['www-authenticate']).toContain(BEARER_INVALID);
}

function expectRefreshRefused(res: Response): void {
  expect({ status: res.status, body: res.body as unknown, challenge: res.headers['www-authenticate'] }).toEqual({
    status: 401,
    body: { statusCode: 401, error: 'Unauthorized', message: 'Invalid refresh token' },
    challenge: 'Bearer realm="palisade-demo"',
  });
}

describe.each(ADAPTERS)('demo token routes (AppModule in-process) on %s', (adapter) => {
  const demo = useFreshApp(adapter, () => ({ imports: [AppModule.register(loadConfig({}))] }));

  describe('POST /auth/login', () => {
    it('returns exactly { access_token, token_type: "Bearer", expires_in, refresh_token } with the contract claims', async () => {
      const res = await httpOf(demo.app).post('/auth/login').send({ username: 'alice', password: 'alice-password' });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body).toEqual({
        access_token: expect.any(String),
        token_type: 'Bearer',
        expires_in: 900,
        refresh_token: expect.stringMatching(REFRESH_TOKEN_SHAPE),
      });
      const { access_token: accessToken } = res.body as DemoTokens;
      const claims = jwt.verify(accessToken, DEV_JWT_SECRET, { algorithms: ['HS256'], issuer: DEMO_ISSUER, audience: DEMO_AUDIENCE }) as jwt.JwtPayload;
      expect(claims).toMatchObject({ sub: 'alice', roles: ['admin'], scope: 'reports:read reports:write', iss: DEMO_ISSUER, aud: DEMO_AUDIENCE });
      expect(typeof claims.jti).toBe('string');
      expect(claims.exp! - claims.iat!).toBe(900);

      const who = await me(demo.app, accessToken);
      expect(who.status).toBe(200);
      expect(who.body).toEqual({ id: 'alice', scheme: 'jwt', roles: ['admin'], scopes: ['reports:read', 'reports:write'] });
      expect((await httpOf(demo.app).get('/admin').set('Authorization', `Bearer ${accessToken}`)).status).toBe(200);
    });

    it('refuses a wrong password with 401, no tokens and a challenge (every 401 carries one)', async () => {
      const res = await httpOf(demo.app).post('/auth/login').send({ username: 'alice', password: 'bob-password' });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ statusCode: 401, error: 'Unauthorized', message: 'Invalid username or password' });
      expect(res.headers['www-authenticate']).toBe('Bearer realm="palisade-demo"');
    });

    it('token responses are never stored by a cache (RFC 6749 §5.1): login and refresh send Cache-Control: no-store and Pragma: no-cache', async () => {
      const login = await httpOf(demo.app).post('/auth/login').send({ username: 'bob', password: 'bob-password' });
      const refreshed = await demoRefresh(demo.app, { refresh_token: (login.body as DemoTokens).refresh_token });
      for (const res of [login, refreshed]) {
        expect(res.status).toBe(200);
        expect(res.headers['cache-control']).toBe('no-store');
        expect(res.headers['pragma']).toBe('no-cache');
      }
    });
  });

  describe('POST /auth/refresh', () => {
    it('rotates: 200 with a new pair of the same shape; the new access token works; the user keeps roles and scopes', async () => {
      const first = await demoLogin(demo.app, 'bob');
      const res = await demoRefresh(demo.app, { refresh_token: first.refresh_token });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        access_token: expect.any(String),
        token_type: 'Bearer',
        expires_in: 900,
        refresh_token: expect.stringMatching(REFRESH_TOKEN_SHAPE),
      });
      const second = res.body as DemoTokens;
      expect(second.refresh_token).not.toBe(first.refresh_token);
      expect(second.access_token).not.toBe(first.access_token);
      const who = await me(demo.app, second.access_token);
      expect(who.status).toBe(200);
      expect(who.body).toEqual({ id: 'bob', scheme: 'jwt', roles: ['user'], scopes: [] });
      // The new refresh token rotates in turn.
      expect((await demoRefresh(demo.app, { refresh_token: second.refresh_token })).status).toBe(200);
    });

    it('a reused refresh token → 401 and its family revoked: the newest refresh token and the family access tokens stop working', async () => {
      const p0 = await demoLogin(demo.app, 'alice');
      const p1 = (await demoRefresh(demo.app, { refresh_token: p0.refresh_token })).body as DemoTokens;
      const p2 = (await demoRefresh(demo.app, { refresh_token: p1.refresh_token })).body as DemoTokens;
      const otherSession = await demoLogin(demo.app, 'alice');

      expectRefreshRefused(await demoRefresh(demo.app, { refresh_token: p0.refresh_token }));
      expectRefreshRefused(await demoRefresh(demo.app, { refresh_token: p2.refresh_token }));
      expectTokenRejected(await me(demo.app, p2.access_token));
      expectTokenRejected(await me(demo.app, p1.access_token));
      expectTokenRejected(await me(demo.app, p0.access_token));
      // Only that family: the user's other session goes on.
      expect((await me(demo.app, otherSession.access_token)).status).toBe(200);
    });

    it('answers 400 to a body without a usable refresh_token (missing, not a string, empty, over 512 characters)', async () => {
      for (const body of [
        {},
        { refresh_token: 42 },
        { refresh_token: null },
        { refresh_token: ['x'] },
        { refresh_token: '' },
        { refresh_token: 'A'.repeat(513) },
        { token: 'x' },
      ]) {
        const res = await demoRefresh(demo.app, body);
        expect({ body, status: res.status, json: res.body as unknown }).toEqual({
          body,
          status: 400,
          json: { statusCode: 400, error: 'Bad Request', message: 'Expected a JSON object { "refresh_token": string }' },
        });
      }
    });

    it('answers 401 to a string that is not a refresh token, and to one of an unknown family — never a 5xx', async () => {
      const { refresh_token: valid, access_token: access } = await demoLogin(demo.app, 'bob');
      for (const token of ['garbage', `${valid}x`, valid.replace('.', '_'), access, unknownRefreshToken(), 'A'.repeat(512)]) {
        expectRefreshRefused(await demoRefresh(demo.app, { refresh_token: token }));
      }
      // The real one was not disturbed.
      expect((await demoRefresh(demo.app, { refresh_token: valid })).status).toBe(200);
    });
  });

  describe('POST /auth/logout', () => {
    it('answers 204; the token then stops working (401 invalid_token) and its refresh token is dead', async () => {
      const pair = await demoLogin(demo.app, 'alice');
      const other = await demoLogin(demo.app, 'alice');
      const res = await httpOf(demo.app).post('/auth/logout').set('Authorization', `Bearer ${pair.access_token}`);
      expect(res.status).toBe(204);
      expect(res.text).toBe('');
      expectTokenRejected(await me(demo.app, pair.access_token));
      expectTokenRejected(await httpOf(demo.app).get('/admin').set('Authorization', `Bearer ${pair.access_token}`));
      expectRefreshRefused(await demoRefresh(demo.app, { refresh_token: pair.refresh_token }));
      expect((await me(demo.app, other.access_token)).status).toBe(200);
    });

    it('ends a token minted elsewhere with the same secret and claims (it has a jti)', async () => {
      const now = nowSeconds();
      const minted = jwt.sign(
        { sub: 'bob', roles: ['user'], scope: '', iss: DEMO_ISSUER, aud: DEMO_AUDIENCE, iat: now, exp: now + 300, jti: randomUUID() },
        DEV_JWT_SECRET,
        { algorithm: 'HS256' },
      );
      expect((await me(demo.app, minted)).status).toBe(200);
      expect((await httpOf(demo.app).post('/auth/logout').set('Authorization', `Bearer ${minted}`)).status).toBe(204);
      expectTokenRejected(await me(demo.app, minted));
    });

    it('with an API key → 400: that credential is not a token and cannot be revoked (never a 204 that ends nothing)', async () => {
      const res = await httpOf(demo.app).post('/auth/logout').set('X-API-Key', DEV_API_KEY);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        message: 'This credential cannot be revoked: it is not an access token with a jti claim',
      });
      expect((await httpOf(demo.app).get('/me').set('X-API-Key', DEV_API_KEY)).status).toBe(200);
    });

    it('without a token → 401 JSON with the challenges; with a garbage token → 401', async () => {
      const res = await httpOf(demo.app).post('/auth/logout');
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ statusCode: 401, error: 'Unauthorized', message: 'Authentication required' });
      expect(res.headers['www-authenticate']).toContain('Bearer realm="palisade-demo"');
      const garbage = await httpOf(demo.app).post('/auth/logout').set('Authorization', 'Bearer not.a.jwt');
      expect(garbage.status).toBe(401);
      expect(garbage.body).toMatchObject({ statusCode: 401 });
    });
  });
});
