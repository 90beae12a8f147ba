import { describe, parseCoarseDuration, parseDuration } from '../common/duration.js';
import { assertKnownKeys } from '../common/option-keys.js';
import { normalizeRedisConnection, type NormalizedRedisConnection } from '../common/redis-connection.normalizer.js';
import { normalizeCustomStore, type CustomStore } from '../common/custom-store.js';
import type { ThrottleOptions } from './throttle-options.interface.js';
import type { ThrottleStore } from './throttle-store.interface.js';

/** @internal */
export interface NormalizedTier {
  readonly name: string;
  readonly limit: number;
  readonly ttlMs: number;
  readonly blockMs: number;
}

/** @internal */
export interface NormalizedThrottleOptions {
  readonly tiers: readonly NormalizedTier[];
  readonly storage:
    | { readonly kind: 'memory' }
    | { readonly kind: 'redis'; readonly connection: NormalizedRedisConnection; readonly prefix: string; readonly commandTimeoutMs: number }
    | { readonly kind: 'custom'; readonly store: CustomStore<ThrottleStore>; readonly prefix: string };
  readonly maxMemoryKeys: number;
  /** Most client addresses the in-memory brute-force partition remembers. */
  readonly maxSecurityKeys: number;
  readonly failOpen: boolean;
  readonly ietfHeaders: boolean;
  readonly legacyHeaders: boolean;
  readonly authFailures: NormalizedTier | undefined;
}

const NAME = /^[A-Za-z0-9_-]{1,64}$/;

function fail(message: string): never {
  throw new Error(`PalisadeModule: ${message}`);
}

const TIER_KEYS = ['name', 'limit', 'ttl', 'blockDuration'];
const AUTH_FAILURES_KEYS = ['limit', 'ttl', 'blockDuration'];
const KNOWN_KEYS = ['throttlers', 'storage', 'maxMemoryKeys', 'maxSecurityKeys', 'failOpen', 'headers', 'authFailures'];
const STORAGE_KEYS = ['redis', 'prefix', 'commandTimeout'];
const CUSTOM_STORAGE_KEYS = ['store', 'prefix'];
/** What a `ThrottleStore` must have. */
export const THROTTLE_STORE_METHODS = ['increment', 'incrementMany', 'blockedFor'] as const;
const STORAGE_FORMS = "'memory', { redis: 'redis://…' | { cluster } | { sentinels, name } | ioredisClient } or { store }";

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** One tier; `name` is given for `authFailures`, whose options have no name. */
function tier(input: unknown, path: string, name: string | undefined): NormalizedTier {
  if (!isPlainObject(input)) fail(`${path} is ${describe(input)}; expected { ${name === undefined ? 'name?, ' : ''}limit, ttl, blockDuration? }.`);
  assertKnownKeys(input, name === undefined ? TIER_KEYS : AUTH_FAILURES_KEYS, path);
  const { limit, ttl, blockDuration } = input;
  const tierName = name ?? input.name ?? 'default';
  if (typeof tierName !== 'string' || !NAME.test(tierName)) fail(`${path}.name is ${describe(tierName)}; expected 1 to 64 letters, digits, '_' or '-'.`);
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1) fail(`${path}.limit is ${describe(limit)}; expected a positive integer.`);
  // Numbers are milliseconds: `ttl: 60` (seconds meant) is refused rather than run as a 60 ms window.
  const ttlMs = parseCoarseDuration(ttl, `${path}.ttl`);
  if (ttlMs < 1) fail(`${path}.ttl is ${describe(ttl)}; a window must last at least 1 ms.`);
  const blockMs = blockDuration === undefined ? ttlMs : parseCoarseDuration(blockDuration, `${path}.blockDuration`);
  return { name: tierName, limit, ttlMs, blockMs };
}

