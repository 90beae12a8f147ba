import { Inject, Injectable, type ExecutionContext } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { parseCoarseDuration, parseDuration } from '../common/duration.js';
import { RouteResolver } from '../common/route-resolver.js';
import type { Handler } from '../common/routes.js';
import { ThrottleByMetadata, type ThrottleDiscriminator } from './throttle-by.decorator.js';
import { SkipAllThrottlersMetadata } from './throttle.decorator.js';
import { safeKeyPart } from './throttle-tracker.js';
import { THROTTLE_OPTIONS } from './throttle.constants.js';
import type { NormalizedThrottleOptions } from './throttle-options.normalizer.js';

// Metadata keys written by @nestjs/throttler's @Throttle / @SkipThrottle (suffixed by tier name).
const THROTTLER_LIMIT = 'THROTTLER:LIMIT';
const THROTTLER_TTL = 'THROTTLER:TTL';
const THROTTLER_BLOCK_DURATION = 'THROTTLER:BLOCK_DURATION';
const THROTTLER_SKIP = 'THROTTLER:SKIP';

type Resolvable = number | string | ((context: ExecutionContext) => number | string | Promise<number | string>);

/** One tier as it applies to one route. @internal */
export interface RouteTier {
  readonly name: string;
  /** Key suffix `:<route>:<tier>`. */
  readonly suffix: string;
  /** Static values (ms), or undefined when resolved per request. */
  readonly limit: number | undefined;
  readonly ttlMs: number | undefined;
  readonly blockMs: number | undefined;
  readonly dynamic: { limit?: Resolvable; ttl?: Resolvable; block?: Resolvable } | undefined;
  /** `@ThrottleBy`'s `perCaller` limit: counted per caller alone, without the discriminator. */
  readonly perCaller: boolean;
}

/** A route's throttling plan, resolved once per handler. @internal */
export interface RoutePlan {
  readonly tiers: readonly RouteTier[];
  readonly discriminator: ThrottleDiscriminator | undefined;
  /** Precomputed `RateLimit-Policy` value when every tier is static. */
  readonly policyHeader: string | undefined;
  /**
   * True when the handler or its class declares `@Throttle` (the configured default tiers alone do
   * not count): on a transport Palisade cannot judge, such a handler is refused even if `@Public()`.
   */
  readonly declared: boolean;
}

function positive(value: unknown, what: string, where: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new Error(`PalisadeModule: @Throttle() on ${where} has ${what} ${String(value)}; expected a positive number.`);
  }
  return value;
}

/** `blockDuration` may be 0: no block, hits are refused until the window has room (as in `@nestjs/throttler`). */
function blockLength(value: number, where: string): number {
  return value === 0 ? 0 : positive(value, 'blockDuration', where);
}

/** Builds a `RateLimit-Policy` item (IETF httpapi draft): `"name";q=limit;w=window-seconds`. @internal */
export function policyItem(name: string, limit: number, ttlMs: number): string {
  return `"${name}";q=${limit};w=${Math.max(1, Math.ceil(ttlMs / 1000))}`;
}

/**
 * Reads `@Throttle`, `@SkipThrottle` and `@ThrottleBy` once per handler (handler over controller,
 * as in `@nestjs/throttler`) and precomputes limits, windows and the policy header. Every route is
 * resolved at bootstrap so a bad `@Throttle` value stops the app at startup.
 * @internal
 */
@Injectable()
export class ThrottlePlanResolver extends RouteResolver<RoutePlan> {
  constructor(
    reflector: Reflector,
    discovery: DiscoveryService,
    scanner: MetadataScanner,
    @Inject(THROTTLE_OPTIONS) private readonly throttle: NormalizedThrottleOptions | undefined,
  ) {
    super(reflector, discovery, scanner);
  }

  override onApplicationBootstrap(): void {
    if (this.throttle) super.onApplicationBootstrap();
  }

  /** The handler's own decision first (a named skip, then a bare `@SkipThrottle()`), then the controller's. */
  private skipped(tier: string, handler: Handler, controller: Handler): boolean {
    for (const target of [handler, controller]) {
      const named = this.reflector.get<boolean | undefined>(THROTTLER_SKIP + tier, target);
      if (named !== undefined) return named === true;
      if (this.reflector.get(SkipAllThrottlersMetadata, target) === true) return true;
    }
    return false;
  }

  /** `@Throttle({ name: … })` naming a tier that is not configured would silently do nothing: refuse it. */
  private checkTierNames(handler: Handler, controller: Handler, where: string): void {
    const known = new Set((this.throttle?.tiers ?? []).map((t) => t.name));
    for (const target of [handler, controller]) {
      for (const key of Reflect.getMetadataKeys(target) as unknown[]) {
        if (typeof key !== 'string' || !key.startsWith(THROTTLER_LIMIT)) continue;
        const name = key.slice(THROTTLER_LIMIT.length);
        if (!known.has(name)) {
          throw new Error(
            `PalisadeModule: @Throttle() on ${where} names the tier '${name}', which is not configured; configured tiers: ${[...known].join(', ') || '(none)'}. Add it to throttle.throttlers or fix the name.`,
          );
        }
      }
    }
  }

