import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import jwt from 'jsonwebtoken';
import { AuthenticationFailedException } from '../auth/authentication.exception.js';
import type { NormalizedAuthOptions, NormalizedJwtOptions } from '../auth/auth-options.normalizer.js';
import type { PrincipalInit } from '../auth/principal.interface.js';
import type { TokenRevocationCheck } from '../auth/token-revocation.interface.js';
import { parseDuration, type Duration } from '../common/duration.js';
import { AUTH_OPTIONS } from '../auth/auth.constants.js';
import { TOKENS_OPTIONS } from './tokens.constants.js';
import { StoreUnavailableException } from '../common/store-unavailable.exception.js';
import { SecurityEvents } from '../events/security-events.service.js';
import { StoreOutages, type StoreOutageMonitor } from '../events/store-outages.service.js';
import type { HttpRequestLike } from '../common/http-context.js';
import { openGracePair, sealGracePair } from './grace-pair.cipher.js';
import { TokenStoreHolder } from './token-store.provider.js';
import type { RefreshTokenRecord, TokenStore } from './token-store.interface.js';
import type { NormalizedTokensOptions } from './tokens-options.normalizer.js';

/** An issued access token, shaped like an OAuth 2.0 token response (RFC 6749 §5.1). */
export interface IssuedAccessToken {
  /** The signed JWT. */
  readonly accessToken: string;
  /** Always `'Bearer'`. */
  readonly tokenType: 'Bearer';
  /** Lifetime in **seconds**. */
  readonly expiresIn: number;
  /** The token's `jti`, for revocation. */
  readonly jti: string;
}

/** An access token and the refresh token that renews it. */
export interface IssuedTokenPair extends IssuedAccessToken {
  /** Opaque, single-use refresh token (`<family>.<secret>`). */
  readonly refreshToken: string;
  /** Seconds until the refresh token's family expires. */
  readonly refreshExpiresIn: number;
}

/** Options of {@link TokenService.issueAccessToken}. */
export interface IssueAccessTokenOptions {
  /** Lifetime in milliseconds or as a duration; default `auth.jwt.accessTokenTtl` (`'15m'`). */
  ttl?: Duration;
  /** Extra claims; registered claims (`sub`, `iss`, `aud`, `exp`, `iat`, `nbf`, `jti`, `fid`) cannot be overridden. */
  claims?: Record<string, unknown>;
  /** The HTTP request being served, so security events carry its id, client IP and route. */
  request?: HttpRequestLike;
  /**
   * The HTTP response being prepared (Express `res` or Fastify `reply`, e.g. from
   * `@Res({ passthrough: true })`): when the token store is unavailable, the 503 then carries
   * `Retry-After: 1`, like every other 503 of Palisade.
   */
  response?: object;
}

/** Claims of an access token that matter for revocation. */
export interface RevocableClaims {
  /** Token id. */
  readonly jti?: unknown;
  /** Expiry, seconds since the epoch. */
  readonly exp?: unknown;
  /** Refresh-token family the token was issued in. */
  readonly fid?: unknown;
}

/**
 * 503 while the token store cannot answer (and the policy is to fail closed). Palisade's guards set
 * `Retry-After: 1` beside it; `TokenService` does when given the response (`options.response`).
 */
export class TokenStoreUnavailableException extends StoreUnavailableException {
  constructor() {
    super('Token verification is temporarily unavailable; retry shortly');
  }
}

/**
 * 400 from `TokenService.revoke()` for a credential it cannot revoke: claims with neither a `jti`
 * (an access token of an identity provider that sets none, or an API key's or Basic principal) nor
 * a refresh-token family. A logout that answered 204 would claim a revocation that did not happen.
 */
export class TokenNotRevocableException extends BadRequestException {
  constructor() {
    super({ statusCode: 400, error: 'Bad Request', message: 'This credential cannot be revoked: it is not an access token with a jti claim' });
  }
}

