import { Inject, Injectable, Optional } from '@nestjs/common';
import type { PassportStrategyLike as Strategy } from './strategy.runner.js';
import { AUTH_OPTIONS } from './auth.constants.js';
import type { NormalizedAuthOptions } from './auth-options.normalizer.js';
import { ApiKeyStrategy } from './api-key.strategy.js';
import { BasicStrategy } from './basic.strategy.js';
import { JwksKeys } from './jwks-keys.service.js';
import { JwksStrategy } from './jwks.strategy.js';
import { JwtStrategy } from './jwt.strategy.js';
import { cachedCredentials } from './credentials.js';
import type { HttpRequestLike } from '../common/http-context.js';
import type { AuthScheme } from './principal.interface.js';
import { TOKEN_REVOCATION_CHECK, type TokenRevocationCheck } from './token-revocation.interface.js';

/**
 * Holds one `@nestjs/passport` strategy per configured scheme, built once from the normalized
 * options. A scheme that is not configured has no strategy.
 * @internal
 */
@Injectable()
export class StrategyRegistry {
  private readonly strategies = new Map<AuthScheme, Strategy>();
  /** JWKS issuers by expected `iss` (every entry has at least one), with the algorithms they take. */
  private readonly jwksByIssuer = new Map<string, { strategy: Strategy; algorithms: ReadonlySet<string> }>();
  private localAlgorithms: ReadonlySet<string> = new Set();

  constructor(
    @Inject(AUTH_OPTIONS) auth: NormalizedAuthOptions,
    jwksKeys: JwksKeys,
    // Null when the token lifecycle is not configured: nothing is revoked.
    @Optional() @Inject(TOKEN_REVOCATION_CHECK) revocation?: TokenRevocationCheck | null,
  ) {
    const { jwt, apiKey, basic } = auth;
    const check = revocation ?? undefined;
    if (jwt?.verifyKey) {
      this.strategies.set('jwt', new JwtStrategy(jwt, check) as unknown as Strategy);
      this.localAlgorithms = new Set(jwt.algorithms);
    }
    for (const issuer of jwt?.jwks ?? []) {
      const strategy = new JwksStrategy(
        issuer,
        jwksKeys.keySetOf(issuer),
        jwt as NonNullable<typeof jwt>,
        jwt?.maxTokenLength ?? 0,
        check,
      ) as unknown as Strategy;
      const algorithms = new Set<string>(issuer.algorithms);
      for (const iss of issuer.issuers) this.jwksByIssuer.set(iss, { strategy, algorithms });
    }
    if (apiKey) this.strategies.set('api-key', new ApiKeyStrategy(apiKey) as unknown as Strategy);
    if (basic) this.strategies.set('basic', new BasicStrategy(basic) as unknown as Strategy);
  }

  /**
   * The strategy for `scheme` on this request. A bearer token goes to the JWKS entry expecting its
   * (unverified) `iss` when that entry takes its `alg`; else to the local key (which may share the
   * issuer, as the demo's does); else to that JWKS entry or the first one, to be refused. The
   * choice only selects the verifier; the verifier checks everything.
   */
  get(scheme: AuthScheme, request?: HttpRequestLike): Strategy | undefined {
    if (scheme !== 'jwt' || this.jwksByIssuer.size === 0 || request === undefined) {
      return this.strategies.get(scheme);
    }
    const token = cachedCredentials(request)?.authCredential ?? '';
    const { alg, iss } = peek(token);
    const byIssuer = typeof iss === 'string' ? this.jwksByIssuer.get(iss) : undefined;
    if (byIssuer && typeof alg === 'string' && byIssuer.algorithms.has(alg)) return byIssuer.strategy;
    const local = this.strategies.get('jwt');
    if (local && typeof alg === 'string' && this.localAlgorithms.has(alg)) return local;
    return byIssuer?.strategy ?? local ?? this.jwksByIssuer.values().next().value?.strategy;
  }
}

/** Reads `alg` and `iss` without verifying anything (only to pick a verifier). */
function peek(token: string): { alg?: unknown; iss?: unknown } {
  const [header, payload] = token.split('.', 3);
  try {
    const alg = (JSON.parse(Buffer.from(header ?? '', 'base64url').toString('utf8')) as { alg?: unknown }).alg;
    const iss = (JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as { iss?: unknown }).iss;
    return { alg, iss };
  } catch {
    return {};
  }
}
