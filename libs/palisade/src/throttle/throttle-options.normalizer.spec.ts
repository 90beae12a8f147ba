import { describe, expect, it } from 'vitest';
import { normalizeThrottleOptions } from './throttle-options.normalizer.js';
import type { ThrottleOptions } from './throttle-options.interface.js';

const normalize = (options: unknown) => normalizeThrottleOptions(options as ThrottleOptions);
const tier = { limit: 5, ttl: '1m' };

describe('normalizeThrottleOptions', () => {
  it('reads tiers in milliseconds, from numbers of at least 1000 and from strings', () => {
    const options = normalize({
      throttlers: [
        { limit: 5, ttl: 60_000 },
        { name: 'burst', limit: 2, ttl: '500ms', blockDuration: 1000 },
      ],
    });
    expect(options.tiers).toEqual([
      { name: 'default', limit: 5, ttlMs: 60_000, blockMs: 60_000 },
      { name: 'burst', limit: 2, ttlMs: 500, blockMs: 1000 },
    ]);
    expect(options.authFailures).toEqual({ name: 'auth-failures', limit: 10, ttlMs: 60_000, blockMs: 300_000 });
    expect(options.maxSecurityKeys).toBe(100_000);
    expect(normalize({ throttlers: [tier], maxSecurityKeys: 500 }).maxSecurityKeys).toBe(500);
  });

  it.each([
    [{ throttlers: [tier], storrage: 'memory' }, 'PalisadeModule: unknown option throttle.storrage; did you mean throttle.storage?'],
    [{ throttlers: [{ ...tier, limt: 3 }] }, 'PalisadeModule: unknown option throttle.throttlers[0].limt; did you mean throttle.throttlers[0].limit?'],
    [
      { throttlers: [tier], authFailures: { limit: 5, ttl: '1m', name: 'x' } },
      'PalisadeModule: unknown option throttle.authFailures.name. Known options of throttle.authFailures: limit, ttl, blockDuration.',
    ],
    [{ throttlers: [tier], authFailures: true }, 'PalisadeModule: throttle.authFailures is true; expected { limit, ttl, blockDuration? } or false.'],
    [{ throttlers: [tier], maxSecurityKeys: 50 }, 'PalisadeModule: throttle.maxSecurityKeys is 50; expected an integer from 100 to 100000000.'],
    [{ throttlers: [tier], storage: { redis: 'redis://x', commandTimeOut: 100 } }, 'did you mean throttle.storage.commandTimeout?'],
    [
      { throttlers: [tier], storage: { prefix: 'x:' } },
      "PalisadeModule: throttle.storage has no redis; expected 'memory', { redis: 'redis://…' | { cluster } | { sentinels, name } | ioredisClient } or { store }.",
    ],
    [
      { throttlers: [{ limit: 5, ttl: 60 }] },
      'PalisadeModule: throttle.throttlers[0].ttl is 60, which is 60 ms: numeric durations in Palisade are milliseconds',
    ],
    [{ throttlers: [{ ...tier, blockDuration: 300 }] }, 'throttle.throttlers[0].blockDuration is 300, which is 300 ms'],
    [{ throttlers: [tier], authFailures: { limit: 10, ttl: '1m', blockDuration: 300 } }, "For 300 seconds write 300_000 or '300s'"],
  ])('refuses %j', (options, message) => {
    expect(() => normalize(options)).toThrow(message);
  });

  it('keeps sub-second command timeouts as numbers (they are meant in milliseconds)', () => {
    expect(normalize({ throttlers: [tier], storage: { redis: 'redis://127.0.0.1:6379', commandTimeout: 100 } }).storage).toMatchObject({
      commandTimeoutMs: 100,
    });
  });
});
