import type { KeyObject, JsonWebKey } from 'node:crypto';
import type { Duration } from '../common/duration.js';
import type { HttpRequestLike } from '../common/http-context.js';
import type { AuthScheme, PrincipalInit } from './principal.interface.js';

/** JWS algorithms Palisade accepts for access tokens. `none` is never accepted. */
export type JwtAlgorithm = 'HS256' | 'HS384' | 'HS512' | 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512';

/**
 * Algorithms accepted from a JWKS (asymmetric only; `EdDSA` and its fully specified name
 * `Ed25519` (RFC 9864) are verified by `jose`).
 */
export type JwksAlgorithm = Exclude<JwtAlgorithm, 'HS256' | 'HS384' | 'HS512'> | 'EdDSA' | 'Ed25519';

/**
 * A claim to read, as a name or a dot-separated path into nested objects: `'roles'`,
 * `'realm_access.roles'` (Keycloak realm roles), `'resource_access.orders-api.roles'` (Keycloak
 * client roles). A top-level claim whose name is exactly the string (Auth0's
 * `'https://example.com/roles'`) wins over the path. A list reads several claims and merges them.
 */
export type ClaimPath = string | readonly string[];

/**
 * An identity provider whose signing keys are published as a JWK Set (RFC 7517). Tokens are
 * verified with `jose`: a key is chosen by `kid` (its own `alg` enforced) from the cached set, and
 * no URL named inside a token (`jku`, `x5u`) is ever fetched.
 *
 * Fetching: the set is fetched on first use and again once it is older than `cacheMaxAge` (in the
 * background: requests keep using the cached keys meanwhile). An unknown `kid` refetches at most
 * once per `cooldown`. A failed fetch (an HTTP status other than 200, a timeout, a network
 * error, a body that is not a JWK Set, or a set without usable keys) never replaces the cached
 * keys; it is retried after `cooldown`, doubling on each consecutive failure up to `maxBackoff`,
 * and reported as a `jwks.fetch.failed` event (`jwks.fetch.recovered` when it answers again).
 * While the provider fails, the last good keys are used for `staleIfError` past `cacheMaxAge`;
 * after that its tokens are refused until a fetch succeeds. `JwksKeys.refresh()` and
 * `JwksKeys.revokeKey(kid)` act at once.
 *
 * @example
 * jwks: [{ uri: 'https://id.example.com/.well-known/jwks.json', issuer: 'https://id.example.com', profile: 'rfc9068' }]
 */
export interface JwksIssuerOptions {
  /** The JWK Set URL: `https://`, or `http://` on a loopback host only. */
  uri: string;
  /**
   * The issuer (`iss`) whose tokens this set verifies, enforced; several when one key set serves
   * several issuers (Entra ID tenants share one). Default: `auth.jwt.issuer`. An entry with
   * neither refuses to start: keys shared by several issuers would accept all of them.
   */
  issuer?: string | readonly string[];
  /**
   * Expected `aud` for this issuer. Default: `auth.jwt.audience`. Without either, an ID token or a
   * token minted for another API is accepted (reported as `configuration.insecure` at startup).
   */
  audience?: string | readonly string[];
  /** Accepted algorithms. Default `['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519']`. */
  algorithms?: readonly JwksAlgorithm[];
  /**
   * Access-token profile. `'rfc9068'` (RFC 9068, JWT access tokens): the `typ` header must be
   * `at+jwt`, and `iss`, `exp`, `aud`, `sub`, `client_id`, `iat` and `jti` are required — an ID
   * token (`typ: JWT`) is refused. Default: none.
   */
  profile?: 'rfc9068';
  /**
   * Required `typ` header (compared as a media type: `at+jwt` matches `application/at+jwt`,
   * case-insensitively). Default: none, or `at+jwt` with `profile: 'rfc9068'`.
   */
  typ?: string;
  /** Claims every token of this issuer must carry (in addition to `exp` and `sub`). Default none. */
  requiredClaims?: readonly string[];
  /**
   * OAuth clients whose tokens are accepted: the token's `azp` (OpenID Connect) or, without it,
   * its `client_id` (RFC 9068) must be one of them; a token with neither is refused. Default: no restriction.
   */
  allowedClients?: readonly string[];
  /** Claim (or path) holding this issuer's roles. Default: `auth.jwt.rolesClaim`. */
  rolesClaim?: ClaimPath;
  /** Claim (or path) holding this issuer's scopes. Default: `auth.jwt.scopesClaim`. */
  scopesClaim?: ClaimPath;
  /** How long fetched keys are used before a (background) refetch, ms or duration. Default `'10m'`. */
  cacheMaxAge?: Duration;
  /**
   * Least time between two fetches, ms or duration: an unknown `kid` inside it is rejected without
   * a fetch; also the first retry delay after a failed fetch. Default `'30s'`.
   */
  cooldown?: Duration;
  /** Longest retry delay while fetches keep failing (the delay doubles from `cooldown`), ms or duration. Default `'5m'`. */
  maxBackoff?: Duration;
  /**
   * How long past `cacheMaxAge` the last good keys are still used while fetches fail, ms or
   * duration (RFC 5861's `stale-if-error`). `0` turns it off. Default `'1h'`.
   */
  staleIfError?: Duration;
  /** Timeout of a fetch, ms or duration. Default `'5s'`. */
  timeout?: Duration;
}

/** The request object handed to `validate` callbacks (an Express or a Fastify request). */
export type AuthRequest = HttpRequestLike;

/**
 * Bearer JWT verification (RFC 7519, RFC 8725), through `passport-jwt`.
 *
 * Exactly one of `secret` and `publicKey` is required, unless `jwks` provides the keys.
 *
 * @example
 * jwt: { secret: process.env.JWT_SECRET, issuer: 'https://id.example.com', audience: 'orders-api' }
 */
