import { createPublicKey, createPrivateKey, createSecretKey, KeyObject } from 'node:crypto';
import type { JsonWebKey } from 'node:crypto';
import { describe, parseCoarseDuration } from '../common/duration.js';
import { assertKnownKeys } from '../common/option-keys.js';
import type {
  ApiKeyAuthOptions,
  AuthOptions,
  AuthRequest,
  BasicAuthOptions,
  ClaimPath,
  JwksAlgorithm,
  JwksIssuerOptions,
  JwtAlgorithm,
  JwtAuthOptions,
} from './auth-options.interface.js';
import { compileClaimPath, type CompiledClaimPath } from './claim-path.js';
import { AUTH_SCHEMES, type AuthScheme, type PrincipalInit } from './principal.interface.js';
import type { RemoteKeySetSettings } from './remote-key-set.js';

type PrincipalCallbackResult = PrincipalInit | null | Promise<PrincipalInit | null>;

/** @internal Where to read roles and scopes, compiled once. */
export interface ClaimMapping {
  /** Paths of the roles claims, merged. */
  readonly rolesPaths: readonly CompiledClaimPath[];
  /** Paths of the scopes claims, merged (`scp` is the fallback when all are absent). */
  readonly scopesPaths: readonly CompiledClaimPath[];
}

/** @internal One JWKS issuer: what its tokens must satisfy, and how its key set is fetched. */
export interface NormalizedJwksIssuer extends ClaimMapping {
  readonly keySet: RemoteKeySetSettings;
  /** Expected `iss` values (own, or inherited from `auth.jwt.issuer`); never empty. */
  readonly issuers: readonly [string, ...string[]];
  readonly audience: string | [string, ...string[]] | undefined;
  readonly algorithms: JwksAlgorithm[];
  /** Required `typ` header (`jose` compares it as a media type), if any. */
  readonly typ: string | undefined;
  /** Claims required besides `exp` and `sub`. */
  readonly requiredClaims: readonly string[];
  /** Accepted `azp` / `client_id` values; undefined: no restriction. */
  readonly allowedClients: ReadonlySet<string> | undefined;
}

/** @internal Verified, precomputed JWT settings. */
export interface NormalizedJwtOptions extends ClaimMapping {
  /** Local verification key; undefined when only JWKS issuers sign tokens. */
  readonly verifyKey: KeyObject | undefined;
  readonly jwks: readonly NormalizedJwksIssuer[];
  /** Verified-token cache settings; undefined when off. */
  readonly cache: { readonly maxEntries: number; readonly maxAgeMs: number } | undefined;
  readonly signKey: KeyObject | undefined;
  readonly algorithms: JwtAlgorithm[];
  readonly issuer: string | [string, ...string[]] | undefined;
  readonly audience: string | [string, ...string[]] | undefined;
  readonly clockToleranceSeconds: number;
  readonly maxTokenLength: number;
  /** The first roles claim's name: where `TokenService` writes roles. */
  readonly rolesClaim: string;
  /** The first scopes claim's name: where `TokenService` writes scopes. */
  readonly scopesClaim: string;
  readonly accessTokenTtlSeconds: number;
  readonly validate: ((claims: Readonly<Record<string, unknown>>, request: AuthRequest) => PrincipalCallbackResult) | undefined;
}

/** @internal */
export interface NormalizedApiKeyOptions {
  readonly header: string;
  readonly keys: readonly { readonly digest: Buffer; readonly principal: PrincipalInit }[];
  readonly validate: ((key: string, request: AuthRequest) => PrincipalCallbackResult) | undefined;
  readonly maxKeyLength: number;
}

/** @internal */
export interface NormalizedBasicOptions {
  readonly realm: string;
  readonly validate: BasicAuthOptions['validate'];
}

/** @internal Challenges computed once at startup, per scheme and per failure kind. */
export interface SchemeChallenges {
  /** Sent when the scheme's credential was absent. */
  readonly missing: string;
  /** Sent when the credential was present but rejected. */
  readonly invalid: string;
  /** Sent when the credential could not be parsed. */
  readonly malformed: string;
  /** Sent when a bearer token had expired (JWT only; equals `invalid` elsewhere). */
  readonly expired: string;
}

