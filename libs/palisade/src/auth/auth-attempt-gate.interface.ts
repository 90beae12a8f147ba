import type { HttpRequestLike } from '../common/http-context.js';

/**
 * Brute-force protection hook of the `Authenticator`: asked before credentials are checked and
 * told about each failure. The throttling capability implements it; without throttling it is a
 * no-op.
 * @internal
 */
export interface AuthAttemptGate {
  /** Throws a 429 when the client is blocked from authenticating. */
  assertAllowed(request: HttpRequestLike, response: object): Promise<void>;
  /**
   * Answers `assertAllowed` synchronously when the store can (in memory): `true` when allowed,
   * `undefined` when only the asynchronous check can tell. Never throws.
   */
  allowedSync?(request: HttpRequestLike): boolean | undefined;
  /** Counts a failed authentication; throws a 429 when this failure exceeds the limit. */
  recordFailure(request: HttpRequestLike, response: object): Promise<void>;
}

/** @internal */
export const AUTH_ATTEMPT_GATE = Symbol('PALISADE_AUTH_ATTEMPT_GATE');
