/**
 * The demo API's contract (DESIGN.md, "Demo API contract"), checked against the built demo started
 * as a real process (`node apps/demo/dist/main.js`, PORT=0) on each adapter, over real HTTP.
 */
import { randomUUID } from 'node:crypto';
import { Agent } from 'node:http';
import jwt from 'jsonwebtoken';
import request, { type Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADAPTERS, type AdapterName } from '../support/app.js';
import { mustRun } from '../support/command.js';
import { acquireDistLock, REPO_ROOT } from '../support/dist-lock.js';
import { signToken } from '../support/tokens.js';
import { useDemoMatchers } from './demo-matchers.js';
import { DemoProcess } from './demo-process.js';

useDemoMatchers();

/** Custom secrets passed through the environment (the demo must use these, not its dev defaults). */
const JWT_SECRET = 'demo-e2e-jwt-secret-7d3f0c1a9b8e4f2a-5c6d7e8f9a0b1c2d';
const DEMO_API_KEY = 'demo-e2e-api-key-4b1d9e7c2a6f';
/** The development API key the demo documents (apps/demo/src/config.ts); refused once DEMO_API_KEY is set. */
const DOCUMENTED_DEV_API_KEY = 'palisade-demo-api-key-0123456789abcdef';
const DEFAULT_ISSUER = 'palisade-demo';
const DEFAULT_AUDIENCE = 'palisade-demo';
/** The demo's body limit is 64 KiB. */
const BODY_LIMIT = 64 * 1024;

/** Every demo process this file starts; all are killed in `afterAll`, whatever happened. */
const started = new Set<DemoProcess>();
let releaseDist: (() => Promise<void>) | undefined;

function startDemo(env: Record<string, string>): DemoProcess {
  const demo = DemoProcess.spawn(env);
  started.add(demo);
  return demo;
}

beforeAll(async () => {
  // Held until afterAll: the demo processes load libs/palisade/dist and apps/demo/dist.
  releaseDist = await acquireDistLock(120_000);
  await mustRun('npm', ['run', 'build'], { cwd: REPO_ROOT, timeoutMs: 120_000 });
}, 240_000);

afterAll(async () => {
  try {
    await Promise.all([...started].map((demo) => demo.kill()));
  } finally {
    await releaseDist?.();
  }
});

/**
 * A token minted outside the demo with jsonwebtoken, as another service sharing JWT_SECRET would,
 * with the contract's claims (a fresh `jti` unless `claims` says otherwise).
 */
function mintToken(claims: Record<string, unknown>, options: { secret?: string; issuer?: string; audience?: string } = {}): string {
  const { secret = JWT_SECRET, issuer = DEFAULT_ISSUER, audience = DEFAULT_AUDIENCE } = options;
  return signToken({ sub: 'carol', roles: ['user'], scope: 'reports:read', jti: randomUUID(), ...claims }, { secret, issuer, audience });
}

const CAROL = { id: 'carol', scheme: 'jwt', roles: ['user'], scopes: ['reports:read'] };

/** A demo started for the enclosing `describe` (in its `beforeAll`); read the fields inside tests. */
interface RunningDemo {
  readonly demo: DemoProcess;
  readonly startup: Awaited<ReturnType<DemoProcess['ready']>>;
  readonly api: ReturnType<typeof request>;
}

/**
 * Starts a demo for the enclosing `describe`. Each group of tests gets its own process because the
 * demo's brute-force limits are per client IP (10 failed authentications a minute, 10 login
 * attempts a minute per username), and every request here comes from 127.0.0.1.
 */
function useDemo(env: Record<string, string>): RunningDemo {
  let running: RunningDemo | undefined;
  beforeAll(async () => {
    const demo = startDemo(env);
    const startup = await demo.ready();
    running = { demo, startup, api: request(startup.url) };
  });
  const get = (): RunningDemo => {
    if (running === undefined) throw new Error('the demo has not started (see the beforeAll error)');
    return running;
  };
  return {
    get demo() {
      return get().demo;
    },
    get startup() {
      return get().startup;
    },
    get api() {
      return get().api;
    },
  };
}