/** @internal */
export interface NormalizedAuthOptions {
  readonly jwt: NormalizedJwtOptions | undefined;
  readonly apiKey: NormalizedApiKeyOptions | undefined;
  readonly basic: NormalizedBasicOptions | undefined;
  readonly configured: ReadonlySet<AuthScheme>;
  readonly defaultSchemes: readonly AuthScheme[];
  readonly realm: string;
  readonly challenges: ReadonlyMap<AuthScheme, SchemeChallenges>;
}

const HMAC_MIN_BYTES: Readonly<Record<string, number>> = { HS256: 32, HS384: 48, HS512: 64 };
const KNOWN_ALGORITHMS: ReadonlySet<string> = new Set([
  'HS256',
  'HS384',
  'HS512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
]);
const EC_CURVE_ALGORITHM: Readonly<Record<string, JwtAlgorithm>> = {
  prime256v1: 'ES256',
  secp384r1: 'ES384',
  secp521r1: 'ES512',
};
const MAX_CLOCK_TOLERANCE_MS = 5 * 60_000;
const AUTH_KEYS = ['jwt', 'apiKey', 'basic', 'defaultSchemes', 'realm'];
const JWT_KEYS = [
  'secret',
  'publicKey',
  'privateKey',
  'algorithms',
  'jwks',
  'cache',
  'issuer',
  'audience',
  'clockTolerance',
  'maxTokenLength',
  'rolesClaim',
  'scopesClaim',
  'accessTokenTtl',
  'validate',
];
const API_KEY_KEYS = ['header', 'keys', 'validate', 'maxKeyLength'];
const PRINCIPAL_KEYS = ['id', 'roles', 'scopes', 'claims'];
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;
const QUOTABLE = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

function fail(message: string): never {
  throw new Error(`PalisadeModule: ${message}`);
}

function isPlainObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function toStringList(value: string | readonly string[] | undefined, path: string): string | [string, ...string[]] | undefined {
  if (value === undefined) return undefined;
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0 || list.some((v) => typeof v !== 'string' || v.length === 0)) {
    fail(`${path} is ${describe(value)}; expected a non-empty string or a non-empty array of non-empty strings.`);
  }
  const [first, ...rest] = list as string[];
  return rest.length === 0 ? (first as string) : [first as string, ...rest];
}

function positiveInteger(value: unknown, fallback: number, path: string, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0 || value > max) {
    fail(`${path} is ${describe(value)}; expected an integer between 1 and ${max}.`);
  }
  return value;
}

function quotable(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 128 || !QUOTABLE.test(value)) {
    fail(`${path} is ${describe(value)}; expected 1 to 128 printable ASCII characters without '"' or '\\'.`);
  }
  return value;
}

function claimPaths(value: ClaimPath | undefined, fallback: readonly CompiledClaimPath[], path: string): readonly CompiledClaimPath[] {
  if (value === undefined) return fallback;
  const list: unknown[] = Array.isArray(value) ? value : [value];
  if (list.length === 0 || list.length > 8)
    fail(`${path} is ${describe(value)}; expected a claim name, a path such as 'realm_access.roles', or 1 to 8 of them.`);
  return list.map((entry) => {
    const compiled = compileClaimPath(entry);
    if (typeof compiled === 'string') fail(`${path} is ${describe(value)}; ${compiled}.`);
    return compiled;
  });
}

/** Exactly one of `secret` and `publicKey`. */
function checkKeyChoice({ secret, publicKey }: JwtAuthOptions): void {
  if (secret !== undefined && publicKey !== undefined) {
    fail('auth.jwt has both secret and publicKey; give exactly one (secret for HS*, publicKey for RS*, PS*, ES*).');
  }
  if (secret === undefined && publicKey === undefined) {
    fail('auth.jwt has no key; set auth.jwt.secret (HS256, at least 32 bytes) or auth.jwt.publicKey (RS*, PS*, ES*).');
  }
}

/** `auth.jwt.algorithms`, when given: a non-empty list of known algorithms, never `none`. */
function checkRequestedAlgorithms(requested: JwtAuthOptions['algorithms']): void {
  if (requested === undefined) return;
  if (!Array.isArray(requested) || requested.length === 0) {
    fail(`auth.jwt.algorithms is ${describe(requested)}; expected a non-empty array such as ['HS256'].`);
  }
  for (const alg of requested as readonly string[]) {
    if (typeof alg === 'string' && alg.toLowerCase() === 'none') {
      fail("auth.jwt.algorithms contains 'none'; unsigned tokens are never accepted. Remove it.");
    }
    if (!KNOWN_ALGORITHMS.has(alg)) fail(`auth.jwt.algorithms contains ${describe(alg)}; supported: ${[...KNOWN_ALGORITHMS].join(', ')}.`);
  }
}

