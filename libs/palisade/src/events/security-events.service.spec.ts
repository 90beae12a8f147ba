import 'reflect-metadata';
import { Injectable, Logger, type LoggerService } from '@nestjs/common';
import { DiscoveryService, Reflector } from '@nestjs/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { normalizeAuthOptions } from '../auth/auth-options.normalizer.js';
import { normalizeTrustProxy, trustedProxyOf } from '../common/trusted-proxy.js';
import type { PalisadeModuleOptions } from '../palisade-options.interface.js';
import { insecureSettings } from '../palisade-options.normalizer.js';
import { normalizeEventsOptions } from './events-options.normalizer.js';
import type { SecurityEvent, SecurityEventHandler } from './security-event.interface.js';
import { SecurityEventSink } from './security-event-sink.decorator.js';
import { SecurityEvents } from './security-events.service.js';
import { RecordingLogger, type LogLine } from '../../../../test/support/recording-logger.js';

/** What the service reported about failing sinks: level, message and context of each line. */
function sinkFailures(recorder: RecordingLogger): Pick<LogLine, 'level' | 'message' | 'context'>[] {
  return recorder.lines
    .filter((line) => line.message.startsWith('A security event sink failed'))
    .map(({ level, message, context }) => ({ level, message, context }));
}

@SecurityEventSink()
@Injectable()
class Collecting implements SecurityEventHandler {
  readonly events: SecurityEvent[] = [];
  handle(event: SecurityEvent): void {
    this.events.push(event);
  }
}

@SecurityEventSink()
@Injectable()
class Throwing implements SecurityEventHandler {
  calls = 0;
  handle(): void {
    this.calls += 1;
    throw new Error(`sink down (call ${this.calls})`);
  }
}

@SecurityEventSink()
@Injectable()
class Rejecting implements SecurityEventHandler {
  calls = 0;
  async handle(): Promise<void> {
    this.calls += 1;
    throw new Error('queue full');
  }
}

/** Has a `handle` method but is not marked: never a sink. */
@Injectable()
class Unmarked implements SecurityEventHandler {
  readonly events: SecurityEvent[] = [];
  handle(event: SecurityEvent): void {
    this.events.push(event);
  }
}

/** A `SecurityEvents` over `providers` (as DI would list them), bootstrapped. */
function eventsWith(providers: object[], options: PalisadeModuleOptions = { events: { log: false, detection: false } }): SecurityEvents {
  const discovery = { getProviders: () => providers.map((instance) => ({ instance, metatype: instance.constructor })) } as unknown as DiscoveryService;
  const warnings = insecureSettings(normalizeAuthOptions(options.auth), undefined, undefined);
  const proxy = trustedProxyOf(normalizeTrustProxy(options.trustProxy));
  const events = new SecurityEvents(normalizeEventsOptions(options.events), warnings, proxy, discovery, new Reflector());
  events.onApplicationBootstrap();
  return events;
}

