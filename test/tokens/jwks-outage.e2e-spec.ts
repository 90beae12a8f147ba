/**
 * An identity provider's JWKS endpoint as it fails in production: HTTP 500, a request that hangs
 * past the fetch timeout, an empty set, a body that is not a set — and recovers. Each test starts
 * its own loopback JWKS server (counting every request) and app; the wall clock (`Date.now`) is
 * moved by hand, the fetch timeout runs for real (300 ms).
 *
 * Regressions of issue 16: "50 requests → 50 fetches in 748 ms while the endpoint fails", "an
 * outage longer than the cache age rejects every token", "an empty key set replaces the cache",
 * "a removed (compromised) key keeps being honoured for about 11 minutes".
 */
import type { INestApplication, ModuleMetadata } from '@nestjs/common';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { JwksKeys, PalisadeModule, type JwtAuthOptions } from '@palisade/nest';
import { ADAPTERS, bootApp, type AdapterName } from '../support/app.js';
import { CHALLENGE, MESSAGE, expectUnauthorized } from '../support/auth.js';
import { CollectingSink } from '../support/events.js';
import { JwksServer, signingKey, signWith, WallClock, type TestSigningKey } from '../support/jwks.js';
import { getWith, WhoAmIController } from '../support/token-app.js';

const IDP = 'https://idp.test';
const AUDIENCE = 'palisade-api';
const MINUTE = 60_000;
/** The entry's timings: 10 min cache, 30 s cooldown doubling up to 2 min, 1 h of stale keys, 300 ms timeout. */
const TIMINGS = { cacheMaxAge: '10m', cooldown: '30s', maxBackoff: '2m', staleIfError: '1h', timeout: '300ms' } as const;

let key: TestSigningKey;
let other: TestSigningKey;
let stranger: TestSigningKey;

beforeAll(async () => {
  [key, other, stranger] = await Promise.all([signingKey('RS256'), signingKey('ES256'), signingKey('EdDSA', 'never-published')]);
});

let serial = 0;
/** A fresh token (a unique jti: never a verified-token cache hit) of the identity provider. */
const tokenOf = (signer: TestSigningKey, header: Record<string, unknown> = {}) =>
  signWith(signer, { sub: 'idp-user', iss: IDP, aud: AUDIENCE, jti: `t-${++serial}` }, { header });
const unknownKid = () => tokenOf(stranger, { kid: `unknown-${++serial}` });

function outageApp(jwt: Partial<JwtAuthOptions>, uri: string): ModuleMetadata {
  return {
    imports: [PalisadeModule.forRoot({ auth: { jwt: { issuer: IDP, audience: AUDIENCE, jwks: [{ uri, ...TIMINGS }], ...jwt } }, global: true })],
    controllers: [WhoAmIController],
    providers: [CollectingSink],
  };
}