/** The HMAC secret as a secret `KeyObject` (never a PEM or an asymmetric key). */
function importSecret(secret: NonNullable<JwtAuthOptions['secret']>): KeyObject {
  if (secret instanceof KeyObject) {
    if (secret.type !== 'secret') fail('auth.jwt.secret is an asymmetric key; pass it as auth.jwt.publicKey instead.');
    return secret;
  }
  if (typeof secret !== 'string' && !Buffer.isBuffer(secret)) {
    fail(`auth.jwt.secret is ${describe(secret)}; expected a string, a Buffer or a secret KeyObject.`);
  }
  if (typeof secret === 'string' && secret.includes('-----BEGIN')) {
    fail('auth.jwt.secret looks like a PEM key; pass public keys as auth.jwt.publicKey (an HMAC secret must not be a public key).');
  }
  return createSecretKey(typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret);
}

/** The algorithms a secret verifies: HMAC only, each with a secret long enough for it. */
function secretAlgorithms(key: KeyObject, requested: JwtAuthOptions['algorithms']): JwtAlgorithm[] {
  const algorithms = [...(requested ?? ['HS256'])] as JwtAlgorithm[];
  for (const alg of algorithms) {
    const min = HMAC_MIN_BYTES[alg];
    if (min === undefined) {
      fail(`auth.jwt.algorithms contains ${alg}, which needs a public key, but auth.jwt.secret is set; use HS256/HS384/HS512 with a secret.`);
    }
    const size = key.symmetricKeySize ?? 0;
    if (size < min) {
      fail(`auth.jwt.secret is ${size} bytes; ${alg} needs at least ${min}. Set a longer secret (e.g. 32 random bytes, base64) or use publicKey.`);
    }
  }
  return algorithms;
}

/** The public key of a PEM, a JWK or a `KeyObject` (a private key gives its public half). */
function readPublicKey(publicKey: JwtAuthOptions['publicKey']): KeyObject {
  if (publicKey instanceof KeyObject) {
    if (publicKey.type === 'secret') fail('auth.jwt.publicKey is a secret key; pass HMAC secrets as auth.jwt.secret.');
    return publicKey.type === 'private' ? createPublicKey(publicKey) : publicKey;
  }
  if (typeof publicKey === 'string' || Buffer.isBuffer(publicKey)) return createPublicKey(publicKey);
  if (isPlainObject(publicKey)) return createPublicKey({ key: publicKey as JsonWebKey, format: 'jwk' });
  fail(`auth.jwt.publicKey is ${describe(publicKey)}; expected a PEM string, a JWK or a KeyObject.`);
}

/** {@link readPublicKey}, with Node's parse errors turned into one readable message. */
function importPublicKey(publicKey: JwtAuthOptions['publicKey']): KeyObject {
  try {
    return readPublicKey(publicKey);
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('PalisadeModule:')) throw error;
    fail('auth.jwt.publicKey could not be read as a PEM, JWK or KeyObject public key; check its format.');
  }
}

/** The algorithms a public key can verify, and the one used when `algorithms` is not given. */
function publicKeyAlgorithms(key: KeyObject): { allowed: JwtAlgorithm[]; natural: JwtAlgorithm } {
  const type = key.asymmetricKeyType;
  if (type === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < 2048) fail(`auth.jwt.publicKey is a ${bits}-bit RSA key; RS*/PS* need at least 2048 bits.`);
    return { allowed: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'], natural: 'RS256' };
  }
  if (type === 'rsa-pss') return { allowed: ['PS256', 'PS384', 'PS512'], natural: 'PS256' };
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve ?? '';
    const alg = EC_CURVE_ALGORITHM[curve];
    if (alg === undefined) fail(`auth.jwt.publicKey is an EC key on curve ${curve}; use P-256, P-384 or P-521.`);
    return { allowed: [alg], natural: alg };
  }
  fail(
    `auth.jwt.publicKey is an ${String(type)} key; passport-jwt's verifier supports RSA, RSA-PSS and EC (P-256/384/521) keys. EdDSA keys are not supported yet.`,
  );
}

