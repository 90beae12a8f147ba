import { metrics, type Counter } from '@opentelemetry/api';
import type { SecurityEvent } from './security-event.interface.js';

/**
 * OpenTelemetry counters (a no-op until the application installs an SDK): authentication
 * failures by scheme, reason and route; denials by reason and route; rate-limited requests by tier
 * and route; detected attacks by pattern. Instruments are created on first use, so an SDK
 * installed before the first request is picked up.
 * @internal
 */
export class SecurityMetrics {
  private counters: { failures: Counter; denials: Counter; limited: Counter; attacks: Counter } | undefined;

  record(event: SecurityEvent): void {
    const c = (this.counters ??= this.create());
    const route = event.route ?? 'unknown';
    switch (event.type) {
      case 'authentication.failed':
        c.failures.add(1, { scheme: event.scheme ?? 'none', reason: event.reason, route });
        break;
      case 'access.denied':
        c.denials.add(1, { reason: event.reason, route });
        break;
      case 'rate.limited':
        c.limited.add(1, { tier: event.tier, route });
        break;
      case 'attack.detected':
        c.attacks.add(1, { pattern: event.pattern });
        break;
      default:
        break;
    }
  }

  private create(): { failures: Counter; denials: Counter; limited: Counter; attacks: Counter } {
    const meter = metrics.getMeter('@palisade/nest');
    return {
      failures: meter.createCounter('palisade.authentication.failures', { description: 'Failed authentications' }),
      denials: meter.createCounter('palisade.access.denied', { description: 'Authorization denials (403)' }),
      limited: meter.createCounter('palisade.rate_limited', { description: 'Requests refused with 429' }),
      attacks: meter.createCounter('palisade.attacks.detected', { description: 'Attack patterns detected' }),
    };
  }
}
