/** How one address's authentication attempts are counted (milliseconds). */
export interface AttemptPolicy {
  /** Full storage key (prefix and hash tag included). */
  readonly key: string;
  /** Window in which failures are counted, in milliseconds. */
  readonly ttlMs: number;
  /** Failures allowed per window; reaching it blocks the key. */
  readonly limit: number;
  /** Block length in milliseconds once the limit is reached (at least until the window has room). */
  readonly blockMs: number;
  /**
   * How long a reservation holds a slot, in milliseconds, if it is never settled (a process that
   * died mid-verification): past it the slot is free again.
   */
  readonly pendingMs: number;
}

/** The answer to a reservation or a settlement. */
export interface AttemptVerdict {
  /** The attempt may be verified (a slot is reserved for it). Always `false` for a settlement. */
  readonly allowed: boolean;
  /** The key is blocked (past its failures): `retryAfterMs` is when the block ends. */
  readonly blocked: boolean;
  /** Milliseconds until an attempt could pass (0 when allowed). */
  readonly retryAfterMs: number;
}

/** What happened to a reserved (or unreserved) attempt. */
export type AttemptOutcome = 'success' | 'failure' | 'not-a-guess';

/**
 * Security state of brute-force protection: failures per client address, counted **before**
 * verification. An attempt first reserves a slot — atomically, so whatever the concurrency at most
 * `limit` attempts of one key are ever being verified or counted as failures at once — then
 * settles it: a failure stays counted, a success or a failure that is no guess gives the slot back.
 * Reaching `limit` failures in the sliding window of `ttl` blocks the key for `blockMs` (and at
 * least until the window has room). Kept apart from ordinary rate-limit counters, so no amount of
 * ordinary traffic evicts a block.
 * @internal
 */
export interface AuthAttemptStore {
  /** Reserves a slot for one attempt, or refuses it (blocked, or every slot is taken). */
  reserveAttempt(policy: AttemptPolicy): Promise<AttemptVerdict>;
  /**
   * Settles an attempt: `reserved` says whether it holds a slot from {@link reserveAttempt} (a
   * failure reported without a reservation still counts). Resolves with the key's state after it.
   */
  settleAttempt(policy: AttemptPolicy, reserved: boolean, outcome: AttemptOutcome): Promise<AttemptVerdict>;
  /** Milliseconds the key stays blocked (0 when it is not). */
  attemptBlockedFor(key: string): Promise<number>;
}

/** @internal The verdict of an attempt that may go on. */
export const ATTEMPT_ALLOWED: AttemptVerdict = Object.freeze({ allowed: true, blocked: false, retryAfterMs: 0 });
/** @internal The verdict of a settlement that left the key unblocked. */
export const ATTEMPT_OPEN: AttemptVerdict = Object.freeze({ allowed: false, blocked: false, retryAfterMs: 0 });
/** @internal Milliseconds a client waits when every slot is held by attempts being verified. */
export const BUSY_RETRY_MS = 1_000;