/** The algorithms a public key verifies: those its type allows, never an HMAC one. */
function publicAlgorithms(key: KeyObject, requested: JwtAuthOptions['algorithms']): JwtAlgorithm[] {
  const { allowed, natural } = publicKeyAlgorithms(key);
  const algorithms = [...(requested ?? [natural])] as JwtAlgorithm[];
  for (const alg of algorithms) {
    if (alg.startsWith('HS')) {
      fail(`auth.jwt.algorithms contains ${alg} with a public key; an HMAC algorithm with a public key lets anyone forge tokens. Use ${natural}.`);
    }
    if (!allowed.includes(alg)) {
      fail(`auth.jwt.algorithms contains ${alg}, which does not match the ${key.asymmetricKeyType} key; use ${allowed.join(' or ')}.`);
    }
  }
  return algorithms;
}

/** The key that verifies tokens (`secret` or `publicKey`) and the algorithms it accepts. */
function importVerifyKey(options: JwtAuthOptions): { key: KeyObject; algorithms: JwtAlgorithm[] } {
  checkKeyChoice(options);
  checkRequestedAlgorithms(options.algorithms);
  if (options.secret !== undefined) {
    const key = importSecret(options.secret);
    return { key, algorithms: secretAlgorithms(key, options.algorithms) };
  }
  const key = importPublicKey(options.publicKey);
  return { key, algorithms: publicAlgorithms(key, options.algorithms) };
}

function importSignKey(options: JwtAuthOptions, verifyKey: KeyObject): KeyObject | undefined {
  if (verifyKey.type === 'secret') {
    if (options.privateKey !== undefined) fail('auth.jwt.privateKey is set with an HMAC secret; remove it (the secret signs).');
    return verifyKey;
  }
  const { privateKey } = options;
  if (privateKey === undefined) return undefined;
  try {
    if (privateKey instanceof KeyObject) {
      if (privateKey.type !== 'private') fail('auth.jwt.privateKey is not a private key.');
      return privateKey;
    }
    if (typeof privateKey === 'string' || Buffer.isBuffer(privateKey)) return createPrivateKey(privateKey);
    if (isPlainObject(privateKey)) return createPrivateKey({ key: privateKey as JsonWebKey, format: 'jwk' });
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('PalisadeModule:')) throw error;
    fail('auth.jwt.privateKey could not be read as a PEM, JWK or KeyObject private key; check its format.');
  }
  fail(`auth.jwt.privateKey is ${describe(privateKey)}; expected a PEM string, a JWK or a KeyObject.`);
}

const JWKS_ALGORITHMS: ReadonlySet<string> = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519']);
const DEFAULT_JWKS_ALGORITHMS: readonly JwksAlgorithm[] = ['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519'];
const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['127.0.0.1', 'localhost', '[::1]']);
/** Option keys of a `jwks` entry. */
const JWKS_ENTRY_KEYS: readonly string[] = [
  'uri',
  'issuer',
  'audience',
  'algorithms',
  'profile',
  'typ',
  'requiredClaims',
  'allowedClients',
  'rolesClaim',
  'scopesClaim',
  'cacheMaxAge',
  'cooldown',
  'maxBackoff',
  'staleIfError',
  'timeout',
];
/** RFC 9068 §2.2: the claims a JWT access token carries. */
const RFC9068_CLAIMS: readonly string[] = ['iss', 'exp', 'aud', 'sub', 'client_id', 'iat', 'jti'];
/** A media type (`at+jwt`, `application/at+jwt`). */
const MEDIA_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}(\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126})?$/;
const MAX_STALE_MS = 7 * 86_400_000;

function nonEmptyStrings(value: unknown, path: string, example: string): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.some((v) => typeof v !== 'string' || v.length === 0)) {
    fail(`${path} is ${describe(value)}; expected a non-empty array of non-empty strings such as ${example}.`);
  }
  return value as string[];
}

function positiveDuration(value: unknown, fallback: string, path: string): number {
  const ms = parseCoarseDuration(value ?? fallback, path);
  if (ms <= 0) fail(`${path} is ${describe(value)}; expected a positive duration such as '${fallback}'.`);
  return ms;
}

