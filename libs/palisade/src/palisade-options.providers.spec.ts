import 'reflect-metadata';
import { createHash, generateKeyPairSync, KeyObject } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import { AUTH_OPTIONS } from './auth/auth.constants.js';
import { STABLE_REQUEST_SHAPES } from './common/request-shapes.js';
import { TRUST_PROXY_OPTIONS, TrustedProxy, compileTrustProxy } from './common/trusted-proxy.js';
import { EVENTS_OPTIONS, INSECURE_SETTINGS } from './events/events.constants.js';
import { CREDENTIAL_HEADERS, HEADERS_OPTIONS } from './headers/headers.constants.js';
import { PalisadeModule } from './palisade.module.js';
import type { PalisadeModuleOptions } from './palisade-options.interface.js';
import { ROLES_OPTIONS } from './roles/roles.constants.js';
import { THROTTLE_OPTIONS } from './throttle/throttle.constants.js';
import { MemoryThrottleStore } from './throttle/memory-throttle.store.js';
import { TOKENS_OPTIONS } from './tokens/tokens.constants.js';
import { MemoryTokenStore } from './tokens/memory-token.store.js';
import { HTTPS_OPTIONS } from './transport/transport.constants.js';

/**
 * What counts as data in normalised options:
 * - primitives (strings, numbers, booleans, bigints, symbols such as `CSP_NONCE`, `undefined`, `null`);
 * - arrays and plain objects (prototype `Object.prototype` or `null`), `Map`s and `Set`s, walked;
 * - `RegExp`s, and byte strings (`Buffer`/`Uint8Array`: a fingerprint key, API key digests);
 * - `KeyObject`s: an immutable key value (the JWT verification or signing key), not behaviour;
 * - what the application itself put in its options, passed through unchanged (its `validate`
 *   callbacks, its store instance or class, its Redis client): not Palisade's to turn into data,
 *   so each must be the very reference of the input, and is not walked.
 * Anything else (a function Palisade built, a class instance such as a key set, a fetcher, a
 * client or a compiled matcher) is behaviour: it belongs in a provider.
 */
function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Every function and class instance the application's options hold: what may be passed through. */
function userReferences(value: unknown, found = new Set<unknown>()): Set<unknown> {
  if (typeof value === 'function') found.add(value);
  else if (typeof value === 'object' && value !== null && !found.has(value)) {
    found.add(value);
    if (Array.isArray(value) || isPlainObject(value)) for (const entry of Object.values(value)) userReferences(entry, found);
  }
  return found;
}

/** Paths under `value` that are not data (see above); empty when it is all data. */
function nonData(value: unknown, allowed: ReadonlySet<unknown>, path = '$', seen = new Set<unknown>()): string[] {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return [];
  if (allowed.has(value) && !(typeof value === 'object' && (Array.isArray(value) || isPlainObject(value)))) return [];
  if (typeof value === 'function') return [`${path}: function ${value.name || '(anonymous)'}`];
  if (seen.has(value)) return [];
  seen.add(value);
  if (value instanceof RegExp || value instanceof Uint8Array || value instanceof KeyObject) return [];
  if (value instanceof Map) {
    return [...value].flatMap(([key, entry], i) => [
      ...nonData(key, allowed, `${path}<key ${i}>`, seen),
      ...nonData(entry, allowed, `${path}.get(${String(key)})`, seen),
    ]);
  }
  if (value instanceof Set) return [...value].flatMap((entry, i) => nonData(entry, allowed, `${path}<${i}>`, seen));
  if (!Array.isArray(value) && !isPlainObject(value)) return [`${path}: instance of ${(value as object).constructor?.name ?? '(unknown class)'}`];
  return Object.entries(value).flatMap(([key, entry]) => nonData(entry, allowed, `${path}.${key}`, seen));
}

/** A callback of the application's. */
const validate = async (): Promise<null> => null;

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

@Injectable()
class ApplicationTokenStore extends MemoryTokenStore {
  constructor() {
    super(1000);
  }
}

