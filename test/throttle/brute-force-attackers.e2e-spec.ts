import { Body, Controller, Get, HttpCode, Post, Req, Res } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it, vi, type TestContext } from 'vitest';
import {
  AuthenticationFailedException,
  AuthFailureLimiter,
  CurrentUser,
  PalisadeModule,
  Public,
  Throttle,
  ThrottleBy,
  type AuthRequest,
  type JwtAuthOptions,
  type Principal,
  type PrincipalInit,
  type ThrottleOptions,
} from '@palisade/nest';
import { AppModule } from '../../apps/demo/src/app.module.js';
import { loadConfig } from '../../apps/demo/src/config.js';
import { ADAPTERS, bootApp, type AdapterName } from '../support/app.js';
import { MESSAGE, useApp } from '../support/auth.js';
import { JwksServer, signingKey, signWith, type TestSigningKey } from '../support/jwks.js';
import { CollectingSink } from '../support/events.js';
import { deleteKeysUnder, redisPrefix, REDIS_URL, requireRedis } from '../support/redis.js';
import { expectRetryAfter, inSequence, statusesOf, times, TOO_MANY_FAILURES, TOO_MANY_REQUESTS, uniqueIp } from '../support/throttle.js';
import { signToken, TEST_SECRET } from '../support/tokens.js';

/**
 * Brute force against real attackers (issue 16): parallel, sustained and piggy-backing guesses, and
 * failures that are no guess, on both adapters and both stores. Each finding of the review is a
 * test named after it; every app is fresh (empty counters), with `authFailures` 10 a minute,
 * blocked 5 minutes.
 */

const STORES = ['memory', 'redis'] as const;
type StoreName = (typeof STORES)[number];

const LIMIT = 10;
const GOOD_KEY = 'good-api-key-0123456789';
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** What the app's callbacks verified, and how long each verification takes (ms). */
const verified = { basic: 0, apiKey: 0, login: 0, delayMs: 0 };

async function validateBasic(user: string, password: string): Promise<PrincipalInit | null> {
  verified.basic += 1;
  if (verified.delayMs > 0) await sleep(verified.delayMs);
  return user === 'alice' && password === 'alice-password' ? { id: 'alice' } : null;
}

async function validateKey(key: string): Promise<PrincipalInit | null> {
  verified.apiKey += 1;
  if (verified.delayMs > 0) await sleep(verified.delayMs);
  return key === GOOD_KEY ? { id: 'svc' } : null;
}

@Controller()
class GuardedController {
  @Get('me') me(@CurrentUser() user: Principal) {
    return { id: user.id, scheme: user.scheme };
  }
}

/**
 * A login route built like the demo's from the library's blocks: 10 attempts a minute per address
 * and username, 30 per address (`perCaller`), and a brute-force slot reserved before the password
 * is checked. Any `user-N` signs in with `pw-N`; `alice` with `alice-password`.
 */
@Controller()
class LoginController {
  constructor(private readonly limiter: AuthFailureLimiter) {}

  @Post('login')
  @Public()
  @HttpCode(200)
  @Throttle({ default: { limit: 10, ttl: 60_000 } })
  @ThrottleBy((request) => String((request.body as { username?: unknown } | undefined)?.username ?? ''), { perCaller: { limit: 30, ttl: '1m' } })
  async login(@Body() body: { username: string; password: string }, @Req() request: AuthRequest, @Res({ passthrough: true }) response: object) {
    const attempt = await this.limiter.reserve(request, response);
    verified.login += 1;
    const { username, password } = body;
    const ok = username === 'alice' ? password === 'alice-password' : /^user-\d+$/.test(username) && password === `pw-${username.slice(5)}`;
    if (!ok) {
      await this.limiter.recordLoginFailure(request, response, username, attempt);
      throw new AuthenticationFailedException('Invalid username or password');
    }
    attempt.succeeded();
    return { ok: true };
  }
}

type Agent = Awaited<ReturnType<typeof bootApp>>['http'];

