/** Why a presented credential was rejected. Safe to show: it never contains the credential. @internal */
export type RejectionReason = 'invalid' | 'expired' | 'malformed';

/**
 * Thrown inside a strategy's `validate` to reject a credential with a reason; the guard turns it
 * into a 401. It carries no credential material. `guess: false` marks a credential that is genuine
 * but not usable now (a revoked token, a token whose signing key cannot be fetched): brute-force
 * protection does not count it.
 * @internal
 */
export class CredentialRejectedError extends Error {
  constructor(
    readonly reason: RejectionReason,
    readonly detail: string,
    readonly guess = true,
  ) {
    super(detail);
    this.name = 'CredentialRejectedError';
  }
}
