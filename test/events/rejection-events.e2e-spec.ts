/**
 * Every rejection path emits exactly one security event of the right type, with the request's
 * fields (time, request id, client IP, route, principal) and never a credential, on both adapters.
 * Attack detection is off (`events: { detection: false }`) so the counts are exact; a sink marked
 * `@SecurityEventSink()` collects what Palisade emits.
 */
import { Controller, Get, Param } from '@nestjs/common';
import type { Response } from 'supertest';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  CurrentUser,
  PalisadeModule,
  Policy,
  Public,
  Roles,
  Scopes,
  SecurityEvents,
  Throttle,
  type PolicyContext,
  type Principal,
  type PrincipalInit,
  type SecurityEvent,
  type ThrottleOptions,
} from '@palisade/nest';
import { ADAPTERS } from '../support/app.js';
import { useApp, type BootedApp } from '../support/auth.js';
import { CollectingSink, demoEventsModule, expectIsoTimeBetween, UUID } from '../support/events.js';
import { unknownRefreshToken } from '../support/token-app.js';
import { nowSeconds } from '../support/forge.js';
import { signToken } from '../support/tokens.js';
import { TEST_SECRET } from '../support/tokens.js';

const GOOD_KEY = 'events-good-api-key-0123456789';
const BAD_KEY = 'events-guessed-api-key-9876543210';
const PASSWORD = 'correct horse battery staple';
const WRONG_PASSWORD = 'Tr0ub4dor&3-wrong';
const basic = (user: string, password: string): string => Buffer.from(`${user}:${password}`, 'utf8').toString('base64');

const ownsOrder = ({ principal, request }: PolicyContext): boolean => request.params?.id === `order-of-${principal.id}`;

@Controller()
class EventsController {
  @Get('me') me(@CurrentUser() user: Principal) {
    return { id: user.id, scheme: user.scheme };
  }

  @Get('admin') @Roles('admin') admin() {
    return { area: 'admin' };
  }

  @Get('reports') @Scopes('reports:read') reports() {
    return { reports: [] };
  }

  @Get('orders/:id') @Policy(ownsOrder) order(@Param('id') id: string) {
    return { id };
  }

  @Get('limited') @Throttle({ default: { limit: 2, ttl: 60_000 } }) limited(@CurrentUser() user: Principal) {
    return { id: user.id };
  }

  @Get('open') @Public() open() {
    return { open: true };
  }
}

function eventsApp(authFailures: ThrottleOptions['authFailures']) {
  return () => ({
    imports: [
      PalisadeModule.forRoot({
        auth: {
          jwt: { secret: TEST_SECRET },
          apiKey: { header: 'x-api-key', validate: (key: string): PrincipalInit | null => (key === GOOD_KEY ? { id: 'svc', roles: ['service'] } : null) },
          basic: { validate: (user: string, password: string): PrincipalInit | null => (user === 'alice' && password === PASSWORD ? { id: 'alice' } : null) },
        },
        throttle: { throttlers: [{ name: 'default', limit: 1_000, ttl: '1m' }], authFailures },
        events: { detection: false },
        global: true,
      }),
    ],
    controllers: [EventsController],
    providers: [CollectingSink],
  });
}

/** The fields every request event carries, for a response `res` to `GET path`. */
function requestFields(res: Response, route: string) {
  return { time: expect.any(String), requestId: res.headers['x-request-id'], clientIp: '127.0.0.1', route };
}

