import { createHash } from 'node:crypto';
import { Inject, Injectable, type ExecutionContext } from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { InjectThrottlerOptions, InjectThrottlerStorage, ThrottlerGuard as BaseThrottlerGuard, type ThrottlerModuleOptions } from '@nestjs/throttler';
import { headerTargetOf, type HttpRequestLike } from '../common/http-context.js';
import { judgeCall, requestOf, responseOf, transportOf } from '../transport/invocation.js';
import { Authenticator } from '../auth/authenticator.service.js';
import { TrustedProxy } from '../common/trusted-proxy.js';
import { THROTTLE_OPTIONS } from './throttle.constants.js';
import type { NormalizedThrottleOptions } from './throttle-options.normalizer.js';
import { ThrottlePlanResolver, resolveValue, type RoutePlan } from './throttle-plan.resolver.js';
import type { ThrottleHit, ThrottleStore, ThrottlerStorageRecord } from './throttle-store.interface.js';
import { ThrottleStoreHolder } from './throttle-store.provider.js';
import { requestTracker } from './throttle-tracker.js';
import { ThrottledException } from './throttled.exception.js';
import { MemoryThrottleStore } from './memory-throttle.store.js';
import { retryAfterForOutage } from '../common/store-unavailable.exception.js';
import { SecurityEvents } from '../events/security-events.service.js';

/** A synchronous "allow" typed as the base class's promise (see `canActivate`). */
const ALLOW = true as unknown as Promise<boolean>;

/**
 * Rate limiting built on `@nestjs/throttler` (its options, `@Throttle`, `@SkipThrottle`, named
 * tiers and `ThrottlerStorage`), with what production needs on top:
 * - the counter key is the authenticated principal, else the client IP through the trusted-proxy
 *   model (IPv6 grouped by /64), so a spoofed `X-Forwarded-For` buys nothing;
 * - every tier of a request is counted in one store call (one Redis round trip);
 * - per-route limits are resolved once per handler, not per request;
 * - one `Retry-After` (seconds) on a 429, `RateLimit-Policy`/`RateLimit` headers (IETF draft) or the
 *   legacy `X-RateLimit-*` ones, and a stable JSON body.
 *
 * Runs after authentication (DESIGN.md's order) so it can key by principal.
 */
