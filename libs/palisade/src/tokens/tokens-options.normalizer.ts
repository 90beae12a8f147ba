import { normalizeCustomStore, type CustomStore } from '../common/custom-store.js';
import { normalizeRedisConnection, type NormalizedRedisConnection } from '../common/redis-connection.normalizer.js';
import type { TokenStore } from './token-store.interface.js';
import { describe, parseCoarseDuration, parseDuration } from '../common/duration.js';
import { assertKnownKeys } from '../common/option-keys.js';
import type { TokensOptions } from './tokens-options.interface.js';

/** @internal */
export interface NormalizedTokensOptions {
  readonly refreshTokenTtlMs: number;
  readonly refreshGraceMs: number;
  readonly storage:
    | { readonly kind: 'memory' }
    | {
        readonly kind: 'redis';
        readonly connection: NormalizedRedisConnection;
        readonly prefix: string;
        readonly commandTimeoutMs: number;
        readonly mirrorRevocations: boolean;
      }
    | { readonly kind: 'custom'; readonly store: CustomStore<TokenStore> };
  readonly failOpen: boolean;
  readonly maxMemoryEntries: number;
}

/** What a `TokenStore` must have (`isAccessTokenRevokedSync` is optional). */
const TOKEN_STORE_METHODS = ['saveRefreshToken', 'findRefreshToken', 'rotateRefreshToken', 'revokeFamily', 'revokeAccessToken', 'isAccessTokenRevoked'];
const STORAGE_FORMS = "'memory', { redis: 'redis://…' | { cluster } | { sentinels, name } | ioredisClient } or { store }";

function fail(message: string): never {
  throw new Error(`PalisadeModule: ${message}`);
}

/** Validates `tokens` options once at startup. @internal */
export function normalizeTokensOptions(options: TokensOptions | undefined): NormalizedTokensOptions {
  const input = options ?? {};
  if (typeof input !== 'object' || input === null || Array.isArray(input)) fail(`tokens is ${describe(input)}; expected an object.`);
  assertKnownKeys(input, ['refreshTokenTtl', 'storage', 'failOpen', 'maxMemoryEntries', 'refreshGracePeriod'], 'tokens');
  const refreshTokenTtlMs = parseCoarseDuration(input.refreshTokenTtl ?? '30d', 'tokens.refreshTokenTtl');
  if (refreshTokenTtlMs < 60_000) fail(`tokens.refreshTokenTtl is ${refreshTokenTtlMs} ms; expected at least one minute.`);
  const refreshGraceMs = parseCoarseDuration(input.refreshGracePeriod ?? '5s', 'tokens.refreshGracePeriod');
  if (refreshGraceMs > 60_000)
    fail(
      `tokens.refreshGracePeriod is ${refreshGraceMs} ms; expected at most 60 s (a retry comes within seconds; a longer period only helps a thief). Use '5s', or 0 to turn it off.`,
    );
  let storage: NormalizedTokensOptions['storage'] = { kind: 'memory' };
  const raw = input.storage ?? 'memory';
  if (raw !== 'memory') {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(`tokens.storage is ${describe(raw)}; expected ${STORAGE_FORMS}.`);
    if ('store' in raw) {
      assertKnownKeys(raw, ['store'], 'tokens.storage');
      storage = { kind: 'custom', store: normalizeCustomStore<TokenStore>(raw.store, TOKEN_STORE_METHODS, 'tokens.storage.store', 'TokenStore') };
    } else {
      assertKnownKeys(raw, ['redis', 'prefix', 'commandTimeout', 'mirrorRevocations'], 'tokens.storage');
      if (raw.redis === undefined) fail(`tokens.storage has no redis; expected ${STORAGE_FORMS}.`);
      const connection = normalizeRedisConnection(raw.redis, 'tokens.storage.redis');
      const prefix = raw.prefix ?? 'palisade:';
      if (typeof prefix !== 'string' || /[{}\s]/.test(prefix))
        fail(`tokens.storage.prefix is ${describe(prefix)}; expected a string without braces or spaces.`);
      if (raw.mirrorRevocations !== undefined && typeof raw.mirrorRevocations !== 'boolean')
        fail(`tokens.storage.mirrorRevocations is ${describe(raw.mirrorRevocations)}; expected true or false.`);
      storage = {
        kind: 'redis',
        connection,
        prefix,
        commandTimeoutMs: parseDuration(raw.commandTimeout ?? '250ms', 'tokens.storage.commandTimeout'),
        mirrorRevocations: raw.mirrorRevocations ?? true,
      };
    }
  }
  if (input.failOpen !== undefined && typeof input.failOpen !== 'boolean') fail(`tokens.failOpen is ${describe(input.failOpen)}; expected true or false.`);
  const maxMemoryEntries = input.maxMemoryEntries ?? 100_000;
  if (!Number.isInteger(maxMemoryEntries) || maxMemoryEntries < 100)
    fail(`tokens.maxMemoryEntries is ${describe(maxMemoryEntries)}; expected an integer of at least 100.`);
  return { refreshTokenTtlMs, refreshGraceMs, storage, failOpen: input.failOpen ?? false, maxMemoryEntries };
}