/** Validates `throttle` options once at startup. @internal */
export function normalizeThrottleOptions(options: ThrottleOptions): NormalizedThrottleOptions {
  if (!isPlainObject(options)) fail(`throttle is ${describe(options)}; expected an object with throttlers.`);
  assertKnownKeys(options, KNOWN_KEYS, 'throttle');
  if (!Array.isArray(options.throttlers) || options.throttlers.length === 0) {
    fail(`throttle.throttlers is ${describe(options.throttlers)}; expected at least one tier such as { name: 'default', limit: 100, ttl: '1m' }.`);
  }
  const tiers = options.throttlers.map((t, i) => tier(t, `throttle.throttlers[${i}]`, undefined));
  const names = new Set<string>();
  for (const t of tiers) {
    if (names.has(t.name)) fail(`throttle.throttlers has two tiers named '${t.name}'; names must be unique.`);
    names.add(t.name);
  }
  let storage: NormalizedThrottleOptions['storage'] = { kind: 'memory' };
  const raw = options.storage ?? 'memory';
  if (raw !== 'memory') {
    if (!isPlainObject(raw)) fail(`throttle.storage is ${describe(raw)}; expected ${STORAGE_FORMS}.`);
    if ('store' in raw) {
      assertKnownKeys(raw, CUSTOM_STORAGE_KEYS, 'throttle.storage');
      const store = normalizeCustomStore<ThrottleStore>(raw.store, THROTTLE_STORE_METHODS, 'throttle.storage.store', 'ThrottleStore');
      const prefix = raw.prefix ?? '';
      if (typeof prefix !== 'string') fail(`throttle.storage.prefix is ${describe(prefix)}; expected a string.`);
      storage = { kind: 'custom', store, prefix };
    } else {
      assertKnownKeys(raw, STORAGE_KEYS, 'throttle.storage');
      if (raw.redis === undefined) fail(`throttle.storage has no redis; expected ${STORAGE_FORMS}.`);
      const connection = normalizeRedisConnection(raw.redis, 'throttle.storage.redis');
      const prefix = raw.prefix ?? 'palisade:';
      if (typeof prefix !== 'string' || /[{}\s]/.test(prefix))
        fail(`throttle.storage.prefix is ${describe(prefix)}; expected a string without braces or spaces.`);
      const commandTimeoutMs = parseDuration(raw.commandTimeout ?? '250ms', 'throttle.storage.commandTimeout');
      if (commandTimeoutMs < 1 || commandTimeoutMs > 30_000) fail(`throttle.storage.commandTimeout is ${commandTimeoutMs} ms; expected 1 ms to 30 s.`);
      storage = { kind: 'redis', connection, prefix, commandTimeoutMs };
    }
  }
  const maxMemoryKeys = options.maxMemoryKeys ?? 100_000;
  if (!Number.isInteger(maxMemoryKeys) || maxMemoryKeys < 100 || maxMemoryKeys > 100_000_000) {
    fail(`throttle.maxMemoryKeys is ${describe(maxMemoryKeys)}; expected an integer from 100 to 100000000.`);
  }
  const maxSecurityKeys = options.maxSecurityKeys ?? 100_000;
  if (!Number.isInteger(maxSecurityKeys) || maxSecurityKeys < 100 || maxSecurityKeys > 100_000_000) {
    fail(`throttle.maxSecurityKeys is ${describe(maxSecurityKeys)}; expected an integer from 100 to 100000000.`);
  }
  const headers = options.headers ?? 'ietf';
  if (headers !== 'ietf' && headers !== 'legacy' && headers !== 'both' && headers !== false) {
    fail(`throttle.headers is ${describe(headers)}; expected 'ietf', 'legacy', 'both' or false.`);
  }
  if (options.failOpen !== undefined && typeof options.failOpen !== 'boolean')
    fail(`throttle.failOpen is ${describe(options.failOpen)}; expected true or false.`);
  const rawAuthFailures: unknown = options.authFailures;
  if (rawAuthFailures !== undefined && rawAuthFailures !== false && !isPlainObject(rawAuthFailures)) {
    fail(`throttle.authFailures is ${describe(rawAuthFailures)}; expected { limit, ttl, blockDuration? } or false.`);
  }
  const authFailures =
    rawAuthFailures === false ? undefined : tier({ limit: 10, ttl: '1m', blockDuration: '5m', ...rawAuthFailures }, 'throttle.authFailures', 'auth-failures');
  // Failures are counted after the credential was checked: without a block, guessing would go on.
  if (authFailures?.blockMs === 0)
    fail("throttle.authFailures.blockDuration is 0; brute-force protection needs a block. Set a duration such as '5m', or authFailures: false.");
  return {
    tiers,
    storage,
    maxMemoryKeys,
    maxSecurityKeys,
    failOpen: options.failOpen ?? true,
    ietfHeaders: headers === 'ietf' || headers === 'both',
    legacyHeaders: headers === 'legacy' || headers === 'both',
    authFailures,
  };
}