const REGISTERED = new Set(['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'jti', 'fid']);
const REFRESH_TOKEN = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;

/**
 * Issues, refreshes and revokes tokens.
 *
 * - Access tokens: JWTs the module's own JWT scheme accepts (`sub`, roles, scope, `iss`, `aud`,
 *   `iat`, `exp`, a random `jti`).
 * - Refresh tokens (with `tokens` configured): opaque and single-use. `refresh` rotates them; a
 *   refresh token presented twice revokes its whole family and the family's access tokens
 *   (reuse detection, OAuth 2.0 Security BCP). Only digests are stored.
 * - Revocation: `revoke` denies an access token until it would have expired anyway; the JWT scheme
 *   checks the deny-list on every request (one store round trip; none when the answer is mirrored,
 *   see `tokens.storage.mirrorRevocations`).
 *
 * @example
 * const pair = await tokens.issueTokens({ id: 'alice', roles: ['admin'] });
 * const next = await tokens.refresh(pair.refreshToken);
 * await tokens.revoke(user.claims); // logout
 */
@Injectable()
export class TokenService implements TokenRevocationCheck {
  private readonly jwt: NormalizedJwtOptions | undefined;
  private readonly lifecycle: NormalizedTokensOptions | undefined;
  private readonly store: TokenStore | undefined;
  private readonly outage: StoreOutageMonitor;

  constructor(
    // Tokens are signed and verified with the JWT scheme's keys.
    @Inject(AUTH_OPTIONS) auth: NormalizedAuthOptions,
    @Inject(TOKENS_OPTIONS) tokens: NormalizedTokensOptions | undefined,
    private readonly holder: TokenStoreHolder,
    private readonly events: SecurityEvents,
    private readonly outages: StoreOutages,
  ) {
    this.jwt = auth.jwt;
    this.lifecycle = tokens;
    this.store = holder.store;
    this.outage = outages.monitor('tokens', tokens?.failOpen ?? false, {
      context: 'PalisadeTokens',
      down: (reason) => `Token store unavailable (${reason}).`,
      up: 'Token store is back.',
    });
  }

  /** True while revocation checks are answered from the local mirror (see `mirrorRevocations`). */
  get revocationsMirrored(): boolean {
    return this.holder.mirror?.isLive ?? false;
  }

  /** Signs a new access token for `principal`. Throws when no signing key is configured. */
  issueAccessToken(principal: PrincipalInit, options: IssueAccessTokenOptions = {}): IssuedAccessToken {
    return this.sign(principal, options, undefined);
  }

  /** Issues an access token and a refresh token starting a new family. Needs `tokens` configured. */
  async issueTokens(principal: PrincipalInit, options: IssueAccessTokenOptions = {}): Promise<IssuedTokenPair> {
    const { lifecycle } = this.requireLifecycle();
    const familyId = randomBytes(16).toString('base64url');
    return this.issueInFamily(principal, options, familyId, Date.now() + lifecycle.refreshTokenTtlMs);
  }

  /**
   * Exchanges a refresh token for a new pair (the presented one is used up). A malformed, unknown,
   * expired or revoked token is a 401; a reused one also revokes its family and its access tokens.
   *
   * A retry within `tokens.refreshGracePeriod` of the first use (while the token it was rotated
   * into is unused) gets the same pair as the first use, so concurrent retries all succeed with one
   * consistent pair; a pair whose access token was revoked meanwhile is never handed out again.
   */
  async refresh(refreshToken: unknown, options: IssueAccessTokenOptions = {}): Promise<IssuedTokenPair> {
    const { lifecycle, store } = this.requireLifecycle();
    const match = typeof refreshToken === 'string' ? REFRESH_TOKEN.exec(refreshToken) : null;
    if (!match) this.rejectRefresh(options.request, 'malformed');
    const presented = refreshToken as string;
    const familyId = match[1] as string;
    const presentedDigest = digest(presented);
    // Look first: an unknown or revoked token costs one read and no signature.
    const found = await this.guard(() => store.findRefreshToken(familyId, presentedDigest), options.response);
    if (found.status !== 'ok' || found.record.familyExpiresAt <= Date.now()) this.rejectRefresh(options.request, 'invalid');
    const { record } = found;
    const next = this.newPair(record.principal, options, familyId, record.familyExpiresAt);
    const graceMs = lifecycle.refreshGraceMs;
    const sealedPair =
      graceMs > 0
        ? sealGracePair(presented, familyId, {
            accessToken: next.pair.accessToken,
            expiresIn: next.pair.expiresIn,
            jti: next.pair.jti,
            refreshToken: next.pair.refreshToken,
            issuedAt: next.issuedAt,
          })
        : '';
    // One atomic step decides: the first use saves `next`; a retry in the grace period gets the
    // first use's pair (and `next` is dropped unseen); any other reuse revokes the family.
    const result = await this.guard(
      () =>
        store.rotateRefreshToken(familyId, presentedDigest, {
          digest: digest(next.pair.refreshToken),
          record: next.record,
          accessJti: next.pair.jti,
          accessExpiresAt: next.accessExpiresAt,
          sealedPair,
          graceMs,
        }),
      options.response,
    );
    if (result.status === 'rotated') return next.pair;
    if (result.status === 'grace') return this.replayGracePair(presented, familyId, result.sealedPair, record.familyExpiresAt, options);
    if (result.status === 'reused') {
      this.events.emit({ type: 'refresh-token.reused', familyFingerprint: this.events.fingerprint(familyId) }, options.request);
      await this.revokeFamily(familyId, options.request, options.response);
      throw new AuthenticationFailedException('Invalid refresh token');
    }
    this.rejectRefresh(options.request, 'invalid');
  }

  /** The pair of a refresh's first use, for a retry in the grace period; never one whose access token was revoked. */
  private async replayGracePair(
    presented: string,
    familyId: string,
    sealedPair: string,
    familyExpiresAt: number,
    options: IssueAccessTokenOptions,
  ): Promise<IssuedTokenPair> {
    const { store } = this.requireLifecycle();
    const pair = openGracePair(presented, familyId, sealedPair);
    if (pair === undefined) this.rejectRefresh(options.request, 'invalid');
    if (await this.guard(() => store.isAccessTokenRevoked(pair.jti), options.response)) this.rejectRefresh(options.request, 'invalid');
    const now = Date.now();
    return {
      accessToken: pair.accessToken,
      tokenType: 'Bearer',
      expiresIn: Math.max(1, pair.expiresIn - Math.floor((now - pair.issuedAt) / 1000)),
      jti: pair.jti,
      refreshToken: pair.refreshToken,
      refreshExpiresIn: Math.max(1, Math.floor((familyExpiresAt - now) / 1000)),
    };
  }

  /**
   * Revokes an access token (by its verified claims, e.g. `principal.claims`) until it expires, and
   * the refresh-token family it was issued in, if any: a logout that holds on every instance.
   * Throws {@link TokenNotRevocableException} (400) when the claims name neither a `jti` nor a
   * family, so nothing would be revoked.
   */
  async revoke(claims: RevocableClaims, request?: HttpRequestLike, response?: object): Promise<void> {
    const { jti, exp, fid } = claims;
    const revocableToken = typeof jti === 'string' && jti.length > 0 && typeof exp === 'number';
    if (!revocableToken && typeof fid !== 'string') throw new TokenNotRevocableException();
    if (revocableToken) {
      // NaN would make every store skip the revocation (its time to live is not > 0): refuse it.
      if (Number.isNaN(exp)) throw new TypeError('revokeAccessToken: expiresAt must be an epoch time in milliseconds');
      const { store } = this.requireLifecycle();
      await this.guard(() => store.revokeAccessToken(jti, exp * 1000), response);
      this.events.emit({ type: 'token.revoked', what: 'access-token' }, request);
    }
    if (typeof fid === 'string') await this.revokeFamily(fid, request, response);
  }

  /** Denies the access token `jti` until `expiresAt` (epoch **milliseconds**). */
  async revokeAccessToken(jti: string, expiresAt: number): Promise<void> {
    // NaN would make every store skip the revocation (its time to live is not > 0): refuse it.
    if (typeof expiresAt !== 'number' || Number.isNaN(expiresAt)) throw new TypeError('revokeAccessToken: expiresAt must be an epoch time in milliseconds');
    const { store } = this.requireLifecycle();
    await this.guard(() => store.revokeAccessToken(jti, expiresAt));
  }

  /**
   * Revokes a refresh-token family and every access token issued in it. With `response`, a 503 for
   * an unavailable store carries `Retry-After`.
   */
  async revokeFamily(familyId: string, request?: HttpRequestLike, response?: object): Promise<void> {
    const { store } = this.requireLifecycle();
    const accessTokens = await this.guard(() => store.revokeFamily(familyId), response);
    await Promise.all([...accessTokens].map(([jti, expiresAt]) => this.guard(() => store.revokeAccessToken(jti, expiresAt), response)));
    this.events.emit({ type: 'token.revoked', what: 'family' }, request);
  }

  /** `isRevoked` synchronously when the store is in memory or the answer is mirrored; `undefined` otherwise. */
  isRevokedSync(jti: string): boolean | undefined {
    const store = this.store;
    if (!store) return false;
    return store.isAccessTokenRevokedSync?.(jti);
  }

  /** True when the access token `jti` was revoked. Applies `tokens.failOpen` when the store is down. */
  async isRevoked(jti: string): Promise<boolean> {
    const store = this.store;
    if (!store) return false;
    try {
      const revoked = await store.isAccessTokenRevoked(jti);
      this.outage.recovered();
      return revoked;
    } catch (error) {
      this.outage.failed(error);
      if (this.lifecycle?.failOpen) return false;
      throw new TokenStoreUnavailableException();
    }
  }

  private rejectRefresh(request: HttpRequestLike | undefined, reason: 'malformed' | 'invalid'): never {
    this.events.emit({ type: 'authentication.failed', reason }, request);
    throw new AuthenticationFailedException('Invalid refresh token');
  }

  private requireLifecycle(): { lifecycle: NormalizedTokensOptions; store: TokenStore } {
    if (!this.lifecycle || !this.store) throw new Error('TokenService: refresh tokens and revocation need the tokens option of PalisadeModule.forRoot().');
    return { lifecycle: this.lifecycle, store: this.store };
  }

  private async issueInFamily(principal: PrincipalInit, options: IssueAccessTokenOptions, familyId: string, familyExpiresAt: number): Promise<IssuedTokenPair> {
    const { store } = this.requireLifecycle();
    const { pair, record, accessExpiresAt } = this.newPair(principal, options, familyId, familyExpiresAt);
    const saved = await this.guard(() => store.saveRefreshToken(familyId, digest(pair.refreshToken), record, pair.jti, accessExpiresAt), options.response);
    // The family was revoked meanwhile: issue nothing.
    if (!saved) this.rejectRefresh(options.request, 'invalid');
    return pair;
  }

  /** Signs an access token and draws a refresh token in `familyId` (nothing is stored yet). */
  private newPair(
    principal: PrincipalInit,
    options: IssueAccessTokenOptions,
    familyId: string,
    familyExpiresAt: number,
  ): { pair: IssuedTokenPair; record: RefreshTokenRecord; accessExpiresAt: number; issuedAt: number } {
    const issuedAt = Date.now();
    const access = this.sign(principal, options, familyId);
    const refreshToken = `${familyId}.${randomBytes(32).toString('base64url')}`;
    const record = { principal: { id: principal.id, roles: [...(principal.roles ?? [])], scopes: [...(principal.scopes ?? [])] }, familyExpiresAt };
    const pair = { ...access, refreshToken, refreshExpiresIn: Math.max(1, Math.floor((familyExpiresAt - issuedAt) / 1000)) };
    return { pair, record, accessExpiresAt: issuedAt + access.expiresIn * 1000, issuedAt };
  }

  private sign(principal: PrincipalInit, options: IssueAccessTokenOptions, familyId: string | undefined): IssuedAccessToken {
    const config = this.jwt;
    if (!config?.signKey) {
      throw new Error('TokenService: no signing key; set auth.jwt.secret, or auth.jwt.privateKey next to auth.jwt.publicKey.');
    }
    if (typeof principal?.id !== 'string' || principal.id.length === 0) {
      throw new TypeError('TokenService: principal.id must be a non-empty string.');
    }
    const expiresIn = options.ttl === undefined ? config.accessTokenTtlSeconds : Math.floor(parseDuration(options.ttl, 'ttl') / 1000);
    if (expiresIn < 1) throw new RangeError('TokenService: ttl must be at least one second.');
    const extra: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(options.claims ?? {})) {
      if (!REGISTERED.has(name)) extra[name] = value;
    }
    const jti = randomUUID();
    const payload: Record<string, unknown> = {
      ...extra,
      [config.rolesClaim]: [...(principal.roles ?? [])],
      [config.scopesClaim]: (principal.scopes ?? []).join(' '),
    };
    if (familyId !== undefined) payload.fid = familyId;
    const signOptions: jwt.SignOptions = {
      algorithm: config.algorithms[0] as jwt.Algorithm,
      subject: principal.id,
      expiresIn,
      jwtid: jti,
    };
    const issuer = Array.isArray(config.issuer) ? config.issuer[0] : config.issuer;
    if (issuer !== undefined) signOptions.issuer = issuer;
    const audience = Array.isArray(config.audience) ? config.audience[0] : config.audience;
    if (audience !== undefined) signOptions.audience = audience;
    const accessToken = jwt.sign(payload, config.signKey, signOptions);
    return { accessToken, tokenType: 'Bearer', expiresIn, jti };
  }

  /**
   * Runs a store call; a store failure becomes a 503 (never a hang: Redis calls have timeouts),
   * with `Retry-After: 1` on `response` when given.
   */
  private async guard<T>(call: () => Promise<T>, response?: object): Promise<T> {
    try {
      const result = await call();
      this.outage.recovered();
      return result;
    } catch (error) {
      if (error instanceof AuthenticationFailedException) throw error;
      this.outage.failed(error);
      throw this.outages.annotate(new TokenStoreUnavailableException(), response);
    }
  }
}

function digest(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}
