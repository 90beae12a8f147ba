import { Controller, Get } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { PalisadeModule, Public, SkipThrottle, Throttle, ThrottleBy, type Duration } from '@palisade/nest';
import { ADAPTERS } from '../support/app.js';
import { inSequence, statusesOf, times, TOO_MANY_REQUESTS, useFreshApp } from '../support/throttle.js';

// ---------------------------------------------------------------- two named tiers: burst 3/10s, sustained 5/1m

@Controller('tiers')
@Public()
class TiersController {
  @Get('both') both() {
    return { ok: true };
  }

  @Get('skipped') @SkipThrottle() skipped() {
    return { ok: true };
  }

  @Get('sustained-only') @SkipThrottle({ burst: true }) sustainedOnly() {
    return { ok: true };
  }

  @Get('burst-only') @SkipThrottle({ sustained: true }) burstOnly() {
    return { ok: true };
  }

  /** burst loosened past sustained: the sustained tier is now the stricter one. */
  @Get('loose-burst') @Throttle({ burst: { limit: 10, ttl: 10_000 } }) looseBurst() {
    return { ok: true };
  }
}

@Controller('quiet')
@Public()
@SkipThrottle()
class QuietController {
  @Get() quiet() {
    return { ok: true };
  }
}

const tiersApp = () => ({
  imports: [
    PalisadeModule.forRoot({
      throttle: {
        throttlers: [
          { name: 'burst', limit: 3, ttl: '10s' },
          { name: 'sustained', limit: 5, ttl: '1m' },
        ],
      },
      global: true,
    }),
  ],
  controllers: [TiersController, QuietController],
});

// ---------------------------------------------------------------- one default tier (5/1m) with per-route overrides

@Controller('override')
@Public()
class HandlerOverrideController {
  @Get('handler') @Throttle({ default: { limit: 2, ttl: 60_000 } }) handler() {
    return { ok: true };
  }

  /**
   * `@Throttle` is typed by `@nestjs/throttler` as numbers only, although Palisade documents (and
   * parses) duration strings; the cast keeps `tsc` clean until the public type accepts `Duration`.
   */
  @Get('string-ttl') @Throttle({ default: { limit: 2, ttl: '1m' satisfies Duration as unknown as number } }) stringTtl() {
    return { ok: true };
  }

  @Get('plain') plain() {
    return { ok: true };
  }

  @Get('skipped') @SkipThrottle() skipped() {
    return { ok: true };
  }
}

@Controller('controller-override')
@Public()
@Throttle({ default: { limit: 2, ttl: 60_000 } })
class ControllerOverrideController {
  @Get('inherits') inherits() {
    return { ok: true };
  }

  @Get('own') @Throttle({ default: { limit: 4, ttl: 60_000 } }) own() {
    return { ok: true };
  }
}

@Controller('unskipped')
@Public()
@SkipThrottle()
class PartlySkippedController {
  @Get('skipped') skipped() {
    return { ok: true };
  }

  @Get('throttled') @SkipThrottle({ default: false }) throttled() {
    return { ok: true };
  }
}

@Controller('by')
@Public()
class DiscriminatedController {
  @Get() @Throttle({ default: { limit: 2, ttl: 60_000 } }) @ThrottleBy((request) => String(request.headers['x-tenant'] ?? '')) byTenant() {
    return { ok: true };
  }
}

const defaultTierApp = () => ({
  imports: [PalisadeModule.forRoot({ throttle: { throttlers: [{ name: 'default', limit: 5, ttl: '1m' }] }, global: true })],
  controllers: [HandlerOverrideController, ControllerOverrideController, PartlySkippedController, DiscriminatedController],
});

