import { Logger } from '@nestjs/common';
import type { SecurityEvent, SecurityEventHandler } from './security-event.interface.js';

/**
 * Events any anonymous request can cause at will (a flood produces thousands a second): they share
 * the routine budget. Every other event — critical ones, revocations, store outages, configuration
 * warnings — has a budget of its own, so a flood of routine events never drops them.
 */
const ROUTINE: ReadonlySet<string> = new Set<SecurityEvent['type']>(['authentication.failed', 'access.denied', 'rate.limited']);

/** How often, at most, the sink reports what it dropped (ms). */
const SUMMARY_INTERVAL_MS = 1_000;

/** A token bucket of `rate` tokens a second, holding at most `rate`. */
class Bucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    now: number,
  ) {
    this.tokens = rate;
    this.last = now;
  }

  /** Takes a token if there is one. */
  take(now: number): boolean {
    this.tokens = Math.min(this.rate, this.tokens + (Math.max(0, now - this.last) / 1000) * this.rate);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/**
 * The default sink: one JSON line per event through Nest's `Logger`, rate-limited so an attack
 * cannot flood the logs, with two budgets of `maxPerSecond` lines each (token buckets):
 *
 * - routine events (`authentication.failed`, `access.denied`, `rate.limited`) share one;
 * - every other event (and any event of severity `critical`) has the other: a flood of routine
 *   events never drops an `attack.detected`, a `refresh-token.reused` or a `token.revoked`, and
 *   priority events cannot flood the log either (at most `maxPerSecond` a second of them).
 *
 * Dropped events are counted per type and reported in one `warn` line,
 * `{ type: 'log.dropped', time, dropped, byType: { 'authentication.failed': 2950, … } }`, a second
 * after the first drop not yet reported (so at most once a second): with the next event, or by a
 * timer (one at most, unreferenced) when no event comes.
 * @internal
 */
export class LogSink implements SecurityEventHandler {
  private readonly logger = new Logger('PalisadeSecurity');
  private readonly routine: Bucket;
  private readonly priority: Bucket;
  private readonly droppedByType = new Map<string, number>();
  private dropped = 0;
  /** When the first event not yet reported was dropped (epoch ms). */
  private droppingSince = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    maxPerSecond: number,
    private readonly now: () => number = Date.now,
  ) {
    const start = now();
    this.routine = new Bucket(maxPerSecond, start);
    this.priority = new Bucket(maxPerSecond, start);
  }

  handle(event: SecurityEvent): void {
    const now = this.now();
    if (this.dropped > 0 && now - this.droppingSince >= SUMMARY_INTERVAL_MS) this.report(now);
    const bucket = event.severity !== 'critical' && ROUTINE.has(event.type) ? this.routine : this.priority;
    if (!bucket.take(now)) {
      if (this.dropped === 0) this.droppingSince = now;
      this.dropped += 1;
      this.droppedByType.set(event.type, (this.droppedByType.get(event.type) ?? 0) + 1);
      this.scheduleReport(now);
      return;
    }
    const line = JSON.stringify(event);
    if (event.severity === 'info') this.logger.log(line);
    else if (event.severity === 'warning') this.logger.warn(line);
    else this.logger.error(line);
  }

  /** A timer for the report, in case no event comes to carry it (reads the time through `now`). */
  private scheduleReport(now: number): void {
    if (this.timer !== undefined) return;
    const wait = Math.max(1, SUMMARY_INTERVAL_MS - (now - this.droppingSince));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.dropped === 0) return;
      const at = this.now();
      if (at - this.droppingSince >= SUMMARY_INTERVAL_MS) this.report(at);
      else this.scheduleReport(at);
    }, wait);
    this.timer.unref?.();
  }

  private report(now: number): void {
    this.logger.warn(
      JSON.stringify({ type: 'log.dropped', time: new Date(now).toISOString(), dropped: this.dropped, byType: Object.fromEntries(this.droppedByType) }),
    );
    this.dropped = 0;
    this.droppedByType.clear();
  }
}
