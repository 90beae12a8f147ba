/**
 * Revocation check of the JWT scheme: answers whether an access token's `jti` was revoked. The
 * token capability implements it; without it no token is considered revoked.
 * @internal
 */
export interface TokenRevocationCheck {
  /** Resolves `true` when revoked; rejects with an `HttpException` when the store cannot answer and fails closed. */
  isRevoked(jti: string): Promise<boolean>;
  /** The same answer synchronously when the store can give it (in memory), else `undefined`. */
  isRevokedSync?(jti: string): boolean | undefined;
}

/** @internal */
export const TOKEN_REVOCATION_CHECK = Symbol('PALISADE_TOKEN_REVOCATION_CHECK');