describe.each(ADAPTERS)('named tiers and per-route throttling decorators on %s', (adapter) => {
  describe("two tiers, 'burst' 3/10s and 'sustained' 5/1m", () => {
    const ctx = useFreshApp(adapter, tiersApp);

    it('applies every tier: the stricter (burst) answers 429 first', async () => {
      const responses = await inSequence(4, () => ctx.http.get('/tiers/both'));
      expect(statusesOf(responses)).toEqual([200, 200, 200, 429]);
      expect(responses[0]?.headers['ratelimit-policy']).toBe('"burst";q=3;w=10, "sustained";q=5;w=60');
      expect(responses[3]?.body).toEqual(TOO_MANY_REQUESTS);
      expect(responses[3]?.headers['ratelimit']).toMatch(/^"burst";r=0;t=\d+, "sustained";r=\d+;t=\d+$/);
    });

    it('lets the sustained tier answer 429 first once a route loosens burst', async () => {
      const responses = await inSequence(6, () => ctx.http.get('/tiers/loose-burst'));
      expect(statusesOf(responses)).toEqual([...times(5, 200), 429]);
      expect(responses[0]?.headers['ratelimit-policy']).toBe('"burst";q=10;w=10, "sustained";q=5;w=60');
      expect(responses[5]?.headers['ratelimit']).toMatch(/^"burst";r=4;t=\d+, "sustained";r=0;t=\d+$/);
    });

    it('@SkipThrottle({ burst: true }) skips that tier only: the sustained limit still holds', async () => {
      const responses = await inSequence(6, () => ctx.http.get('/tiers/sustained-only'));
      expect(statusesOf(responses)).toEqual([...times(5, 200), 429]);
      expect(responses[0]?.headers['ratelimit-policy']).toBe('"sustained";q=5;w=60');
    });

    it('@SkipThrottle({ sustained: true }) leaves only the burst tier', async () => {
      const responses = await inSequence(4, () => ctx.http.get('/tiers/burst-only'));
      expect(statusesOf(responses)).toEqual([200, 200, 200, 429]);
      expect(responses[0]?.headers['ratelimit-policy']).toBe('"burst";q=3;w=10');
    });

    it('@SkipThrottle() on a route skips every tier, whatever their names', async () => {
      const responses = await inSequence(12, () => ctx.http.get('/tiers/skipped'));
      expect(statusesOf(responses)).toEqual(times(12, 200));
      expect(responses[0]?.headers['ratelimit-policy']).toBeUndefined();
      expect(responses[0]?.headers['ratelimit']).toBeUndefined();
    });

    it('@SkipThrottle() on a controller skips every tier of its routes', async () => {
      const responses = await inSequence(12, () => ctx.http.get('/quiet'));
      expect(statusesOf(responses)).toEqual(times(12, 200));
      expect(responses[0]?.headers['ratelimit']).toBeUndefined();
    });
  });

  describe('one default tier (5/1m) with overrides', () => {
    const ctx = useFreshApp(adapter, defaultTierApp);

    it('@Throttle({ default: { limit: 2, ttl: 60000 } }) on a handler overrides the module limit', async () => {
      const responses = await inSequence(3, () => ctx.http.get('/override/handler'));
      expect(statusesOf(responses)).toEqual([200, 200, 429]);
      expect(responses[0]?.headers['ratelimit-policy']).toBe('"default";q=2;w=60');
    });

    it('leaves the other handlers of the controller on the module limit', async () => {
      const responses = await inSequence(6, () => ctx.http.get('/override/plain'));
      expect(statusesOf(responses)).toEqual([...times(5, 200), 429]);
      expect(responses[0]?.headers['ratelimit-policy']).toBe('"default";q=5;w=60');
    });

    it("@Throttle with a duration string ttl ('1m') works like 60000 ms", async () => {
      const responses = await inSequence(3, () => ctx.http.get('/override/string-ttl'));
      expect(statusesOf(responses)).toEqual([200, 200, 429]);
      expect(responses[0]?.headers['ratelimit-policy']).toBe('"default";q=2;w=60');
      // Blocked for the 1-minute ttl (61 s only if all three requests fell within one millisecond:
      // the sliding window has room 60.001 s after the first).
      expect(['60', '61']).toContain(responses[2]?.headers['retry-after']);
    });

    it('@Throttle on a controller applies to its handlers', async () => {
      const responses = await inSequence(3, () => ctx.http.get('/controller-override/inherits'));
      expect(statusesOf(responses)).toEqual([200, 200, 429]);
      expect(responses[0]?.headers['ratelimit-policy']).toBe('"default";q=2;w=60');
    });

    it("a handler's @Throttle takes precedence over its controller's", async () => {
      const responses = await inSequence(5, () => ctx.http.get('/controller-override/own'));
      expect(statusesOf(responses)).toEqual([200, 200, 200, 200, 429]);
      expect(responses[0]?.headers['ratelimit-policy']).toBe('"default";q=4;w=60');
    });

    it('@SkipThrottle() on a route of the default tier', async () => {
      const responses = await inSequence(8, () => ctx.http.get('/override/skipped'));
      expect(statusesOf(responses)).toEqual(times(8, 200));
      expect(responses[0]?.headers['ratelimit']).toBeUndefined();
    });

    it("a handler's @SkipThrottle({ default: false }) re-enables throttling under a skipped controller", async () => {
      const skipped = await inSequence(8, () => ctx.http.get('/unskipped/skipped'));
      expect(statusesOf(skipped)).toEqual(times(8, 200));
      const throttled = await inSequence(6, () => ctx.http.get('/unskipped/throttled'));
      expect(statusesOf(throttled)).toEqual([...times(5, 200), 429]);
    });

    it('@ThrottleBy: the same IP with different discriminators gets separate budgets', async () => {
      const acme = await inSequence(3, () => ctx.http.get('/by').set('X-Tenant', 'acme'));
      expect(statusesOf(acme)).toEqual([200, 200, 429]);
      const globex = await inSequence(3, () => ctx.http.get('/by').set('X-Tenant', 'globex'));
      expect(statusesOf(globex)).toEqual([200, 200, 429]);
      // The discriminator narrows the caller's budget; it does not replace the caller.
      expect((await ctx.http.get('/by').set('X-Tenant', 'acme')).status).toBe(429);
    });

    it('@ThrottleBy: an empty or odd discriminator value still counts (one shared bucket, never unlimited)', async () => {
      const none = await inSequence(3, () => ctx.http.get('/by'));
      expect(statusesOf(none)).toEqual([200, 200, 429]);
      const odd = await inSequence(3, () => ctx.http.get('/by').set('X-Tenant', '{weird} tenant/with:chars'));
      expect(statusesOf(odd)).toEqual([200, 200, 429]);
    });
  });
});