describe.each(ADAPTERS)('JWKS endpoint outages on %s', (adapter: AdapterName) => {
  const ctx = {} as { jwks: JwksServer; app: INestApplication; sink: CollectingSink; clock: WallClock };

  async function boot(jwt: Partial<JwtAuthOptions> = {}): Promise<void> {
    ctx.app = (await bootApp(adapter, outageApp(jwt, ctx.jwks.url()))).app;
    ctx.sink = ctx.app.get(CollectingSink);
  }
  const status = async (token: Promise<string>) => (await getWith(ctx.app, await token)).status;
  const fetches = () => ctx.jwks.requests();
  const jwksEvents = () => ctx.sink.events.filter((e) => e.type === 'jwks.fetch.failed' || e.type === 'jwks.fetch.recovered');

  beforeEach(async () => {
    ctx.jwks = await JwksServer.start();
    ctx.jwks.publish(key, other);
    ctx.clock = new WallClock();
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await ctx.app?.close();
    await ctx.jwks?.close();
  });

  it('HTTP 500 for hours: stale keys serve known kids, unknown kids cause one fetch per backoff step (30 s, 1 min, 2 min, 2 min…), never one per request; events name the cause', async () => {
    await boot();
    expect(await status(tokenOf(key))).toBe(200);
    expect(fetches()).toBe(1);

    ctx.jwks.mode = 'fail';
    ctx.clock.advance(10 * MINUTE + 1_000); // the cache is due
    // The cached keys answer at once; the refetch runs in the background and fails.
    expect(await status(tokenOf(key))).toBe(200);
    await vi.waitFor(() => expect(ctx.sink.ofType('jwks.fetch.failed')).toHaveLength(1));
    expect(fetches()).toBe(2);
    expect(ctx.sink.ofType('jwks.fetch.failed')[0]).toMatchObject({
      severity: 'warning',
      uri: ctx.jwks.url(),
      cause: 'status',
      status: 500,
      consecutiveFailures: 1,
      keysUsable: true,
      retryInMs: 30_000,
    });

    // The finding: 50 unknown kids at once, then 50 more one by one → 50 fetches. Now: none.
    const flood = await Promise.all(Array.from({ length: 50 }, () => unknownKid()));
    for (const res of await Promise.all(flood.map((t) => getWith(ctx.app, t)))) expectUnauthorized(res, MESSAGE.invalid, CHALLENGE.bearerInvalid);
    for (let i = 0; i < 50; i += 1) expect(await status(unknownKid())).toBe(401);
    expect(fetches()).toBe(2);
    expect(await status(tokenOf(other))).toBe(200);

    // Backoff: one fetch after 30 s, the next after 1 min, then every 2 min (maxBackoff).
    const retries: number[] = [];
    for (const wait of [30_000, 60_000, 120_000, 120_000]) {
      ctx.clock.advance(wait - 1_000);
      expect(await status(unknownKid())).toBe(401);
      expect(fetches()).toBe(2 + retries.length); // not yet
      ctx.clock.advance(1_000);
      expect(await status(unknownKid())).toBe(401);
      retries.push(fetches());
    }
    expect(retries).toEqual([3, 4, 5, 6]);
    expect(ctx.sink.ofType('jwks.fetch.failed').map((e) => [e.consecutiveFailures, e.retryInMs])).toEqual([
      [1, 30_000],
      [2, 60_000],
      [3, 120_000],
      [4, 120_000],
      [5, 120_000],
    ]);
    // Known kids still verify: 10 min + 5.5 min old keys, within staleIfError (1 h).
    expect(await status(tokenOf(key))).toBe(200);
  });

  it('past cacheMaxAge + staleIfError the stale keys stop: tokens are refused (critical event) until the provider answers again (recovered event)', async () => {
    await boot();
    expect(await status(tokenOf(key))).toBe(200);
    ctx.jwks.mode = 'fail';
    ctx.clock.advance(10 * MINUTE + 59 * MINUTE); // 1 min short of the bound
    expect(await status(tokenOf(key))).toBe(200);
    await vi.waitFor(() => expect(ctx.sink.ofType('jwks.fetch.failed')).toHaveLength(1)); // the background refetch
    ctx.clock.advance(MINUTE + 1_000); // past 10 min + 1 h: stale keys are no longer used
    expectUnauthorized(await getWith(ctx.app, await tokenOf(key)), MESSAGE.invalid, CHALLENGE.bearerInvalid);
    await vi.waitFor(() => expect(ctx.sink.ofType('jwks.fetch.failed').some((e) => !e.keysUsable)).toBe(true));
    expect(ctx.sink.ofType('jwks.fetch.failed').find((e) => !e.keysUsable)).toMatchObject({ severity: 'critical', cause: 'status', status: 500 });

    ctx.jwks.mode = 'ok';
    ctx.clock.advance(2 * MINUTE); // past the longest backoff
    expect(await status(tokenOf(key))).toBe(200);
    const recovered = ctx.sink.ofType('jwks.fetch.recovered');
    expect(recovered).toHaveLength(1);
    expect(recovered[0]).toMatchObject({ severity: 'info', uri: ctx.jwks.url(), consecutiveFailures: 2 });
    expect(recovered[0]?.downMs).toBeGreaterThanOrEqual(MINUTE);
  });

  it('staleIfError: 0 refuses tokens as soon as the cache is due and the fetch fails', async () => {
    ctx.app = (
      await bootApp(adapter, {
        ...outageApp({}, ctx.jwks.url()),
        imports: [
          PalisadeModule.forRoot({
            auth: { jwt: { issuer: IDP, audience: AUDIENCE, jwks: [{ uri: ctx.jwks.url(), ...TIMINGS, staleIfError: 0 }] } },
            global: true,
          }),
        ],
      })
    ).app;
    expect(await status(tokenOf(key))).toBe(200);
    ctx.jwks.mode = 'fail';
    ctx.clock.advance(10 * MINUTE + 1_000);
    expect(await status(tokenOf(key))).toBe(401);
  });

  it('a fetch that hangs past the timeout: known kids are answered from the cache without waiting; the failure is reported as a timeout', async () => {
    await boot();
    expect(await status(tokenOf(key))).toBe(200);
    ctx.jwks.mode = 'hang';
    ctx.clock.advance(10 * MINUTE + 1_000);
    const started = performance.now();
    expect(await status(tokenOf(key))).toBe(200);
    expect(performance.now() - started).toBeLessThan(250); // not held by the hanging fetch
    await vi.waitFor(() => expect(ctx.sink.ofType('jwks.fetch.failed')).toHaveLength(1), { timeout: 2_000 });
    expect(ctx.sink.ofType('jwks.fetch.failed')[0]).toMatchObject({ cause: 'timeout', keysUsable: true });
    expect(ctx.sink.ofType('jwks.fetch.failed')[0]).not.toHaveProperty('status');
    expect(fetches()).toBe(2);
  });

  it('a provider that hangs from the start: the first token waits at most the timeout, then 401, and the next ones cause no fetch until the cooldown', async () => {
    ctx.jwks.mode = 'hang';
    await boot();
    const started = performance.now();
    expectUnauthorized(await getWith(ctx.app, await tokenOf(key)), MESSAGE.invalid, CHALLENGE.bearerInvalid);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(2_000);
    expect(ctx.sink.ofType('jwks.fetch.failed')[0]).toMatchObject({ severity: 'critical', cause: 'timeout', keysUsable: false });
    for (let i = 0; i < 10; i += 1) expect(await status(tokenOf(key))).toBe(401);
    expect(fetches()).toBe(1);
  });

  it('an empty set or a body that is not a set never replaces good keys (forced refreshes report why)', async () => {
    await boot();
    const keys = ctx.app.get(JwksKeys);
    expect(await status(tokenOf(key))).toBe(200);
    ctx.jwks.mode = 'empty';
    expect(await keys.refresh()).toEqual([{ uri: ctx.jwks.url(), ok: false, cause: 'empty-set' }]);
    expect(await status(tokenOf(key))).toBe(200);
    ctx.jwks.mode = 'invalid';
    expect(await keys.refresh()).toEqual([{ uri: ctx.jwks.url(), ok: false, cause: 'invalid-body' }]);
    expect(await status(tokenOf(other))).toBe(200);
    ctx.jwks.mode = 'fail';
    expect(await keys.refresh(ctx.jwks.url())).toEqual([{ uri: ctx.jwks.url(), ok: false, cause: 'status', status: 500 }]);
    expect(jwksEvents().map((e) => (e.type === 'jwks.fetch.failed' ? e.cause : e.type))).toEqual(['empty-set', 'invalid-body', 'status']);
    ctx.jwks.mode = 'ok';
    expect(await keys.refresh()).toEqual([{ uri: ctx.jwks.url(), ok: true, keys: 2 }]);
    expect(ctx.sink.ofType('jwks.fetch.recovered')).toHaveLength(1);
  });

  it('a key removed at the provider: refresh() makes it fail at once, including tokens already verified and cached', async () => {
    await boot();
    const token = await tokenOf(key);
    expect((await getWith(ctx.app, token)).status).toBe(200);
    expect((await getWith(ctx.app, token)).status).toBe(200); // now in the verified-token cache
    ctx.jwks.publish(other); // the provider removes the compromised key
    expect((await getWith(ctx.app, token)).status).toBe(200); // not known here yet
    expect(await ctx.app.get(JwksKeys).refresh()).toEqual([{ uri: ctx.jwks.url(), ok: true, keys: 1 }]);
    expectUnauthorized(await getWith(ctx.app, token), MESSAGE.invalid, CHALLENGE.bearerInvalid);
    expectUnauthorized(await getWith(ctx.app, await tokenOf(key)), MESSAGE.invalid, CHALLENGE.bearerInvalid);
    expect(await status(tokenOf(other))).toBe(200);
  });

  it('revokeKey(kid) refuses a key the provider still publishes, at once, without a fetch; other keys keep working', async () => {
    await boot();
    const token = await tokenOf(key);
    expect((await getWith(ctx.app, token)).status).toBe(200);
    expect((await getWith(ctx.app, token)).status).toBe(200); // cached as verified
    const keys = ctx.app.get(JwksKeys);
    keys.revokeKey(key.kid);
    expect(keys.revokedKeys()).toEqual([key.kid]);
    expectUnauthorized(await getWith(ctx.app, token), MESSAGE.invalid, CHALLENGE.bearerInvalid);
    ctx.clock.advance(MINUTE); // past the cooldown: a revoked kid still triggers no fetch
    expect(await status(tokenOf(key))).toBe(401);
    expect(fetches()).toBe(1);
    // Without a kid header, the revoked key is not picked either.
    expect(await status(signWith(key, { sub: 'idp-user', iss: IDP, aud: AUDIENCE }, { header: { kid: undefined } }))).toBe(401);
    // A refresh brings the key back from the provider's set? No: the revocation holds.
    await keys.refresh();
    expect(await status(tokenOf(key))).toBe(401);
    expect(await status(tokenOf(other))).toBe(200);
    expect(() => keys.revokeKey('')).toThrow('JwksKeys.revokeKey: kid is ""; expected a non-empty key id.');
  });
});
