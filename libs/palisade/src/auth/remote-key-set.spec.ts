import { errors, jwtVerify } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { JwksServer, signingKey, signWith, type TestSigningKey } from '../../../../test/support/jwks.js';
import { RemoteKeySet, type RemoteKeySetListener, type RemoteKeySetSettings } from './remote-key-set.js';

/** What the key set reported, in order. */
class RecordingListener implements RemoteKeySetListener {
  readonly failures: Parameters<RemoteKeySetListener['fetchFailed']>[1][] = [];
  readonly recoveries: Parameters<RemoteKeySetListener['fetchRecovered']>[1][] = [];
  removals = 0;
  fetchFailed(_set: RemoteKeySet, failure: Parameters<RemoteKeySetListener['fetchFailed']>[1]): void {
    this.failures.push(failure);
  }
  fetchRecovered(_set: RemoteKeySet, recovery: Parameters<RemoteKeySetListener['fetchRecovered']>[1]): void {
    this.recoveries.push(recovery);
  }
  keysRemoved(): void {
    this.removals += 1;
  }
}

/** A clock the test moves: the key set's injected `now`, so cooldowns and backoffs pass without waiting. */
class Clock {
  now = Date.parse('2026-01-01T00:00:00Z');
  readonly read = (): number => this.now;
  advance(ms: number): void {
    this.now += ms;
  }
}

/**
 * RemoteKeySet against a real JWK Set server on loopback, with real keys and tokens (jose), on an
 * injected clock: every timing rule (cache age, cooldown, doubling backoff, stale-if-error) is
 * crossed by moving the clock, and the server's request count proves when a fetch happened.
 */
describe('RemoteKeySet', () => {
  const SETTINGS = { cacheMaxAgeMs: 600_000, cooldownMs: 30_000, maxBackoffMs: 120_000, staleIfErrorMs: 3_600_000, timeoutMs: 5_000 };
  let server: JwksServer;
  let key: TestSigningKey;
  let rotated: TestSigningKey;
  let clock: Clock;
  let listener: RecordingListener;
  let revoked: Set<string>;
  let set: RemoteKeySet;

  beforeAll(async () => {
    server = await JwksServer.start();
    [key, rotated] = await Promise.all([signingKey('RS256'), signingKey('ES256')]);
  });
  afterAll(() => server.close());

  let path = 0;
  beforeEach(() => {
    server.mode = 'ok';
    server.publish(key);
    clock = new Clock();
    listener = new RecordingListener();
    revoked = new Set();
    // A path of its own per test: the server's request count starts at zero.
    const settings: RemoteKeySetSettings = { uri: server.url(`/jwks-${++path}.json`), ...SETTINGS };
    set = new RemoteKeySet(settings, revoked, listener, clock.read);
  });

  const fetches = () => server.requests(`/jwks-${path}.json`);
  /** A token signed with `signer`, valid on the test clock (jose reads its own clock: `currentDate`). */
  const verify = async (signer: TestSigningKey) => {
    const token = await signWith(signer, { sub: 'alice', iat: Math.floor(clock.now / 1000), exp: Math.floor(clock.now / 1000) + 300 });
    return jwtVerify(token, set.getKey, { currentDate: new Date(clock.now) });
  };

  it('fetches the set on first use and serves it from cache within cacheMaxAge', async () => {
    await expect(verify(key)).resolves.toMatchObject({ payload: { sub: 'alice' } });
    clock.advance(SETTINGS.cacheMaxAgeMs - 1);
    await expect(verify(key)).resolves.toBeDefined();
    expect(fetches()).toBe(1);
  });

  it('refetches in the background once the set is older than cacheMaxAge, answering from cache meanwhile', async () => {
    await verify(key);
    clock.advance(SETTINGS.cacheMaxAgeMs);
    // The provider takes its time: the request is answered from the cached keys all the same.
    server.mode = 'hang';
    await expect(verify(key)).resolves.toBeDefined();
    await vi.waitFor(() => expect(fetches()).toBe(2));
    set.close(); // ends the hanging fetch
  });

  it('follows a key rotation with one fetch, but not within the cooldown of the last fetch', async () => {
    await verify(key);
    server.publish(key, rotated);
    await expect(verify(rotated)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    expect(fetches()).toBe(1);
    clock.advance(SETTINGS.cooldownMs);
    await expect(verify(rotated)).resolves.toBeDefined();
    expect(fetches()).toBe(2);
  });

  it('backs off after failures, doubling from the cooldown up to maxBackoff, and reports the recovery', async () => {
    server.mode = 'fail';
    const retries: number[] = [];
    for (let i = 0; i < 4; i++) {
      /* oxlint-disable no-await-in-loop -- one failure after another */
      await expect(verify(key)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
      const retryInMs = listener.failures.at(-1)?.retryInMs ?? 0;
      retries.push(retryInMs);
      // Before the retry time, no request reaches the provider.
      clock.advance(retryInMs - 1);
      await expect(verify(key)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
      expect(fetches()).toBe(i + 1);
      clock.advance(1);
      /* oxlint-enable no-await-in-loop */
    }
    expect(retries).toEqual([30_000, 60_000, 120_000, 120_000]);
    expect(listener.failures.map((f) => [f.cause, f.status, f.consecutiveFailures, f.usable])).toEqual([
      ['status', 500, 1, false],
      ['status', 500, 2, false],
      ['status', 500, 3, false],
      ['status', 500, 4, false],
    ]);
    server.mode = 'ok';
    await expect(verify(key)).resolves.toBeDefined();
    expect(listener.recoveries).toEqual([{ consecutiveFailures: 4, downMs: 30_000 + 60_000 + 120_000 + 120_000 }]);
  });

  it('serves the last good keys for staleIfError past cacheMaxAge while the provider fails, and none after', async () => {
    await verify(key);
    server.mode = 'fail';
    clock.advance(SETTINGS.cacheMaxAgeMs + SETTINGS.staleIfErrorMs - 1);
    await expect(verify(key)).resolves.toBeDefined();
    await set.refresh();
    expect(listener.failures.at(-1)).toMatchObject({ usable: true });
    clock.advance(SETTINGS.maxBackoffMs);
    await expect(verify(key)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
  });

  it('never replaces good keys with a failed fetch: an empty set or a body that is not a set', async () => {
    await verify(key);
    for (const mode of ['empty', 'invalid'] as const) {
      server.mode = mode;
      // oxlint-disable-next-line no-await-in-loop
      await expect(set.refresh()).resolves.toEqual({ ok: false, cause: mode === 'empty' ? 'empty-set' : 'invalid-body' });
      // oxlint-disable-next-line no-await-in-loop
      await expect(verify(key)).resolves.toBeDefined();
    }
  });

  it('refuses a revoked kid without fetching, and drops it from the cached set at once', async () => {
    await verify(key);
    revoked.add(key.kid);
    set.applyRevocations();
    expect(listener.removals).toBe(1);
    clock.advance(SETTINGS.cooldownMs);
    await expect(verify(key)).rejects.toThrow('the key was revoked');
    expect(fetches()).toBe(1);
  });

  it('reports a key the provider removed', async () => {
    server.publish(key, rotated);
    await verify(key);
    server.publish(rotated);
    await expect(set.refresh()).resolves.toEqual({ ok: true, kids: 1 });
    expect(listener.removals).toBe(1);
    await expect(verify(rotated)).resolves.toBeDefined();
  });
});