/** Boots a fresh app on `store` (Redis keys under a random prefix, deleted afterwards). */
async function boot(
  ctx: TestContext,
  adapter: AdapterName,
  store: StoreName,
  jwt: Partial<JwtAuthOptions> = {},
): Promise<{ http: Agent; sink: CollectingSink }> {
  let storage: ThrottleOptions['storage'] = 'memory';
  if (store === 'redis') {
    const redis = await requireRedis(ctx);
    const prefix = redisPrefix();
    ctx.onTestFinished(() => deleteKeysUnder(redis, prefix));
    // These races are about the shared store's atomicity, not its outages: a generous command
    // timeout keeps a loaded machine from sending requests to the fail-open fallback (which
    // counts per instance, from zero) and blurring the exact count.
    storage = { redis: REDIS_URL, prefix, commandTimeout: '10s' };
  }
  Object.assign(verified, { basic: 0, apiKey: 0, login: 0, delayMs: 0 });
  const { app, http } = await bootApp(adapter, {
    imports: [
      PalisadeModule.forRoot({
        auth: {
          jwt: { secret: TEST_SECRET, ...jwt },
          apiKey: { header: 'x-api-key', validate: validateKey },
          basic: { validate: validateBasic },
        },
        trustProxy: 'loopback',
        throttle: { throttlers: [{ name: 'default', limit: 100_000, ttl: '1m' }], storage, authFailures: { limit: LIMIT, ttl: '1m', blockDuration: '5m' } },
        events: { log: false },
        global: true,
      }),
    ],
    controllers: [GuardedController, LoginController],
    providers: [CollectingSink],
  });
  ctx.onTestFinished(() => app.close());
  return { http, sink: app.get(CollectingSink) };
}

/** Counts of each status. */
const tally = (statuses: readonly number[]): Record<number, number> => {
  const counts: Record<number, number> = {};
  for (const status of statuses) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
};

const IDP = 'https://idp.test';
let jwks: JwksServer;
let idpKey: TestSigningKey;

beforeAll(async () => {
  [jwks, idpKey] = await Promise.all([JwksServer.start(), signingKey('RS256')]);
  jwks.publish(idpKey);
  // The identity provider is down for the whole file: its set was never fetched.
  jwks.mode = 'fail';
});
afterAll(async () => {
  await jwks?.close();
});

