import { Controller, Get } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { PalisadeModule, Public, SkipThrottle, type ThrottleOptions } from '@palisade/nest';
import { ADAPTERS } from '../support/app.js';
import type { BootedApp } from '../support/auth.js';
import {
  baseUrl,
  expectRetryAfter,
  get,
  headerNames,
  headerValues,
  inSequence,
  statusesOf,
  TOO_MANY_REQUESTS,
  useFreshApp,
  type PlainResponse,
} from '../support/throttle.js';

const LIMIT = 3;

@Controller()
@Public()
class LimitedController {
  @Get('limited') limited() {
    return { ok: true };
  }

  @Get('free') @SkipThrottle() free() {
    return { ok: true };
  }
}

function headersApp(throttle: Partial<ThrottleOptions>) {
  return () => ({
    imports: [
      PalisadeModule.forRoot({
        throttle: { throttlers: [{ name: 'default', limit: LIMIT, ttl: '1m' }], ...throttle },
        global: true,
      }),
    ],
    controllers: [LimitedController],
  });
}

/** LIMIT + 1 requests to /limited, read with the raw header list (to count repeated headers). */
function exhaust(ctx: BootedApp, path = '/limited'): Promise<PlainResponse[]> {
  return inSequence(LIMIT + 1, () => get(`${baseUrl(ctx.app)}${path}`));
}

/** `"default";r=<remaining>;t=<seconds>` parsed, or undefined. */
function parseRateLimit(value: unknown): { name: string; r: number; t: number } | undefined {
  const match = typeof value === 'string' ? /^"([^"]+)";r=(\d+);t=(\d+)$/.exec(value) : null;
  return match ? { name: match[1] as string, r: Number(match[2]), t: Number(match[3]) } : undefined;
}

