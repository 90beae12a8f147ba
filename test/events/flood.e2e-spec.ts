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
const LOGINS = 50;
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

  it('keeps the log within its budget: exactly maxPerSecond lines for the whole instant of the flood', () => {
    const emitted = sink().events.length;
    expect(emitted).toBe(LOGINS + BASIC_FAILURES + 2);
    const lines = securityLines();
    expect(lines).toHaveLength(5);
    // The lines written are the first events, one JSON object each, in order.
    expect(lines.map((line) => JSON.parse(line.message) as unknown)).toEqual(sink().events.slice(0, 5));
    expect(lines.every((line) => line.level === 'log')).toBe(true);
  });

  it("once the bucket refills, writes one 'log.dropped' line with the exact count, then the new event", async () => {
    const droppedSoFar = sink().events.length - 5;
    const before = securityLines().length;
    vi.setSystemTime(START + 1_000);
    const res = await failedLogin(ctx.app, 'after-the-flood');
    expect(res.status).toBe(401);
    const added = securityLines().slice(before);
    expect(added.map((line) => [line.level, JSON.parse(line.message) as unknown])).toEqual([
      ['warn', { type: 'log.dropped', time: new Date(START + 1_000).toISOString(), dropped: droppedSoFar }],
      ['log', expect.objectContaining({ type: 'authentication.failed', requestId: res.headers['x-request-id'], route: 'POST /auth/login' })],
    ]);
    // Over the whole test: at most maxPerSecond lines per second elapsed, plus the initial burst.
    expect(securityLines().length).toBeLessThanOrEqual(5 * (1 + 1));
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