/** The settings every `jwks` entry inherits from `auth.jwt`. */
interface InheritedJwtSettings extends ClaimMapping {
  readonly issuer: string | [string, ...string[]] | undefined;
  readonly audience: string | [string, ...string[]] | undefined;
}

function normalizeJwksEntry(entry: JwksIssuerOptions, path: string, inherited: InheritedJwtSettings): NormalizedJwksIssuer {
  if (!isPlainObject(entry)) fail(`${path} is ${describe(entry)}; expected { uri, issuer? }.`);
  assertKnownKeys(entry, JWKS_ENTRY_KEYS, path);
  let url: URL;
  try {
    url = new URL(entry.uri);
  } catch {
    fail(`${path}.uri is ${describe(entry.uri)}; expected an absolute https:// URL.`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))) {
    fail(`${path}.uri is ${describe(entry.uri)}; keys must be fetched over https:// (http:// only on a loopback host).`);
  }
  const own = toStringList(entry.issuer, `${path}.issuer`);
  const issuer = own ?? inherited.issuer;
  if (issuer === undefined) {
    fail(
      `${path} has no issuer and auth.jwt.issuer is not set; tokens of every issuer that publishes these keys would be accepted (Entra ID tenants share one key set). Set ${path}.issuer or auth.jwt.issuer.`,
    );
  }
  const issuers = (typeof issuer === 'string' ? [issuer] : issuer) as [string, ...string[]];
  const algorithms: unknown = entry.algorithms ?? DEFAULT_JWKS_ALGORITHMS;
  if (!Array.isArray(algorithms) || algorithms.length === 0) {
    fail(`${path}.algorithms is ${describe(entry.algorithms)}; expected a non-empty array of asymmetric algorithms among ${[...JWKS_ALGORITHMS].join(', ')}.`);
  }
  for (const alg of algorithms) {
    if (!JWKS_ALGORITHMS.has(alg as string)) {
      fail(`${path}.algorithms contains ${describe(alg)}; expected asymmetric algorithms among ${[...JWKS_ALGORITHMS].join(', ')} (never HS* or none).`);
    }
  }
  if (entry.profile !== undefined && entry.profile !== 'rfc9068') {
    fail(`${path}.profile is ${describe(entry.profile)}; the supported profile is 'rfc9068' (JWT access tokens, typ at+jwt).`);
  }
  let typ = entry.profile === 'rfc9068' ? 'at+jwt' : undefined;
  if (entry.typ !== undefined) {
    if (typeof entry.typ !== 'string' || !MEDIA_TYPE.test(entry.typ)) fail(`${path}.typ is ${describe(entry.typ)}; expected a media type such as 'at+jwt'.`);
    const normalized = entry.typ.toLowerCase().replace(/^application\//, '');
    if (typ !== undefined && normalized !== typ) fail(`${path}.typ is ${describe(entry.typ)} but profile 'rfc9068' requires 'at+jwt'; remove one of them.`);
    typ = entry.typ;
  }
  const required = entry.requiredClaims === undefined ? [] : nonEmptyStrings(entry.requiredClaims, `${path}.requiredClaims`, "['client_id']");
  const requiredClaims = [...new Set([...(entry.profile === 'rfc9068' ? RFC9068_CLAIMS : []), ...required])];
  const allowedClients =
    entry.allowedClients === undefined ? undefined : new Set(nonEmptyStrings(entry.allowedClients, `${path}.allowedClients`, "['orders-web']"));
  const cacheMaxAgeMs = positiveDuration(entry.cacheMaxAge, '10m', `${path}.cacheMaxAge`);
  const cooldownMs = positiveDuration(entry.cooldown, '30s', `${path}.cooldown`);
  const maxBackoffMs = positiveDuration(entry.maxBackoff, '5m', `${path}.maxBackoff`);
  if (maxBackoffMs < cooldownMs) fail(`${path}.maxBackoff is ${maxBackoffMs} ms, shorter than cooldown (${cooldownMs} ms); set it to at least the cooldown.`);
  const staleIfErrorMs = parseCoarseDuration(entry.staleIfError ?? '1h', `${path}.staleIfError`);
  if (staleIfErrorMs > MAX_STALE_MS) fail(`${path}.staleIfError is ${staleIfErrorMs} ms; at most 7 days is allowed (keys that old may have been removed).`);
  const timeoutMs = positiveDuration(entry.timeout, '5s', `${path}.timeout`);
  if (timeoutMs > 60_000) fail(`${path}.timeout is ${timeoutMs} ms; at most 60 seconds is allowed.`);
  return {
    keySet: { uri: url.href, cacheMaxAgeMs, cooldownMs, maxBackoffMs, staleIfErrorMs, timeoutMs },
    issuers,
    audience: entry.audience === undefined ? inherited.audience : toStringList(entry.audience, `${path}.audience`),
    algorithms: [...algorithms] as JwksAlgorithm[],
    typ,
    requiredClaims,
    allowedClients,
    rolesPaths: claimPaths(entry.rolesClaim, inherited.rolesPaths, `${path}.rolesClaim`),
    scopesPaths: claimPaths(entry.scopesClaim, inherited.scopesPaths, `${path}.scopesClaim`),
  };
}