describe.each(ADAPTERS)('security events of rejected requests on %s', (adapter) => {
  describe('one event per rejection (authFailures high enough never to block)', () => {
    const ctx = useApp(adapter, eventsApp({ limit: 1_000, ttl: '1m' }));
    const sink = (): CollectingSink => ctx.app.get(CollectingSink);
    const fingerprint = (value: string): string => ctx.app.get(SecurityEvents).fingerprint(value);
    let startedAt = 0;

    beforeEach(() => {
      sink().clear();
      startedAt = Date.now();
    });

    /** The single event the last request emitted, after checking it is the only one and its common fields. */
    function onlyEvent(res: Response, route: string): SecurityEvent {
      const events = sink().events;
      expect(events.map((e) => e.type)).toHaveLength(1);
      const event = events[0] as SecurityEvent;
      expect(res.headers['x-request-id']).toMatch(UUID);
      expect(event.requestId).toBe(res.headers['x-request-id']);
      expect(event.clientIp).toBe('127.0.0.1');
      expect(event.route).toBe(route);
      expectIsoTimeBetween(event.time, startedAt, Date.now());
      return event;
    }

    it('no credentials → authentication.failed, reason missing, no scheme or fingerprint', async () => {
      const res = await ctx.http.get('/me');
      expect(res.status).toBe(401);
      expect(onlyEvent(res, 'GET /me')).toEqual({ type: 'authentication.failed', severity: 'info', reason: 'missing', ...requestFields(res, 'GET /me') });
    });

    it('a JWT with a bad signature → reason invalid, scheme jwt, a fingerprint that is not the token', async () => {
      const token = signToken({ sub: 'mallory' }, { secret: 'not-the-secret-0123456789abcdef-0123456789' });
      const res = await ctx.http.get('/me').set('Authorization', `Bearer ${token}`);
      expect(res.status).toBe(401);
      const event = onlyEvent(res, 'GET /me');
      expect(event).toEqual({
        type: 'authentication.failed',
        severity: 'info',
        scheme: 'jwt',
        reason: 'invalid',
        credentialFingerprint: fingerprint(token),
        ...requestFields(res, 'GET /me'),
      });
      const credentialFingerprint = (event as { credentialFingerprint: string }).credentialFingerprint;
      expect(credentialFingerprint).toMatch(/^[A-Za-z0-9_-]{16}$/);
      expect(credentialFingerprint).not.toBe(token);
      expect(token).not.toContain(credentialFingerprint);
      const serialized = JSON.stringify(event);
      for (const part of [token, ...token.split('.')]) expect(serialized).not.toContain(part);
    });

    it('an expired JWT → reason expired, scheme jwt', async () => {
      const now = nowSeconds();
      const token = signToken({ iat: now - 600, exp: now - 60 });
      const res = await ctx.http.get('/me').set('Authorization', `Bearer ${token}`);
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ message: 'The access token expired' });
      expect(onlyEvent(res, 'GET /me')).toEqual({
        type: 'authentication.failed',
        severity: 'info',
        scheme: 'jwt',
        reason: 'expired',
        credentialFingerprint: fingerprint(token),
        ...requestFields(res, 'GET /me'),
      });
    });

    it('a malformed Authorization header → reason malformed, no fingerprint', async () => {
      const res = await ctx.http.get('/me').set('Authorization', 'Bearer');
      expect(res.status).toBe(401);
      expect(onlyEvent(res, 'GET /me')).toEqual({
        type: 'authentication.failed',
        severity: 'info',
        scheme: 'jwt',
        reason: 'malformed',
        ...requestFields(res, 'GET /me'),
      });
    });

    it('a malformed API key header → scheme api-key, reason malformed', async () => {
      const res = await ctx.http.get('/me').set('X-Api-Key', 'two words');
      expect(res.status).toBe(401);
      expect(onlyEvent(res, 'GET /me')).toEqual({
        type: 'authentication.failed',
        severity: 'info',
        scheme: 'api-key',
        reason: 'malformed',
        ...requestFields(res, 'GET /me'),
      });
    });

    it('a wrong API key → scheme api-key, reason invalid, the fingerprint of the key (never the key)', async () => {
      const res = await ctx.http.get('/me').set('X-Api-Key', BAD_KEY);
      expect(res.status).toBe(401);
      const event = onlyEvent(res, 'GET /me');
      expect(event).toEqual({
        type: 'authentication.failed',
        severity: 'info',
        scheme: 'api-key',
        reason: 'invalid',
        credentialFingerprint: fingerprint(BAD_KEY),
        ...requestFields(res, 'GET /me'),
      });
      expect(JSON.stringify(event)).not.toContain(BAD_KEY);
    });

    it('a wrong Basic password → scheme basic, reason invalid, fingerprints of the credential and of the user id', async () => {
      const credential = basic('alice', WRONG_PASSWORD);
      const res = await ctx.http.get('/me').set('Authorization', `Basic ${credential}`);
      expect(res.status).toBe(401);
      const event = onlyEvent(res, 'GET /me');
      expect(event).toEqual({
        type: 'authentication.failed',
        severity: 'info',
        scheme: 'basic',
        reason: 'invalid',
        credentialFingerprint: fingerprint(credential),
        usernameFingerprint: fingerprint('alice'),
        ...requestFields(res, 'GET /me'),
      });
      const serialized = JSON.stringify(event);
      for (const secret of [credential, WRONG_PASSWORD, 'alice']) expect(serialized).not.toContain(secret);
    });

    it('the same credential gets the same fingerprint on two requests (attempts can be grouped)', async () => {
      const first = await ctx.http.get('/me').set('X-Api-Key', BAD_KEY);
      const second = await ctx.http.get('/me').set('X-Api-Key', BAD_KEY);
      const other = await ctx.http.get('/me').set('X-Api-Key', `${BAD_KEY}-other`);
      const events = sink().ofType('authentication.failed');
      expect(events.map((e) => e.requestId)).toEqual([first, second, other].map((r) => r.headers['x-request-id']));
      expect(new Set([first, second, other].map((r) => r.headers['x-request-id'])).size).toBe(3);
      expect(events[0]?.credentialFingerprint).toBe(events[1]?.credentialFingerprint);
      expect(events[2]?.credentialFingerprint).not.toBe(events[0]?.credentialFingerprint);
    });

    it('a missing role → one access.denied, reason role, with the principal', async () => {
      const res = await ctx.http.get('/admin').set('Authorization', `Bearer ${signToken({ sub: 'bob', roles: ['user'] })}`);
      expect(res.status).toBe(403);
      expect(onlyEvent(res, 'GET /admin')).toEqual({
        type: 'access.denied',
        severity: 'info',
        reason: 'role',
        principalId: 'bob',
        ...requestFields(res, 'GET /admin'),
      });
    });

    it('a missing scope → one access.denied, reason scope, with the principal', async () => {
      const res = await ctx.http.get('/reports').set('Authorization', `Bearer ${signToken({ sub: 'bob', scope: 'reports:write' })}`);
      expect(res.status).toBe(403);
      expect(onlyEvent(res, 'GET /reports')).toEqual({
        type: 'access.denied',
        severity: 'info',
        reason: 'scope',
        principalId: 'bob',
        ...requestFields(res, 'GET /reports'),
      });
    });

    it('a refusing policy → one access.denied, reason policy, with the principal and the route pattern', async () => {
      const res = await ctx.http.get('/orders/order-of-alice').set('X-Api-Key', GOOD_KEY);
      expect(res.status).toBe(403);
      expect(onlyEvent(res, 'GET /orders/:id')).toEqual({
        type: 'access.denied',
        severity: 'info',
        reason: 'policy',
        principalId: 'svc',
        ...requestFields(res, 'GET /orders/:id'),
      });
    });

    it('the request past a tier limit → one rate.limited with the tier and the principal; the requests within it emit nothing', async () => {
      const token = `Bearer ${signToken({ sub: 'throttled-user' })}`;
      const within = [await ctx.http.get('/limited').set('Authorization', token), await ctx.http.get('/limited').set('Authorization', token)];
      expect(within.map((r) => r.status)).toEqual([200, 200]);
      expect(sink().events).toEqual([]);
      const res = await ctx.http.get('/limited').set('Authorization', token);
      expect(res.status).toBe(429);
      expect(onlyEvent(res, 'GET /limited')).toEqual({
        type: 'rate.limited',
        severity: 'warning',
        tier: 'default',
        principalId: 'throttled-user',
        ...requestFields(res, 'GET /limited'),
      });
    });

    it('successful requests (each scheme, a public route, a role/scope/policy that holds) emit nothing', async () => {
      const responses = [
        await ctx.http.get('/me').set('Authorization', `Bearer ${signToken({ sub: 'ok-user' })}`),
        await ctx.http.get('/me').set('X-Api-Key', GOOD_KEY),
        await ctx.http.get('/me').set('Authorization', `Basic ${basic('alice', PASSWORD)}`),
        await ctx.http.get('/open'),
        await ctx.http.get('/open').set('Authorization', 'Bearer junk'),
        await ctx.http.get('/admin').set('Authorization', `Bearer ${signToken({ sub: 'root', roles: ['admin'] })}`),
        await ctx.http.get('/reports').set('Authorization', `Bearer ${signToken({ sub: 'analyst', scope: 'reports:read' })}`),
        await ctx.http.get('/orders/order-of-svc').set('X-Api-Key', GOOD_KEY),
      ];
      expect(responses.map((r) => r.status)).toEqual(responses.map(() => 200));
      expect(sink().events).toEqual([]);
    });

    it('a sequence of rejections emits one event each, each tied to its own response', async () => {
      const responses = [
        await ctx.http.get('/me'),
        await ctx.http.get('/me').set('X-Api-Key', BAD_KEY),
        await ctx.http.get('/admin').set('X-Api-Key', GOOD_KEY),
        await ctx.http.get('/me').set('Authorization', `Basic ${basic('alice', WRONG_PASSWORD)}`),
      ];
      expect(responses.map((r) => r.status)).toEqual([401, 401, 403, 401]);
      expect(sink().events.map((e) => [e.type, e.requestId])).toEqual([
        ['authentication.failed', responses[0]?.headers['x-request-id']],
        ['authentication.failed', responses[1]?.headers['x-request-id']],
        ['access.denied', responses[2]?.headers['x-request-id']],
        ['authentication.failed', responses[3]?.headers['x-request-id']],
      ]);
    });
  });

  describe("brute-force block (authFailures: { limit: 2, ttl: '1m', blockDuration: '5m' })", () => {
    const ctx: BootedApp = useApp(adapter, eventsApp({ limit: 2, ttl: '1m', blockDuration: '5m' }));
    const sink = (): CollectingSink => ctx.app.get(CollectingSink);

    it('the blocking request emits rate.limited tier auth-failures and no authentication.failed; so does a blocked valid one', async () => {
      sink().clear();
      const wrong = `Basic ${basic('alice', WRONG_PASSWORD)}`;
      const failures = [await ctx.http.get('/me').set('Authorization', wrong), await ctx.http.get('/me').set('Authorization', wrong)];
      expect(failures.map((r) => r.status)).toEqual([401, 401]);
      expect(sink().events.map((e) => [e.type, e.requestId])).toEqual(failures.map((r) => ['authentication.failed', r.headers['x-request-id']]));

      sink().clear();
      const blocking = await ctx.http.get('/me').set('Authorization', wrong);
      expect(blocking.status).toBe(429);
      expect(sink().events).toEqual([{ type: 'rate.limited', severity: 'warning', tier: 'auth-failures', ...requestFields(blocking, 'GET /me') }]);

      sink().clear();
      const blockedValid = await ctx.http.get('/me').set('Authorization', `Basic ${basic('alice', PASSWORD)}`);
      expect(blockedValid.status).toBe(429);
      expect(sink().events).toEqual([{ type: 'rate.limited', severity: 'warning', tier: 'auth-failures', ...requestFields(blockedValid, 'GET /me') }]);
      expect(blockedValid.headers['x-request-id']).not.toBe(blocking.headers['x-request-id']);
    });
  });

  describe('demo token routes (AuthController, TokenService)', () => {
    const ctx = useApp(adapter, () => demoEventsModule({ JWT_SECRET: 'rejection-events-secret-0123456789abcdef' }, { detection: false }));
    const sink = (): CollectingSink => ctx.app.get(CollectingSink);
    const fingerprint = (value: string): string => ctx.app.get(SecurityEvents).fingerprint(value);
    const login = async (): Promise<{ access_token: string; refresh_token: string }> => {
      const res = await ctx.http.post('/auth/login').send({ username: 'alice', password: 'alice-password' });
      expect(res.status).toBe(200);
      return res.body as { access_token: string; refresh_token: string };
    };

    beforeEach(() => sink().clear());

    it('a failed login (recordLoginFailure) → one authentication.failed with the fingerprint of the username, no scheme', async () => {
      const res = await ctx.http.post('/auth/login').send({ username: 'alice', password: WRONG_PASSWORD });
      expect(res.status).toBe(401);
      expect(sink().events).toEqual([
        {
          type: 'authentication.failed',
          severity: 'info',
          reason: 'invalid',
          usernameFingerprint: fingerprint('alice'),
          ...requestFields(res, 'POST /auth/login'),
        },
      ]);
      expect(JSON.stringify(sink().events)).not.toContain(WRONG_PASSWORD);
    });

    it('a reused refresh token → 401 with refresh-token.reused and the family revocation, each tied to the response', async () => {
      const pair = await login();
      const next = await ctx.http.post('/auth/refresh').send({ refresh_token: pair.refresh_token });
      expect(next.status).toBe(200);
      // The new refresh token is used too: a replay of the first one is no retry (grace period) but reuse.
      expect((await ctx.http.post('/auth/refresh').send({ refresh_token: (next.body as { refresh_token: string }).refresh_token })).status).toBe(200);
      sink().clear();
      const res = await ctx.http.post('/auth/refresh').send({ refresh_token: pair.refresh_token });
      expect(res.status).toBe(401);
      expect(sink().events).toEqual([
        {
          type: 'refresh-token.reused',
          severity: 'critical',
          familyFingerprint: fingerprint(pair.refresh_token.split('.')[0] as string),
          ...requestFields(res, 'POST /auth/refresh'),
        },
        { type: 'token.revoked', severity: 'info', what: 'family', ...requestFields(res, 'POST /auth/refresh') },
      ]);
      expect(JSON.stringify(sink().events)).not.toContain(pair.refresh_token);
    });

    // DESIGN.md: "Every rejection is a stable JSON body, the right status, … and a security event."
    // A refresh token that is unknown (or malformed) is refused with 401 by TokenService.refresh
    // without emitting anything.
    it.each([
      ['an unknown', unknownRefreshToken],
      ['a malformed', () => 'not-a-refresh-token'],
    ])('%s refresh token → 401 and one authentication.failed tied to the response', async (_label, token) => {
      const res = await ctx.http.post('/auth/refresh').send({ refresh_token: token() });
      expect(res.status).toBe(401);
      expect(sink().events).toHaveLength(1);
      expect(sink().events[0]).toMatchObject({ type: 'authentication.failed', ...requestFields(res, 'POST /auth/refresh') });
    });

    it('logout → token.revoked for the access token and its family, with the principal and the request id', async () => {
      const pair = await login();
      sink().clear();
      const res = await ctx.http.post('/auth/logout').set('Authorization', `Bearer ${pair.access_token}`);
      expect(res.status).toBe(204);
      expect(sink().events).toEqual([
        { type: 'token.revoked', severity: 'info', what: 'access-token', principalId: 'alice', ...requestFields(res, 'POST /auth/logout') },
        { type: 'token.revoked', severity: 'info', what: 'family', principalId: 'alice', ...requestFields(res, 'POST /auth/logout') },
      ]);
    });
  });
});
