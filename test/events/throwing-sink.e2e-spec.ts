/**
 * A security event sink that throws (or whose promise rejects) never changes a response: the
 * request gets its normal 401/403/429/200, the other sinks still get every event, and each failing
 * sink is reported once in the log, however many events it failed on.
 */
import { Controller, Get, Injectable, type INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CurrentUser, PalisadeModule, Roles, SecurityEventSink, Throttle, type Principal, type SecurityEvent, type SecurityEventHandler } from '@palisade/nest';
import { ADAPTERS } from '../support/app.js';
import { CHALLENGE, MESSAGE, expectUnauthorized } from '../support/auth.js';
import { DENIED, expectForbidden } from '../support/authorization.js';
import { bootWithLogger, CollectingSink, RecordingLogger } from '../support/events.js';
import { TOO_MANY_REQUESTS } from '../support/throttle.js';
import { httpOf } from '../support/token-app.js';
import { signToken, TEST_SECRET } from '../support/tokens.js';

@SecurityEventSink()
@Injectable()
class ThrowingSink implements SecurityEventHandler {
  calls = 0;
  handle(_event: SecurityEvent): void {
    this.calls += 1;
    throw new Error('SIEM unreachable');
  }
}

@SecurityEventSink()
@Injectable()
class RejectingSink implements SecurityEventHandler {
  calls = 0;
  async handle(_event: SecurityEvent): Promise<void> {
    this.calls += 1;
    throw new Error('alert queue full');
  }
}

@Controller()
class SinkController {
  @Get('me') me(@CurrentUser() user: Principal) {
    return { id: user.id };
  }

  @Get('admin') @Roles('admin') admin() {
    return { area: 'admin' };
  }

  @Get('limited') @Throttle({ default: { limit: 1, ttl: 60_000 } }) limited() {
    return { ok: true };
  }
}

const token = (roles: string[]): string => `Bearer ${signToken({ sub: 'carol', roles })}`;

const SINK_FAILED = /^A security event sink failed \((SIEM unreachable|alert queue full)\); further failures of this sink are not reported\.$/;

describe.each(ADAPTERS)('failing security event sinks on %s', (adapter) => {
  const logger = new RecordingLogger();
  let app: INestApplication;

  beforeAll(async () => {
    ({ app } = await bootWithLogger(
      adapter,
      {
        imports: [
          PalisadeModule.forRoot({
            auth: { jwt: { secret: TEST_SECRET } },
            throttle: { throttlers: [{ name: 'default', limit: 1_000, ttl: '1m' }], authFailures: { limit: 1_000, ttl: '1m' } },
            events: { detection: false },
            global: true,
          }),
        ],
        controllers: [SinkController],
        // The failing sinks first: the collecting one after them must still see everything.
        providers: [ThrowingSink, RejectingSink, CollectingSink],
      },
      logger,
    ));
  });

  afterAll(async () => {
    await app?.close();
  });

  it('leave every response as it would be, and the other sinks get every event; each failure is reported once', async () => {
    const collecting = app.get(CollectingSink);
    collecting.clear();

    for (let round = 0; round < 3; round++) {
      expectUnauthorized(await httpOf(app).get('/me'), MESSAGE.required, CHALLENGE.bearer);
      expectForbidden(
        await httpOf(app)
          .get('/admin')
          .set('Authorization', token(['user'])),
        DENIED.role,
      );
      const ok = await httpOf(app)
        .get('/me')
        .set('Authorization', token(['user']));
      expect({ status: ok.status, body: ok.body as unknown }).toEqual({ status: 200, body: { id: 'carol' } });
    }
    const limitedToken = `Bearer ${signToken({ sub: 'dave' })}`;
    expect((await httpOf(app).get('/limited').set('Authorization', limitedToken)).status).toBe(200);
    const limited = await httpOf(app).get('/limited').set('Authorization', limitedToken);
    expect({ status: limited.status, body: limited.body as unknown }).toEqual({ status: 429, body: TOO_MANY_REQUESTS });
    expect(limited.headers['retry-after']).toMatch(/^\d+$/);

    expect(collecting.events.map((e) => e.type)).toEqual([
      ...Array.from({ length: 3 }, () => ['authentication.failed', 'access.denied']).flat(),
      'rate.limited',
    ]);
    // The failing sinks were called for every event (startup warnings included) and never removed.
    expect(app.get(ThrowingSink).calls).toBeGreaterThanOrEqual(7);
    expect(app.get(RejectingSink).calls).toBe(app.get(ThrowingSink).calls);

    await new Promise((resolve) => setImmediate(resolve));
    const reports = logger.lines.filter((line) => line.message.startsWith('A security event sink failed'));
    expect(reports.map((line) => [line.level, line.context])).toEqual([
      ['error', 'PalisadeSecurity'],
      ['error', 'PalisadeSecurity'],
    ]);
    expect(reports.map((line) => SINK_FAILED.exec(line.message)?.[1]).sort()).toEqual(['SIEM unreachable', 'alert queue full'].sort());
    // No 5xx and nothing else went wrong: no other error line was logged.
    expect(logger.lines.filter((line) => line.level === 'error' && !SINK_FAILED.test(line.message))).toEqual([]);
  });
});
