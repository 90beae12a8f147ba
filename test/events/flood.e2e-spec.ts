/**
 * A flood of failed logins against the demo's login route (AuthController, which reports failures
 * through `AuthFailureLimiter.recordLoginFailure`) and of wrong Basic passwords: the detector
 * raises `attack.detected`, the default log sink stays within its budget and reports what it
 * dropped, and the OpenTelemetry counters, read through an in-memory reader, have the totals.
 *
 * Only `Date` is faked (timers and I/O are real): the log sink's token bucket and the detector read
 * the time through `Date.now`, so the flood happens "in one instant" and the refill is one
 * `setSystemTime` away — exact bounds, no sleeps.
 */
import { Agent } from 'node:http';
import type { INestApplication, ModuleMetadata } from '@nestjs/common';
import * as applicationOtelApi from '@opentelemetry/api';
import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { EventsOptions } from '@palisade/nest';
import { ADAPTERS, type AdapterName } from '../support/app.js';
import { bootWithLogger, CollectingSink, demoEventsModule, RecordingLogger } from '../support/events.js';
import { InMemoryMetrics, palisadeOtelApi, type OtelApiModule } from '../support/otel.js';
import { httpOf } from '../support/token-app.js';

const EVENTS: EventsOptions = { log: { maxPerSecond: 5 }, detection: { failuresPerClient: 10, usernamesPerClient: 5, window: '1m' } };
/** Failed logins from one address: the demo allows 30 a minute per address (its `perCaller` login tier), one is kept for later. */
const LOGINS = 29;
const BASIC_FAILURES = 12;
/** A client behind the (trusted, loopback) proxy, guessing alice's Basic password. */
const GUESSER_IP = '203.0.113.50';
const START = Date.parse('2031-03-04T05:06:07.000Z');

/** The demo's login and /me routes with the events options under test, trusting the loopback proxy. */
const floodModule = (): ModuleMetadata => demoEventsModule({ JWT_SECRET: 'flood-test-secret-0123456789abcdef-0123456789', TRUST_PROXY: 'loopback' }, EVENTS);

const failedLogin = (app: INestApplication, username: string): Promise<Response> =>
  httpOf(app)
    .post('/auth/login')
    .send({ username, password: `guess-for-${username}` });

const wrongBasic = (app: INestApplication, attempt: number): Promise<Response> =>
  httpOf(app)
    .get('/me')
    .set('X-Forwarded-For', GUESSER_IP)
    .set('Authorization', `Basic ${Buffer.from(`alice:guess-${attempt}`, 'utf8').toString('base64')}`);

interface Flooded {
  app: INestApplication;
  logger: RecordingLogger;
  metrics: InMemoryMetrics;
}

/** Installs the meter provider through `api`, then boots the flood app with `Date` faked. */
function useFloodApp(adapter: AdapterName, api: () => OtelApiModule): Flooded {
  const booted = { logger: new RecordingLogger() } as Flooded;
  beforeAll(async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: START });
    booted.metrics = InMemoryMetrics.install(api());
    ({ app: booted.app } = await bootWithLogger(adapter, floodModule(), booted.logger));
  });
  afterAll(async () => {
    await booted.app?.close();
    await booted.metrics?.uninstall();
    vi.useRealTimers();
  });
  return booted;
}

