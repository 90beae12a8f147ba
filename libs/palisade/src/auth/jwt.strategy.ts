import { PassportStrategy } from '@nestjs/passport';
import { Strategy as PassportJwtStrategy, type StrategyOptionsWithRequest } from 'passport-jwt';
import type { HttpRequestLike } from '../common/http-context.js';
import type { ClaimMapping, NormalizedJwtOptions } from './auth-options.normalizer.js';
import { readClaim, type CompiledClaimPath } from './claim-path.js';
import { cachedCredentials } from './credentials.js';
import { CredentialRejectedError } from './credential-rejected.error.js';
import type { PrincipalInit } from './principal.interface.js';
import type { TokenRevocationCheck } from './token-revocation.interface.js';

/** Name under which the strategy registers with passport (prefixed so it never clobbers an app's own `'jwt'`). */
export const JWT_STRATEGY = 'palisade-jwt';

const MAX_LIST_ENTRIES = 256;
const MAX_ENTRY_LENGTH = 256;

interface CompleteJwt {
  header: Record<string, unknown>;
  payload: unknown;
}

function claimList(value: unknown, spaceSeparated: boolean, claim: string): readonly string[] | undefined {
  if (value === undefined) return undefined;
  let list: unknown[];
  if (typeof value === 'string' && spaceSeparated) {
    list = value.split(' ').filter((entry) => entry.length > 0);
  } else if (Array.isArray(value)) {
    list = value;
  } else {
    throw new CredentialRejectedError('invalid', `claim ${claim} has the wrong type`);
  }
  if (list.length > MAX_LIST_ENTRIES || list.some((e) => typeof e !== 'string' || e.length === 0 || e.length > MAX_ENTRY_LENGTH)) {
    throw new CredentialRejectedError('invalid', `claim ${claim} is not a list of short strings`);
  }
  return list as string[];
}

/** Reads and merges the lists at `paths`; undefined when every claim is absent. */
function claimLists(claims: Readonly<Record<string, unknown>>, paths: readonly CompiledClaimPath[], spaceSeparated: boolean): readonly string[] | undefined {
  let merged: string[] | undefined;
  for (const path of paths) {
    const list = claimList(readClaim(claims, path), spaceSeparated, path.name);
    if (list === undefined) continue;
    merged = merged === undefined ? [...list] : [...new Set([...merged, ...list])];
  }
  if (merged !== undefined && merged.length > MAX_LIST_ENTRIES) throw new CredentialRejectedError('invalid', 'role or scope claims hold too many entries');
  return merged;
}

function numericDate(claims: Readonly<Record<string, unknown>>, claim: 'exp' | 'nbf' | 'iat'): number | undefined {
  const value = claims[claim];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new CredentialRejectedError('invalid', `claim ${claim} is not a number of seconds`);
  return value;
}

/**
 * Refuses time claims that cannot be true beyond the clock tolerance: an `iat` in the future, an
 * `nbf` or an `iat` after `exp`, a value that is not a finite number. (`exp` and `nbf` against the
 * clock are the verifier's job.)
 */
function assertPlausibleTimes(claims: Readonly<Record<string, unknown>>, toleranceSeconds: number): void {
  const exp = numericDate(claims, 'exp');
  if (exp === undefined) throw new CredentialRejectedError('invalid', 'token has no exp claim');
  const nbf = numericDate(claims, 'nbf');
  const iat = numericDate(claims, 'iat');
  if (nbf !== undefined && nbf >= exp) throw new CredentialRejectedError('invalid', 'token nbf is not before its exp');
  if (iat !== undefined && iat >= exp) throw new CredentialRejectedError('invalid', 'token iat is not before its exp');
  if (iat !== undefined && iat > Date.now() / 1000 + toleranceSeconds) throw new CredentialRejectedError('invalid', 'token iat is in the future');
}

/**
 * The checks applied to every verified token, whoever verified it (passport-jwt for local keys,
 * jose for JWKS): `crit` refused, `exp` and `sub` required, time claims that cannot be true
 * refused, well-typed role and scope claims (names or paths, see `ClaimPath`), the revocation
 * deny-list, then the optional `validate` hook. `requireJti` (the local key's tokens, with
 * revocation on) refuses a token without a `jti`: it could not be revoked.
 * @internal
 */
