import { Logger } from '@nestjs/common';
import type { SecurityEvent, SecurityEventHandler } from './security-event.interface.js';

/**
 * The default sink: one JSON line per event through Nest's `Logger`, rate-limited (a token bucket
 * of `maxPerSecond`) so an attack cannot flood the logs; when lines were dropped, the next line
 * written is a summary with the count.
 * @internal
 */
export class LogSink implements SecurityEventHandler {
  private readonly logger = new Logger('PalisadeSecurity');
  private tokens: number;
  private last: number;
  private dropped = 0;

  constructor(
    private readonly maxPerSecond: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = maxPerSecond;
    this.last = now();
  }

  handle(event: SecurityEvent): void {
    const now = this.now();
    this.tokens = Math.min(this.maxPerSecond, this.tokens + ((now - this.last) / 1000) * this.maxPerSecond);
    this.last = now;
    if (this.tokens < 1) {
      this.dropped += 1;
      return;
    }
    if (this.dropped > 0) {
      if (this.tokens < 2) {
        this.dropped += 1;
        return;
      }
      this.tokens -= 1;
      this.logger.warn(JSON.stringify({ type: 'log.dropped', time: new Date(now).toISOString(), dropped: this.dropped }));
      this.dropped = 0;
    }
    this.tokens -= 1;
    const line = JSON.stringify(event);
    if (event.severity === 'info') this.logger.log(line);
    else if (event.severity === 'warning') this.logger.warn(line);
    else this.logger.error(line);
  }
}