describe.each(ADAPTERS)('a flood of failed authentications on %s', (adapter) => {
  const ctx = useFloodApp(adapter, palisadeOtelApi);
  const sink = (): CollectingSink => ctx.app.get(CollectingSink);
  const securityLines = () => ctx.logger.linesOf('PalisadeSecurity');
  let logins: Response[] = [];
  let guesses: Response[] = [];

  it(`${LOGINS} failed logins with distinct usernames raise one credential-stuffing alert`, async () => {
    logins = await Promise.all(Array.from({ length: LOGINS }, (_, i) => failedLogin(ctx.app, `stuffed-user-${i}`)));
    expect(logins.map((r) => r.status)).toEqual(logins.map(() => 401));

    const failures = sink().ofType('authentication.failed');
    expect(failures).toHaveLength(LOGINS);
    expect(new Set(failures.map((e) => e.usernameFingerprint)).size).toBe(LOGINS);
    expect(new Set(failures.map((e) => e.requestId))).toEqual(new Set(logins.map((r) => r.headers['x-request-id'])));
    for (const event of failures) expect(event).toMatchObject({ reason: 'invalid', clientIp: '127.0.0.1', route: 'POST /auth/login' });

    const alerts = sink().ofType('attack.detected');
    expect(alerts).toEqual([
      {
        type: 'attack.detected',
        severity: 'critical',
        pattern: 'credential-stuffing',
        count: 5,
        windowMs: 60_000,
        clientIp: '127.0.0.1',
        route: 'POST /auth/login',
        requestId: expect.any(String),
        time: new Date(START).toISOString(),
      },
    ]);
    // The alert comes right after the failure that crossed the threshold, and names its request.
    const events = sink().events;
    const at = events.findIndex((e) => e.type === 'attack.detected');
    expect(events[at - 1]).toMatchObject({ type: 'authentication.failed', requestId: alerts[0]?.requestId });
  }, 60_000);

  it(`${BASIC_FAILURES} wrong Basic passwords for one user from another client raise one brute-force alert`, async () => {
    guesses = [];
    for (let i = 0; i < BASIC_FAILURES; i++) guesses.push(await wrongBasic(ctx.app, i));
    expect(guesses.map((r) => r.status)).toEqual(guesses.map(() => 401));
    const alerts = sink()
      .ofType('attack.detected')
      .filter((e) => e.clientIp === GUESSER_IP);
    expect(alerts).toEqual([
      {
        type: 'attack.detected',
        severity: 'critical',
        pattern: 'brute-force',
        count: 10,
        windowMs: 60_000,
        clientIp: GUESSER_IP,
        route: 'GET /me',
        requestId: guesses[9]?.headers['x-request-id'],
        time: new Date(START).toISOString(),
      },
    ]);
  });

  it('keeps the log within its budget: maxPerSecond routine lines for the whole instant of the flood, and every alert (a budget of their own)', () => {
    const emitted = sink().events.length;
    expect(emitted).toBe(LOGINS + BASIC_FAILURES + 2);
    const lines = securityLines();
    expect(lines).toHaveLength(5 + 2);
    // The lines written are the first routine events and both alerts, one JSON object each, in order.
    const routine = sink().events.filter((e) => e.type !== 'attack.detected');
    const alerts = sink().ofType('attack.detected');
    expect(alerts).toHaveLength(2);
    const written = lines.map((line) => JSON.parse(line.message) as { type: string });
    expect(written.filter((line) => line.type !== 'attack.detected')).toEqual(routine.slice(0, 5));
    expect(written.filter((line) => line.type === 'attack.detected')).toEqual(alerts);
    expect(lines.map((line) => line.level)).toEqual(written.map((line) => (line.type === 'attack.detected' ? 'error' : 'log')));
  });

  it("a second after the first drop, writes one 'log.dropped' line with the exact count per type, then the new event", async () => {
    const droppedSoFar = sink().events.length - 7;
    const before = securityLines().length;
    vi.setSystemTime(START + 1_000);
    const res = await failedLogin(ctx.app, 'after-the-flood');
    expect(res.status).toBe(401);
    const added = securityLines().slice(before);
    expect(added.map((line) => [line.level, JSON.parse(line.message) as unknown])).toEqual([
      ['warn', { type: 'log.dropped', time: new Date(START + 1_000).toISOString(), dropped: droppedSoFar, byType: { 'authentication.failed': droppedSoFar } }],
      ['log', expect.objectContaining({ type: 'authentication.failed', requestId: res.headers['x-request-id'], route: 'POST /auth/login' })],
    ]);
    // Over the whole test: at most maxPerSecond routine lines per second elapsed, plus the initial burst.
    expect(securityLines().filter((line) => !/"type":"(attack\.detected|log\.dropped)"/.test(line.message)).length).toBeLessThanOrEqual(5 * (1 + 1));
  });

  it('counts every failure in palisade.authentication.failures by scheme, reason and route, and the alerts in palisade.attacks.detected', async () => {
    const failures = await ctx.metrics.counter('palisade.authentication.failures');
    expect(failures).toEqual(
      expect.arrayContaining([
        { attributes: { scheme: 'none', reason: 'invalid', route: 'POST /auth/login' }, value: LOGINS + 1 },
        { attributes: { scheme: 'basic', reason: 'invalid', route: 'GET /me' }, value: BASIC_FAILURES },
      ]),
    );
    expect(failures).toHaveLength(2);
    expect(await ctx.metrics.total('palisade.authentication.failures')).toBe(sink().ofType('authentication.failed').length);

    const attacks = await ctx.metrics.counter('palisade.attacks.detected');
    expect(attacks).toEqual(
      expect.arrayContaining([
        { attributes: { pattern: 'credential-stuffing' }, value: 1 },
        { attributes: { pattern: 'brute-force' }, value: 1 },
      ]),
    );
    expect(await ctx.metrics.total('palisade.attacks.detected')).toBeGreaterThanOrEqual(1);
    expect(await ctx.metrics.total('palisade.rate_limited')).toBe(0);
  });
});

