import { Controller, Get } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { CurrentUser, PalisadeModule, Public, type Principal, type PrincipalInit, type ThrottleOptions } from '@palisade/nest';
import { AppModule } from '../../apps/demo/src/app.module.js';
import { loadConfig } from '../../apps/demo/src/config.js';
import { ADAPTERS } from '../support/app.js';
import { MESSAGE, useApp, type BootedApp } from '../support/auth.js';
import { expectRetryAfter, inSequence, statusesOf, times, TOO_MANY_FAILURES, TOO_MANY_REQUESTS, uniqueIp } from '../support/throttle.js';
import { signToken, TEST_SECRET } from '../support/tokens.js';

@Controller()
class GuardedController {
  @Get('me') me(@CurrentUser() user: Principal) {
    return { id: user.id, scheme: user.scheme };
  }

  @Get('open') @Public() open() {
    return { open: true };
  }
}

const GOOD_KEY = 'good-api-key-0123456789';
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;

function validateKey(key: string): PrincipalInit | null {
  return key === GOOD_KEY ? { id: 'svc' } : null;
}

function validateBasic(user: string, password: string): PrincipalInit | null {
  return user === 'alice' && password === 'alice-password' ? { id: 'alice' } : null;
}

function guardedApp(authFailures?: ThrottleOptions['authFailures']) {
  return () => ({
    imports: [
      PalisadeModule.forRoot({
        auth: {
          jwt: { secret: TEST_SECRET },
          apiKey: { header: 'x-api-key', validate: validateKey },
          basic: { validate: validateBasic },
        },
        trustProxy: 'loopback',
        throttle: {
          throttlers: [{ name: 'default', limit: 1_000, ttl: '1m' }],
          ...(authFailures === undefined ? {} : { authFailures }),
        },
        global: true,
      }),
    ],
    controllers: [GuardedController],
  });
}

/** A credential of one scheme: a header, with a wrong and a right value. */
interface SchemeCase {
  scheme: 'jwt' | 'api-key' | 'basic';
  header: string;
  bad: () => string;
  good: () => string;
  id: string;
}

const SCHEMES: SchemeCase[] = [
  {
    scheme: 'jwt',
    header: 'Authorization',
    bad: () => `Bearer ${signToken({ sub: 'mallory' }, { secret: 'not-the-secret-0123456789abcdef-0123456789' })}`,
    good: () => `Bearer ${signToken({ sub: 'user-1' })}`,
    id: 'user-1',
  },
  { scheme: 'api-key', header: 'X-Api-Key', bad: () => 'guessed-api-key', good: () => GOOD_KEY, id: 'svc' },
  { scheme: 'basic', header: 'Authorization', bad: () => basic('alice', 'guess'), good: () => basic('alice', 'alice-password'), id: 'alice' },
];

const LIMIT = 3;

/** GET /me from `ip` (through the trusted loopback proxy) with one credential header. */
function me(ctx: BootedApp, ip: string, header?: string, value?: string) {
  const req = ctx.http.get('/me').set('X-Forwarded-For', ip);
  return header === undefined || value === undefined ? req : req.set(header, value);
}