function normalizeJwks(entries: unknown, inherited: InheritedJwtSettings): NormalizedJwksIssuer[] {
  if (entries === undefined) return [];
  if (!Array.isArray(entries)) fail(`auth.jwt.jwks is ${describe(entries)}; expected an array of { uri, issuer? }.`);
  const owner = new Map<string, number>();
  return entries.map((entry: JwksIssuerOptions, i) => {
    const normalized = normalizeJwksEntry(entry, `auth.jwt.jwks[${i}]`, inherited);
    for (const issuer of normalized.issuers) {
      const previous = owner.get(issuer);
      if (previous !== undefined) {
        fail(
          `auth.jwt.jwks[${i}] expects the issuer ${describe(issuer)}, as auth.jwt.jwks[${previous}] does (perhaps inherited from auth.jwt.issuer); one JWK Set per issuer: give each entry its own issuer.`,
        );
      }
      owner.set(issuer, i);
    }
    return normalized;
  });
}

const DEFAULT_ROLES_PATHS: readonly CompiledClaimPath[] = [{ name: 'roles', segments: ['roles'] }];
const DEFAULT_SCOPES_PATHS: readonly CompiledClaimPath[] = [{ name: 'scope', segments: ['scope'] }];

function normalizeJwt(options: JwtAuthOptions): NormalizedJwtOptions {
  if (!isPlainObject(options)) fail(`auth.jwt is ${describe(options)}; expected an object.`);
  assertKnownKeys(options, JWT_KEYS, 'auth.jwt');
  const audience = toStringList(options.audience, 'auth.jwt.audience');
  const issuer = toStringList(options.issuer, 'auth.jwt.issuer');
  const rolesPaths = claimPaths(options.rolesClaim, DEFAULT_ROLES_PATHS, 'auth.jwt.rolesClaim');
  const scopesPaths = claimPaths(options.scopesClaim, DEFAULT_SCOPES_PATHS, 'auth.jwt.scopesClaim');
  const jwks = normalizeJwks(options.jwks, { issuer, audience, rolesPaths, scopesPaths });
  const localKey = options.secret !== undefined || options.publicKey !== undefined || jwks.length === 0;
  const { key, algorithms } = localKey ? importVerifyKey(options) : { key: undefined, algorithms: [] as JwtAlgorithm[] };
  const clockTolerance = parseCoarseDuration(options.clockTolerance ?? 0, 'auth.jwt.clockTolerance');
  if (clockTolerance > MAX_CLOCK_TOLERANCE_MS) {
    fail(`auth.jwt.clockTolerance is ${clockTolerance} ms; at most 5 minutes is allowed (RFC 8725 favours small leeways).`);
  }
  const ttl = parseCoarseDuration(options.accessTokenTtl ?? '15m', 'auth.jwt.accessTokenTtl');
  if (ttl < 1000) fail(`auth.jwt.accessTokenTtl is ${ttl} ms; expected at least one second.`);
  if (options.validate !== undefined && typeof options.validate !== 'function') {
    fail(`auth.jwt.validate is ${describe(options.validate)}; expected a function.`);
  }
  if (options.cache !== undefined && options.cache !== false) {
    if (!isPlainObject(options.cache)) fail(`auth.jwt.cache is ${describe(options.cache)}; expected { maxEntries?, maxAge? } or false.`);
    assertKnownKeys(options.cache, ['maxEntries', 'maxAge'], 'auth.jwt.cache');
  }
  const cache =
    options.cache === false || options.validate !== undefined
      ? undefined
      : {
          maxEntries: positiveInteger(options.cache?.maxEntries, 10_000, 'auth.jwt.cache.maxEntries', 10_000_000),
          maxAgeMs: parseCoarseDuration(options.cache?.maxAge ?? '1m', 'auth.jwt.cache.maxAge'),
        };
  return {
    verifyKey: key,
    jwks,
    cache,
    signKey: key === undefined ? undefined : importSignKey(options, key),
    algorithms,
    issuer,
    audience,
    clockToleranceSeconds: Math.floor(clockTolerance / 1000),
    maxTokenLength: positiveInteger(options.maxTokenLength, 8192, 'auth.jwt.maxTokenLength', 65_536),
    rolesClaim: (rolesPaths[0] as CompiledClaimPath).name,
    scopesClaim: (scopesPaths[0] as CompiledClaimPath).name,
    rolesPaths,
    scopesPaths,
    accessTokenTtlSeconds: Math.floor(ttl / 1000),
    validate: options.validate,
  };
}

