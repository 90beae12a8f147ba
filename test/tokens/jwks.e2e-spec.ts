/**
 * Tokens of an external identity provider, verified with the keys it publishes as a JWK Set
 * (`auth.jwt.jwks`), served here by a loopback server the test controls and that counts every
 * request. Next to the JWKS entry the app keeps a local HS256 secret (its own tokens), as the demo
 * does. A fresh JWKS server and app per test, so fetch counts are exact.
 */
import { createPublicKey } from 'node:crypto';
import type { INestApplication, ModuleMetadata } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import type { Response } from 'supertest';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi, type TestContext } from 'vitest';
import { PalisadeModule, type JwtAuthOptions } from '@palisade/nest';
import { ADAPTERS, bootApp, type AdapterName } from '../support/app.js';
import { CHALLENGE, MESSAGE, expectUnauthorized } from '../support/auth.js';
import { forgeHmacToken, nowSeconds, unsignedToken } from '../support/forge.js';
import {
  JwksAdminController as AdminController,
  JwksReportsController as ReportsController,
  JwksServer,
  signingKey,
  signWith,
  type TestKeyAlgorithm,
  type TestSigningKey,
} from '../support/jwks.js';
import { getWith, logout, TokenLifecycleController, WhoAmIController } from '../support/token-app.js';
import { signToken, TEST_SECRET } from '../support/tokens.js';

const IDP = 'https://idp.test';
const AUDIENCE = 'palisade-api';
const LOCAL_ISSUER = 'https://palisade.test';
const COOLDOWN_MS = 30_000;
const ALGORITHMS: readonly Exclude<TestKeyAlgorithm, 'Ed25519'>[] = ['RS256', 'PS256', 'ES256', 'EdDSA'];

type JwksEntry = NonNullable<JwtAuthOptions['jwks']>[number];

function jwksApp(jwt: JwtAuthOptions): ModuleMetadata {
  return {
    imports: [PalisadeModule.forRoot({ auth: { jwt }, tokens: {}, global: true })],
    controllers: [WhoAmIController, AdminController, ReportsController, TokenLifecycleController],
  };
}

/** The wall clock as jose's JWKS cache sees it (`Date.now`), moved forward by hand. */
function skipWallClock(ms: number): void {
  const realNow = Date.now;
  const base = realNow();
  const startedAt = performance.now();
  vi.spyOn(Date, 'now').mockImplementation(() => base + ms + Math.floor(performance.now() - startedAt));
}

/** Keys generated once for the file (RSA generation is slow): one per algorithm, plus spares. */
let keys: Record<Exclude<TestKeyAlgorithm, 'Ed25519'>, TestSigningKey>;
let rotated: TestSigningKey;
let attackerKey: TestSigningKey;

beforeAll(async () => {
  const [rs, ps, es, ed, next, attacker] = await Promise.all([
    signingKey('RS256'),
    signingKey('PS256'),
    signingKey('ES256'),
    signingKey('EdDSA'),
    signingKey('RS256', 'rotated-key-2'),
    signingKey('RS256', 'attacker-key'),
  ]);
  keys = { RS256: rs, PS256: ps, ES256: es, EdDSA: ed };
  rotated = next;
  attackerKey = attacker;
});

const claims = (extra: Record<string, unknown> = {}) => ({ sub: 'idp-user', iss: IDP, aud: AUDIENCE, ...extra });

