import { createHmac } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, Reflector } from '@nestjs/core';
import type { Principal } from '../auth/principal.interface.js';
import type { HttpRequestLike } from '../common/http-context.js';
import { TrustedProxy } from '../common/trusted-proxy.js';
import { EVENTS_OPTIONS, INSECURE_SETTINGS, type InsecureSetting } from './events.constants.js';
import type { NormalizedEventsOptions } from './events-options.normalizer.js';
import { requestIdOf } from '../common/request-id.js';
import { AttackDetector } from './attack.detector.js';
import { LogSink } from './log.sink.js';
import type { SecurityEvent, SecurityEventHandler, SecurityEventInput } from './security-event.interface.js';
import { SecurityEventSink } from './security-event-sink.decorator.js';
import { SecurityMetrics } from './security-metrics.js';

const DEFAULT_SEVERITY: Readonly<Record<SecurityEvent['type'], SecurityEvent['severity']>> = {
  'authentication.failed': 'info',
  'access.denied': 'info',
  'rate.limited': 'warning',
  'attack.detected': 'critical',
  'refresh-token.reused': 'critical',
  'token.revoked': 'info',
  'store.unavailable': 'critical',
  'store.recovered': 'info',
  'jwks.fetch.failed': 'warning',
  'jwks.fetch.recovered': 'info',
  'configuration.insecure': 'warning',
  'headers.write-failed': 'critical',
};

function routeOf(request: HttpRequestLike): string {
  const method = (request.method as string | undefined) ?? (request.raw?.method as string | undefined) ?? 'GET';
  const expressRoute = (request.route as { path?: unknown } | undefined)?.path;
  const fastifyRoute = (request.routeOptions as { url?: unknown } | undefined)?.url;
  const pattern =
    typeof expressRoute === 'string'
      ? `${(request.baseUrl as string | undefined) ?? ''}${expressRoute}`
      : typeof fastifyRoute === 'string'
        ? fastifyRoute
        : undefined;
  const url = pattern ?? ((request.url as string | undefined) ?? request.raw?.url ?? '/').split('?')[0];
  return `${method} ${url}`;
}

/**
 * The security event stream: fills in the time, request id, client IP (trusted-proxy model),
 * principal and route, counts the event in OpenTelemetry, runs the attack detector, and hands the
 * event to every sink — the default log sink and each provider marked `@SecurityEventSink()`.
 * A sink that throws is reported once and never breaks a request.
 *
 * @example
 * constructor(events: SecurityEvents) { events.subscribe((e) => e.type === 'attack.detected' && alert(e)); }
 */
@Injectable()
export class SecurityEvents implements OnModuleInit, OnApplicationBootstrap {
  private readonly logger = new Logger('PalisadeSecurity');
  private readonly sinks: SecurityEventHandler[] = [];
  private readonly failingSinks = new WeakSet<SecurityEventHandler>();
  private readonly metrics = new SecurityMetrics();
  private readonly detector: AttackDetector | undefined;

  constructor(
    @Inject(EVENTS_OPTIONS) private readonly events: NormalizedEventsOptions,
    @Inject(INSECURE_SETTINGS) private readonly warnings: readonly InsecureSetting[],
    private readonly proxy: TrustedProxy,
    private readonly discovery: DiscoveryService,
    private readonly reflector: Reflector,
  ) {
    if (events.logPerSecond !== undefined) this.sinks.push(new LogSink(events.logPerSecond));
    this.detector = events.detection ? new AttackDetector(events.detection) : undefined;
  }

  /** Waits for the OpenTelemetry API lookup, so the very first request is counted. */
  async onModuleInit(): Promise<void> {
    await this.metrics.ready;
  }

  onApplicationBootstrap(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Partial<SecurityEventHandler> | undefined;
      const type = wrapper.metatype;
      if (!instance || typeof type !== 'function' || typeof instance.handle !== 'function') continue;
      if (this.reflector.get(SecurityEventSink, type) === true && !this.sinks.includes(instance as SecurityEventHandler)) {
        this.sinks.push(instance as SecurityEventHandler);
      }
    }
    for (const warning of this.warnings) this.emit({ type: 'configuration.insecure', option: warning.option, message: warning.message });
  }

  /** Adds a handler; returns a function that removes it. */
  subscribe(handler: SecurityEventHandler | SecurityEventHandler['handle']): () => void {
    const sink = typeof handler === 'function' ? { handle: handler } : handler;
    this.sinks.push(sink);
    return () => {
      const index = this.sinks.indexOf(sink);
      if (index >= 0) this.sinks.splice(index, 1);
    };
  }

  /** Keyed, short fingerprint of a credential or identifier: groups attempts, reveals nothing. */
  fingerprint(value: string): string {
    return createHmac('sha256', this.events.fingerprintKey).update(value, 'utf8').digest('base64url').slice(0, 16);
  }

  /** The request id of `request` (from a trusted proxy's `X-Request-Id`, else generated). */
  requestId(request: HttpRequestLike): string {
    return requestIdOf(request, this.proxy);
  }

  /** Emits an event; `request` supplies the request fields. */
  emit(input: SecurityEventInput, request?: HttpRequestLike): void {
    const fields: Record<string, unknown> = { ...input, time: new Date().toISOString(), severity: input.severity ?? DEFAULT_SEVERITY[input.type] };
    if (request) {
      fields.requestId = requestIdOf(request, this.proxy);
      fields.clientIp = this.proxy.clientIp(request);
      fields.route = routeOf(request);
      const user = request.user as Principal | undefined;
      if (fields.principalId === undefined && user && typeof user.id === 'string') fields.principalId = user.id;
    }
    const event = fields as unknown as SecurityEvent;
    this.dispatch(event);
    const alert = this.detector?.observe(event);
    if (alert) this.dispatch({ ...alert, time: event.time, severity: 'critical' } as SecurityEvent);
  }

  private dispatch(event: SecurityEvent): void {
    this.metrics.record(event);
    for (const sink of this.sinks) {
      try {
        const result = sink.handle(event);
        if (result instanceof Promise) result.catch((error: unknown) => this.sinkFailed(sink, error));
      } catch (error) {
        this.sinkFailed(sink, error);
      }
    }
  }

  private sinkFailed(sink: SecurityEventHandler, error: unknown): void {
    if (this.failingSinks.has(sink)) return;
    this.failingSinks.add(sink);
    this.logger.error(
      `A security event sink failed (${error instanceof Error ? error.message : String(error)}); further failures of this sink are not reported.`,
    );
  }
}