export interface JwtAuthOptions {
  /**
   * HMAC secret (HS256/384/512). At least 32 bytes for HS256, 48 for HS384, 64 for HS512
   * (RFC 7518 §3.2); shorter secrets refuse to start.
   */
  secret?: string | Buffer | KeyObject;
  /** Public key for RS*, PS* or ES* tokens: a PEM string, a JWK or a `KeyObject`. */
  publicKey?: string | Buffer | JsonWebKey | KeyObject;
  /**
   * Private key used by `TokenService` to sign tokens with an asymmetric algorithm. Not needed to
   * verify tokens. PEM string, JWK or `KeyObject`.
   */
  privateKey?: string | Buffer | JsonWebKey | KeyObject;
  /**
   * Accepted algorithms, pinned. Defaults to `['HS256']` with a secret, to the key's natural
   * algorithm with a public key (`RS256` for RSA, `ES256`/`ES384`/`ES512` for EC curves).
   * Must match the key type; `none` is refused.
   */
  algorithms?: readonly JwtAlgorithm[];
  /** Identity providers whose JWK Sets also sign accepted tokens (several issuers allowed). */
  jwks?: readonly JwksIssuerOptions[];
  /**
   * Cache of verified tokens: a token seen again skips signature verification (expiry and
   * revocation are still checked on every request). `maxEntries` (default 10 000), `maxAge`
   * (default `'1m'`: how long a verification is reused at most). `false` turns it off. It is off
   * whenever a `validate` hook is set (its answer may change).
   */
  cache?: false | { maxEntries?: number; maxAge?: Duration };
  /** Expected `iss` (one or any of several). Enforced when set; inherited by `jwks` entries. */
  issuer?: string | readonly string[];
  /** Expected `aud` (one or any of several). Enforced when set; inherited by `jwks` entries. */
  audience?: string | readonly string[];
  /**
   * Leeway for `exp` and `nbf` checks, in milliseconds or as a duration (`'30s'`).
   * Default `0`; at most 5 minutes.
   */
  clockTolerance?: Duration;
  /** Largest accepted token, in characters. Default `8192`. */
  maxTokenLength?: number;
  /**
   * Claim holding the caller's roles (an array of strings), or a path to it (`'realm_access.roles'`),
   * or several (merged); see {@link ClaimPath}. Default `'roles'`.
   */
  rolesClaim?: ClaimPath;
  /**
   * Claim holding the caller's scopes: a space-separated string (RFC 8693 `scope`) or an array
   * (`scp`); a name, a path or several, see {@link ClaimPath}. Default `'scope'`; `scp` is read
   * when the configured claims are all absent.
   */
  scopesClaim?: ClaimPath;
  /**
   * Access-token lifetime used by `TokenService.issueAccessToken`, in milliseconds or as a
   * duration. Default `'15m'`.
   */
  accessTokenTtl?: Duration;
  /**
   * Optional hook run after the signature and claims have been verified: map the claims to a
   * principal (e.g. load the user), or return `null` to reject the token.
   */
  validate?: (claims: Readonly<Record<string, unknown>>, request: AuthRequest) => PrincipalInit | null | Promise<PrincipalInit | null>;
}

/** A pre-shared API key stored as its SHA-256 digest, never in clear. */
export interface HashedApiKey {
  /** Hex (64 characters) or base64 SHA-256 digest of the key. */
  sha256: string;
  /** The principal a request bearing this key becomes. */
  principal: PrincipalInit;
}

/**
 * API keys presented in a request header. Provide `keys` (hashed, compared in constant time),
 * `validate`, or both (`keys` are checked first).
 *
 * @example
 * apiKey: { header: 'x-api-key', keys: [{ sha256: 'e3b0…', principal: { id: 'svc', roles: ['service'] } }] }
 */
export interface ApiKeyAuthOptions {
  /** Header carrying the key (case-insensitive). Default `'x-api-key'`. */
  header?: string;
  /** Hashed keys accepted without a callback. */
  keys?: readonly HashedApiKey[];
  /**
   * Resolves a presented key to a principal, or `null` when it is unknown. Compare secrets in
   * constant time (`crypto.timingSafeEqual` on digests).
   */
  validate?: (key: string, request: AuthRequest) => PrincipalInit | null | Promise<PrincipalInit | null>;
  /** Largest accepted key, in characters. Default `512`. */
  maxKeyLength?: number;
}

/**
 * HTTP Basic authentication (RFC 7617). The password reaches only `validate`; it is never logged.
 *
 * @example
 * basic: { realm: 'api', validate: (user, password) => users.verify(user, password) }
 */
export interface BasicAuthOptions {
  /** Realm named in the `WWW-Authenticate` challenge. Default: `auth.realm`. */
  realm?: string;
  /** Verifies the user id and password; returns the principal, or `null` when they are wrong. */
  validate: (userId: string, password: string, request: AuthRequest) => PrincipalInit | null | Promise<PrincipalInit | null>;
}

/** Authentication options: the schemes the app accepts and which ones routes accept by default. */
export interface AuthOptions {
  /** Bearer JWT scheme (`'jwt'`). */
  jwt?: JwtAuthOptions;
  /** API key scheme (`'api-key'`). */
  apiKey?: ApiKeyAuthOptions;
  /** HTTP Basic scheme (`'basic'`). */
  basic?: BasicAuthOptions;
  /**
   * Schemes a route accepts when it has no `@Auth(...)`. Default: every configured scheme, in the
   * order jwt, api-key, basic.
   */
  defaultSchemes?: readonly AuthScheme[];
  /** Realm named in challenges. Default `'api'`. */
  realm?: string;
}