  private read<T>(key: string, handler: Handler, controller: Handler): T | undefined {
    return this.reflector.getAllAndOverride<T | undefined>(key, [handler, controller]);
  }

  protected compute(handler: Handler, target: object, where: string): RoutePlan {
    const controller = target as Handler;
    const route = safeKeyPart(where);
    const tiers: RouteTier[] = [];
    this.checkTierNames(handler, controller, where);
    for (const tier of this.throttle?.tiers ?? []) {
      if (this.skipped(tier.name, handler, controller)) continue;
      const limit = this.read<Resolvable>(THROTTLER_LIMIT + tier.name, handler, controller);
      const ttl = this.read<Resolvable>(THROTTLER_TTL + tier.name, handler, controller);
      const block = this.read<Resolvable>(THROTTLER_BLOCK_DURATION + tier.name, handler, controller);
      const dynamic = [limit, ttl, block].some((v) => typeof v === 'function') ? { limit, ttl, block } : undefined;
      const staticMs = (value: Resolvable | undefined, fallback: number, what: string): number | undefined =>
        typeof value === 'function'
          ? undefined
          : value === undefined
            ? fallback
            : // Numbers are milliseconds: `ttl: 60` (seconds meant) is refused, as in throttle.throttlers.
              what === 'blockDuration'
              ? blockLength(parseCoarseDuration(value, `@Throttle() ${tier.name}.${what} on ${where}`), where)
              : positive(parseCoarseDuration(value, `@Throttle() ${tier.name}.${what} on ${where}`), what, where);
      const ttlMs = staticMs(ttl, tier.ttlMs, 'ttl');
      tiers.push({
        name: tier.name,
        suffix: `:${route}:${tier.name}`,
        limit: typeof limit === 'function' ? undefined : limit === undefined ? tier.limit : positive(limit, 'limit', where),
        ttlMs,
        blockMs: staticMs(block, block === undefined && ttl !== undefined && ttlMs !== undefined ? ttlMs : tier.blockMs, 'blockDuration'),
        dynamic: dynamic as RouteTier['dynamic'],
        perCaller: false,
      });
    }
    const throttleBy = this.reflector.getAllAndOverride(ThrottleByMetadata, [handler, controller]);
    const perCaller = throttleBy?.perCaller;
    if (perCaller !== undefined && tiers.length > 0) {
      const what = `@ThrottleBy() perCaller on ${where}`;
      const ttlMs = positive(parseCoarseDuration(perCaller.ttl, `${what}.ttl`), 'perCaller.ttl', where);
      const blockMs = perCaller.blockDuration === undefined ? ttlMs : blockLength(parseCoarseDuration(perCaller.blockDuration, `${what}.blockDuration`), where);
      if (!Number.isInteger(perCaller.limit) || perCaller.limit < 1) {
        throw new Error(`PalisadeModule: ${what} has limit ${String(perCaller.limit)}; expected a positive integer.`);
      }
      tiers.push({ name: 'per-caller', suffix: `:${route}:per-caller`, limit: perCaller.limit, ttlMs, blockMs, dynamic: undefined, perCaller: true });
    }
    const allStatic = tiers.every((t) => t.limit !== undefined && t.ttlMs !== undefined);
    return Object.freeze({
      tiers: Object.freeze(tiers),
      discriminator: throttleBy?.by,
      policyHeader: allStatic && tiers.length > 0 ? tiers.map((t) => policyItem(t.name, t.limit as number, t.ttlMs as number)).join(', ') : undefined,
      declared: declaresThrottle(handler, controller),
    });
  }
}

/** Resolves a per-request value of a dynamic tier. @internal */
export async function resolveValue(value: Resolvable | undefined, fallback: number, context: ExecutionContext, duration: boolean): Promise<number> {
  if (value === undefined) return fallback;
  const resolved = typeof value === 'function' ? await value(context) : value;
  return duration ? parseDuration(resolved, '@Throttle() value') : Number(resolved);
}

/**
 * True when a handler or its class declares a limit (`@Throttle`): a requirement a ThrottlerGuard
 * must enforce.
 * @internal
 */
export function declaresThrottle(handler: Handler, owner: object): boolean {
  for (const target of [handler, owner]) {
    for (const key of Reflect.getMetadataKeys(target) as unknown[]) if (typeof key === 'string' && key.startsWith(THROTTLER_LIMIT)) return true;
  }
  return false;
}
