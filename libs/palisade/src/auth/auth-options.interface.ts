import type { KeyObject, JsonWebKey } from 'node:crypto';
import type { Duration } from '../common/duration.js';
import type { HttpRequestLike } from '../common/http-context.js';
import type { AuthScheme, PrincipalInit } from './principal.interface.js';

/** JWS algorithms Palisade accepts for access tokens. `none` is never accepted. */
export type JwtAlgorithm = 'HS256' | 'HS384' | 'HS512' | 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512';

/** Algorithms accepted from a JWKS (asymmetric only; `EdDSA` is verified by `jose`). */
export type JwksAlgorithm = Exclude<JwtAlgorithm, 'HS256' | 'HS384' | 'HS512'> | 'EdDSA';

/**
 * An identity provider whose signing keys are published as a JWK Set (RFC 7517). Tokens are
 * verified with `jose`: keys are cached, an unknown `kid` triggers at most one refetch per
 * `cooldown`, a key's own `alg` is enforced, and no URL named inside a token (`jku`, `x5u`) is
 * ever fetched.
 *
 * @example
 * jwks: [{ uri: 'https://id.example.com/.well-known/jwks.json', issuer: 'https://id.example.com' }]
 */
export interface JwksIssuerOptions {
  /** The JWK Set URL: `https://`, or `http://` on a loopback host only. */
  uri: string;
  /**
   * The issuer (`iss`) whose tokens this set verifies, enforced. Without it the set verifies
   * tokens whose `iss` matches no other entry and whose algorithm the local key does not take.
   */
  issuer?: string;
  /** Expected `aud` for this issuer. Default: `auth.jwt.audience`. */
  audience?: string | readonly string[];
  /** Accepted algorithms. Default `['RS256', 'PS256', 'ES256', 'EdDSA']`. */
  algorithms?: readonly JwksAlgorithm[];
  /** How long fetched keys are trusted before a refetch, ms or duration. Default `'10m'`. */
  cacheMaxAge?: Duration;
  /** Least time between two fetches (an unknown `kid` inside it is rejected without a fetch). Default `'30s'`. */
  cooldown?: Duration;
  /** Timeout of a fetch. Default `'5s'`. */
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
  /** Expected `iss` (one or any of several). Enforced when set. */
  issuer?: string | readonly string[];
  /** Expected `aud` (one or any of several). Enforced when set. */
  audience?: string | readonly string[];
  /**
   * Leeway for `exp` and `nbf` checks, in milliseconds or as a duration (`'30s'`).
   * Default `0`; at most 5 minutes.
   */
  clockTolerance?: Duration;
  /** Largest accepted token, in characters. Default `8192`. */
  maxTokenLength?: number;
  /** Claim holding the caller's roles (an array of strings). Default `'roles'`. */
  rolesClaim?: string;
  /**
   * Claim holding the caller's scopes: a space-separated string (RFC 8693 `scope`) or an array
   * (`scp`). Default `'scope'`; `scp` is read when the configured claim is absent.
   */
  scopesClaim?: string;
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