describe.each(ADAPTERS)('brute force against real attackers on %s', (adapter) => {
  describe.each(STORES)('%s store', (store) => {
    it('check-then-record race: 100 parallel Basic guesses verify exactly 10, the rest get 429, and the right password sent last is never verified', async (ctx) => {
      const { http } = await boot(ctx, adapter, store);
      const ip = uniqueIp();
      const me = (password: string) => http.get('/me').set('X-Forwarded-For', ip).set('Authorization', basic('alice', password));
      // Each verification takes 100 ms, so the guesses overlap; the right one goes out while the 10
      // slots are held by guesses under verification.
      verified.delayMs = 100;
      const guesses = Array.from({ length: 99 }, (_, i) => me(`guess-${i}`).then((res) => res));
      await vi.waitFor(() => expect(verified.basic).toBe(LIMIT), { timeout: 10_000, interval: 5 });
      const right = me('alice-password').then((res) => res);
      const responses = await Promise.all([...guesses, right]);
      expect(tally(statusesOf(responses))).toEqual({ 401: LIMIT, 429: 100 - LIMIT });
      expect(verified.basic).toBe(LIMIT);
      expect(responses[99]?.status).toBe(429);
      // Now blocked for 5 minutes, the right password included.
      const after = await me('alice-password');
      expect(after.body).toEqual(TOO_MANY_FAILURES);
      expect(expectRetryAfter(after.headers['retry-after'], 300)).toBeGreaterThan(240);
      expect(verified.basic).toBe(LIMIT);
    });

    it('check-then-record race: 100 parallel API-key guesses verify exactly 10; the right key afterwards gets 429', async (ctx) => {
      const { http } = await boot(ctx, adapter, store);
      const ip = uniqueIp();
      const me = (key: string) => http.get('/me').set('X-Forwarded-For', ip).set('X-Api-Key', key);
      const responses = await Promise.all(Array.from({ length: 100 }, (_, i) => me(`guessed-key-${i}`).then((res) => res)));
      expect(tally(statusesOf(responses))).toEqual({ 401: LIMIT, 429: 100 - LIMIT });
      expect(verified.apiKey).toBe(LIMIT);
      const right = await me(GOOD_KEY);
      expect(right.body).toEqual(TOO_MANY_FAILURES);
      expect(verified.apiKey).toBe(LIMIT);
      // Another address is not affected.
      expect((await http.get('/me').set('X-Forwarded-For', uniqueIp()).set('X-Api-Key', GOOD_KEY)).status).toBe(200);
    });

    it('a legitimate burst is not refused: 50 parallel first requests with one valid API key all get 200, verified once before the rest', async (ctx) => {
      const { http } = await boot(ctx, adapter, store);
      const ip = uniqueIp();
      verified.delayMs = 50;
      const responses = await Promise.all(
        Array.from({ length: 50 }, () =>
          http
            .get('/me')
            .set('X-Forwarded-For', ip)
            .set('X-Api-Key', GOOD_KEY)
            .then((res) => res),
        ),
      );
      expect(statusesOf(responses)).toEqual(times(50, 200));
      // A credential proven right from this address is no guess, so a guesser there cannot make it fail.
      const guesses = await inSequence(LIMIT + 1, (i) => http.get('/me').set('X-Forwarded-For', ip).set('X-Api-Key', `guessed-key-${i}`));
      expect(statusesOf(guesses)).toEqual([...times(LIMIT, 401), 429]);
      expect((await http.get('/me').set('X-Forwarded-For', ip).set('X-Api-Key', GOOD_KEY)).status).toBe(200);
      expect((await http.get('/me').set('X-Forwarded-For', ip).set('Authorization', basic('alice', 'alice-password'))).body).toEqual(TOO_MANY_FAILURES);
    });

    it('a guessed API key next to valid Basic credentials fails the request, is counted and reported, and answers like any wrong guess', async (ctx) => {
      const { http, sink } = await boot(ctx, adapter, store);
      const ip = uniqueIp();
      const both = (password: string, key: string) =>
        http.get('/me').set('X-Forwarded-For', ip).set('Authorization', basic('alice', password)).set('X-Api-Key', key);

      const rightBasicWrongKey = await both('alice-password', 'guessed-key-0');
      const wrongBasicWrongKey = await both('wrong', 'guessed-key-1');
      expect(rightBasicWrongKey.status).toBe(401);
      expect(rightBasicWrongKey.body).toEqual({ statusCode: 401, error: 'Unauthorized', message: MESSAGE.invalid });
      // Nothing tells which of the two was right.
      expect(rightBasicWrongKey.body).toEqual(wrongBasicWrongKey.body);
      expect(rightBasicWrongKey.headers['www-authenticate']).toBe(wrongBasicWrongKey.headers['www-authenticate']);
      expect(sink.ofType('authentication.failed').filter((event) => event.scheme !== undefined)).toHaveLength(2);

      const rest = await inSequence(LIMIT - 2, (i) => both('alice-password', `guessed-key-${i + 2}`));
      expect(statusesOf(rest)).toEqual(times(LIMIT - 2, 401));
      // The 10th failure blocked the address: the right Basic credentials alone now get 429.
      const alone = await http.get('/me').set('X-Forwarded-For', ip).set('Authorization', basic('alice', 'alice-password'));
      expect(alone.body).toEqual(TOO_MANY_FAILURES);
      // Both right, from another address: 200 (the route's first scheme, api-key, names the caller).
      const good = await http.get('/me').set('X-Forwarded-For', uniqueIp()).set('Authorization', basic('alice', 'alice-password')).set('X-Api-Key', GOOD_KEY);
      expect(good.status).toBe(200);
      expect(good.body).toEqual({ id: 'svc', scheme: 'api-key' });
    });

    it('failures that are no guess: 3 × 10 genuine expired tokens are not counted, a new valid token still gets 200; forged tokens are counted', async (ctx) => {
      const { http } = await boot(ctx, adapter, store);
      const ip = uniqueIp();
      const bearer = (token: string) => http.get('/me').set('X-Forwarded-For', ip).set('Authorization', `Bearer ${token}`);
      const now = Math.floor(Date.now() / 1000);
      const expired = await inSequence(3 * LIMIT, (i) => bearer(signToken({ sub: `user-${i}`, iat: now - 600, exp: now - 60 })));
      expect(statusesOf(expired)).toEqual(times(3 * LIMIT, 401));
      expect(expired[0]?.body).toEqual({ statusCode: 401, error: 'Unauthorized', message: MESSAGE.expired });
      expect((await bearer(signToken({ sub: 'user-1' }))).status).toBe(200);

      const forged = await inSequence(LIMIT + 1, (i) => bearer(signToken({ sub: `mallory-${i}` }, { secret: 'not-the-secret-0123456789abcdef-0123456789' })));
      expect(statusesOf(forged)).toEqual([...times(LIMIT, 401), 429]);
      expect((await bearer(signToken({ sub: 'user-2' }))).body).toEqual(TOO_MANY_FAILURES);
    });

    it('failures that are no guess: 3 × 10 tokens of an identity provider whose JWK Set cannot be fetched are not counted', async (ctx) => {
      const { http } = await boot(ctx, adapter, store, { jwks: [{ uri: jwks.url(), issuer: IDP, cooldown: '30s' }] });
      const ip = uniqueIp();
      const tokens = await Promise.all(Array.from({ length: 3 * LIMIT }, (_, i) => signWith(idpKey, { iss: IDP, sub: `idp-user-${i}` })));
      const responses = await inSequence(3 * LIMIT, (i) => http.get('/me').set('X-Forwarded-For', ip).set('Authorization', `Bearer ${tokens[i]}`));
      expect(statusesOf(responses)).toEqual(times(3 * LIMIT, 401));
      expect(jwks.total).toBeGreaterThan(0);
      // The address is not blocked: the right password still works.
      expect((await http.get('/me').set('X-Forwarded-For', ip).set('Authorization', basic('alice', 'alice-password'))).status).toBe(200);
    });

    it('the login tier no longer hides failures: a sustained attacker is blocked by the 10th wrong password, for 5 minutes, whatever username comes next', async (ctx) => {
      const { http } = await boot(ctx, adapter, store);
      const ip = uniqueIp();
      const login = (username: string, password: string) => http.post('/login').set('X-Forwarded-For', ip).send({ username, password });
      expect(statusesOf(await inSequence(LIMIT, () => login('alice', 'wrong')))).toEqual(times(LIMIT, 401));
      // The 11th for alice is the login tier's (address + username) 429...
      const eleventh = await login('alice', 'alice-password');
      expect(eleventh.body).toEqual(TOO_MANY_REQUESTS);
      // ...but the address is blocked already: a right password for another user is refused, unverified.
      const before = verified.login;
      const other = await login('user-1', 'pw-1');
      expect(other.body).toEqual(TOO_MANY_FAILURES);
      expect(expectRetryAfter(other.headers['retry-after'], 300)).toBeGreaterThan(240);
      expect(verified.login).toBe(before);
      // Every scheme is blocked for that address.
      expect((await http.get('/me').set('X-Forwarded-For', ip).set('X-Api-Key', GOOD_KEY)).body).toEqual(TOO_MANY_FAILURES);
    });

    it('the login tier counts per address too: fresh usernames buy no fresh budget (30 a minute per address)', async (ctx) => {
      const { http } = await boot(ctx, adapter, store);
      const ip = uniqueIp();
      const responses = await inSequence(31, (i) =>
        http
          .post('/login')
          .set('X-Forwarded-For', ip)
          .send({ username: `user-${i}`, password: `pw-${i}` }),
      );
      expect(statusesOf(responses)).toEqual([...times(30, 200), 429]);
      expect(responses[0]?.headers['ratelimit-policy']).toBe('"default";q=10;w=60, "per-caller";q=30;w=60');
      expect(responses[30]?.body).toEqual(TOO_MANY_REQUESTS);
      expectRetryAfter(responses[30]?.headers['retry-after'], 60);
      // Another address has its own budget.
      expect((await http.post('/login').set('X-Forwarded-For', uniqueIp()).send({ username: 'user-0', password: 'pw-0' })).status).toBe(200);
    });

    it('parallel logins from one address: at most 10 passwords are checked, then the address is blocked', async (ctx) => {
      const { http } = await boot(ctx, adapter, store);
      const ip = uniqueIp();
      const responses = await Promise.all(
        Array.from({ length: 25 }, (_, i) =>
          http
            .post('/login')
            .set('X-Forwarded-For', ip)
            .send({ username: `user-${i}`, password: 'wrong' })
            .then((res) => res),
        ),
      );
      expect(tally(statusesOf(responses))).toEqual({ 401: LIMIT, 429: 25 - LIMIT });
      expect(verified.login).toBe(LIMIT);
    });
  });
});