describe.each(ADAPTERS)('OpenTelemetry SDK registered through the application’s own @opentelemetry/api on %s', (adapter) => {
  const ctx = useFloodApp(adapter, () => applicationOtelApi);

  // Regression: Palisade declares @opentelemetry/api ^1.10.0 as a regular dependency, so npm
  // installs a private 1.10 copy next to the application's (1.9.x, what the SDK 2.x peer range
  // <1.10 allows). API 1.10 ignores a global registered by 1.9, and every counter is a no-op.
  it('palisade.authentication.failures counts a failed login', async () => {
    expect((await failedLogin(ctx.app, 'someone')).status).toBe(401);
    expect(await ctx.metrics.counter('palisade.authentication.failures')).toEqual([
      { attributes: { scheme: 'none', reason: 'invalid', route: 'POST /auth/login' }, value: 1 },
    ]);
  });
});

// Issue 16: 3,000 anonymous requests in a second pushed `refresh-token.reused`, `attack.detected`
// and `token.revoked` out of the log (one budget of 50 lines a second, dropped without priority).
describe.each(ADAPTERS)('a flood of anonymous requests does not drown the critical events, on %s', (adapter) => {
  const logger = new RecordingLogger();
  let app: INestApplication;
  beforeAll(async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: START });
    ({ app } = await bootWithLogger(
      adapter,
      demoEventsModule({ JWT_SECRET: 'flood-test-secret-0123456789abcdef-0123456789', THROTTLE_LIMIT: '100000' }, { log: { maxPerSecond: 50 } }),
      logger,
    ));
  });
  afterAll(async () => {
    await app?.close();
    vi.useRealTimers();
  });

  it('3,000 anonymous requests, then a refresh-token reuse: the reuse, its alert and the revocation are all logged', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 50 });
    try {
      for (let batch = 0; batch < 30; batch++) {
        const responses = await Promise.all(Array.from({ length: 100 }, () => httpOf(app).get('/me').agent(agent)));
        expect(responses.every((res) => res.status === 401)).toBe(true);
      }
    } finally {
      agent.destroy();
    }
    const login = await httpOf(app).post('/auth/login').send({ username: 'bob', password: 'bob-password' });
    const first = (login.body as { refresh_token: string }).refresh_token;
    const second = await httpOf(app).post('/auth/refresh').send({ refresh_token: first });
    expect(
      (
        await httpOf(app)
          .post('/auth/refresh')
          .send({ refresh_token: (second.body as { refresh_token: string }).refresh_token })
      ).status,
    ).toBe(200);
    expect((await httpOf(app).post('/auth/refresh').send({ refresh_token: first })).status).toBe(401);

    const written = logger.linesOf('PalisadeSecurity').map((line) => JSON.parse(line.message) as { type: string; pattern?: string; what?: string });
    expect(written.filter((line) => line.type === 'authentication.failed')).toHaveLength(50);
    expect(written.filter((line) => line.type !== 'authentication.failed').map((line) => [line.type, line.pattern ?? line.what])).toEqual([
      ['refresh-token.reused', undefined],
      ['attack.detected', 'refresh-token-reuse'],
      ['token.revoked', 'family'],
    ]);
  }, 60_000);
});