/** Options touching every capability, with the application's own callbacks and stores. */
function everyCapability(): PalisadeModuleOptions {
  return {
    auth: {
      jwt: {
        publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        algorithms: ['RS256'],
        issuer: 'https://issuer.example',
        audience: 'api',
        jwks: [{ uri: 'https://id.example.com/.well-known/jwks.json', issuer: 'https://id.example.com', allowedClients: ['web'], profile: 'rfc9068' }],
        cache: { maxEntries: 100, maxAge: '1m' },
        rolesClaim: 'realm_access.roles',
        validate: (claims) => ({ id: String(claims.sub) }),
      },
      apiKey: {
        header: 'X-Service-Key',
        keys: [{ sha256: createHash('sha256').update('svc-key-0123456789abcdef').digest('hex'), principal: { id: 'svc', roles: ['admin'] } }],
        validate: async () => null,
      },
      basic: { realm: 'api', validate: async () => null },
    },
    roles: { hierarchy: { admin: ['user'] }, known: ['admin', 'user'] },
    trustProxy: ['loopback', '10.0.0.0/8'],
    throttle: {
      throttlers: [{ name: 'default', limit: 100, ttl: '1m' }],
      storage: { store: new MemoryThrottleStore(), prefix: 'app' },
      authFailures: { limit: 10, ttl: '1m', blockDuration: '5m' },
    },
    tokens: { storage: { store: ApplicationTokenStore }, failOpen: true },
    events: { log: false, detection: { failuresPerClient: 20 }, fingerprintKey: 'k'.repeat(32) },
    headers: {
      contentSecurityPolicy: { preset: 'page' },
      permissionsPolicy: { features: { fullscreen: ['self'] } },
      paths: { '/docs': { contentSecurityPolicy: { preset: 'swagger-ui' } } },
    },
    https: { enforce: true, hosts: ['api.example.com'], exclude: ['/health'] },
    stableRequestShapes: true,
  };
}

const TOKENS = {
  AUTH_OPTIONS,
  ROLES_OPTIONS,
  THROTTLE_OPTIONS,
  TOKENS_OPTIONS,
  EVENTS_OPTIONS,
  INSECURE_SETTINGS,
  HEADERS_OPTIONS,
  CREDENTIAL_HEADERS,
  HTTPS_OPTIONS,
  TRUST_PROXY_OPTIONS,
  STABLE_REQUEST_SHAPES,
} as const;

/** Each capability's normalised options, as the module's providers build them. */
async function capabilityOptions(options: PalisadeModuleOptions): Promise<Record<keyof typeof TOKENS, unknown>> {
  const moduleRef = await Test.createTestingModule({ imports: [PalisadeModule.forRoot(options)] }).compile();
  try {
    return Object.fromEntries(Object.entries(TOKENS).map(([name, token]) => [name, moduleRef.get(token, { strict: false })])) as Record<
      keyof typeof TOKENS,
      unknown
    >;
  } finally {
    await moduleRef.close();
  }
}

describe('normalised capability options', () => {
  it('the check refuses what is not data: a closure, a class instance, a function in a Map', () => {
    const proxy = new TrustedProxy(compileTrustProxy('loopback'));
    expect(nonData({ base: { fixed: [] }, compileOverrides: () => ({}) }, new Set())).toEqual(['$.compileOverrides: function compileOverrides']);
    expect(nonData({ proxy }, new Set())).toEqual(['$.proxy: instance of TrustedProxy']);
    expect(nonData({ schemes: new Map([['jwt', { check: proxy.clientIp }]]) }, new Set())).toEqual(['$.schemes.get(jwt).check: function clientIp']);
    // A callback of the application's is passed through; a copy or a wrapper of it is not.
    expect(nonData({ validate }, userReferences({ validate }))).toEqual([]);
    expect(nonData({ validate: validate.bind(null) }, userReferences({ validate }))).toEqual(['$.validate: function bound validate']);
  });

  it.each([
    ['every capability configured, with the application’s callbacks and stores', everyCapability],
    ['no options at all (the defaults)', (): PalisadeModuleOptions => ({})],
  ])('are plain data: %s', async (_name, build) => {
    const options = build();
    const normalized = await capabilityOptions(options);
    const allowed = userReferences(options);
    for (const [name, value] of Object.entries(normalized)) expect(nonData(value, allowed, name)).toEqual([]);
  });

  it('hold what the capability needs, each under its own token', async () => {
    const options = everyCapability();
    const normalized = await capabilityOptions(options);
    const auth = normalized.AUTH_OPTIONS as { jwt: { verifyKey: unknown; jwks: { keySet: { uri: string } }[] }; apiKey: { validate: unknown } };
    expect(auth.jwt.verifyKey).toBeInstanceOf(KeyObject);
    // The JWK Set is described, not fetched: JwksKeys owns the fetcher built from this entry.
    expect(auth.jwt.jwks[0]?.keySet).toEqual(expect.objectContaining({ uri: 'https://id.example.com/.well-known/jwks.json', timeoutMs: 5000 }));
    expect(auth.apiKey.validate).toBe(options.auth?.apiKey?.validate);
    expect(normalized.CREDENTIAL_HEADERS).toEqual(['authorization', 'cookie', 'x-service-key']);
    expect(normalized.TRUST_PROXY_OPTIONS).toEqual({ setting: ['loopback', '10.0.0.0/8'] });
    expect(normalized.STABLE_REQUEST_SHAPES).toBe(true);
    expect(normalized.INSECURE_SETTINGS).toEqual([{ option: 'tokens.failOpen', message: 'Revoked tokens are accepted while the token store is unavailable.' }]);
    expect((normalized.THROTTLE_OPTIONS as { storage: { kind: string } }).storage.kind).toBe('custom');
    expect((normalized.HTTPS_OPTIONS as { enforce: boolean }).enforce).toBe(true);
  });
});
