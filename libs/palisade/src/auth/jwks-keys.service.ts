import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { AUTH_OPTIONS } from './auth.constants.js';
import { SecurityEvents } from '../events/security-events.service.js';
import type { NormalizedAuthOptions, NormalizedJwksIssuer } from './auth-options.normalizer.js';
import { RemoteKeySet, type JwksFetchCause, type RemoteKeySetListener } from './remote-key-set.js';

/** The outcome of a forced refresh of one JWK Set. */
export interface JwksRefreshResult {
  /** The JWK Set URL. */
  readonly uri: string;
  /** Whether the set was fetched and installed (a failure keeps the cached keys). */
  readonly ok: boolean;
  /** Keys now cached (revoked ones excluded), when `ok`. */
  readonly keys?: number;
  /** Why it failed, when not `ok`. */
  readonly cause?: JwksFetchCause;
  /** The HTTP status, when `cause` is `status`. */
  readonly status?: number;
}

/**
 * The identity providers' key sets (`auth.jwt.jwks`), one cache per entry. Inject it to act on a
 * key at once instead of waiting for `cacheMaxAge`: `refresh()` refetches every set now (after
 * the provider removed a compromised key), `revokeKey(kid)` stops honouring a key on this
 * instance immediately, even while the provider still publishes it. Both also clear the verified-
 * token cache, so no token of a removed key is accepted after the call returns.
 *
 * Revocations are held in memory, per application instance, for its lifetime: call `revokeKey`
 * on every instance (or remove the key at the provider and call `refresh` on each).
 *
 * @example
 * constructor(private readonly jwks: JwksKeys) {}
 * async onKeyCompromised(kid: string) { this.jwks.revokeKey(kid); await this.jwks.refresh(); }
 */
@Injectable()
export class JwksKeys implements OnModuleDestroy {
  private readonly sets = new Map<NormalizedJwksIssuer, RemoteKeySet>();
  private readonly revoked = new Set<string>();
  private readonly removalListeners: (() => void)[] = [];

  constructor(
    @Inject(AUTH_OPTIONS) auth: NormalizedAuthOptions,
    private readonly events: SecurityEvents,
  ) {
    const listener: RemoteKeySetListener = {
      fetchFailed: (set, failure) =>
        this.events.emit({
          type: 'jwks.fetch.failed',
          // No usable key left: every token of this provider is refused until it answers.
          ...(failure.usable ? {} : { severity: 'critical' as const }),
          uri: set.uri,
          cause: failure.cause,
          ...(failure.status === undefined ? {} : { status: failure.status }),
          consecutiveFailures: failure.consecutiveFailures,
          keysUsable: failure.usable,
          retryInMs: failure.retryInMs,
        }),
      fetchRecovered: (set, recovery) =>
        this.events.emit({ type: 'jwks.fetch.recovered', uri: set.uri, consecutiveFailures: recovery.consecutiveFailures, downMs: recovery.downMs }),
      keysRemoved: () => {
        for (const onRemoved of this.removalListeners) onRemoved();
      },
    };
    for (const issuer of auth.jwt?.jwks ?? []) this.sets.set(issuer, new RemoteKeySet(issuer.keySet, this.revoked, listener));
  }

  /**
   * Fetches every JWK Set now (or only the one at `uri`), ignoring the cooldown and any retry
   * backoff; resolves when each fetch has finished. A failed fetch keeps the cached keys.
   */
  async refresh(uri?: string): Promise<JwksRefreshResult[]> {
    const sets = [...this.sets.values()].filter((set) => uri === undefined || set.uri === uri);
    return Promise.all(
      sets.map(async (set) => {
        const outcome = await set.refresh();
        return outcome.ok
          ? { uri: set.uri, ok: true, keys: outcome.kids }
          : { uri: set.uri, ok: false, cause: outcome.cause, ...(outcome.status === undefined ? {} : { status: outcome.status }) };
      }),
    );
  }

  /**
   * Stops honouring the key `kid` at once, in every set, on this instance: tokens signed with it
   * are refused from the next request on (tokens verified before included), and a token naming it
   * triggers no fetch. Lasts for the application's lifetime.
   */
  revokeKey(kid: string): void {
    if (typeof kid !== 'string' || kid.length === 0) throw new TypeError(`JwksKeys.revokeKey: kid is ${JSON.stringify(kid)}; expected a non-empty key id.`);
    this.revoked.add(kid);
    for (const set of this.sets.values()) set.applyRevocations();
    // The key may have signed tokens that are cached as verified: forget them all.
    for (const onRemoved of this.removalListeners) onRemoved();
  }

  /** The key ids revoked with {@link revokeKey}. */
  revokedKeys(): readonly string[] {
    return [...this.revoked];
  }

  /** @internal The cached key set of a configured entry. */
  keySetOf(issuer: NormalizedJwksIssuer): RemoteKeySet {
    const set = this.sets.get(issuer);
    if (!set) throw new Error(`Palisade: no JWK Set for ${issuer.keySet.uri}.`);
    return set;
  }

  /** @internal Runs `listener` whenever a key that verified tokens is removed or revoked. */
  onKeysRemoved(listener: () => void): void {
    this.removalListeners.push(listener);
  }

  /** Aborts fetches under way. */
  onModuleDestroy(): void {
    for (const set of this.sets.values()) set.close();
  }
}
