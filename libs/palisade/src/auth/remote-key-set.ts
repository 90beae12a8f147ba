import { createLocalJWKSet, errors, type FlattenedJWSInput, type JSONWebKeySet, type JWK, type JWSHeaderParameters } from 'jose';
import type { CryptoKey } from 'jose';

/** Why a JWK Set fetch failed. Never carries a token or a key. */
export type JwksFetchCause = 'status' | 'timeout' | 'network' | 'invalid-body' | 'empty-set';

/** @internal Timing of one remote key set, in milliseconds. */
export interface RemoteKeySetSettings {
  readonly uri: string;
  readonly cacheMaxAgeMs: number;
  readonly cooldownMs: number;
  readonly maxBackoffMs: number;
  readonly staleIfErrorMs: number;
  readonly timeoutMs: number;
}

/** @internal What a key set reports to its owner (events, the verified-token cache). */
export interface RemoteKeySetListener {
  /** A fetch failed; `usable` says whether tokens can still be verified (fresh or stale keys). */
  fetchFailed(set: RemoteKeySet, failure: { cause: JwksFetchCause; status?: number; consecutiveFailures: number; usable: boolean; retryInMs: number }): void;
  /** A fetch succeeded after `consecutiveFailures` failures that lasted `downMs`. */
  fetchRecovered(set: RemoteKeySet, recovery: { consecutiveFailures: number; downMs: number }): void;
  /** A key that verified tokens before is gone (removed by the provider, or revoked here). */
  keysRemoved(set: RemoteKeySet): void;
}

/** @internal The outcome of one fetch. */
export type FetchOutcome = { readonly ok: true; readonly kids: number } | { readonly ok: false; readonly cause: JwksFetchCause; readonly status?: number };

class FetchFailure extends Error {
  constructor(
    readonly reason: JwksFetchCause,
    readonly status?: number,
  ) {
    super(`JWK Set fetch failed: ${reason}${status === undefined ? '' : ` (HTTP ${status})`}`);
  }
}

type LocalSet = ReturnType<typeof createLocalJWKSet>;

/** Largest JWK Set body accepted, in characters (a real set is a few kilobytes). */
const MAX_BODY_CHARS = 1 << 20;
const MAX_KEYS = 100;

/**
 * One identity provider's JWK Set, fetched and cached with a failure model `jose`'s
 * `createRemoteJWKSet` does not have: a failed fetch (status, timeout, network, a body that is not
 * a set, an empty set) never replaces good keys, retries back off (`cooldown` doubling up to
 * `maxBackoff`) instead of following every unknown `kid`, and the last good keys are served for
 * `staleIfError` past `cacheMaxAge` while the provider fails. Key selection (by `kid`, a key's
 * own `alg`) is `jose`'s `createLocalJWKSet`. Revoked `kid`s are never used.
 * @internal
 */
export class RemoteKeySet {
  private local: LocalSet | undefined;
  private document: JSONWebKeySet | undefined;
  /** Time of the last successful fetch (ms since the epoch). */
  private fetchedAt = Number.NEGATIVE_INFINITY;
  /** Earliest time the next fetch may start (cooldown after success, backoff after failure). */
  private retryAt = Number.NEGATIVE_INFINITY;
  private failures = 0;
  private failingSince = 0;
  private pending: Promise<FetchOutcome> | undefined;
  private readonly closed = new AbortController();