function decodeDigest(value: unknown, path: string): Buffer {
  if (typeof value === 'string') {
    if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex');
    if (/^[A-Za-z0-9+/]{43}=$/.test(value)) return Buffer.from(value, 'base64');
  }
  fail(`${path} is ${describe(value)}; expected a SHA-256 digest as 64 hex characters or 44 base64 characters.`);
}

/** @internal */
export function validatePrincipalInit(value: unknown, path: string): PrincipalInit {
  const record = value as Record<string, unknown>;
  if (!isPlainObject(value) || typeof record.id !== 'string' || record.id.length === 0) {
    fail(`${path} is ${describe(value)}; expected { id: string, roles?: string[], scopes?: string[] }.`);
  }
  for (const list of ['roles', 'scopes'] as const) {
    const entries = record[list];
    if (entries !== undefined && (!Array.isArray(entries) || entries.some((e) => typeof e !== 'string'))) {
      fail(`${path}.${list} is ${describe(entries)}; expected an array of strings.`);
    }
  }
  return value as unknown as PrincipalInit;
}

function normalizeApiKey(options: ApiKeyAuthOptions): NormalizedApiKeyOptions {
  if (!isPlainObject(options)) fail(`auth.apiKey is ${describe(options)}; expected an object.`);
  assertKnownKeys(options, API_KEY_KEYS, 'auth.apiKey');
  const rawHeader: unknown = options.header ?? 'x-api-key';
  const header = typeof rawHeader === 'string' ? rawHeader.toLowerCase() : '';
  if (!HEADER_NAME.test(header) || header === 'authorization' || header === 'cookie') {
    fail(`auth.apiKey.header is ${describe(options.header)}; expected a header name such as 'x-api-key' (not Authorization or Cookie).`);
  }
  if (options.validate !== undefined && typeof options.validate !== 'function') {
    fail(`auth.apiKey.validate is ${describe(options.validate)}; expected a function.`);
  }
  if (options.keys !== undefined && !Array.isArray(options.keys)) {
    fail(`auth.apiKey.keys is ${describe(options.keys)}; expected an array of { sha256, principal }.`);
  }
  const keys = (options.keys ?? []).map((entry, i) => {
    const path = `auth.apiKey.keys[${i}]`;
    if (!isPlainObject(entry)) fail(`${path} is ${describe(entry)}; expected { sha256, principal }.`);
    assertKnownKeys(entry, ['sha256', 'principal'], path);
    if (isPlainObject(entry.principal)) assertKnownKeys(entry.principal, PRINCIPAL_KEYS, `${path}.principal`);
    return { digest: decodeDigest(entry.sha256, `${path}.sha256`), principal: validatePrincipalInit(entry.principal, `${path}.principal`) };
  });
  if (keys.length === 0 && options.validate === undefined) {
    fail('auth.apiKey needs keys (SHA-256 digests) or a validate callback; without either no key could ever be accepted.');
  }
  return {
    header,
    keys,
    validate: options.validate,
    maxKeyLength: positiveInteger(options.maxKeyLength, 512, 'auth.apiKey.maxKeyLength', 8192),
  };
}