describe.each(ADAPTERS)('brute-force protection (failed authentications per IP) on %s', (adapter) => {
  describe("authFailures: { limit: 3, ttl: '1m', blockDuration: '5m' }", () => {
    const ctx = useApp(adapter, guardedApp({ limit: LIMIT, ttl: '1m', blockDuration: '5m' }));

    describe.each(SCHEMES)('$scheme', ({ header, bad, good, id, scheme }) => {
      it('answers 429 with Retry-After on the failure past the limit', async () => {
        const ip = uniqueIp();
        const responses = await inSequence(LIMIT + 1, () => me(ctx, ip, header, bad()));
        expect(statusesOf(responses)).toEqual([...times(LIMIT, 401), 429]);
        expect(responses[0]?.body).toEqual({ statusCode: 401, error: 'Unauthorized', message: MESSAGE.invalid });
        const blocked = responses[LIMIT];
        expect(blocked?.body).toEqual(TOO_MANY_FAILURES);
        // The block lasts blockDuration (5 min), not the 1-minute counting window.
        expect(expectRetryAfter(blocked?.headers['retry-after'], 300)).toBeGreaterThan(240);
      });

      it('then answers 429 even to valid credentials from that IP, while another IP still authenticates', async () => {
        const ip = uniqueIp();
        await inSequence(LIMIT + 1, () => me(ctx, ip, header, bad()));

        const valid = await me(ctx, ip, header, good());
        expect(valid.status).toBe(429);
        expect(valid.body).toEqual(TOO_MANY_FAILURES);
        expectRetryAfter(valid.headers['retry-after'], 300);

        const elsewhere = await me(ctx, uniqueIp(), header, good());
        expect(elsewhere.status).toBe(200);
        expect(elsewhere.body).toEqual({ id, scheme });
      });

      it('leaves a public route open to the blocked IP', async () => {
        const ip = uniqueIp();
        await inSequence(LIMIT + 1, () => me(ctx, ip, header, bad()));
        expect((await ctx.http.get('/open').set('X-Forwarded-For', ip)).status).toBe(200);
        expect((await ctx.http.get('/open').set('X-Forwarded-For', ip).set(header, bad())).status).toBe(200);
      });
    });

    it('counts failures of every scheme against the same IP', async () => {
      const ip = uniqueIp();
      const [jwt, apiKey, basicScheme] = SCHEMES as [SchemeCase, SchemeCase, SchemeCase];
      const responses = [
        await me(ctx, ip, jwt.header, jwt.bad()),
        await me(ctx, ip, apiKey.header, apiKey.bad()),
        await me(ctx, ip, basicScheme.header, basicScheme.bad()),
        await me(ctx, ip, jwt.header, jwt.bad()),
      ];
      expect(statusesOf(responses)).toEqual([401, 401, 401, 429]);
      // Blocked for every scheme now, not only the one that was guessed.
      expect((await me(ctx, ip, apiKey.header, apiKey.good())).status).toBe(429);
      expect((await me(ctx, ip, basicScheme.header, basicScheme.good())).status).toBe(429);
    });

    it('counts malformed credentials as failures', async () => {
      const ip = uniqueIp();
      const responses = await inSequence(LIMIT + 1, () => me(ctx, ip, 'Authorization', 'Basic %%%not-base64%%%'));
      expect(statusesOf(responses)).toEqual([...times(LIMIT, 401), 429]);
    });

    it('does not count requests that present no credentials', async () => {
      const ip = uniqueIp();
      const anonymous = await inSequence(LIMIT * 3, () => me(ctx, ip));
      expect(statusesOf(anonymous)).toEqual(times(LIMIT * 3, 401));
      expect((await me(ctx, ip, 'X-Api-Key', GOOD_KEY)).status).toBe(200);
    });

    it('does not count successful authentications', async () => {
      const ip = uniqueIp();
      const responses = await inSequence(LIMIT * 3, () => me(ctx, ip, 'X-Api-Key', GOOD_KEY));
      expect(statusesOf(responses)).toEqual(times(LIMIT * 3, 200));
    });
  });

  describe('authFailures: false', () => {
    const ctx = useApp(adapter, guardedApp(false));

    it.each(SCHEMES)('never blocks $scheme guesses; valid credentials keep working', async ({ header, bad, good }) => {
      const ip = uniqueIp();
      const responses = await inSequence(15, () => me(ctx, ip, header, bad()));
      expect(statusesOf(responses)).toEqual(times(15, 401));
      expect((await me(ctx, ip, header, good())).status).toBe(200);
    });
  });

  describe('authFailures unset (default 10 a minute)', () => {
    const ctx = useApp(adapter, guardedApp());

    it('answers 429 on the 11th failure', async () => {
      const ip = uniqueIp();
      const responses = await inSequence(11, () => me(ctx, ip, 'X-Api-Key', 'guessed-api-key'));
      expect(statusesOf(responses)).toEqual([...times(10, 401), 429]);
      expect(responses[10]?.body).toEqual(TOO_MANY_FAILURES);
    });
  });
});

// ---------------------------------------------------------------- the demo's login tier

const LOGIN_LIMIT = 10;