@Injectable()
export class ThrottlerGuard extends BaseThrottlerGuard {
  private readonly store: ThrottleStore;
  private readonly prefix: string;
  private readonly memory: MemoryThrottleStore | undefined;

  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottleStore,
    reflector: Reflector,
    private readonly plans: ThrottlePlanResolver,
    private readonly holder: ThrottleStoreHolder,
    private readonly adapterHost: HttpAdapterHost,
    @Inject(THROTTLE_OPTIONS) private readonly throttleOptions: NormalizedThrottleOptions | undefined,
    private readonly proxy: TrustedProxy,
    private readonly events: SecurityEvents,
    private readonly authenticator: Authenticator,
  ) {
    super(options, storage, reflector);
    this.store = holder.store;
    this.prefix = holder.prefix;
    this.memory = holder.store instanceof MemoryThrottleStore ? holder.store : undefined;
  }

  override async onModuleInit(): Promise<void> {
    if (this.throttleOptions) await super.onModuleInit();
  }

  /**
   * Counts the request in every tier of its route. Returns `true` synchronously when it can (the
   * in-memory store with static limits); Nest accepts a boolean or a promise from a guard, while
   * the base class declares only the promise.
   */
  override canActivate(context: ExecutionContext): Promise<boolean> {
    const transport = transportOf(context);
    if (transport === 'http') return this.limit(context);
    if (transport === undefined) {
      // A call Palisade cannot judge: public handlers that declare no limit of their own pass (the
      // configured default tiers cannot be applied without a request), the rest are refused.
      if (this.throttleOptions && this.plans.resolve(context.getHandler() as never, context.getClass()).declared) {
        return Promise.reject(this.authenticator.unsupportedCall(context));
      }
      return this.authenticator.refuseUnsupported(context) as unknown as Promise<boolean>;
    }
    return judgeCall(transport, () => this.limit(context)) as Promise<boolean>;
  }

  private limit(context: ExecutionContext): Promise<boolean> {
    if (!this.throttleOptions) return ALLOW;
    if (this.shouldSkip !== ThrottlerGuard.prototype.shouldSkip) return this.activateAsync(context, true);
    const plan = this.plans.resolve(context.getHandler() as never, context.getClass());
    if (plan.tiers.length === 0) return ALLOW;
    // In memory with static limits, counting is synchronous: no promise per request.
    if (this.memory && plan.policyHeader !== undefined) {
      const hits = this.staticHits(plan, this.headsFor(plan, requestOf(context) as HttpRequestLike));
      this.afterCount(context, plan, hits, this.memory.incrementManySync(hits));
      return ALLOW;
    }
    return this.activateAsync(context, false);
  }

  private async activateAsync(context: ExecutionContext, checkSkip: boolean): Promise<boolean> {
    if (checkSkip && (await this.shouldSkip(context))) return true;
    const plan = this.plans.resolve(context.getHandler() as never, context.getClass());
    if (plan.tiers.length === 0) return true;
    const hits = await this.hitsFor(plan, this.headsFor(plan, requestOf(context) as HttpRequestLike), context);
    const records = await this.count(hits, context);
    this.afterCount(context, plan, hits, records);
    return true;
  }

  /**
   * The key heads of a request: `<prefix>{<caller>}` and, with `@ThrottleBy`, the caller's head
   * narrowed by the discriminator's hash — outside the hash tag, so every key of one request stays
   * in one Redis Cluster slot (the `perCaller` limit counts on the plain head).
   */
  private headsFor(plan: RoutePlan, request: HttpRequestLike): { caller: string; narrowed: string } {
    const caller = `${this.prefix}{${this.trackerOf(request)}}`;
    return { caller, narrowed: plan.discriminator ? `${caller}|${this.discriminate(plan, request)}` : caller };
  }

  private staticHits(plan: RoutePlan, heads: { caller: string; narrowed: string }): ThrottleHit[] {
    const hits: ThrottleHit[] = [];
    for (const tier of plan.tiers)
      hits.push({
        key: (tier.perCaller ? heads.caller : heads.narrowed) + tier.suffix,
        limit: tier.limit as number,
        ttlMs: tier.ttlMs as number,
        blockMs: tier.blockMs as number,
      });
    return hits;
  }

  private async count(hits: readonly ThrottleHit[], context: ExecutionContext): Promise<ThrottlerStorageRecord[]> {
    try {
      return await this.store.incrementMany(hits);
    } catch (error) {
      retryAfterForOutage(this.adapterHost, error, responseOf(context));
      throw error;
    }
  }

  /** Who the request counts against. Override to key differently (e.g. by tenant). */
  protected trackerOf(request: HttpRequestLike): string {
    return requestTracker(request, this.proxy);
  }

  private discriminate(plan: RoutePlan, request: HttpRequestLike): string {
    let value: string;
    try {
      value = String((plan.discriminator as (r: HttpRequestLike) => string)(request));
    } catch {
      value = '';
    }
    return createHash('sha256').update(value, 'utf8').digest('base64url').slice(0, 22);
  }

  private async hitsFor(plan: RoutePlan, heads: { caller: string; narrowed: string }, context: ExecutionContext): Promise<ThrottleHit[]> {
    const hits: ThrottleHit[] = [];
    for (const tier of plan.tiers) {
      const head = tier.perCaller ? heads.caller : heads.narrowed;
      if (tier.dynamic === undefined) {
        hits.push({ key: head + tier.suffix, limit: tier.limit as number, ttlMs: tier.ttlMs as number, blockMs: tier.blockMs as number });
        continue;
      }
      const own = this.throttleOptions?.tiers.find((t) => t.name === tier.name);
      /* oxlint-disable no-await-in-loop -- dynamic values are rare; order is kept */
      const limit = tier.limit ?? (await resolveValue(tier.dynamic.limit, own?.limit ?? 1, context, false));
      const ttlMs = tier.ttlMs ?? (await resolveValue(tier.dynamic.ttl, own?.ttlMs ?? 1000, context, true));
      const blockMs = tier.blockMs ?? (await resolveValue(tier.dynamic.block, ttlMs, context, true));
      /* oxlint-enable no-await-in-loop */
      hits.push({ key: head + tier.suffix, limit, ttlMs, blockMs });
    }
    return hits;
  }

  /** Sets the rate-limit headers and throws the 429 when a tier is exceeded. */
  protected afterCount(context: ExecutionContext, plan: RoutePlan, hits: readonly ThrottleHit[], records: readonly ThrottlerStorageRecord[]): void {
    const throttle = this.throttleOptions;
    // Headers only where there is an HTTP response of the call's own (not under GraphQL or WebSockets).
    const raw = responseOf(context);
    const response = raw ? headerTargetOf(raw) : undefined;
    let retryAfter = 0;
    let refusedBy: string | undefined;
    let state = '';
    for (let i = 0; i < records.length; i++) {
      const record = records[i] as ThrottlerStorageRecord;
      const hit = hits[i] as ThrottleHit;
      const tier = plan.tiers[i];
      if (record.isBlocked) {
        retryAfter = Math.max(retryAfter, record.timeToBlockExpire, 1);
        refusedBy ??= tier?.name;
      }
      const remaining = record.isBlocked ? 0 : Math.max(0, hit.limit - record.totalHits);
      const reset = record.isBlocked ? Math.max(record.timeToBlockExpire, 1) : record.timeToExpire;
      if (!response) continue;
      if (throttle?.ietfHeaders) state += `${i === 0 ? '' : ', '}"${tier?.name}";r=${remaining};t=${reset}`;
      if (throttle?.legacyHeaders) {
        const suffix = tier?.name === 'default' ? '' : `-${tier?.name}`;
        response.setHeader(`X-RateLimit-Limit${suffix}`, String(hit.limit));
        response.setHeader(`X-RateLimit-Remaining${suffix}`, String(remaining));
        response.setHeader(`X-RateLimit-Reset${suffix}`, String(reset));
      }
    }
    if (throttle?.ietfHeaders && response) {
      response.setHeader(
        'RateLimit-Policy',
        plan.policyHeader ?? hits.map((h, i) => `"${plan.tiers[i]?.name}";q=${h.limit};w=${Math.max(1, Math.ceil(h.ttlMs / 1000))}`).join(', '),
      );
      response.setHeader('RateLimit', state);
    }
    if (retryAfter > 0) {
      response?.setHeader('Retry-After', String(retryAfter));
      this.events.emit({ type: 'rate.limited', tier: refusedBy ?? 'default' }, requestOf(context));
      throw new ThrottledException(undefined, retryAfter);
    }
  }
}
