import { PassportStrategy } from '@nestjs/passport';
import { errors, jwtVerify, type JWTVerifyOptions } from 'jose';
import type { HttpRequestLike } from '../common/http-context.js';
import type { NormalizedJwksIssuer, NormalizedJwtOptions } from './auth-options.normalizer.js';
import { CallbackStrategy } from './callback.strategy.js';
import { cachedCredentials } from './credentials.js';
import { CredentialRejectedError } from './credential-rejected.error.js';
import { principalFromVerifiedToken } from './jwt.strategy.js';
import type { PrincipalInit } from './principal.interface.js';
import type { RemoteKeySet } from './remote-key-set.js';
import type { TokenRevocationCheck } from './token-revocation.interface.js';

/** @internal */
export const JWKS_STRATEGY = 'palisade-jwks';

/**
 * Verifies bearer JWTs signed by an identity provider's published keys, with `jose`: the key is
 * chosen by `kid` from the cached JWK Set (a key's own `alg` enforced; see {@link RemoteKeySet}
 * for fetching, backoff and stale keys), and `jku`/`x5u` headers are never followed. The issuer
 * (own or inherited) is always enforced, the audience, `typ` and required claims when configured,
 * then the `azp`/`client_id` allow-list and the checks shared with locally verified tokens.
 * @internal
 */
export class JwksStrategy extends PassportStrategy(CallbackStrategy, JWKS_STRATEGY) {
  private readonly verifyOptions: JWTVerifyOptions;
  private readonly claimOptions: Parameters<typeof principalFromVerifiedToken>[2];

  constructor(
    private readonly issuer: NormalizedJwksIssuer,
    private readonly keys: RemoteKeySet,
    options: NormalizedJwtOptions,
    private readonly maxTokenLength: number,
    private readonly revocation?: TokenRevocationCheck,
  ) {
    super();
    const { issuers, audience, algorithms, typ, requiredClaims } = issuer;
    // Built once: the request path passes the same object to jose every time.
    this.verifyOptions = Object.freeze({
      algorithms,
      issuer: issuers.length === 1 ? issuers[0] : [...issuers],
      ...(audience === undefined ? {} : { audience }),
      ...(typ === undefined ? {} : { typ }),
      clockTolerance: options.clockToleranceSeconds,
      requiredClaims: [...new Set(['exp', 'sub', ...requiredClaims])],
    });
    this.claimOptions = {
      rolesPaths: issuer.rolesPaths,
      scopesPaths: issuer.scopesPaths,
      validate: options.validate,
      clockToleranceSeconds: options.clockToleranceSeconds,
    };
  }

  async validate(request: HttpRequestLike): Promise<PrincipalInit> {
    const credentials = cachedCredentials(request);
    const token = credentials?.authScheme === 'bearer' ? credentials.authCredential : undefined;
    if (token === undefined || token.length > this.maxTokenLength) throw new CredentialRejectedError('invalid', 'no usable bearer token');
    let verified: Awaited<ReturnType<typeof jwtVerify>>;
    try {
      verified = await jwtVerify(token, this.keys.getKey, this.verifyOptions);
    } catch (error) {
      // No key for its kid (a rotation not seen yet, the provider unreachable): the signature was
      // never checked, so this is no guess and brute-force protection does not count it.
      if (error instanceof errors.JWKSNoMatchingKey) throw new CredentialRejectedError('invalid', 'no key of the JWK Set to verify the token', false);
      throw new CredentialRejectedError(error instanceof errors.JWTExpired ? 'expired' : 'invalid', 'token not verified by the JWK Set');
    }
    const clients = this.issuer.allowedClients;
    if (clients !== undefined) {
      // OpenID Connect names the client in azp; RFC 9068 access tokens in client_id.
      const client = verified.payload.azp ?? verified.payload.client_id;
      if (typeof client !== 'string' || !clients.has(client)) throw new CredentialRejectedError('invalid', 'token was issued to a client that is not allowed');
    }
    return principalFromVerifiedToken(verified.protectedHeader as Record<string, unknown>, verified.payload, this.claimOptions, request, this.revocation);
  }
}
