import { Injectable, Logger, Optional } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { retryAfterForOutage } from '../common/store-unavailable.exception.js';
import type { StoreUnavailableEvent } from './security-event.interface.js';
import { SecurityEvents } from './security-events.service.js';

/** What a monitor says when its store goes down and comes back. @internal */
export interface StoreOutageText {
  /** Logger context, e.g. `'PalisadeThrottle'`. */
  readonly context: string;
  /** The warning logged once per outage; `reason` is the failure's message (never a secret: a client error). */
  readonly down: (reason: string) => string;
  /** The notice logged on recovery. */
  readonly up: string;
}

/**
 * The outage state of one shared store: one warning and one `store.unavailable` event per outage,
 * one notice and one `store.recovered` event on recovery. @internal
 */
export class StoreOutageMonitor {
  private readonly logger: Logger;
  private down = false;

  constructor(
    private readonly store: StoreUnavailableEvent['store'],
    private readonly policy: 'fail-open' | 'fail-closed',
    private readonly text: StoreOutageText,
    private readonly events: SecurityEvents,
  ) {
    this.logger = new Logger(text.context);
  }

  /** True while the last call to the store failed. */
  get degraded(): boolean {
    return this.down;
  }

  /** Records a failed call (logs and emits on the first failure of an outage). */
  failed(error: unknown): void {
    if (this.down) return;
    this.down = true;
    this.logger.warn(this.text.down(error instanceof Error ? error.message : String(error)));
    this.events.emit({ type: 'store.unavailable', store: this.store, policy: this.policy });
  }

  /** Records a successful call (logs and emits when it ends an outage). */
  recovered(): void {
    if (!this.down) return;
    this.down = false;
    this.logger.log(this.text.up);
    this.events.emit({ type: 'store.recovered', store: this.store });
  }
}

/**
 * Palisade's outage policy for shared stores, in one place: the monitors that log and emit once
 * per outage, and the `Retry-After: 1` that goes with every `StoreUnavailableException`.
 * @internal
 */
@Injectable()
export class StoreOutages {
  constructor(
    private readonly events: SecurityEvents,
    @Optional() private readonly adapterHost?: HttpAdapterHost,
  ) {}

  /** A monitor for one store under one policy. */
  monitor(store: StoreUnavailableEvent['store'], failOpen: boolean, text: StoreOutageText): StoreOutageMonitor {
    return new StoreOutageMonitor(store, failOpen ? 'fail-open' : 'fail-closed', text, this.events);
  }

  /**
   * Sets `Retry-After` on `response` (Express `res` or Fastify `reply`) when `error` is a store
   * outage's 503; anything else is left alone. Returns `error`, for `throw outages.annotate(…)`.
   */
  annotate(error: unknown, response: object | undefined): unknown {
    retryAfterForOutage(this.adapterHost, error, response);
    return error;
  }
}
