import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { HttpAdapterHost } from '@nestjs/core';
import type { AuthAttempt, AuthAttemptGate } from '../auth/auth-attempt-gate.interface.js';
import type { HttpRequestLike } from '../common/http-context.js';
import { TrustedProxy } from '../common/trusted-proxy.js';
import { THROTTLE_OPTIONS } from './throttle.constants.js';
import type { NormalizedThrottleOptions } from './throttle-options.normalizer.js';
import type { AttemptOutcome, AttemptPolicy, AttemptVerdict } from './auth-attempt-store.interface.js';
import { ThrottleStoreHolder } from './throttle-store.provider.js';
import { ipTracker } from './throttle-tracker.js';
import { ThrottledException } from './throttled.exception.js';
import { retryAfterForOutage, StoreUnavailableException } from '../common/store-unavailable.exception.js';
import { SecurityEvents } from '../events/security-events.service.js';
import { toSeconds } from './throttle-store.interface.js';

/** How long a reserved slot is held if its attempt is never settled (a crash mid-verification), in ms. */
const PENDING_MS = 30_000;

/** How long a credential proven right from an address skips the reservation there, in ms. */
const PROVEN_MS = 5 * 60_000;
/** Most (address, credential) pairs remembered as proven; the least recently used go first (harmless: they reserve again). */
const MAX_PROVEN = 10_000;

/** The body message of a 429 while the client is blocked for guessing. */
const BLOCKED_MESSAGE = 'Too many failed authentication attempts; retry later';
/** The body message of a 429 while every slot is held by an attempt being verified. */
const BUSY_MESSAGE = 'Too many authentication attempts at once; retry shortly';

/** A promise and its resolver (Node 20 has no `Promise.withResolvers`). */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: ((value: T) => void) | undefined;
  const promise = new Promise<T>((done) => {
    resolve = done;
  });
  // The executor runs synchronously: resolve is set here.
  return { promise, resolve: resolve as (value: T) => void };
}

/** An attempt that counts nothing (brute-force protection off). */
const UNCOUNTED: AuthAttempt = Object.freeze({
  succeeded: () => undefined,
  failed: () => Promise.resolve(),
  release: () => Promise.resolve(),
});

/**
 * Brute-force protection (`throttle.authFailures`): counts failed guesses per client IP, **before**
 * they are verified. Each attempt reserves a slot in one atomic step (one Redis round trip); a
 * success or an attempt that was no guess gives it back, a failure keeps it. So whatever the
 * concurrency, at most `limit` guesses from one IP are verified per window, and the `limit`-th
 * failure blocks the IP for `blockDuration`: 429 on every authentication attempt — valid
 * credentials included, so guessing gets no signal. Keyed by IP, never by account alone: an
 * attacker cannot lock a victim out from the victim's own address.
 *
 * The `Authenticator` does this for every scheme. In your own login handler, reserve before
 * checking the password and settle after, as the demo does (see {@link AuthFailureLimiter.reserve}).
 */
@Injectable()
export class AuthFailureLimiter implements AuthAttemptGate {
  private readonly logger = new Logger('PalisadeThrottle');

  constructor(
    private readonly holder: ThrottleStoreHolder,
    private readonly adapterHost: HttpAdapterHost,
    @Inject(THROTTLE_OPTIONS) private readonly throttle: NormalizedThrottleOptions | undefined,
    private readonly proxy: TrustedProxy,
    private readonly events: SecurityEvents,
  ) {}

  /** True when brute-force protection is configured. */
  get enabled(): boolean {
    return this.throttle?.authFailures !== undefined;
  }

  /**
   * Reserves a slot for one authentication attempt of the client's IP, before the credential is
   * checked. Throws a 429 (with `Retry-After` set on `response`) while the IP is blocked, or while
   * every slot it has left is held by attempts being verified; a store outage under
   * `failOpen: false` is a 503. Settle the returned attempt exactly once.
   *
   * `credential` (the raw credential material of the request, as the `Authorization` and API-key
   * header values) lets identical attempts from one address share the proof: while one is being
   * verified the others wait for it, and once it succeeded they — and later ones for 5 minutes —
   * skip the reservation (they are no guesses). So a client's burst of parallel requests with one
   * valid API key is not refused for want of slots. Only pass it if every attempt is settled.
   *
   * @example
   * \@Post('login') async login(\@Req() req, \@Res({ passthrough: true }) res, \@Body() body) {
   *   const attempt = await this.limiter.reserve(req, res);
   *   const user = await this.users.verify(body.username, body.password).catch(async (error) => {
   *     await attempt.release();
   *     throw error;
   *   });
   *   if (!user) {
   *     await this.limiter.recordLoginFailure(req, res, body.username, attempt);
   *     throw new AuthenticationFailedException();
   *   }
   *   attempt.succeeded();
   * }
   */
  async reserve(request: HttpRequestLike, response?: object, credential?: string): Promise<AuthAttempt> {
    const policy = this.policyOf(request);
    if (policy === undefined) return UNCOUNTED;
    if (credential === undefined) return this.reserveSlot(policy, request, response);
    // The same credentials from the same address: proven right moments ago, or being verified now.
    const id = createHash('sha256').update(policy.key).update('\0').update(credential).digest('base64');
    if (this.proven.get(id) === true) return this.provenAttempt(policy, id);
    const leader = this.inFlight.get(id);
    if (leader !== undefined && (await leader)) return this.provenAttempt(policy, id);
    const { promise: outcome, resolve } = deferred<boolean>();
    const finish = (ok: boolean): void => {
      if (this.inFlight.get(id) === outcome) this.inFlight.delete(id);
      if (ok) this.proven.set(id, true);
      resolve(ok);
    };
    this.inFlight.set(id, outcome);
    let attempt: AuthAttempt;
    try {
      attempt = await this.reserveSlot(policy, request, response);
    } catch (error) {
      finish(false);
      throw error;
    }
    return {
      succeeded: () => {
        finish(true);
        attempt.succeeded();
      },
      failed: () => {
        finish(false);
        return attempt.failed();
      },
      release: () => {
        finish(false);
        return attempt.release();
      },
    };
  }