const failure = { type: 'authentication.failed', reason: 'invalid' } as const;
/** A new request-like object (its own request id) from 198.51.100.7. */
const request = () => ({ headers: {}, method: 'GET', url: '/me?x=1', socket: { remoteAddress: '198.51.100.7' } });
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('SecurityEvents', () => {
  let recorder: RecordingLogger;
  const staticLogger = Logger as unknown as { staticInstanceRef: LoggerService | undefined };
  let previous: LoggerService | undefined;

  beforeEach(() => {
    previous = staticLogger.staticInstanceRef;
    recorder = new RecordingLogger();
    Logger.overrideLogger(recorder);
  });

  afterEach(() => {
    Logger.overrideLogger(previous as LoggerService);
  });

  it('hands every event to the providers marked @SecurityEventSink(), not to unmarked ones', () => {
    const sink = new Collecting();
    const unmarked = new Unmarked();
    const events = eventsWith([sink, unmarked, { handle: () => undefined }]);
    events.emit(failure);
    expect(sink.events).toEqual([{ ...failure, severity: 'info', time: expect.any(String) }]);
    expect(unmarked.events).toEqual([]);
  });

  it('fills in the time (ISO 8601) and the default severity of each type, and keeps an explicit one', () => {
    const sink = new Collecting();
    const events = eventsWith([sink]);
    const before = Date.now();
    events.emit({ type: 'rate.limited', tier: 'default' });
    events.emit({ type: 'attack.detected', pattern: 'brute-force', count: 3, windowMs: 1_000 });
    events.emit({ type: 'access.denied', reason: 'role', severity: 'warning' });
    expect(sink.events.map((e) => e.severity)).toEqual(['warning', 'critical', 'warning']);
    for (const event of sink.events) {
      expect(new Date(event.time).toISOString()).toBe(event.time);
      expect(Date.parse(event.time)).toBeGreaterThanOrEqual(before - 1);
    }
  });

  it('emits the insecure settings as configuration.insecure events at bootstrap', () => {
    const sink = new Collecting();
    eventsWith([sink], { auth: { jwt: { secret: 'unit-test-secret-0123456789abcdef-0123' } }, events: { log: false } });
    expect(sink.events.map((e) => e.type === 'configuration.insecure' && e.option)).toEqual(['auth.jwt.issuer', 'auth.jwt.audience', 'throttle.authFailures']);
  });

  describe('a sink that throws', () => {
    it('never lets the error escape emit, and the sinks after it still get the event', () => {
      const throwing = new Throwing();
      const after = new Collecting();
      const events = eventsWith([throwing, after]);
      expect(() => events.emit(failure)).not.toThrow();
      expect(after.events).toHaveLength(1);
    });

    it('is reported once (error, context PalisadeSecurity, with the message), however often it fails', () => {
      const throwing = new Throwing();
      const events = eventsWith([throwing]);
      for (let i = 0; i < 25; i++) events.emit(failure);
      expect(throwing.calls).toBe(25);
      expect(sinkFailures(recorder)).toEqual([
        {
          level: 'error',
          message: 'A security event sink failed (sink down (call 1)); further failures of this sink are not reported.',
          context: 'PalisadeSecurity',
        },
      ]);
    });

    it('is reported once per failing sink', () => {
      const events = eventsWith([new Throwing(), new Throwing(), new Collecting()]);
      events.emit(failure);
      events.emit(failure);
      expect(sinkFailures(recorder)).toHaveLength(2);
    });

    it('keeps receiving events (it is not removed)', () => {
      const throwing = new Throwing();
      const events = eventsWith([throwing]);
      events.emit(failure);
      events.emit(failure);
      expect(throwing.calls).toBe(2);
    });
  });

  describe('a sink whose promise rejects', () => {
    it('is reported once, without an unhandled rejection, and does not hold up emit', async () => {
      const rejecting = new Rejecting();
      const after = new Collecting();
      const events = eventsWith([rejecting, after]);
      for (let i = 0; i < 5; i++) events.emit(failure);
      expect(after.events).toHaveLength(5);
      await flush();
      expect(rejecting.calls).toBe(5);
      expect(sinkFailures(recorder)).toEqual([
        { level: 'error', message: 'A security event sink failed (queue full); further failures of this sink are not reported.', context: 'PalisadeSecurity' },
      ]);
    });
  });

  describe('subscribe', () => {
    it('adds a function or a handler, and the returned function removes it', () => {
      const seen: string[] = [];
      const events = eventsWith([]);
      const off = events.subscribe((event) => {
        seen.push(`fn:${event.type}`);
      });
      const offHandler = events.subscribe({ handle: (event) => void seen.push(`handler:${event.type}`) });
      events.emit(failure);
      off();
      events.emit({ type: 'access.denied', reason: 'scope' });
      offHandler();
      events.emit(failure);
      expect(seen).toEqual(['fn:authentication.failed', 'handler:authentication.failed', 'handler:access.denied']);
    });
  });

  describe('detection', () => {
    it('dispatches the alert after the event that raised it, to every sink', () => {
      const sink = new Collecting();
      const events = eventsWith([sink], { events: { log: false, detection: { failuresPerClient: 2 } } });
      events.emit(failure, request());
      events.emit(failure, request());
      expect(sink.events.map((e) => e.type)).toEqual(['authentication.failed', 'authentication.failed', 'attack.detected']);
      expect(sink.events[2]).toMatchObject({ pattern: 'brute-force', count: 2, clientIp: '198.51.100.7', route: 'GET /me', severity: 'critical' });
      expect(sink.events[2]?.requestId).toBe(sink.events[1]?.requestId);
      expect(sink.events[1]?.requestId).not.toBe(sink.events[0]?.requestId);
    });
  });

  describe('fingerprint', () => {
    it('is a short keyed digest: stable for one key, different for another, never the value', () => {
      const key = 'a-shared-fingerprint-key-0123456789abcdef';
      const a = eventsWith([], { events: { fingerprintKey: key } });
      const b = eventsWith([], { events: { fingerprintKey: key } });
      const other = eventsWith([], { events: { fingerprintKey: `${key}-other` } });
      const value = 'secret-api-key-value';
      expect(a.fingerprint(value)).toMatch(/^[A-Za-z0-9_-]{16}$/);
      expect(a.fingerprint(value)).toBe(b.fingerprint(value));
      expect(other.fingerprint(value)).not.toBe(a.fingerprint(value));
      expect(a.fingerprint(`${value}x`)).not.toBe(a.fingerprint(value));
      expect(a.fingerprint(value)).not.toContain(value);
    });
  });
});