describe.each(ADAPTERS)('revoked genuine tokens on the demo on %s', (adapter) => {
  const ctx = useApp(adapter, () => ({ imports: [AppModule.register(loadConfig({ TRUST_PROXY: 'loopback' }))] }));

  it('failures that are no guess: 3 × 10 requests with a logged-out token are not counted; the same address signs in again', async () => {
    const ip = uniqueIp();
    const login = () => ctx.http.post('/auth/login').set('X-Forwarded-For', ip).send({ username: 'bob', password: 'bob-password' });
    const { access_token: token } = (await login()).body as { access_token: string };
    expect((await ctx.http.post('/auth/logout').set('X-Forwarded-For', ip).set('Authorization', `Bearer ${token}`)).status).toBe(204);
    const revoked = await inSequence(3 * LIMIT, () => ctx.http.get('/me').set('X-Forwarded-For', ip).set('Authorization', `Bearer ${token}`));
    expect(statusesOf(revoked)).toEqual(times(3 * LIMIT, 401));
    const again = await login();
    expect(again.status).toBe(200);
    const fresh = (again.body as { access_token: string }).access_token;
    expect((await ctx.http.get('/me').set('X-Forwarded-For', ip).set('Authorization', `Bearer ${fresh}`)).status).toBe(200);
  });
});