  /** Pairs of (address, credentials) proven right, by digest. */
  private readonly proven = new LRUCache<string, true>({ max: MAX_PROVEN, ttl: PROVEN_MS });
  /** Verifications under way, by the same digest: identical attempts wait for the first. */
  private readonly inFlight = new Map<string, Promise<boolean>>();

  /**
   * An attempt with credentials this address proved right: no slot is reserved (it is no guess);
   * should they fail now (a key revoked since), the failure counts and the proof is forgotten.
   */
  private provenAttempt(policy: AttemptPolicy, id: string): AuthAttempt {
    return {
      succeeded: () => undefined,
      failed: async () => {
        this.proven.delete(id);
        await this.holder.attempts.settleAttempt(policy, false, 'failure').catch(() => undefined);
      },
      release: () => Promise.resolve(),
    };
  }

  private async reserveSlot(policy: AttemptPolicy, request: HttpRequestLike, response: object | undefined): Promise<AuthAttempt> {
    const verdict = await this.unavailableAware(response, () => this.holder.attempts.reserveAttempt(policy));
    if (!verdict.allowed) this.refuse(request, response, verdict);
    let settled = false;
    const settle = (outcome: AttemptOutcome): Promise<void> => {
      if (settled) return Promise.resolve();
      settled = true;
      return this.holder.attempts.settleAttempt(policy, true, outcome).then(
        () => undefined,
        (error: unknown) => {
          // Unsettled, the slot lapses after PENDING_MS: stricter for a while, never looser. A store
          // outage is logged once by the store itself.
          if (!(error instanceof StoreUnavailableException)) {
            this.logger.warn(`Could not settle an authentication attempt (${error instanceof Error ? error.message : String(error)}).`);
          }
        },
      );
    };
    return {
      succeeded: () => void settle('success'),
      failed: () => settle('failure'),
      release: () => settle('not-a-guess'),
    };
  }

  /**
   * Throws a 429 (with `Retry-After` set on `response`) while the client's IP is blocked. A check
   * alone does not stop parallel guesses (they all pass it before the first failure is counted):
   * prefer {@link AuthFailureLimiter.reserve}.
   */
  async assertAllowed(request: HttpRequestLike, response?: object): Promise<void> {
    if (!this.enabled) return;
    const ms = await this.unavailableAware(response, () => this.holder.attempts.attemptBlockedFor(this.keyOf(request)));
    if (ms > 0) this.refuse(request, response, { allowed: false, blocked: true, retryAfterMs: ms });
  }

  /**
   * Counts one failed authentication of the client's IP that holds no reservation; throws a 429
   * once the IP is blocked (this failure reached the limit, or it already had).
   */
  async recordFailure(request: HttpRequestLike, response?: object): Promise<void> {
    const policy = this.policyOf(request);
    if (policy === undefined) return;
    const verdict = await this.unavailableAware(response, () => this.holder.attempts.settleAttempt(policy, false, 'failure'));
    if (verdict.blocked) this.refuse(request, response, verdict);
  }

  /**
   * Records a failed login of your own login route and emits `authentication.failed` with a
   * fingerprint of the username, which feeds credential-stuffing detection. With the `attempt`
   * from {@link AuthFailureLimiter.reserve}, settles it as a failure (the 401 is yours to answer);
   * without one, counts the failure as {@link AuthFailureLimiter.recordFailure} does (may throw the 429).
   */
  async recordLoginFailure(request: HttpRequestLike, response: object | undefined, username: string, attempt?: AuthAttempt): Promise<void> {
    this.events.emit({ type: 'authentication.failed', reason: 'invalid', usernameFingerprint: this.events.fingerprint(username) }, request);
    if (attempt) await attempt.failed();
    else await this.recordFailure(request, response);
  }

  private policyOf(request: HttpRequestLike): AttemptPolicy | undefined {
    const tier = this.throttle?.authFailures;
    if (!tier) return undefined;
    return { key: this.keyOf(request), limit: tier.limit, ttlMs: tier.ttlMs, blockMs: tier.blockMs, pendingMs: PENDING_MS };
  }

  /** A store outage under `failOpen: false` is a 503 with `Retry-After: 1`. */
  private async unavailableAware<T>(response: object | undefined, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      retryAfterForOutage(this.adapterHost, error, response);
      throw error;
    }
  }

  private keyOf(request: HttpRequestLike): string {
    return `${this.holder.prefix}{${ipTracker(request, this.proxy)}}:auth-failures`;
  }

  private refuse(request: HttpRequestLike, response: object | undefined, verdict: AttemptVerdict): never {
    const seconds = Math.max(1, toSeconds(verdict.retryAfterMs));
    if (verdict.blocked) this.events.emit({ type: 'rate.limited', tier: 'auth-failures' }, request);
    if (response) this.adapterHost.httpAdapter.setHeader(response, 'Retry-After', String(seconds));
    throw new ThrottledException(verdict.blocked ? BLOCKED_MESSAGE : BUSY_MESSAGE, seconds);
  }
}
