import { rollWindow, roomAt } from './throttle-store.interface.js';
import {
  ATTEMPT_ALLOWED,
  BUSY_RETRY_MS,
  type AttemptOutcome,
  type AttemptPolicy,
  type AttemptVerdict,
  type AuthAttemptStore,
} from './auth-attempt-store.interface.js';

/** One key's failures (a sliding-window counter), its block and its reserved slots (epoch ms). */
interface AttemptState {
  /** Start of the current window. */
  start: number;
  /** Failures of the current window. */
  current: number;
  /** Failures of the window before it. */
  previous: number;
  /** End of the block (0 or past: none). */
  blockedUntil: number;
  /** Slots reserved by attempts being verified. */
  pending: number;
  /** When the reserved slots lapse if never settled. */
  pendingUntil: number;
  /** The window length the key was counted with, for the sweep. */
  ttlMs: number;
}

/**
 * The in-memory {@link AuthAttemptStore}: a partition of its own, apart from the rate-limit
 * counters, so ordinary traffic never evicts a failure count or a block.
 *
 * Bounded: at most `maxKeys` addresses. A key is held only while it has something to remember — a
 * failure still in its window, a block, a slot being verified — and dropped the moment it has
 * not (a success from a clean address leaves nothing behind). When the table is full, expired keys
 * are swept (at most one pass every `sweepEveryMs`); if it is still full, nothing is ever evicted:
 * an address without an entry is **refused** (fails closed: 429 with `Retry-After` of one window)
 * until room comes back. Filling the table takes `maxKeys` distinct addresses that each fail
 * within one window.
 * @internal
 */
export class MemoryAuthAttemptStore implements AuthAttemptStore {
  private readonly states = new Map<string, AttemptState>();
  private nextSweep = 0;

  constructor(
    readonly maxKeys = 100_000,
    private readonly sweepEveryMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Number of keys held. */
  get size(): number {
    return this.states.size;
  }

  async reserveAttempt(policy: AttemptPolicy): Promise<AttemptVerdict> {
    return this.reserveSync(policy);
  }

  async settleAttempt(policy: AttemptPolicy, reserved: boolean, outcome: AttemptOutcome): Promise<AttemptVerdict> {
    return this.settleSync(policy, reserved, outcome);
  }

  async attemptBlockedFor(key: string): Promise<number> {
    const state = this.states.get(key);
    return state ? Math.max(0, state.blockedUntil - this.now()) : 0;
  }

  /** `reserveAttempt`, synchronously (also the Redis store's fallback). Mirrors the Redis script. */
  reserveSync(policy: AttemptPolicy): AttemptVerdict {
    const now = this.now();
    const state = this.stateOf(policy, now);
    if (state === undefined) return { allowed: false, blocked: true, retryAfterMs: policy.ttlMs };
    const { ttlMs: w, limit, blockMs, pendingMs } = policy;
    const weighted = state.previous * (w - Math.max(0, now - state.start));
    let verdict: AttemptVerdict;
    if (state.blockedUntil > now) {
      verdict = { allowed: false, blocked: true, retryAfterMs: state.blockedUntil - now };
    } else if (weighted + state.current * w >= limit * w) {
      // Failures reported without a reservation took the key to its limit: block now.
      state.blockedUntil = Math.max(roomAt(state.start, state.previous, state.current, w, limit, now), now + blockMs);
      verdict = { allowed: false, blocked: true, retryAfterMs: state.blockedUntil - now };
    } else if (weighted + (state.current + state.pending) * w >= limit * w) {
      // Every remaining slot is held by an attempt being verified: one of them may be the limit.
      verdict = { allowed: false, blocked: false, retryAfterMs: BUSY_RETRY_MS };
    } else {
      state.pending += 1;
      state.pendingUntil = now + pendingMs;
      verdict = ATTEMPT_ALLOWED;
    }
    this.keepOrDrop(policy.key, state, now);
    return verdict;
  }

  /** `settleAttempt`, synchronously. Mirrors the Redis script. */
  settleSync(policy: AttemptPolicy, reserved: boolean, outcome: AttemptOutcome): AttemptVerdict {
    const now = this.now();
    const counts = outcome === 'failure';
    if (!counts && !this.states.has(policy.key)) return { allowed: false, blocked: false, retryAfterMs: 0 };
    const state = this.stateOf(policy, now);
    // Full table, a failure to record: it cannot be remembered, so the address is refused instead.
    if (state === undefined) return { allowed: false, blocked: true, retryAfterMs: policy.ttlMs };
    const { ttlMs: w, limit, blockMs } = policy;
    if (reserved && state.pending > 0) state.pending -= 1;
    if (counts) {
      state.current += 1;
      const weighted = state.previous * (w - Math.max(0, now - state.start));
      if (weighted + state.current * w >= limit * w) {
        // The limit-th failure blocks: the next attempt is refused whatever answers before it.
        state.blockedUntil = Math.max(state.blockedUntil, roomAt(state.start, state.previous, state.current, w, limit, now), now + blockMs);
      }
    }
    this.keepOrDrop(policy.key, state, now);
    const blocked = state.blockedUntil > now;
    return { allowed: false, blocked, retryAfterMs: blocked ? state.blockedUntil - now : 0 };
  }

  /** The key's state, created (and its windows rolled) as of `now`; `undefined` when the table is full. */
  private stateOf(policy: AttemptPolicy, now: number): AttemptState | undefined {
    let state = this.states.get(policy.key);
    const w = policy.ttlMs;
    if (state === undefined) {
      if (this.states.size >= this.maxKeys && !this.sweep(now)) return undefined;
      state = { start: now, current: 0, previous: 0, blockedUntil: 0, pending: 0, pendingUntil: 0, ttlMs: w };
      this.states.set(policy.key, state);
      return state;
    }
    state.ttlMs = w;
    if (state.pendingUntil <= now) state.pending = 0;
    rollWindow(state, now, w);
    return state;
  }

  private keepOrDrop(key: string, state: AttemptState, now: number): void {
    if (this.forgettable(state, now)) this.states.delete(key);
  }

  /** Nothing left to remember: no failure in the window, no block, no slot held. */
  private forgettable(state: AttemptState, now: number): boolean {
    const noFailures = (state.current === 0 && state.previous === 0) || now - state.start >= 2 * state.ttlMs;
    return noFailures && state.blockedUntil <= now && (state.pending === 0 || state.pendingUntil <= now);
  }

  /** Drops what has nothing left to remember; true when there is room afterwards. */
  private sweep(now: number): boolean {
    if (now >= this.nextSweep) {
      this.nextSweep = now + this.sweepEveryMs;
      for (const [key, state] of this.states) if (this.forgettable(state, now)) this.states.delete(key);
    }
    return this.states.size < this.maxKeys;
  }
}
