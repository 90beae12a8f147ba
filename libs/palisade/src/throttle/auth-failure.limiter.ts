import { Inject, Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { AuthAttemptGate } from '../auth/auth-attempt-gate.interface.js';
import type { HttpRequestLike } from '../common/http-context.js';
import { PALISADE_OPTIONS } from '../common/palisade.constants.js';
import type { NormalizedPalisadeOptions } from '../common/palisade-options.normalizer.js';
import { ThrottleStoreHolder } from './throttle-store.provider.js';
import { ipTracker } from './throttle-tracker.js';
import { ThrottledException } from './throttled.exception.js';
import { retryAfterForOutage } from '../common/store-unavailable.exception.js';
import { SecurityEvents } from '../events/security-events.service.js';

/**
 * Brute-force protection: counts failed authentications per client IP (`throttle.authFailures`).
 * The `Authenticator` consults it for every scheme (bad token, API key, Basic password); call
 * {@link AuthFailureLimiter.recordFailure} from your own login handler for failed logins. Past the
 * limit the IP gets 429 on every authentication attempt until the block ends — valid credentials
 * included, so guessing cannot continue. Keyed by IP, never by account alone: an attacker cannot
 * lock a victim out from the victim's own address.
 */
@Injectable()
export class AuthFailureLimiter implements AuthAttemptGate {
  constructor(
    private readonly holder: ThrottleStoreHolder,
    private readonly adapterHost: HttpAdapterHost,
    @Inject(PALISADE_OPTIONS) private readonly options: NormalizedPalisadeOptions,
    private readonly events: SecurityEvents,
  ) {}

  /** True when brute-force protection is configured. */
  get enabled(): boolean {
    return this.options.throttle?.authFailures !== undefined;
  }

  /**
   * Throws a 429 (with `Retry-After` set on `response`) while the client's IP is blocked.
   *
   * @example
   * \@Post('login') async login(\@Req() req, \@Res({ passthrough: true }) res, \@Body() body) {
   *   await this.limiter.assertAllowed(req, res);
   *   const user = await this.users.verify(body.username, body.password);
   *   if (!user) { await this.limiter.recordFailure(req, res); throw new AuthenticationFailedException(); }
   * }
   */
  async assertAllowed(request: HttpRequestLike, response?: object): Promise<void> {
    if (!this.enabled) return;
    const seconds = await this.unavailableAware(response, () => this.holder.store.blockedFor(this.keyOf(request)));
    if (seconds > 0) this.reject(request, response, seconds);
  }

  /** Counts one failed authentication of the client's IP; throws a 429 when it exceeds the limit. */
  async recordFailure(request: HttpRequestLike, response?: object): Promise<void> {
    const tier = this.options.throttle?.authFailures;
    if (!tier) return;
    const [record] = await this.unavailableAware(response, () =>
      this.holder.store.incrementMany([{ key: this.keyOf(request), limit: tier.limit, ttlMs: tier.ttlMs, blockMs: tier.blockMs }]),
    );
    if (record?.isBlocked) this.reject(request, response, Math.max(1, record.timeToBlockExpire));
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
    return `${this.holder.prefix}{${ipTracker(request, this.options.proxy)}}:auth-failures`;
  }

  /**
   * Records a failed login of your own login route: counts it against the client IP (may throw
   * the 429) and emits `authentication.failed` with a fingerprint of the username, which feeds
   * credential-stuffing detection.
   */
  async recordLoginFailure(request: HttpRequestLike, response: object | undefined, username: string): Promise<void> {
    await this.recordFailure(request, response);
    this.events.emit({ type: 'authentication.failed', reason: 'invalid', usernameFingerprint: this.events.fingerprint(username) }, request);
  }

  private reject(request: HttpRequestLike, response: object | undefined, seconds: number): never {
    this.events.emit({ type: 'rate.limited', tier: 'auth-failures' }, request);
    if (response) this.adapterHost.httpAdapter.setHeader(response, 'Retry-After', String(seconds));
    throw new ThrottledException('Too many failed authentication attempts; retry later', seconds);
  }
}
