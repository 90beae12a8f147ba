import { PassportStrategy } from '@nestjs/passport';
import { errors, jwtVerify } from 'jose';
import type { HttpRequestLike } from '../common/http-context.js';
import type { NormalizedJwksIssuer, NormalizedJwtOptions } from './auth-options.normalizer.js';
import { CallbackStrategy } from './callback.strategy.js';
import { cachedCredentials } from './credentials.js';
import { CredentialRejectedError } from './credential-rejected.error.js';
import { principalFromVerifiedToken } from './jwt.strategy.js';
import type { PrincipalInit } from './principal.interface.js';
import type { TokenRevocationCheck } from './token-revocation.interface.js';

/** @internal */
export const JWKS_STRATEGY = 'palisade-jwks';

/**
 * Verifies bearer JWTs signed by an identity provider's published keys, with `jose`: the key is
 * chosen by `kid` from the cached JWK Set (a key's own `alg` enforced), an unknown `kid` refetches
 * the set at most once per cooldown, and `jku`/`x5u` headers are never followed. Then the same
 * claim checks as locally verified tokens.
 * @internal
 */
export class JwksStrategy extends PassportStrategy(CallbackStrategy, JWKS_STRATEGY) {
  constructor(
    private readonly issuer: NormalizedJwksIssuer,
    private readonly options: NormalizedJwtOptions,
    private readonly revocation?: TokenRevocationCheck,
  ) {
    super();
  }

  async validate(request: HttpRequestLike): Promise<PrincipalInit> {
    const credentials = cachedCredentials(request);
    const token = credentials?.authScheme === 'bearer' ? credentials.authCredential : undefined;
    if (token === undefined || token.length > this.options.maxTokenLength) throw new CredentialRejectedError('invalid', 'no usable bearer token');
    let verified: Awaited<ReturnType<typeof jwtVerify>>;
    try {
      verified = await jwtVerify(token, this.issuer.getKey, {
        algorithms: this.issuer.algorithms,
        ...(this.issuer.issuer === undefined ? {} : { issuer: this.issuer.issuer }),
        ...(this.issuer.audience === undefined ? {} : { audience: this.issuer.audience }),
        clockTolerance: this.options.clockToleranceSeconds,
        requiredClaims: ['exp', 'sub'],
      });
    } catch (error) {
      throw new CredentialRejectedError(error instanceof errors.JWTExpired ? 'expired' : 'invalid', 'token not verified by the JWK Set');
    }
    return principalFromVerifiedToken(verified.protectedHeader as Record<string, unknown>, verified.payload, this.options, request, this.revocation);
  }
}