describe.each(ADAPTERS)('JWKS issuers on %s', (adapter: AdapterName) => {
  const ctx = {} as { jwks: JwksServer; app: INestApplication };

  beforeEach(async () => {
    ctx.jwks = await JwksServer.start();
    ctx.jwks.publish(...Object.values(keys));
    const entry: JwksEntry = { uri: ctx.jwks.url(), issuer: IDP, cooldown: '30s' };
    ctx.app = (await bootApp(adapter, jwksApp({ secret: TEST_SECRET, issuer: LOCAL_ISSUER, audience: AUDIENCE, jwks: [entry] }))).app;
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await ctx.app?.close();
    await ctx.jwks?.close();
  });

  const get = (token: string, path = '/me'): Promise<Response> => getWith(ctx.app, token, path);

  it('accepts RS256, PS256, ES256 and EdDSA (Ed25519) tokens signed by published keys; roles and scopes are read as usual', async () => {
    for (const alg of ALGORITHMS) {
      const token = await signWith(keys[alg], claims({ roles: ['admin'], scope: 'reports:read reports:write' }));
      const me = await get(token);
      expect({ alg, status: me.status, body: me.body as unknown }).toEqual({
        alg,
        status: 200,
        body: { id: 'idp-user', scheme: 'jwt', roles: ['admin'], scopes: ['reports:read', 'reports:write'] },
      });
      expect((await get(token, '/admin')).status).toBe(200);
      expect((await get(token, '/reports')).status).toBe(200);
      // Without the role and the scope: authenticated, but 403.
      const plain = await signWith(keys[alg], claims({ roles: ['user'] }));
      expect((await get(plain, '/admin')).status).toBe(403);
      expect((await get(plain, '/reports')).status).toBe(403);
    }
    // The set was fetched once and cached for every key and request.
    expect(ctx.jwks.requests()).toBe(1);
    expect(ctx.jwks.total).toBe(1);
  });

  it('the local secret keeps working next to the JWKS issuer', async () => {
    const local = signToken({ sub: 'local-user', iss: LOCAL_ISSUER, aud: AUDIENCE, roles: ['admin'], jti: 'local-1' });
    const res = await get(local);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: 'local-user', roles: ['admin'] });
  });

  it('follows a key rotation: a token with a new kid triggers one refetch and is accepted; the retired key is then refused', async () => {
    expect((await get(await signWith(keys.RS256, claims()))).status).toBe(200);
    expect(ctx.jwks.requests()).toBe(1);

    // The identity provider rotates: the new set holds only the new key.
    ctx.jwks.publish(rotated);
    skipWallClock(COOLDOWN_MS + 1_000);
    const res = await get(await signWith(rotated, claims({ roles: ['admin'] })));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: 'idp-user', roles: ['admin'] });
    expect(ctx.jwks.requests()).toBe(2);
    // Further tokens of the new key come from the cache.
    expect((await get(await signWith(rotated, claims()))).status).toBe(200);
    expect(ctx.jwks.requests()).toBe(2);
    // The retired key is no longer in the set: refused (and within the cooldown, without a fetch).
    expectUnauthorized(await get(await signWith(keys.RS256, claims())), MESSAGE.invalid, CHALLENGE.bearerInvalid);
    expect(ctx.jwks.requests()).toBe(2);
  });

  it('a flood of 50 tokens with random unknown kids: all 401, and the JWKS server sees at most one extra fetch (cooldown)', async () => {
    expect((await get(await signWith(keys.ES256, claims()))).status).toBe(200);
    const before = ctx.jwks.requests();
    expect(before).toBe(1);
    // Past the cooldown, so the bound below comes from the cooldown, not from a fresh fetch.
    skipWallClock(COOLDOWN_MS + 1_000);
    const tokens = await Promise.all(
      Array.from({ length: 50 }, (_, i) => signWith(attackerKey, claims(), { header: { kid: `unknown-${i}-${Math.random().toString(36).slice(2)}` } })),
    );
    const responses = await Promise.all(tokens.map((token) => get(token)));
    for (const res of responses) expectUnauthorized(res, MESSAGE.invalid, CHALLENGE.bearerInvalid);
    expect(ctx.jwks.requests() - before).toBeLessThanOrEqual(1);
    // And 50 more, one after the other: still no further fetch.
    for (const token of tokens) expect((await get(token)).status).toBe(401);
    expect(ctx.jwks.requests() - before).toBeLessThanOrEqual(1);
    // Published keys still work after the flood.
    expect((await get(await signWith(keys.EdDSA, claims()))).status).toBe(200);
  });

  it('never follows jku / x5u / an embedded jwk: such tokens are refused and the other server gets zero requests', async () => {
    const elsewhere = await JwksServer.start();
    try {
      elsewhere.publish(attackerKey);
      const forged = [
        // The attacker's own key, announced through header URLs or embedded.
        await signWith(attackerKey, claims(), { header: { jku: elsewhere.url('/jwks.json') } }),
        await signWith(attackerKey, claims(), { header: { x5u: elsewhere.url('/cert.pem') } }),
        await signWith(attackerKey, claims(), { header: { jku: elsewhere.url('/jwks.json'), x5u: elsewhere.url('/cert.pem') } }),
        await signWith(attackerKey, claims(), { header: { jwk: attackerKey.jwk } }),
        // A published kid, but signed by the attacker's key, pointing at the attacker's set.
        await signWith(attackerKey, claims(), { header: { kid: keys.RS256.kid, jku: elsewhere.url('/jwks.json') } }),
      ];
      for (const token of forged) expectUnauthorized(await get(token), MESSAGE.invalid, CHALLENGE.bearerInvalid);
      expect(elsewhere.total).toBe(0);
      // Control: the real key with a jku header is verified against the configured set only.
      expect((await get(await signWith(keys.RS256, claims(), { header: { jku: elsewhere.url('/jwks.json') } }))).status).toBe(200);
      expect(elsewhere.total).toBe(0);
    } finally {
      await elsewhere.close();
    }
  });

  it('pins each key to its own alg: an RS256 JWK does not verify a PS256 token under its kid', async () => {
    // Control: the RS256 key verifies RS256.
    expect((await get(await signWith(keys.RS256, claims()))).status).toBe(200);
    // Same key material, same kid, but the header says PS256: the JWK's alg says RS256.
    const pss = await signWith(keys.RS256, claims(), { alg: 'PS256' });
    expectUnauthorized(await get(pss), MESSAGE.invalid, CHALLENGE.bearerInvalid);
    // And the other way round: the PS256 key is not used for RS256.
    const pkcs1 = await signWith(keys.PS256, claims(), { alg: 'RS256' });
    expectUnauthorized(await get(pkcs1), MESSAGE.invalid, CHALLENGE.bearerInvalid);
  });

  it('refuses an HS256 token signed with the RSA public key bytes under a kid of the set (algorithm confusion), and alg none', async () => {
    const publicKey = keys.RS256.publicKey;
    const pem = publicKey.export({ type: 'spki', format: 'pem' });
    const der = publicKey.export({ type: 'spki', format: 'der' });
    const pkcs1 = createPublicKey(pem).export({ type: 'pkcs1', format: 'pem' });
    const payload = { ...claims({ roles: ['admin'] }), iat: nowSeconds(), exp: nowSeconds() + 300 };
    for (const secret of [pem, der, pkcs1, JSON.stringify(keys.RS256.jwk)]) {
      for (const alg of ['HS256', 'HS384', 'HS512'] as const) {
        const hash = alg === 'HS256' ? 'sha256' : alg === 'HS384' ? 'sha384' : 'sha512';
        const token = forgeHmacToken(payload, { header: { alg, typ: 'JWT', kid: keys.RS256.kid }, secret, hash });
        expectUnauthorized(await get(token, '/admin'), MESSAGE.invalid, CHALLENGE.bearerInvalid);
      }
    }
    expectUnauthorized(await get(unsignedToken(payload)), MESSAGE.invalid, CHALLENGE.bearerInvalid);
  });

  it('refuses a wrong issuer or a wrong audience with 401', async () => {
    for (const bad of [claims({ iss: 'https://evil.test' }), claims({ iss: undefined }), claims({ aud: 'another-api' }), claims({ aud: undefined })]) {
      const token = await signWith(keys.RS256, bad);
      expectUnauthorized(await get(token), MESSAGE.invalid, CHALLENGE.bearerInvalid);
    }
    // A token of the IdP without sub or exp is refused too.
    expect((await get(await signWith(keys.RS256, claims({ sub: undefined })))).status).toBe(401);
  });

  it("an expired token gets 401 'The access token expired'", async () => {
    const expired = await signWith(keys.ES256, claims(), { expiresIn: -60 });
    expectUnauthorized(await get(expired), MESSAGE.expired, CHALLENGE.bearerExpired);
  });

  it('a JWKS-verified token can be revoked like a local one: logout → 204, then 401 invalid_token', async () => {
    const token = await signWith(keys.RS256, claims({ jti: `idp-${Date.now()}` }));
    expect((await get(token)).status).toBe(200);
    expect((await logout(ctx.app, token)).status).toBe(204);
    expectUnauthorized(await get(token), MESSAGE.invalid, CHALLENGE.bearerInvalid);
  });

  it('a JWKS-verified token without a jti is accepted (identity providers may set none), but its logout is a 400, not a 204 that revokes nothing', async () => {
    const token = await signWith(keys.RS256, claims());
    expect((await get(token)).status).toBe(200);
    const out = await logout(ctx.app, token);
    expect(out.status).toBe(400);
    expect(out.body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'This credential cannot be revoked: it is not an access token with a jti claim',
    });
    // The answer says what is true: the token still works.
    expect((await get(token)).status).toBe(200);
  });
});

