/**
 * Tokens as real OpenID Connect providers issue them (issue 16): tenants sharing one key set
 * (Entra ID), ID tokens next to RFC 9068 access tokens, Keycloak's nested role claims, several
 * clients of one provider, RFC 9864's `Ed25519`, and time claims that cannot be true. A loopback
 * JWKS server per file; an app per configuration.
 */
import type { INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { PalisadeModule, type JwtAuthOptions } from '@palisade/nest';
import { AppModule } from '../../apps/demo/src/app.module.js';
import { loadConfig } from '../../apps/demo/src/config.js';
import { ADAPTERS, bootApp, type AdapterName } from '../support/app.js';
import { CHALLENGE, MESSAGE, expectUnauthorized } from '../support/auth.js';
import { CollectingSink } from '../support/events.js';
import { nowSeconds } from '../support/forge.js';
import {
  JwksAdminController as AdminController,
  JwksReportsController as ReportsController,
  JwksServer,
  signingKey,
  signWith,
  type SignWithOptions,
  type TestSigningKey,
} from '../support/jwks.js';
import { getWith, WhoAmIController } from '../support/token-app.js';
import { signToken, TEST_SECRET } from '../support/tokens.js';

const TENANT = 'https://login.example.com/tenant-a/v2.0';
const OTHER_TENANT = 'https://login.example.com/tenant-b/v2.0';
const AUDIENCE = 'orders-api';

let jwks: JwksServer;
let rs: TestSigningKey;
let ed: TestSigningKey;

beforeAll(async () => {
  [rs, ed] = await Promise.all([signingKey('RS256'), signingKey('Ed25519')]);
  jwks = await JwksServer.start();
  jwks.publish(rs, ed);
});
afterAll(async () => {
  await jwks?.close();
});

async function appWith(adapter: AdapterName, test: TestContext, jwt: JwtAuthOptions): Promise<INestApplication> {
  const { app } = await bootApp(adapter, {
    imports: [PalisadeModule.forRoot({ auth: { jwt }, global: true })],
    controllers: [WhoAmIController, AdminController, ReportsController],
    providers: [CollectingSink],
  });
  test.onTestFinished(() => app.close());
  return app;
}

const sign = (claims: Record<string, unknown>, options?: SignWithOptions, key: TestSigningKey = rs) =>
  signWith(key, { sub: 'user-1', iss: TENANT, aud: AUDIENCE, ...claims }, options);

describe.each(ADAPTERS)('identity providers as they are, on %s', (adapter: AdapterName) => {
  it('issue 16: auth.jwt.issuer is inherited by a jwks entry, so another tenant publishing the same keys gets 401', async (test) => {
    const app = await appWith(adapter, test, { issuer: TENANT, audience: AUDIENCE, jwks: [{ uri: jwks.url() }] });
    expect((await getWith(app, await sign({}))).status).toBe(200);
    expectUnauthorized(await getWith(app, await sign({ iss: OTHER_TENANT })), MESSAGE.invalid, CHALLENGE.bearerInvalid);
    expectUnauthorized(await getWith(app, await sign({ iss: undefined })), MESSAGE.invalid, CHALLENGE.bearerInvalid);
  });

  it('the local secret may share the issuer with the jwks entry (the demo does): both kinds of token are accepted', async (test) => {
    const app = await appWith(adapter, test, { secret: TEST_SECRET, issuer: TENANT, audience: AUDIENCE, jwks: [{ uri: jwks.url() }] });
    expect((await getWith(app, await sign({}))).status).toBe(200);
    expect((await getWith(app, signToken({ sub: 'local', iss: TENANT, aud: AUDIENCE, jti: 'l-1' }))).status).toBe(200);
    expect((await getWith(app, signToken({ sub: 'local', iss: OTHER_TENANT, aud: AUDIENCE, jti: 'l-2' }))).status).toBe(401);
  });

  it('without any audience, tokens for any API pass, and startup reports it as configuration.insecure', async (test) => {
    const app = await appWith(adapter, test, { issuer: TENANT, jwks: [{ uri: jwks.url() }] });
    const warning = app
      .get(CollectingSink)
      .ofType('configuration.insecure')
      .find((e) => e.option === 'auth.jwt.jwks[0].audience');
    expect(warning?.message).toBe(
      `Tokens of ${TENANT} are accepted whatever their audience: an ID token or a token minted for another API gets in. Set auth.jwt.audience or auth.jwt.jwks[0].audience (RFC 8725 §3.9).`,
    );
    expect((await getWith(app, await sign({ aud: 'another-api' }))).status).toBe(200);
  });

  it("profile 'rfc9068': access tokens (typ at+jwt, client_id, iat, jti) pass; an ID token (typ JWT) or a token missing RFC 9068 claims gets 401", async (test) => {
    const app = await appWith(adapter, test, { issuer: TENANT, audience: AUDIENCE, jwks: [{ uri: jwks.url(), profile: 'rfc9068' }] });
    const access = { client_id: 'orders-web', jti: 'at-1' };
    expect((await getWith(app, await sign(access, { header: { typ: 'at+jwt' } }))).status).toBe(200);
    expect((await getWith(app, await sign({ ...access, jti: 'at-2' }, { header: { typ: 'application/at+jwt' } }))).status).toBe(200);
    for (const [claims, typ] of [
      [access, 'JWT'], // an ID token
      [access, undefined],
      [{ jti: 'at-3' }, 'at+jwt'], // no client_id
      [{ client_id: 'orders-web' }, 'at+jwt'], // no jti
    ] as const) {
      const token = await sign(claims, { header: { typ } });
      expectUnauthorized(await getWith(app, token), MESSAGE.invalid, CHALLENGE.bearerInvalid);
    }
  });

  it('a custom typ and requiredClaims are enforced too', async (test) => {
    const app = await appWith(adapter, test, { issuer: TENANT, audience: AUDIENCE, jwks: [{ uri: jwks.url(), typ: 'orders+jwt', requiredClaims: ['tid'] }] });
    expect((await getWith(app, await sign({ tid: 't' }, { header: { typ: 'orders+jwt' } }))).status).toBe(200);
    expect((await getWith(app, await sign({}, { header: { typ: 'orders+jwt' } }))).status).toBe(401);
    expect((await getWith(app, await sign({ tid: 't' }))).status).toBe(401);
  });

  it("issue 16: Keycloak's realm_access.roles and resource_access.<client>.roles are read through claim paths (merged), per jwks entry", async (test) => {
    const app = await appWith(adapter, test, {
      issuer: TENANT,
      audience: AUDIENCE,
      rolesClaim: 'roles',
      jwks: [{ uri: jwks.url(), rolesClaim: ['realm_access.roles', 'resource_access.orders-api.roles'], scopesClaim: 'scope' }],
    });
    const keycloak = {
      realm_access: { roles: ['offline_access', 'admin'] },
      resource_access: { 'orders-api': { roles: ['orders:approver'] }, account: { roles: ['manage-account'] } },
      scope: 'openid reports:read',
    };
    const me = await getWith(app, await sign(keycloak));
    expect(me.body).toEqual({ id: 'user-1', scheme: 'jwt', roles: ['offline_access', 'admin', 'orders:approver'], scopes: ['openid', 'reports:read'] });
    expect((await getWith(app, await sign(keycloak), '/admin')).status).toBe(200);
    expect((await getWith(app, await sign(keycloak), '/reports')).status).toBe(200);
    // The top-level `roles` claim is not this issuer's mapping: no admin through it.
    expect((await getWith(app, await sign({ roles: ['admin'] }), '/admin')).status).toBe(403);
    // A path whose value is not a list of strings is refused, as a top-level claim would be.
    expect((await getWith(app, await sign({ realm_access: { roles: 'admin' } }))).status).toBe(401);
  });

  it('a claim name containing dots (Auth0 namespaced claims) is read as that claim first', async (test) => {
    const app = await appWith(adapter, test, {
      issuer: TENANT,
      audience: AUDIENCE,
      rolesClaim: 'https://orders.example.com/roles',
      jwks: [{ uri: jwks.url() }],
    });
    const me = await getWith(app, await sign({ 'https://orders.example.com/roles': ['admin'] }));
    expect(me.body).toMatchObject({ roles: ['admin'] });
  });

  it('allowedClients: the azp (or, without it, client_id) must be listed; a token naming no client gets 401', async (test) => {
    const app = await appWith(adapter, test, { issuer: TENANT, audience: AUDIENCE, jwks: [{ uri: jwks.url(), allowedClients: ['orders-web', 'orders-cli'] }] });
    expect((await getWith(app, await sign({ azp: 'orders-web' }))).status).toBe(200);
    expect((await getWith(app, await sign({ client_id: 'orders-cli' }))).status).toBe(200);
    for (const claims of [{ azp: 'billing-web' }, { client_id: 'billing-web' }, { azp: 'billing-web', client_id: 'orders-web' }, {}, { azp: ['orders-web'] }]) {
      expectUnauthorized(await getWith(app, await sign(claims)), MESSAGE.invalid, CHALLENGE.bearerInvalid);
    }
  });

  it('issue 16: alg Ed25519 (RFC 9864) tokens are accepted by default, and when listed explicitly', async (test) => {
    const app = await appWith(adapter, test, { issuer: TENANT, audience: AUDIENCE, jwks: [{ uri: jwks.url() }] });
    expect((await getWith(app, await sign({}, {}, ed))).status).toBe(200);
    const only = await appWith(adapter, test, { issuer: TENANT, audience: AUDIENCE, jwks: [{ uri: jwks.url(), algorithms: ['Ed25519'] }] });
    expect((await getWith(only, await sign({}, {}, ed))).status).toBe(200);
    expect((await getWith(only, await sign({}))).status).toBe(401); // RS256 is not listed
  });

  it('refuses time claims that cannot be true beyond the clock tolerance (60 s), from the JWKS and from the local key alike', async (test) => {
    const app = await appWith(adapter, test, { secret: TEST_SECRET, issuer: TENANT, audience: AUDIENCE, clockTolerance: '60s', jwks: [{ uri: jwks.url() }] });
    const now = nowSeconds();
    // Control: within the tolerance.
    expect((await getWith(app, await sign({ iat: now + 30, nbf: now + 30, exp: now + 300 }))).status).toBe(200);
    const impossible: Record<string, unknown>[] = [
      { iat: now + 3_600, exp: now + 7_200 }, // issued in an hour
      { nbf: now + 30, exp: now + 10 }, // valid from after it expires
      { iat: now, exp: now - 30 }, // issued after it expired (exp still within the tolerance)
      { iat: 'yesterday', exp: now + 300 },
      { iat: now, exp: now + 300, nbf: 'now' },
    ];
    for (const claims of impossible) {
      expectUnauthorized(await getWith(app, await sign(claims)), MESSAGE.invalid, CHALLENGE.bearerInvalid);
    }
    expect((await getWith(app, signToken({ sub: 'local', iss: TENANT, aud: AUDIENCE, jti: 'l-3', iat: now + 3_600 }))).status).toBe(401);
    expect((await getWith(app, signToken({ sub: 'local', iss: TENANT, aud: AUDIENCE, jti: 'l-4', iat: now }))).status).toBe(200);
  });

  it('the demo: JWT_ISSUER and JWT_AUDIENCE apply to JWKS_URI tokens too (DESIGN.md contract)', async (test) => {
    const config = loadConfig({ JWKS_URI: jwks.url(), JWT_ISSUER: TENANT, JWT_AUDIENCE: AUDIENCE });
    const { app } = await bootApp(adapter, { imports: [AppModule.register(config)] });
    test.onTestFinished(() => app.close());
    expect((await getWith(app, await sign({}))).status).toBe(200);
    expect((await getWith(app, await sign({ iss: OTHER_TENANT }))).status).toBe(401);
    expect((await getWith(app, await sign({ aud: 'another-api' }))).status).toBe(401);
  });
});
