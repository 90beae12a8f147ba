import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import jwt from 'jsonwebtoken';
import { parseDuration, type Duration } from '../common/duration.js';
import { PALISADE_OPTIONS } from '../common/palisade.constants.js';
import type { NormalizedPalisadeOptions } from '../common/palisade-options.normalizer.js';
import type { NormalizedJwtOptions } from '../auth/auth-options.normalizer.js';
import type { PrincipalInit } from '../auth/principal.interface.js';

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

/** Options of {@link TokenService.issueAccessToken}. */
export interface IssueAccessTokenOptions {
  /** Lifetime in milliseconds or as a duration; default `auth.jwt.accessTokenTtl` (`'15m'`). */
  ttl?: Duration;
  /** Extra claims; registered claims (`sub`, `iss`, `aud`, `exp`, `iat`, `jti`) cannot be overridden. */
  claims?: Record<string, unknown>;
}

const REGISTERED = new Set(['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'jti']);

/**
 * Issues access tokens that the module's own JWT scheme accepts: `sub`, roles and scopes (under the
 * configured claim names), `iss` and `aud` (the first configured value), `iat`, `exp` and a random
 * `jti`, signed with the configured algorithm's key.
 *
 * @example
 * const { accessToken, expiresIn } = tokens.issueAccessToken({ id: 'alice', roles: ['admin'] });
 */
@Injectable()
export class TokenService {
  private readonly jwt: NormalizedJwtOptions | undefined;

  constructor(@Inject(PALISADE_OPTIONS) options: NormalizedPalisadeOptions) {
    this.jwt = options.auth.jwt;
  }

  /** Signs a new access token for `principal`. Throws when no signing key is configured. */
  issueAccessToken(principal: PrincipalInit, options: IssueAccessTokenOptions = {}): IssuedAccessToken {
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
}
