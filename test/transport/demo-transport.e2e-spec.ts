/**
 * The demo's transport security: security headers on every route, CORS for CORS_ORIGINS, HTTPS
 * enforcement with HTTPS_ENFORCE (behind TRUST_PROXY). The demo app runs in process, on each adapter.
 */
import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoApp } from '../../apps/demo/src/app.factory.js';
import { DEV_API_KEY, loadConfig } from '../../apps/demo/src/config.js';
import { ADAPTERS, type AdapterName } from '../support/app.js';
import { AUTHENTICATED_HEADERS, DEFAULT_HEADERS, DEFAULT_HSTS, securityHeadersOf } from '../support/headers.js';
import { headerList } from '../support/transport.js';

const APP = 'https://app.example.com';

/** Starts the demo with `env` before the enclosing tests; `http()` is a supertest agent on it. */
function useDemo(adapter: AdapterName, env: Record<string, string>): { http: () => ReturnType<typeof request> } {
  let app: INestApplication;
  beforeAll(async () => {
    app = await createDemoApp(loadConfig({ HTTP_ADAPTER: adapter, THROTTLE_LIMIT: '1000', ...env }), { logger: false });
    await app.listen(0, '127.0.0.1');
  });
  afterAll(async () => {
    await app?.close();
  });
  return { http: () => request(app.getHttpServer()) };
}

/** Security headers without the throttler's rate-limit headers (checked by the throttling suites). */
function withoutRateLimit(headers: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(securityHeadersOf(headers)).filter(([name]) => !/^(x-)?ratelimit/.test(name)));
}

describe.each(ADAPTERS)('demo: headers and CORS (%s)', (adapter) => {
  const demo = useDemo(adapter, { CORS_ORIGINS: `${APP}, https://admin.example.com` });

  it('the default set on a public route, a 401, a 404 and an authenticated route', async () => {
    const [health, unauthorized, missing, me] = await Promise.all([
      demo.http().get('/health'),
      demo.http().get('/me'),
      demo.http().get('/nope'),
      demo.http().get('/me').set('X-API-Key', DEV_API_KEY),
    ]);
    expect([health.status, unauthorized.status, missing.status, me.status]).toEqual([200, 401, 404, 200]);
    expect(securityHeadersOf(health.headers)).toEqual(DEFAULT_HEADERS);
    expect(withoutRateLimit(unauthorized.headers)).toEqual(DEFAULT_HEADERS);
    expect(securityHeadersOf(missing.headers)).toEqual(DEFAULT_HEADERS);
    expect(withoutRateLimit(me.headers)).toEqual(AUTHENTICATED_HEADERS);
  });

  it('CORS for the configured origins only, on errors too, exposing the rate-limit headers', async () => {
    const allowed = await demo.http().get('/me').set('Origin', APP);
    expect(allowed.status).toBe(401);
    expect(allowed.headers['access-control-allow-origin']).toBe(APP);
    expect(headerList(allowed.headers['access-control-expose-headers'])).toEqual(expect.arrayContaining(['RateLimit', 'RateLimit-Policy', 'Retry-After']));
    const other = await demo.http().get('/health').set('Origin', 'https://evil.example');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('CORS on the errors of body parsing too: malformed JSON (400) and an oversized body (413)', async () => {
    const malformed = await demo.http().post('/auth/login').set('Origin', APP).set('Content-Type', 'application/json').send('{bad');
    const oversized = await demo
      .http()
      .post('/auth/login')
      .set('Origin', APP)
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ username: 'x'.repeat(70 * 1024), password: 'p' }));
    expect([malformed.status, oversized.status]).toEqual([400, 413]);
    for (const res of [malformed, oversized]) {
      expect(res.headers['access-control-allow-origin']).toBe(APP);
      expect(res.body).toEqual({ statusCode: res.status, error: expect.any(String), message: expect.any(String) });
    }
  });

  it('a form-encoded login (what a cross-site HTML form posts without a preflight) is refused, never served', async () => {
    const res = await demo.http().post('/auth/login').set('Origin', 'https://evil.example').type('form').send('username=bob&password=bob-password');
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.body).not.toHaveProperty('access_token');
  });

  it('preflights allow Authorization and X-API-Key', async () => {
    const res = await demo
      .http()
      .options('/me')
      .set('Origin', 'https://admin.example.com')
      .set('Access-Control-Request-Method', 'GET')
      .set('Access-Control-Request-Headers', 'authorization,x-api-key');
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('https://admin.example.com');
    expect(headerList(res.headers['access-control-allow-headers'])).toEqual(expect.arrayContaining(['Authorization', 'X-API-Key']));
  });
});

describe.each(ADAPTERS)('demo: no CORS_ORIGINS (%s)', (adapter) => {
  const demo = useDemo(adapter, {});

  it('no cross-origin reads', async () => {
    const res = await demo.http().get('/health').set('Origin', APP);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe.each(ADAPTERS)('demo: HTTPS_ENFORCE=true behind TRUST_PROXY=loopback (%s)', (adapter) => {
  const demo = useDemo(adapter, { HTTPS_ENFORCE: 'true', TRUST_PROXY: 'loopback' });

  it('redirects plain-HTTP GETs to https:// on a host the demo serves, never on a hostile Host', async () => {
    const own = await demo.http().get('/health?probe=1').set('Host', 'localhost:3000');
    expect([own.status, own.headers.location]).toEqual([308, 'https://localhost/health?probe=1']);
    const hostile = await demo.http().get('/health').set('Host', 'evil.example');
    expect([hostile.status, hostile.headers.location]).toEqual([308, 'https://localhost/health']);
  });

  it('refuses a plain-HTTP login', async () => {
    const res = await demo.http().post('/auth/login').send({ username: 'alice', password: 'alice-password' });
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ statusCode: 403, error: 'Forbidden', message: 'HTTPS is required' });
  });

  it('serves what the proxy received over HTTPS, with HSTS', async () => {
    const res = await demo.http().get('/health').set('X-Forwarded-Proto', 'https');
    expect(res.status).toBe(200);
    expect(securityHeadersOf(res.headers)).toEqual({ ...DEFAULT_HEADERS, 'strict-transport-security': DEFAULT_HSTS });
  });
});
