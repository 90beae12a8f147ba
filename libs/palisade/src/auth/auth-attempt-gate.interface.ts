import type { HttpRequestLike } from '../common/http-context.js';

/**
 * Brute-force protection hook of the `Authenticator`: asked before credentials are checked and
 * told about each failure. The throttling capability implements it; without throttling it is a
 * no-op.
 * @internal
 */
export interface AuthAttemptGate {
  /** Throws a 429 when the client is blocked from authenticating. */
  assertAllowed(request: HttpRequestLike, response: object | undefined): Promise<void>;
  /** Counts a failed authentication; throws a 429 when this failure exceeds the limit. */
  recordFailure(request: HttpRequestLike, response: object | undefined): Promise<void>;
}

/** @internal */
export const AUTH_ATTEMPT_GATE = Symbol('PALISADE_AUTH_ATTEMPT_GATE');