describe.each(ADAPTERS)('demo API on %s (a real process)', (adapter: AdapterName) => {
  const ENV = { HTTP_ADAPTER: adapter, PORT: '0', JWT_SECRET, DEMO_API_KEY };

  describe('startup, /health and unknown routes', () => {
    const run = useDemo(ENV);

    it('prints the URL it listens on (an ephemeral port for PORT=0) and its adapter', () => {
      expect(run.startup.adapter).toBe(adapter);
      expect(run.startup.port).toBeGreaterThan(0);
      expect(run.startup.port).toBeLessThan(65_536);
    });

    it('answers GET /health with 200 { status: "ok" }, ignoring garbage credentials', async () => {
      const res = await run.api.get('/health').set('Authorization', 'Bearer not.a.token').set('X-API-Key', 'wrong-key');
      expect(res).toHaveStatus(200, run.demo);
      expect(res.body).toEqual({ status: 'ok' });
    });

    it('answers an unknown route with a JSON 404', async () => {
      const res = await run.api.get('/no-such-route').set('Authorization', `Bearer ${mintToken({})}`);
      expect(res).toBeJsonError(404, run.demo);
    });
  });

  describe('POST /auth/login', () => {
    const run = useDemo(ENV);
    const login = (username: string, password: string): Promise<Response> => run.api.post('/auth/login').send({ username, password });

    it('exchanges alice/alice-password for a Bearer access token with the contract claims', async () => {
      const res = await login('alice', 'alice-password');
      expect(res).toHaveStatus(200, run.demo);
      expect(res.body).toMatchObject({
        token_type: 'Bearer',
        access_token: expect.any(String),
        expires_in: expect.any(Number),
        refresh_token: expect.any(String),
      });
      const body = res.body as { access_token: string; expires_in: number };
      expect(Number.isInteger(body.expires_in)).toBe(true);
      expect(body.expires_in).toBeGreaterThan(0);

      const claims = jwt.verify(body.access_token, JWT_SECRET, { algorithms: ['HS256'], issuer: DEFAULT_ISSUER, audience: DEFAULT_AUDIENCE }) as jwt.JwtPayload;
      expect(claims).toMatchObject({ sub: 'alice', roles: ['admin'], iss: DEFAULT_ISSUER, aud: DEFAULT_AUDIENCE, jti: expect.any(String) });
      // `scope` is one space-separated string (RFC 8693), not an array.
      expect(claims['scope']).toEqual(expect.any(String));
      expect(String(claims['scope']).split(' ')).toEqual(expect.arrayContaining(['reports:read']));
      expect(claims.exp! - claims.iat!).toBe(body.expires_in);
    });

    it('answers a wrong password with a JSON 401 and no token', async () => {
      const res = await login('alice', 'not-alices-password');
      expect(res).toBeJsonError(401, run.demo);
      expect(res.body).not.toHaveProperty('access_token');
    });

    it('answers an unknown user exactly like a wrong password (no user enumeration)', async () => {
      const unknown = await login('mallory', 'alice-password');
      expect(unknown).toBeJsonError(401, run.demo);
      const wrong = await login('bob', 'not-bobs-password');
      expect(unknown.body).toEqual(wrong.body);
    });

    // Budget: the bodies without a string username share one login throttle key (10 a minute); 9 reach it.
    it.each([
      ['malformed JSON', '{"username": "bob",'],
      ['a JSON array', '["bob", "bob-password"]'],
      ['a JSON string', '"bob"'],
      ['JSON null', 'null'],
      ['a JSON number', '42'],
      ['an empty object', '{}'],
      ['a missing password', '{"username":"bob"}'],
      ['a missing username', '{"password":"bob-password"}'],
      ['a numeric username', '{"username":42,"password":"bob-password"}'],
      ['an object as password', '{"username":"bob","password":{"$ne":null}}'],
      ['an empty username', '{"username":"","password":"bob-password"}'],
    ])('answers %s with a JSON 400, never a 5xx', async (_case, body) => {
      const res = await run.api.post('/auth/login').set('Content-Type', 'application/json').send(body);
      expect(res).toBeJsonError(400, run.demo);
    });

    it('answers a request without a body with a JSON 400', async () => {
      const res = await run.api.post('/auth/login');
      expect(res).toBeJsonError(400, run.demo);
    });

    it('answers a body over 64 KiB with a JSON 413', async () => {
      const body = JSON.stringify({ username: 'bob', password: 'x'.repeat(BODY_LIMIT + 1024) });
      const res = await run.api.post('/auth/login').set('Content-Type', 'application/json').send(body);
      expect(res).toBeJsonError(413, run.demo);
    });
  });

  describe('GET /me', () => {
    const run = useDemo(ENV);

    it('answers the login token with alice as a JWT principal', async () => {
      const token = (await run.api.post('/auth/login').send({ username: 'alice', password: 'alice-password' })).body as { access_token: string };
      const res = await run.api.get('/me').set('Authorization', `Bearer ${token.access_token}`);
      expect(res).toHaveStatus(200, run.demo);
      expect(res.body).toEqual({ id: 'alice', scheme: 'jwt', roles: ['admin'], scopes: ['reports:read', 'reports:write'] });
    });

    it('accepts a token minted elsewhere with JWT_SECRET and the contract claims', async () => {
      const res = await run.api.get('/me').set('Authorization', `Bearer ${mintToken({})}`);
      expect(res).toHaveStatus(200, run.demo);
      expect(res.body).toEqual(CAROL);
    });

    it.each([
      ['the wrong audience', () => mintToken({}, { audience: 'another-api' })],
      ['the wrong issuer', () => mintToken({}, { issuer: 'https://evil.example' })],
      ['another secret', () => mintToken({}, { secret: 'another-secret-0123456789abcdef-0123456789abcdef' })],
      ['an expired exp', () => mintToken({ iat: Math.floor(Date.now() / 1000) - 600, exp: Math.floor(Date.now() / 1000) - 300 })],
      ['no jti (it could not be revoked: a logout would not hold)', () => mintToken({ jti: undefined })],
    ])('rejects the same token with %s: JSON 401 with an invalid_token challenge', async (_case, token) => {
      const res = await run.api.get('/me').set('Authorization', `Bearer ${token()}`);
      expect(res).toBeJsonError(401, run.demo);
      expect(res.headers['www-authenticate']).toMatch(/Bearer [^,]*realm="[^"]+", error="invalid_token"/);
    });

    it('accepts Basic bob:bob-password as a basic principal', async () => {
      const res = await run.api.get('/me').auth('bob', 'bob-password');
      expect(res).toHaveStatus(200, run.demo);
      expect(res.body).toEqual({ id: 'bob', scheme: 'basic', roles: ['user'], scopes: [] });
    });

    it('rejects Basic with a wrong password with a JSON 401', async () => {
      const res = await run.api.get('/me').auth('bob', 'alice-password');
      expect(res).toBeJsonError(401, run.demo);
      expect(res.headers['www-authenticate']).toMatch(/Basic realm="/);
    });

    it('accepts the DEMO_API_KEY from the environment as the service principal svc', async () => {
      const res = await run.api.get('/me').set('X-API-Key', DEMO_API_KEY);
      expect(res).toHaveStatus(200, run.demo);
      expect(res.body).toMatchObject({ id: 'svc', scheme: 'api-key' });
    });

    it('refuses the documented development API key once DEMO_API_KEY is set', async () => {
      const res = await run.api.get('/me').set('X-API-Key', DOCUMENTED_DEV_API_KEY);
      expect(res).toBeJsonError(401, run.demo);
    });

    it('answers no credentials with a JSON 401 and a challenge for every accepted scheme', async () => {
      const res = await run.api.get('/me');
      expect(res).toBeJsonError(401, run.demo);
      const challenge = String(res.headers['www-authenticate'] ?? '');
      expect(challenge).toMatch(/Bearer realm="[^"]+"/);
      expect(challenge).toMatch(/Basic realm="[^"]+"/);
      expect(challenge).not.toContain('error=');
    });
  });

  it('honours JWT_ISSUER and JWT_AUDIENCE (and starts with NODE_ENV=production when every secret is set)', async () => {
    const issuer = 'https://id.example.test';
    const audience = 'orders-api';
    const custom = startDemo({
      HTTP_ADAPTER: adapter,
      PORT: '0',
      NODE_ENV: 'production',
      JWT_SECRET,
      DEMO_API_KEY,
      JWT_ISSUER: issuer,
      JWT_AUDIENCE: audience,
    });
    try {
      const customApi = request((await custom.ready()).url);
      const loginRes = await customApi.post('/auth/login').send({ username: 'bob', password: 'bob-password' });
      expect(loginRes).toHaveStatus(200, custom);
      const claims = jwt.verify((loginRes.body as { access_token: string }).access_token, JWT_SECRET) as jwt.JwtPayload;
      expect(claims).toMatchObject({ sub: 'bob', iss: issuer, aud: audience });

      const accepted = await customApi.get('/me').set('Authorization', `Bearer ${mintToken({}, { issuer, audience })}`);
      expect(accepted).toHaveStatus(200, custom);
      expect(accepted.body).toEqual(CAROL);

      const defaults = await customApi.get('/me').set('Authorization', `Bearer ${mintToken({})}`);
      expect(defaults).toBeJsonError(401, custom);
      const wrongAudience = await customApi.get('/me').set('Authorization', `Bearer ${mintToken({}, { issuer, audience: DEFAULT_AUDIENCE })}`);
      expect(wrongAudience).toBeJsonError(401, custom);
      const wrongIssuer = await customApi.get('/me').set('Authorization', `Bearer ${mintToken({}, { issuer: DEFAULT_ISSUER, audience })}`);
      expect(wrongIssuer).toBeJsonError(401, custom);
    } finally {
      await custom.kill();
    }
  });

  it('warns when JWT_SECRET is unset, and exits within 5 s of SIGTERM', async () => {
    const defaults = startDemo({ HTTP_ADAPTER: adapter, PORT: '0' });
    const { url } = await defaults.ready();
    expect(`${defaults.stdout}${defaults.stderr}`).toMatch(/JWT_SECRET/);
    // An idle keep-alive connection must not hold the shutdown up.
    const keepAlive = new Agent({ keepAlive: true });
    try {
      const res = await request(url).get('/health').agent(keepAlive);
      expect(res).toHaveStatus(200, defaults);
      expect(res.headers['connection']).toBe('keep-alive');

      defaults.signal('SIGTERM');
      await expect(defaults).toExitWithin(5_000, 'SIGTERM');
    } finally {
      keepAlive.destroy();
    }
  });

  it('refuses to start with NODE_ENV=production and no JWT_SECRET, naming JWT_SECRET', async () => {
    const refused = startDemo({ HTTP_ADAPTER: adapter, PORT: '0', NODE_ENV: 'production', DEMO_API_KEY });
    await refused.exited;
    expect(refused).toHaveRefusedToStart('JWT_SECRET');
  });
});

describe('demo configuration', () => {
  it('refuses HTTP_ADAPTER=bogus at startup, naming HTTP_ADAPTER', async () => {
    const refused = startDemo({ HTTP_ADAPTER: 'bogus', PORT: '0', JWT_SECRET, DEMO_API_KEY });
    await refused.exited;
    expect(refused).toHaveRefusedToStart('HTTP_ADAPTER');
  });

  it.each(['0', '65536', '8443x', '-1'])('refuses HTTPS_PORT=%s at startup, naming HTTPS_PORT and its range', async (value) => {
    const refused = startDemo({ HTTPS_PORT: value, PORT: '0', JWT_SECRET, DEMO_API_KEY });
    await refused.exited;
    expect(refused).toHaveRefusedToStart('HTTPS_PORT');
    expect(refused.stderr).toContain(`HTTPS_PORT is ${JSON.stringify(value)}; expected an integer between 1 and 65535.`);
  });
});
