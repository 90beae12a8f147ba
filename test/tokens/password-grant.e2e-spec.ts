/**
 * `POST /auth/token` of the demo: the OAuth2 password grant (RFC 6749 §4.3) built on Palisade's
 * `PasswordGrant`, on the demo's real factory (its body parsers, CORS, throttling).
 */
import type { INestApplication } from '@nestjs/common';
import request, { type Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoApp } from '../../apps/demo/src/app.factory.js';
import { loadConfig } from '../../apps/demo/src/config.js';
import { ADAPTERS } from '../support/app.js';

const FORM = 'application/x-www-form-urlencoded';

describe.each(ADAPTERS)('demo POST /auth/token, the password grant (%s)', (adapter) => {
  let app: INestApplication;
  let forwardedFor = 0;

  beforeAll(async () => {
    // A trusted loopback proxy lets each test speak from its own client address (fresh budgets).
    app = await createDemoApp(loadConfig({ HTTP_ADAPTER: adapter, TRUST_PROXY: 'loopback', CORS_ORIGINS: 'https://app.example.com' }), { logger: false });
    await app.listen(0, '127.0.0.1');
  });
  afterAll(() => app.close());

  function post(body: string, headers: Record<string, string> = {}): Promise<Response> {
    forwardedFor += 1;
    return request(app.getHttpServer())
      .post('/auth/token')
      .set({ 'Content-Type': FORM, 'X-Forwarded-For': `198.51.100.${forwardedFor}`, ...headers })
      .send(body);
  }

  it('grants alice a token pair with all her scopes; the response is never cached', async () => {
    const res = await post('grant_type=password&username=alice&password=alice-password');
    expect({ status: res.status, cacheControl: res.headers['cache-control'], pragma: res.headers.pragma }).toEqual({
      status: 200,
      cacheControl: 'no-store',
      pragma: 'no-cache',
    });
    const body = res.body as Record<string, unknown>;
    expect(body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: expect.any(Number),
      refresh_token: expect.any(String),
      scope: 'reports:read reports:write',
    });
    const me = await request(app.getHttpServer())
      .get('/me')
      .set('Authorization', `Bearer ${String(body.access_token)}`);
    expect({ status: me.status, id: (me.body as { id: string }).id }).toEqual({ status: 200, id: 'alice' });
  });

  it('a requested scope narrows the token; one the user may not have is invalid_scope', async () => {
    const narrowed = await post('grant_type=password&username=alice&password=alice-password&scope=reports%3Awrite');
    expect({ status: narrowed.status, scope: (narrowed.body as { scope?: string }).scope }).toEqual({ status: 200, scope: 'reports:write' });
    // GET /reports needs reports:read, which this token was not granted.
    const reports = await request(app.getHttpServer())
      .get('/reports')
      .set('Authorization', `Bearer ${(narrowed.body as { access_token: string }).access_token}`);
    expect(reports.status).toBe(403);
    const refused = await post('grant_type=password&username=bob&password=bob-password&scope=reports%3Aread');
    expect({ status: refused.status, body: refused.body as unknown }).toEqual({
      status: 400,
      body: { error: 'invalid_scope', error_description: 'The requested scope exceeds what the user may be granted' },
    });
  });

  it.each([
    ['a wrong password', 'grant_type=password&username=alice&password=nope', 'invalid_grant', 'Invalid username or password'],
    ['an unknown user', 'grant_type=password&username=mallory&password=x', 'invalid_grant', 'Invalid username or password'],
    [
      'another grant type',
      'grant_type=client_credentials&username=alice&password=alice-password',
      'unsupported_grant_type',
      'Only grant_type=password is supported here',
    ],
    ['no password', 'grant_type=password&username=alice', 'invalid_request', 'The parameter password is missing'],
    ['a repeated parameter', 'grant_type=password&username=alice&username=bob&password=x', 'invalid_request', 'The parameter username is repeated'],
  ])('%s → 400 %s (RFC 6749 §5.2)', async (_case, body, error, description) => {
    const res = await post(body);
    expect({ status: res.status, body: res.body as unknown }).toEqual({ status: 400, body: { error, error_description: description } });
  });

  it('a JSON body is not a form: 400 invalid_request', async () => {
    const res = await post(JSON.stringify({ grant_type: 'password', username: 'alice', password: 'alice-password' }), { 'Content-Type': 'application/json' });
    expect({ status: res.status, body: res.body as unknown }).toEqual({
      status: 400,
      body: { error: 'invalid_request', error_description: 'The request body must be application/x-www-form-urlencoded' },
    });
  });

  it('a cross-site form post is refused (403), with the right password too; a same-origin one and a trusted origin pass', async () => {
    const body = 'grant_type=password&username=alice&password=alice-password';
    const crossSite = await post(body, { 'Sec-Fetch-Site': 'cross-site', Origin: 'https://evil.example' });
    expect({ status: crossSite.status, body: crossSite.body as unknown }).toEqual({
      status: 403,
      body: { statusCode: 403, error: 'Forbidden', message: 'Cross-site requests to the token endpoint are refused' },
    });
    // Without Sec-Fetch-Site (older browsers), a foreign Origin is refused as well.
    expect((await post(body, { Origin: 'https://evil.example' })).status).toBe(403);
    expect((await post(body, { 'Sec-Fetch-Site': 'same-origin' })).status).toBe(200);
  });

  it('the login form counts failures: past the limit the client gets 429 with Retry-After, even with the right password', async () => {
    const client = { 'X-Forwarded-For': '203.0.113.77' };
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      // oxlint-disable-next-line no-await-in-loop -- sequential on purpose: each failure is recorded before the next
      statuses.push((await post(`grant_type=password&username=user${i}&password=wrong`, client)).status);
    }
    expect(statuses.slice(0, 10)).toEqual(Array.from({ length: 10 }, () => 400));
    expect(statuses.slice(10)).toEqual([429, 429]);
    const blocked = await post('grant_type=password&username=alice&password=alice-password', client);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
  });
});