export async function principalFromVerifiedToken(
  header: Record<string, unknown>,
  payload: unknown,
  options: ClaimMapping & Pick<NormalizedJwtOptions, 'validate' | 'clockToleranceSeconds'>,
  request: HttpRequestLike,
  revocation: TokenRevocationCheck | undefined,
  requireJti = false,
): Promise<PrincipalInit> {
  if (header.crit !== undefined) {
    throw new CredentialRejectedError('invalid', 'token has critical header parameters this server does not understand');
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new CredentialRejectedError('invalid', 'token payload is not a JSON object');
  }
  const claims = payload as Record<string, unknown>;
  assertPlausibleTimes(claims, options.clockToleranceSeconds);
  const sub = claims.sub;
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > MAX_ENTRY_LENGTH) {
    throw new CredentialRejectedError('invalid', 'token has no usable sub claim');
  }
  const roles = claimLists(claims, options.rolesPaths, false) ?? [];
  const scopes = claimLists(claims, options.scopesPaths, true) ?? claimList(claims.scp, true, 'scp') ?? [];
  const jti = claims.jti;
  if (requireJti && revocation && (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_ENTRY_LENGTH)) {
    // Revocation is on: a token without a jti could not be revoked, and a logout would not hold.
    throw new CredentialRejectedError('invalid', 'token has no usable jti claim');
  }
  if (revocation && typeof jti === 'string' && (await revocation.isRevoked(jti))) {
    // Genuinely signed, then revoked (a logout): no guess, brute-force protection does not count it.
    throw new CredentialRejectedError('invalid', 'token revoked', false);
  }
  const frozen = Object.freeze({ ...claims });
  if (options.validate) {
    const resolved = await options.validate(frozen, request);
    if (!resolved) throw new CredentialRejectedError('invalid', 'token rejected by auth.jwt.validate');
    return resolved;
  }
  return { id: sub, roles, scopes, claims: frozen };
}

/**
 * Verifies bearer JWTs with `passport-jwt` (signature, pinned algorithms, `exp`, `nbf`, `iss`,
 * `aud`), then applies the checks RFC 8725 asks for that `jsonwebtoken` leaves out: `exp` required,
 * `sub` required, `crit` extensions refused, well-typed role and scope claims.
 * @internal
 */
export class JwtStrategy extends PassportStrategy(PassportJwtStrategy, JWT_STRATEGY) {
  constructor(
    private readonly options: NormalizedJwtOptions,
    private readonly revocation?: TokenRevocationCheck,
  ) {
    const strategyOptions: StrategyOptionsWithRequest = {
      jwtFromRequest: (request: unknown) => {
        const credentials = cachedCredentials(request as HttpRequestLike);
        const token = credentials?.authScheme === 'bearer' ? credentials.authCredential : undefined;
        // An oversized token is refused before any decoding (RFC 8725 §3.x: bound the work per token).
        return token !== undefined && token.length <= options.maxTokenLength ? token : null;
      },
      // jsonwebtoken accepts a KeyObject: the key is imported once at startup, not per request.
      secretOrKey: options.verifyKey as unknown as string,
      algorithms: options.algorithms,
      ignoreExpiration: false,
      passReqToCallback: true,
      // passport-jwt copies issuer and audience over jsonWebTokenOptions: they must be given here.
      ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
      ...(options.audience === undefined ? {} : { audience: options.audience }),
      jsonWebTokenOptions: { complete: true, clockTolerance: options.clockToleranceSeconds },
    };
    super(strategyOptions);
  }

  async validate(request: HttpRequestLike, token: CompleteJwt): Promise<PrincipalInit> {
    // The local key's tokens are this application's own: with revocation on, each must carry a jti.
    return principalFromVerifiedToken(token.header, token.payload, this.options, request, this.revocation, true);
  }
}

/** Maps a `jsonwebtoken` verification failure to a rejection reason. @internal */
export function jwtFailureReason(info: unknown): 'expired' | 'invalid' {
  return info instanceof Error && info.name === 'TokenExpiredError' ? 'expired' : 'invalid';
}