describe.each(ADAPTERS)('JWKS-only configuration (no local key) on %s', (adapter: AdapterName) => {
  let jwks: JwksServer;
  beforeAll(async () => {
    jwks = await JwksServer.start();
  });
  afterAll(async () => {
    await jwks?.close();
  });

  it('boots without secret or publicKey and verifies tokens of the published keys', async (test: TestContext) => {
    jwks.publish(keys.RS256, keys.EdDSA);
    const { app } = await bootApp(adapter, jwksApp({ audience: AUDIENCE, jwks: [{ uri: jwks.url(), issuer: IDP, cooldown: '30s' }] }));
    test.onTestFinished(() => app.close());
    expect((await getWith(app, await signWith(keys.EdDSA, claims({ roles: ['admin'] })), '/admin')).status).toBe(200);
    expect((await getWith(app, forgeHmacToken({ ...claims(), exp: nowSeconds() + 60 }))).status).toBe(401);
  });
});

/** Compiles and initialises an app (without listening), then closes it: resolves only if it started. */
async function start(adapter: AdapterName, jwks: readonly JwksEntry[], issuer: string | null = LOCAL_ISSUER): Promise<void> {
  const moduleRef = await Test.createTestingModule(
    jwksApp({ secret: TEST_SECRET, ...(issuer === null ? {} : { issuer }), audience: AUDIENCE, jwks }),
  ).compile();
  const app = moduleRef.createNestApplication(adapter === 'fastify' ? new FastifyAdapter() : new ExpressAdapter(), { logger: false });
  try {
    await app.init();
  } finally {
    await app.close();
  }
}

