import type { Counter, Meter } from '@opentelemetry/api';
import type { SecurityEvent } from './security-event.interface.js';

interface Counters {
  failures: Counter;
  denials: Counter;
  limited: Counter;
  attacks: Counter;
}

/**
 * OpenTelemetry counters (a no-op until the application installs an SDK): authentication
 * failures by scheme, reason and route; denials by reason and route; rate-limited requests by tier
 * and route; detected attacks by pattern. Instruments are created on first use, so an SDK
 * installed before the first request is picked up. `@opentelemetry/api` is an optional peer
 * dependency: the application's own copy is loaded when present (so its SDK is the one used);
 * without it there can be no SDK, and nothing is recorded.
 * @internal
 */
export class SecurityMetrics {
  private counters: Counters | undefined;
  private getMeter: (() => Meter) | undefined;
  /** Resolves once `@opentelemetry/api` was looked for. */
  readonly ready: Promise<void>;

  constructor() {
    this.ready = import('@opentelemetry/api').then(
      (api) => {
        this.getMeter = () => api.metrics.getMeter('@palisade/nest');
      },
      () => undefined,
    );
  }

  record(event: SecurityEvent): void {
    if (!this.getMeter) return;
    const c = (this.counters ??= this.create(this.getMeter()));
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

  private create(meter: Meter): Counters {
    return {
      failures: meter.createCounter('palisade.authentication.failures', { description: 'Failed authentications' }),
      denials: meter.createCounter('palisade.access.denied', { description: 'Authorization denials (403)' }),
      limited: meter.createCounter('palisade.rate_limited', { description: 'Requests refused with 429' }),
      attacks: meter.createCounter('palisade.attacks.detected', { description: 'Attack patterns detected' }),
    };
  }
}
