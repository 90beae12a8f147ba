import { Logger, type LoggerService } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LogSink } from './log.sink.js';
import type { SecurityEvent } from './security-event.interface.js';
import { RecordingLogger } from '../../../../test/support/recording-logger.js';

/** A clock the test moves by hand (the sink reads time only through it). */
function manualClock(start = 1_700_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

/** The recorded lines parsed as JSON. */
function parsed(recorder: RecordingLogger): Record<string, unknown>[] {
  return recorder.lines.map((line) => JSON.parse(line.message) as Record<string, unknown>);
}

const failure = (n: number): SecurityEvent => ({
  type: 'authentication.failed',
  reason: 'invalid',
  severity: 'info',
  time: new Date(1_700_000_000_000).toISOString(),
  requestId: `req-${n}`,
});

const dropped = (recorder: RecordingLogger): number[] =>
  parsed(recorder)
    .filter((line) => line.type === 'log.dropped')
    .map((line) => line.dropped as number);

describe('LogSink (token buckets, injected clock)', () => {
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

  it('writes one JSON line per event, context PalisadeSecurity, at the level of its severity', () => {
    const sink = new LogSink(10, manualClock().now);
    const events: SecurityEvent[] = [
      failure(1),
      { type: 'rate.limited', tier: 'default', severity: 'warning', time: '2023-11-14T22:13:20.000Z' },
      { type: 'attack.detected', pattern: 'brute-force', count: 20, windowMs: 300_000, severity: 'critical', time: '2023-11-14T22:13:20.000Z' },
    ];
    for (const event of events) sink.handle(event);
    expect(recorder.lines.map((line) => [line.level, line.context])).toEqual([
      ['log', 'PalisadeSecurity'],
      ['warn', 'PalisadeSecurity'],
      ['error', 'PalisadeSecurity'],
    ]);
    expect(parsed(recorder)).toEqual(events);
  });

  it('writes at most maxPerSecond lines for a burst in one instant, however large', () => {
    const sink = new LogSink(5, manualClock().now);
    for (let i = 0; i < 10_000; i++) sink.handle(failure(i));
    expect(recorder.lines).toHaveLength(5);
    expect(parsed(recorder).map((line) => line.requestId)).toEqual(['req-0', 'req-1', 'req-2', 'req-3', 'req-4']);
  });

  it("once a second has passed, writes a 'log.dropped' summary with the exact count per type (warn, with the time), then the event", () => {
    const clock = manualClock();
    const sink = new LogSink(5, clock.now);
    for (let i = 0; i < 50; i++) sink.handle(failure(i));
    for (let i = 0; i < 3; i++) sink.handle({ type: 'rate.limited', tier: 'default', severity: 'warning', time: '2023-11-14T22:13:20.000Z' });
    clock.advance(1_000);
    sink.handle(failure(50));
    expect(recorder.lines.slice(5).map((line) => [line.level, JSON.parse(line.message) as unknown])).toEqual([
      ['warn', { type: 'log.dropped', time: new Date(clock.now()).toISOString(), dropped: 48, byType: { 'authentication.failed': 45, 'rate.limited': 3 } }],
      ['log', failure(50)],
    ]);
    // The count was reported: the next dropped run starts from zero.
    for (let i = 51; i < 60; i++) sink.handle(failure(i));
    clock.advance(1_000);
    sink.handle(failure(60));
    expect(dropped(recorder)).toEqual([48, 5]);
  });

  it('reports at most once a second: drops within the second after a report wait for the next one', () => {
    const clock = manualClock();
    const sink = new LogSink(2, clock.now);
    for (let i = 0; i < 5; i++) sink.handle(failure(i)); // 2 written, 3 dropped
    clock.advance(1_000);
    for (let i = 5; i < 10; i++) sink.handle(failure(i)); // report (3), 2 written, 3 dropped
    clock.advance(500);
    sink.handle(failure(10)); // 1 token: written; no report yet
    expect(dropped(recorder)).toEqual([3]);
    clock.advance(500);
    sink.handle(failure(11));
    expect(dropped(recorder)).toEqual([3, 3]);
  });

  it('a flood of routine events never drops critical or revocation events, which have a bounded budget of their own', () => {
    const clock = manualClock();
    const sink = new LogSink(50, clock.now);
    const reused: SecurityEvent = { type: 'refresh-token.reused', familyFingerprint: 'f', severity: 'critical', time: '2023-11-14T22:13:20.000Z' };
    const attack: SecurityEvent = {
      type: 'attack.detected',
      pattern: 'brute-force',
      count: 20,
      windowMs: 300_000,
      severity: 'critical',
      time: '2023-11-14T22:13:20.000Z',
    };
    const revoked: SecurityEvent = { type: 'token.revoked', what: 'family', severity: 'info', time: '2023-11-14T22:13:20.000Z' };
    // 3,000 anonymous failures in one second, the priority events in the middle of them.
    for (let i = 0; i < 3_000; i++) {
      sink.handle(failure(i));
      if (i === 1_500) for (const event of [reused, attack, revoked]) sink.handle(event);
    }
    const types = parsed(recorder).map((line) => line.type);
    expect(types.filter((type) => type === 'authentication.failed')).toHaveLength(50);
    expect(parsed(recorder).filter((line) => line.type !== 'authentication.failed')).toEqual([reused, attack, revoked]);
    // A flood of critical events is bounded too: maxPerSecond priority lines a second.
    for (let i = 0; i < 1_000; i++) sink.handle(attack);
    expect(parsed(recorder).filter((line) => line.type !== 'authentication.failed')).toHaveLength(50);
    clock.advance(1_000);
    sink.handle(failure(3_000));
    expect(parsed(recorder).filter((line) => line.type === 'log.dropped')).toEqual([
      {
        type: 'log.dropped',
        time: new Date(clock.now()).toISOString(),
        dropped: 2_950 + 953,
        byType: { 'authentication.failed': 2_950, 'attack.detected': 953 },
      },
    ]);
  });

  it('reports a dropped run even when no event follows (a timer, read through the clock), once', () => {
    vi.useFakeTimers({ now: 1_700_000_000_000 });
    try {
      const sink = new LogSink(5);
      for (let i = 0; i < 20; i++) sink.handle(failure(i));
      vi.advanceTimersByTime(999);
      expect(dropped(recorder)).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(parsed(recorder).at(-1)).toEqual({
        type: 'log.dropped',
        time: new Date(Date.now()).toISOString(),
        dropped: 15,
        byType: { 'authentication.failed': 15 },
      });
      vi.advanceTimersByTime(10_000);
      expect(dropped(recorder)).toEqual([15]);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('caps the bucket at maxPerSecond: a long idle period does not buy a larger burst', () => {
    const clock = manualClock();
    const sink = new LogSink(5, clock.now);
    clock.advance(3_600_000);
    for (let i = 0; i < 100; i++) sink.handle(failure(i));
    expect(recorder.lines).toHaveLength(5);
  });

  it('under a sustained flood stays within maxPerSecond × (1 + seconds) event lines plus one report a second, and accounts for every event', () => {
    const clock = manualClock();
    const maxPerSecond = 5;
    const sink = new LogSink(maxPerSecond, clock.now);
    const seconds = 10;
    let sent = 0;
    // 1,000 events a second, one every millisecond.
    for (let ms = 0; ms < seconds * 1_000; ms++) {
      sink.handle(failure(sent++));
      clock.advance(1);
    }
    const eventLines = parsed(recorder).filter((line) => line.type === 'authentication.failed').length;
    expect(eventLines).toBeLessThanOrEqual(maxPerSecond * (1 + seconds));
    expect(eventLines).toBeGreaterThanOrEqual(maxPerSecond * seconds);
    expect(dropped(recorder).length).toBeLessThanOrEqual(seconds);
    expect(dropped(recorder).length).toBeGreaterThanOrEqual(seconds - 1);
    // Flush the last dropped run, then: written events + reported drops = every event.
    clock.advance(1_000);
    sink.handle(failure(sent++));
    const written = parsed(recorder).filter((line) => line.type === 'authentication.failed').length;
    expect(written + dropped(recorder).reduce((a, b) => a + b, 0)).toBe(sent);
  });

  it('never drops anything below the rate', () => {
    const clock = manualClock();
    const sink = new LogSink(5, clock.now);
    for (let i = 0; i < 100; i++) {
      sink.handle(failure(i));
      clock.advance(200);
    }
    expect(recorder.lines).toHaveLength(100);
    expect(dropped(recorder)).toEqual([]);
  });
});