describe.each(ADAPTERS)('JWKS startup validation on %s', (adapter: AdapterName) => {
  it('refuses a jwks uri over http:// on a host that is not loopback, naming the entry and the fix', async () => {
    for (const uri of [
      'http://idp.example.com/jwks.json',
      'http://localhost.evil.test/jwks.json',
      'http://10.0.0.1/jwks.json',
      'http://[::ffff:7f00:1]/jwks.json',
    ]) {
      await expect(start(adapter, [{ uri }])).rejects.toThrow(
        `PalisadeModule: auth.jwt.jwks[0].uri is ${JSON.stringify(uri)}; keys must be fetched over https:// (http:// only on a loopback host).`,
      );
    }
    await expect(start(adapter, [{ uri: 'ftp://127.0.0.1/jwks.json' }])).rejects.toThrow('keys must be fetched over https://');
    await expect(start(adapter, [{ uri: 'not a url' }])).rejects.toThrow(
      'PalisadeModule: auth.jwt.jwks[0].uri is "not a url"; expected an absolute https:// URL.',
    );
  });

  it('issue 16: refuses an entry that names no issuer when auth.jwt.issuer is not set either (another issuer sharing the keys would pass)', async () => {
    await expect(start(adapter, [{ uri: 'https://idp.example.com/jwks.json' }], null)).rejects.toThrow(
      'PalisadeModule: auth.jwt.jwks[0] has no issuer and auth.jwt.issuer is not set; tokens of every issuer that publishes these keys would be accepted (Entra ID tenants share one key set). Set auth.jwt.jwks[0].issuer or auth.jwt.issuer.',
    );
    await expect(start(adapter, [{ uri: 'https://idp.example.com/jwks.json', issuer: IDP }], null)).resolves.toBeUndefined();
  });

  it('accepts https:// anywhere and http:// on loopback (control)', async () => {
    await expect(start(adapter, [{ uri: 'https://idp.example.com/.well-known/jwks.json' }])).resolves.toBeUndefined();
    await expect(start(adapter, [{ uri: 'http://127.0.0.1:9/jwks.json' }])).resolves.toBeUndefined();
    await expect(start(adapter, [{ uri: 'http://localhost:9/jwks.json' }])).resolves.toBeUndefined();
  });

  it('refuses HS* (and none) in a JWKS entry’s algorithms, naming the bad value', async () => {
    const uri = 'https://idp.example.com/jwks.json';
    for (const algorithms of [['HS256'], ['RS256', 'HS256'], ['HS512'], ['none']]) {
      const bad = algorithms.find((alg) => alg !== 'RS256');
      await expect(start(adapter, [{ uri, issuer: IDP, algorithms: algorithms as JwksEntry['algorithms'] }])).rejects.toThrow(
        `PalisadeModule: auth.jwt.jwks[0].algorithms contains "${bad}"; expected asymmetric algorithms among RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA, Ed25519 (never HS* or none).`,
      );
    }
  });
});
