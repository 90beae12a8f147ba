import type { HttpRequestLike } from '../common/http-context.js';

/**
 * One authentication attempt holding a brute-force slot (from `AuthFailureLimiter.reserve`):
 * settle it exactly once, after verifying the credential. An attempt never settled gives its slot
 * back by itself after 30 s.
 */
export interface AuthAttempt {
  /** The credential was right: the slot is given back (not awaited: nothing can fail the caller). */
  succeeded(): void;
  /** A wrong guess: it stays counted; the failure that reaches the limit blocks the address. */
  failed(): Promise<void>;
  /**
   * No guess was made (a genuine token that expired or was revoked, a signing key that could not be
   * fetched, a verification that threw): the slot is given back.
   */
  release(): Promise<void>;
}

/**
 * Brute-force protection hook of the `Authenticator`: every attempt that presents a credential
 * reserves a slot before it is verified, and settles it after. The throttling capability implements
 * it; without throttling it is absent.
 * @internal
 */
export interface AuthAttemptGate {
  /**
   * Reserves a slot for one attempt; throws a 429 when the client is blocked or every slot is taken.
   * `credential` identifies the presented credentials, so identical attempts share one proof.
   */
  reserve(request: HttpRequestLike, response: object | undefined, credential?: string): Promise<AuthAttempt>;
}

/** @internal */
export const AUTH_ATTEMPT_GATE = Symbol('PALISADE_AUTH_ATTEMPT_GATE');