const RATE_LIMIT_HEADERS: ReadonlySet<string> = new Set(['ratelimit', 'ratelimit-policy', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset']);

describe.each(ADAPTERS)('rate-limit headers on %s', (adapter) => {
  describe("headers: 'ietf' (default)", () => {
    const ctx = useFreshApp(adapter, headersApp({}));

    it('sends RateLimit-Policy and RateLimit with exact values on allowed responses', async () => {
      const [first, second, third] = await exhaust(ctx);
      expect(first?.status).toBe(200);
      expect(headerValues(first?.rawHeaders ?? [], 'RateLimit-Policy')).toEqual([`"default";q=${LIMIT};w=60`]);
      // The first hit opens the window: its full length remains.
      expect(headerValues(first?.rawHeaders ?? [], 'RateLimit')).toEqual([`"default";r=${LIMIT - 1};t=60`]);
      for (const [response, remaining] of [
        [second, LIMIT - 2],
        [third, LIMIT - 3],
      ] as const) {
        expect(response?.status).toBe(200);
        expect(response?.headers['ratelimit-policy']).toBe(`"default";q=${LIMIT};w=60`);
        const state = parseRateLimit(response?.headers['ratelimit']);
        expect(state).toMatchObject({ name: 'default', r: remaining });
        expect(state?.t).toBeGreaterThan(0);
        // At r=0, t is when a request passes: 60.001 s after the first (61 if all fell in one ms).
        expect(state?.t).toBeLessThanOrEqual(remaining === 0 ? 61 : 60);
      }
    });

    it('sends no legacy X-RateLimit-* headers', async () => {
      const [first] = await exhaust(ctx);
      expect(headerNames(first?.rawHeaders ?? []).filter((name) => name.startsWith('x-ratelimit'))).toEqual([]);
    });

    it('answers the request over the limit with 429, the stable JSON body and exactly one Retry-After', async () => {
      const over = (await exhaust(ctx)).at(-1) as PlainResponse;
      expect(over.status).toBe(429);
      expect(over.body).toEqual(TOO_MANY_REQUESTS);
      expect(over.headers['content-type']).toMatch(/^application\/json/);
      const retryAfter = headerValues(over.rawHeaders, 'Retry-After');
      expect(retryAfter).toHaveLength(1);
      expectRetryAfter(retryAfter[0], 60);
      expect(headerValues(over.rawHeaders, 'RateLimit')).toHaveLength(1);
      expect(parseRateLimit(over.headers['ratelimit'])).toMatchObject({ name: 'default', r: 0 });
    });

    it('keeps answering 429 with Retry-After while blocked', async () => {
      await exhaust(ctx);
      const again = await get(`${baseUrl(ctx.app)}/limited`);
      expect(again.status).toBe(429);
      expect(again.body).toEqual(TOO_MANY_REQUESTS);
      expect(headerValues(again.rawHeaders, 'Retry-After')).toHaveLength(1);
      expectRetryAfter(again.headers['retry-after'], 60);
    });

    it('sends no rate-limit headers on a route that is not throttled', async () => {
      const free = await get(`${baseUrl(ctx.app)}/free`);
      expect(free.status).toBe(200);
      expect(headerNames(free.rawHeaders).filter((name) => RATE_LIMIT_HEADERS.has(name))).toEqual([]);
    });
  });

  describe("two non-default tiers ('burst' 3/10s, 'sustained' 10/1m)", () => {
    const ctx = useFreshApp(
      adapter,
      headersApp({
        throttlers: [
          { name: 'burst', limit: LIMIT, ttl: '10s' },
          { name: 'sustained', limit: 10, ttl: '1m' },
        ],
      }),
    );

    it('lists every tier in one RateLimit-Policy and one RateLimit header', async () => {
      const [first] = await exhaust(ctx);
      expect(headerValues(first?.rawHeaders ?? [], 'RateLimit-Policy')).toEqual([`"burst";q=${LIMIT};w=10, "sustained";q=10;w=60`]);
      expect(headerValues(first?.rawHeaders ?? [], 'RateLimit')).toEqual([`"burst";r=${LIMIT - 1};t=10, "sustained";r=9;t=60`]);
    });

    it('sends exactly one Retry-After on the 429 and no per-tier Retry-After-<name>', async () => {
      const over = (await exhaust(ctx)).at(-1) as PlainResponse;
      expect(over.status).toBe(429);
      expect(over.body).toEqual(TOO_MANY_REQUESTS);
      expect(headerValues(over.rawHeaders, 'Retry-After')).toHaveLength(1);
      expectRetryAfter(over.headers['retry-after'], 10);
      expect(headerNames(over.rawHeaders).filter((name) => name.startsWith('retry-after-'))).toEqual([]);
      expect(headerNames(over.rawHeaders).filter((name) => name.startsWith('x-ratelimit'))).toEqual([]);
    });
  });

  describe("headers: 'legacy'", () => {
    const ctx = useFreshApp(adapter, headersApp({ headers: 'legacy' }));

    it('sends X-RateLimit-Limit/-Remaining/-Reset and no RateLimit headers', async () => {
      const responses = await exhaust(ctx);
      expect(statusesOf(responses)).toEqual([200, 200, 200, 429]);
      const [first] = responses;
      expect(first?.headers['x-ratelimit-limit']).toBe(String(LIMIT));
      expect(first?.headers['x-ratelimit-remaining']).toBe(String(LIMIT - 1));
      expect(first?.headers['x-ratelimit-reset']).toBe('60');
      expect(responses[1]?.headers['x-ratelimit-remaining']).toBe(String(LIMIT - 2));
      expect(first?.headers['ratelimit']).toBeUndefined();
      expect(first?.headers['ratelimit-policy']).toBeUndefined();
    });

    it('still sends exactly one Retry-After on the 429, with the remaining at 0', async () => {
      const over = (await exhaust(ctx)).at(-1) as PlainResponse;
      expect(over.status).toBe(429);
      expect(over.body).toEqual(TOO_MANY_REQUESTS);
      expect(headerValues(over.rawHeaders, 'Retry-After')).toHaveLength(1);
      expectRetryAfter(over.headers['retry-after'], 60);
      expect(over.headers['x-ratelimit-remaining']).toBe('0');
      expect(over.headers['ratelimit']).toBeUndefined();
    });
  });

  describe("headers: 'both'", () => {
    const ctx = useFreshApp(adapter, headersApp({ headers: 'both' }));

    it('sends the IETF and the legacy headers', async () => {
      const [first] = await exhaust(ctx);
      expect(first?.headers['ratelimit-policy']).toBe(`"default";q=${LIMIT};w=60`);
      expect(first?.headers['ratelimit']).toBe(`"default";r=${LIMIT - 1};t=60`);
      expect(first?.headers['x-ratelimit-limit']).toBe(String(LIMIT));
      expect(first?.headers['x-ratelimit-remaining']).toBe(String(LIMIT - 1));
      expect(first?.headers['x-ratelimit-reset']).toBe('60');
    });
  });

  describe('headers: false', () => {
    const ctx = useFreshApp(adapter, headersApp({ headers: false }));

    it('sends no rate-limit headers, but still exactly one Retry-After on the 429', async () => {
      const responses = await exhaust(ctx);
      expect(statusesOf(responses)).toEqual([200, 200, 200, 429]);
      for (const response of responses) {
        expect(headerNames(response.rawHeaders).filter((name) => RATE_LIMIT_HEADERS.has(name))).toEqual([]);
      }
      const over = responses.at(-1) as PlainResponse;
      expect(over.body).toEqual(TOO_MANY_REQUESTS);
      expect(headerValues(over.rawHeaders, 'Retry-After')).toHaveLength(1);
      expectRetryAfter(over.headers['retry-after'], 60);
    });
  });
});