  constructor(
    readonly settings: RemoteKeySetSettings,
    private readonly revoked: ReadonlySet<string>,
    private readonly listener: RemoteKeySetListener,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** The key resolver handed to `jwtVerify`. */
  readonly getKey = async (header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey> => {
    const kid = header.kid;
    // A revoked kid is refused before any lookup: it must not trigger a fetch either.
    if (typeof kid === 'string' && this.revoked.has(kid)) throw new errors.JWKSNoMatchingKey('the key was revoked');
    let local = this.usable();
    if (local === undefined) {
      if (this.mayFetch()) await this.fetch();
      local = this.usable();
      if (local === undefined) throw new errors.JWKSNoMatchingKey('no usable JWK Set (the provider has not answered)');
    } else if (this.now() >= this.fetchedAt + this.settings.cacheMaxAgeMs && this.mayFetch()) {
      // Due for a refresh: fetched in the background, the cached keys answer meanwhile.
      void this.fetch();
    }
    try {
      return await local(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey) || !this.mayFetch()) throw error;
      // An unknown kid: perhaps a rotation. One fetch, shared by concurrent requests.
      await this.fetch();
      const next = this.usable();
      if (next === undefined || next === local) throw error;
      return next(header, token);
    }
  };

  /** The URL of the set. */
  get uri(): string {
    return this.settings.uri;
  }

  /** Whether the last fetch failed. */
  get failing(): boolean {
    return this.failures > 0;
  }

  /** Fetches the set now, whatever the cooldown (a fetch under way is joined, not repeated). */
  refresh(): Promise<FetchOutcome> {
    return this.fetch();
  }

  /** Drops revoked keys from the cached set at once (call after adding to the revoked set). */
  applyRevocations(): void {
    if (this.document === undefined) return;
    const before = this.document.keys.length;
    this.install(this.document);
    if ((this.document?.keys.length ?? 0) < before) this.listener.keysRemoved(this);
  }

  /** Aborts a fetch under way (application shutdown). */
  close(): void {
    this.closed.abort();
  }

  private mayFetch(): boolean {
    return this.pending !== undefined || this.now() >= this.retryAt;
  }

  /** The cached keys if still usable: within `cacheMaxAge`, or `staleIfError` past it. */
  private usable(): LocalSet | undefined {
    if (this.local === undefined) return undefined;
    return this.now() < this.fetchedAt + this.settings.cacheMaxAgeMs + this.settings.staleIfErrorMs ? this.local : undefined;
  }

  private fetch(): Promise<FetchOutcome> {
    this.pending ??= this.load().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async load(): Promise<FetchOutcome> {
    let document: JSONWebKeySet;
    try {
      document = await this.download();
    } catch (error) {
      const failure = error instanceof FetchFailure ? error : new FetchFailure('network');
      const now = this.now();
      if (this.failures === 0) this.failingSince = now;
      this.failures += 1;
      const retryInMs = Math.min(this.settings.cooldownMs * 2 ** Math.min(this.failures - 1, 30), this.settings.maxBackoffMs);
      this.retryAt = now + retryInMs;
      this.listener.fetchFailed(this, {
        cause: failure.reason,
        ...(failure.status === undefined ? {} : { status: failure.status }),
        consecutiveFailures: this.failures,
        usable: this.usable() !== undefined,
        retryInMs,
      });
      return { ok: false, cause: failure.reason, ...(failure.status === undefined ? {} : { status: failure.status }) };
    }
    const now = this.now();
    const previous = new Set((this.document?.keys ?? []).map((key) => key.kid));
    this.install(document);
    this.fetchedAt = now;
    this.retryAt = now + this.settings.cooldownMs;
    if (this.failures > 0) {
      this.listener.fetchRecovered(this, { consecutiveFailures: this.failures, downMs: now - this.failingSince });
      this.failures = 0;
    }
    const current = new Set((this.document?.keys ?? []).map((key) => key.kid));
    if ([...previous].some((kid) => !current.has(kid))) this.listener.keysRemoved(this);
    return { ok: true, kids: current.size };
  }

  /** Installs a validated set, without the revoked keys. */
  private install(document: JSONWebKeySet): void {
    const keys = document.keys.filter((key) => typeof key.kid !== 'string' || !this.revoked.has(key.kid));
    this.document = { keys };
    this.local = createLocalJWKSet({ keys });
  }

  private async download(): Promise<JSONWebKeySet> {
    const signal = AbortSignal.any([AbortSignal.timeout(this.settings.timeoutMs), this.closed.signal]);
    let text: string;
    try {
      const response = await fetch(this.settings.uri, {
        method: 'GET',
        redirect: 'manual',
        signal,
        headers: { accept: 'application/jwk-set+json, application/json' },
      });
      if (response.status !== 200) {
        await response.body?.cancel().catch(() => undefined);
        throw new FetchFailure('status', response.status);
      }
      text = await response.text();
    } catch (error) {
      if (error instanceof FetchFailure) throw error;
      throw new FetchFailure(signal.aborted ? 'timeout' : 'network');
    }
    return parseKeySet(text);
  }
}

/** Parses and checks a JWK Set body: an object whose `keys` hold at least one usable signing key. */
function parseKeySet(text: string): JSONWebKeySet {
  if (text.length > MAX_BODY_CHARS) throw new FetchFailure('invalid-body');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new FetchFailure('invalid-body');
  }
  const keys = (body as { keys?: unknown } | null)?.keys;
  if (typeof body !== 'object' || body === null || !Array.isArray(keys) || keys.length > MAX_KEYS) throw new FetchFailure('invalid-body');
  if (!keys.every((key) => typeof key === 'object' && key !== null && !Array.isArray(key))) throw new FetchFailure('invalid-body');
  const usable = (keys as JWK[]).filter((key) => typeof key.kty === 'string' && key.kty !== 'oct' && (key.use === undefined || key.use === 'sig'));
  if (usable.length === 0) throw new FetchFailure('empty-set');
  try {
    createLocalJWKSet({ keys: usable });
  } catch {
    throw new FetchFailure('invalid-body');
  }
  return { keys: usable };
}