function normalizeBasic(options: BasicAuthOptions, realm: string): NormalizedBasicOptions {
  if (!isPlainObject(options)) fail(`auth.basic is ${describe(options)}; expected an object.`);
  assertKnownKeys(options, ['realm', 'validate'], 'auth.basic');
  if (typeof options.validate !== 'function') {
    fail(`auth.basic.validate is ${describe(options.validate)}; expected (userId, password, request) => principal | null.`);
  }
  return {
    realm: options.realm === undefined ? realm : quotable(options.realm, 'auth.basic.realm'),
    validate: options.validate,
  };
}

function buildChallenges(auth: Omit<NormalizedAuthOptions, 'challenges' | 'defaultSchemes'>): Map<AuthScheme, SchemeChallenges> {
  const challenges = new Map<AuthScheme, SchemeChallenges>();
  if (auth.jwt) {
    const base = `Bearer realm="${auth.realm}"`;
    challenges.set('jwt', {
      missing: base,
      invalid: `${base}, error="invalid_token", error_description="The access token is invalid"`,
      expired: `${base}, error="invalid_token", error_description="The access token expired"`,
      malformed: `${base}, error="invalid_request", error_description="The Authorization header is malformed"`,
    });
  }
  if (auth.apiKey) {
    const value = `ApiKey realm="${auth.realm}", header="${auth.apiKey.header}"`;
    challenges.set('api-key', { missing: value, invalid: value, expired: value, malformed: value });
  }
  if (auth.basic) {
    const value = `Basic realm="${auth.basic.realm}", charset="UTF-8"`;
    challenges.set('basic', { missing: value, invalid: value, expired: value, malformed: value });
  }
  return challenges;
}

/**
 * Validates the `auth` options once at startup and precomputes everything the request path needs
 * (imported keys, digests, challenge strings). Throws with a message naming the option and the fix.
 * @internal
 */
export function normalizeAuthOptions(options: AuthOptions | undefined): NormalizedAuthOptions {
  const auth = options ?? {};
  if (!isPlainObject(auth)) fail(`auth is ${describe(auth)}; expected an object.`);
  assertKnownKeys(auth, AUTH_KEYS, 'auth');
  const realm = auth.realm === undefined ? 'api' : quotable(auth.realm, 'auth.realm');
  const jwt = auth.jwt === undefined ? undefined : normalizeJwt(auth.jwt);
  const apiKey = auth.apiKey === undefined ? undefined : normalizeApiKey(auth.apiKey);
  const basic = auth.basic === undefined ? undefined : normalizeBasic(auth.basic, realm);
  const configured = new Set<AuthScheme>();
  if (jwt) configured.add('jwt');
  if (apiKey) configured.add('api-key');
  if (basic) configured.add('basic');
  let defaultSchemes: AuthScheme[];
  if (auth.defaultSchemes === undefined) {
    defaultSchemes = AUTH_SCHEMES.filter((s) => configured.has(s));
  } else {
    if (!Array.isArray(auth.defaultSchemes)) fail(`auth.defaultSchemes is ${describe(auth.defaultSchemes)}; expected an array of scheme names.`);
    defaultSchemes = [...new Set(auth.defaultSchemes)];
    for (const scheme of defaultSchemes) assertSchemeConfigured(scheme, configured, 'auth.defaultSchemes');
  }
  const partial = { jwt, apiKey, basic, configured, realm };
  return { ...partial, defaultSchemes, challenges: buildChallenges(partial) };
}

/** @internal */
export function assertSchemeConfigured(scheme: unknown, configured: ReadonlySet<AuthScheme>, where: string): asserts scheme is AuthScheme {
  if (!AUTH_SCHEMES.includes(scheme as AuthScheme)) {
    fail(`${where} names the scheme ${describe(scheme)}; known schemes: ${AUTH_SCHEMES.join(', ')}.`);
  }
  if (!configured.has(scheme as AuthScheme)) {
    const option = scheme === 'jwt' ? 'auth.jwt' : scheme === 'api-key' ? 'auth.apiKey' : 'auth.basic';
    fail(`${where} names the scheme '${String(scheme)}', which is not configured; set ${option} in PalisadeModule.forRoot().`);
  }
}
