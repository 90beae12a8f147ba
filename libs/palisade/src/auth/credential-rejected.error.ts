/** Why a presented credential was rejected. Safe to show: it never contains the credential. @internal */
export type RejectionReason = 'invalid' | 'expired' | 'malformed';

/**
 * Thrown inside a strategy's `validate` to reject a credential with a reason; the guard turns it
 * into a 401. It carries no credential material.
 * @internal
 */
export class CredentialRejectedError extends Error {
  constructor(
    readonly reason: RejectionReason,
    readonly detail: string,
  ) {
    super(detail);
    this.name = 'CredentialRejectedError';
  }
}
