import { describe, expect, it } from 'vitest';
import { normalizeTokensOptions } from './tokens-options.normalizer.js';

const REDIS = 'redis://127.0.0.1:6379';

describe('normalizeTokensOptions', () => {
  it('defaults: memory storage, 30-day families, a 5 s reuse grace period, fail closed, 100k entries', () => {
    expect(normalizeTokensOptions(undefined)).toEqual({
      refreshTokenTtlMs: 30 * 24 * 3600_000,
      refreshGraceMs: 5_000,
      storage: { kind: 'memory' },
      failOpen: false,
      maxMemoryEntries: 100_000,
    });
  });

  it('Redis storage: prefix, command timeout and the revocation mirror default on', () => {
    expect(normalizeTokensOptions({ storage: { redis: REDIS } }).storage).toEqual({
      kind: 'redis',
      connection: { kind: 'url', url: REDIS, security: { username: undefined, password: undefined, tls: undefined }, source: REDIS },
      prefix: 'palisade:',
      commandTimeoutMs: 250,
      mirrorRevocations: true,
    });
    expect(normalizeTokensOptions({ storage: { redis: REDIS, prefix: 'orders:', commandTimeout: '1s', mirrorRevocations: false } }).storage).toMatchObject({
      prefix: 'orders:',
      commandTimeoutMs: 1000,
      mirrorRevocations: false,
    });
  });

  it('refreshGracePeriod: a duration up to 60 s; 0 turns it off', () => {
    expect(normalizeTokensOptions({ refreshGracePeriod: '2s' }).refreshGraceMs).toBe(2_000);
    expect(normalizeTokensOptions({ refreshGracePeriod: 0 }).refreshGraceMs).toBe(0);
    expect(normalizeTokensOptions({ refreshGracePeriod: '60s' }).refreshGraceMs).toBe(60_000);
  });

  it.each([
    [{ refreshGracePeriod: '2m' }, 'tokens.refreshGracePeriod is 120000 ms; expected at most 60 s'],
    [{ refreshGracePeriod: -1 }, 'tokens.refreshGracePeriod is -1; expected a number of milliseconds'],
    [{ storage: { redis: REDIS, mirrorRevocations: 'yes' } }, 'tokens.storage.mirrorRevocations is "yes"; expected true or false.'],
    [{ storage: { redis: 'localhost:6379' } }, 'tokens.storage.redis is not a redis:// or rediss:// URL'],
    [{ storage: { redis: REDIS, prefix: 'a{b}' } }, 'tokens.storage.prefix is "a{b}"'],
    [
      { storage: 'disk' },
      "tokens.storage is \"disk\"; expected 'memory', { redis: 'redis://…' | { cluster } | { sentinels, name } | ioredisClient } or { store }.",
    ],
    [{ refreshTokenTtl: '10s' }, 'tokens.refreshTokenTtl is 10000 ms; expected at least one minute.'],
    [{ failOpen: 'no' }, 'tokens.failOpen is "no"; expected true or false.'],
    [{ maxMemoryEntries: 10 }, 'tokens.maxMemoryEntries is 10; expected an integer of at least 100.'],
    [{ refreshTokenTTL: '7d' }, 'PalisadeModule: unknown option tokens.refreshTokenTTL; did you mean tokens.refreshTokenTtl?'],
    [{ storage: { redis: REDIS, mirror: false } }, 'PalisadeModule: unknown option tokens.storage.mirror; did you mean tokens.storage.mirrorRevocations?'],
    [
      { storage: { prefix: 'x:' } },
      "PalisadeModule: tokens.storage has no redis; expected 'memory', { redis: 'redis://…' | { cluster } | { sentinels, name } | ioredisClient } or { store }.",
    ],
    [{ refreshTokenTtl: 600 }, 'PalisadeModule: tokens.refreshTokenTtl is 600, which is 600 ms: numeric durations in Palisade are milliseconds'],
  ])('refuses %j with a message naming the option', (options, message) => {
    expect(() => normalizeTokensOptions(options as never)).toThrow(message);
  });
});