describe.each(ADAPTERS)("the demo's POST /auth/login tier on %s", (adapter) => {
  // THROTTLE_LIMIT only sets the default tier of other routes: login has its own 10 a minute.
  const ctx = useApp(adapter, () => ({ imports: [AppModule.register(loadConfig({ TRUST_PROXY: 'loopback', THROTTLE_LIMIT: '3', THROTTLE_TTL: '1m' }))] }));

  const login = (ip: string, username: string, password: string) =>
    ctx.http.post('/auth/login').set('X-Forwarded-For', ip).set('Content-Type', 'application/json').send({ username, password });

  it('allows 10 attempts a minute per IP and username; the 11th for the same username is 429', async () => {
    const ip = uniqueIp();
    // Correct passwords: no failure counts against the IP, so only the login tier is at work.
    const responses = await inSequence(LOGIN_LIMIT + 1, () => login(ip, 'alice', 'alice-password'));
    expect(statusesOf(responses)).toEqual([...times(LOGIN_LIMIT, 200), 429]);
    expect(responses[0]?.body).toMatchObject({ token_type: 'Bearer' });
    expect(responses[0]?.headers['ratelimit-policy']).toBe('"default";q=10;w=60, "per-caller";q=30;w=60');
    const over = responses[LOGIN_LIMIT];
    expect(over?.body).toEqual(TOO_MANY_REQUESTS);
    expectRetryAfter(over?.headers['retry-after'], 60);

    // Same IP, another username: its own budget.
    expect((await login(ip, 'bob', 'bob-password')).status).toBe(200);
    // Same username, another IP: its own budget.
    expect((await login(uniqueIp(), 'alice', 'alice-password')).status).toBe(200);
  });

  it('counts failed logins against the IP too: the 10th failure blocks the IP for every username', async () => {
    const ip = uniqueIp();
    const failures = await inSequence(LOGIN_LIMIT, () => login(ip, 'alice', 'wrong-password'));
    expect(statusesOf(failures)).toEqual(times(LOGIN_LIMIT, 401));

    // The 11th attempt for alice is stopped by the login tier, before any password check.
    const eleventh = await login(ip, 'alice', 'alice-password');
    expect(eleventh.status).toBe(429);
    expect(eleventh.body).toEqual(TOO_MANY_REQUESTS);

    // bob has login budget left, but the 10th failure blocked the IP: refused before any check...
    const bobWrong = await login(ip, 'bob', 'wrong-password');
    expect(bobWrong.status).toBe(429);
    expect(bobWrong.body).toEqual(TOO_MANY_FAILURES);
    expectRetryAfter(bobWrong.headers['retry-after'], 300);
    // ...for correct passwords too, and for the other schemes.
    expect((await login(ip, 'bob', 'bob-password')).status).toBe(429);
    const basicMe = await ctx.http.get('/me').set('X-Forwarded-For', ip).set('Authorization', basic('bob', 'bob-password'));
    expect(basicMe.status).toBe(429);

    // Another IP is unaffected.
    expect((await login(uniqueIp(), 'bob', 'bob-password')).status).toBe(200);
  });

  it('never throttles GET /health, even for a blocked IP or a principal over its limit', async () => {
    const ip = uniqueIp();
    await inSequence(LOGIN_LIMIT + 1, () => login(ip, 'bob', 'wrong-password'));
    expect((await login(ip, 'bob', 'bob-password')).status).toBe(429);

    const token = (await login(uniqueIp(), 'alice', 'alice-password')).body as { access_token: string };
    const mine = await inSequence(4, () => ctx.http.get('/me').set('Authorization', `Bearer ${token.access_token}`));
    expect(statusesOf(mine)).toEqual([200, 200, 200, 429]);

    const health = await inSequence(25, (i) =>
      i % 2 === 0
        ? ctx.http.get('/health').set('X-Forwarded-For', ip).set('Authorization', basic('bob', 'wrong-password'))
        : ctx.http.get('/health').set('Authorization', `Bearer ${token.access_token}`),
    );
    expect(statusesOf(health)).toEqual(times(25, 200));
    expect(health[0]?.body).toEqual({ status: 'ok' });
    expect(health[0]?.headers['ratelimit']).toBeUndefined();
  });
});
