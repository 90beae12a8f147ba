import { Logger, type LoggerService } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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

describe('LogSink (token bucket, injected clock)', () => {
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

  it("once it refills, writes a 'log.dropped' summary with the exact count (warn, with the time), then the event", () => {
    const clock = manualClock();
    const sink = new LogSink(5, clock.now);
    for (let i = 0; i < 50; i++) sink.handle(failure(i));
    clock.advance(1_000);
    sink.handle(failure(50));
    expect(recorder.lines.slice(5).map((line) => [line.level, JSON.parse(line.message) as unknown])).toEqual([
      ['warn', { type: 'log.dropped', time: new Date(clock.now()).toISOString(), dropped: 45 }],
      ['log', failure(50)],
    ]);
    // The count was reported: the next dropped run starts from zero.
    for (let i = 51; i < 60; i++) sink.handle(failure(i));
    clock.advance(1_000);
    sink.handle(failure(60));
    expect(dropped(recorder)).toEqual([45, 6]);
  });

  it('does not write the summary without room for the event after it: the event is dropped and counted instead', () => {
    const clock = manualClock();
    const sink = new LogSink(10, clock.now);
    for (let i = 0; i < 15; i++) sink.handle(failure(i));
    clock.advance(150); // 1.5 tokens: not enough for the summary and the event
    sink.handle(failure(15));
    expect(recorder.lines).toHaveLength(10);
    clock.advance(50); // 2 tokens
    sink.handle(failure(16));
    expect(recorder.lines).toHaveLength(12);
    expect(parsed(recorder).slice(10)).toEqual([{ type: 'log.dropped', time: new Date(clock.now()).toISOString(), dropped: 6 }, failure(16)]);
  });

  it('caps the bucket at maxPerSecond: a long idle period does not buy a larger burst', () => {
    const clock = manualClock();
    const sink = new LogSink(5, clock.now);
    clock.advance(3_600_000);
    for (let i = 0; i < 100; i++) sink.handle(failure(i));
    expect(recorder.lines).toHaveLength(5);
  });

  it('under a sustained flood stays within maxPerSecond × (1 + seconds) lines and accounts for every event', () => {
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
    expect(recorder.lines.length).toBeLessThanOrEqual(maxPerSecond * (1 + seconds));
    expect(recorder.lines.length).toBeGreaterThanOrEqual(maxPerSecond * seconds);
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
