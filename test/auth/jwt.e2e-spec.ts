import { generateKeyPairSync } from 'node:crypto';
import { Controller, Get } from '@nestjs/common';
import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { CurrentUser, PalisadeModule, type JwtAuthOptions, type Principal } from '@palisade/nest';
import { ADAPTERS } from '../support/app.js';
import { CHALLENGE, MESSAGE, outcome, unauthorized, useApp } from '../support/auth.js';
import { forgeHmacToken, nowSeconds, unsignedToken } from '../support/forge.js';
import { ecKeys, rsaKeys } from '../support/keys.js';
import { signToken, TEST_SECRET } from '../support/tokens.js';

@Controller('me')
class MeController {
  @Get() me(@CurrentUser() user: Principal) {
    return user;
  }
}

/** The 401 of a bearer token that was read but failed verification. */
const INVALID_TOKEN = unauthorized(MESSAGE.invalid, CHALLENGE.bearerInvalid);
const OTHER_SECRET = 'another-secret-0123456789abcdef-0123456789';

/** A valid test token between `min` and `max` characters long, padded with a filler claim. */
function tokenOfLength(min: number, max: number): string {
  const base = signToken({ pad: '' }).length;
  for (let padding = Math.max(0, Math.floor(((min - base) * 3) / 4) - 4); padding < max; padding++) {
    const token = signToken({ pad: 'x'.repeat(padding) });
    if (token.length >= min && token.length <= max) return token;
  }
  throw new Error(`no token between ${min} and ${max} characters`);
}

const rsaClaims = () => ({ sub: 'rsa-user', exp: nowSeconds() + 300 });

function jwtApp(options: JwtAuthOptions) {
  return () => ({ imports: [PalisadeModule.forRoot({ auth: { jwt: options }, global: true })], controllers: [MeController] });
}

describe.each(ADAPTERS)('JWT bearer authentication on %s', (adapter) => {
  describe('HS256 with a secret', () => {
    const ctx = useApp(adapter, jwtApp({ secret: TEST_SECRET }));
    const get = (token: string) => ctx.http.get('/me').set('Authorization', `Bearer ${token}`);

    it('accepts a valid token and exposes id, scheme, roles, scopes and claims', async () => {
      const now = nowSeconds();
      const claims = { sub: 'alice', iat: now, exp: now + 300, roles: ['admin', 'user'], scope: 'reports:read  reports:write', tid: 't-1' };
      const res = await get(signToken(claims));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ id: 'alice', scheme: 'jwt', roles: ['admin', 'user'], scopes: ['reports:read', 'reports:write'], claims });
    });

    it('reads scopes from an scp array when the scope claim is absent', async () => {
      const res = await get(signToken({ scp: ['orders:read', 'orders:write'] }));
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: 'user-1', roles: [], scopes: ['orders:read', 'orders:write'] });
    });

    it('prefers the scope claim over scp when both are present', async () => {
      const res = await get(signToken({ scope: 'a', scp: ['b'] }));
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ scopes: ['a'] });
    });

    it('answers a request without credentials with 401 and the bare Bearer challenge', async () => {
      expect(outcome(await ctx.http.get('/me'))).toEqual(unauthorized(MESSAGE.required, CHALLENGE.bearer));
    });

    it('rejects an expired token with "The access token expired" and error="invalid_token"', async () => {
      const now = nowSeconds();
      expect(outcome(await get(signToken({ iat: now - 600, exp: now - 10 })))).toEqual(unauthorized(MESSAGE.expired, CHALLENGE.bearerExpired));
    });

    it('rejects a token whose payload was altered after signing (bad signature)', async () => {
      const [header, , signature] = signToken({ roles: ['user'] }).split('.');
      const elevated = Buffer.from(JSON.stringify({ sub: 'user-1', exp: nowSeconds() + 300, roles: ['admin'] })).toString('base64url');
      expect(outcome(await get(`${header}.${elevated}.${signature}`))).toEqual(INVALID_TOKEN);
    });

    it('rejects a token whose signature segment was replaced', async () => {
      const [header, payload] = signToken().split('.');
      expect(outcome(await get(`${header}.${payload}.${'A'.repeat(43)}`))).toEqual(INVALID_TOKEN);
    });

    it('rejects a token signed with another secret', async () => {
      expect(outcome(await get(signToken({}, { secret: OTHER_SECRET })))).toEqual(INVALID_TOKEN);
    });

    it('rejects an unsigned alg "none" token', async () => {
      expect(outcome(await get(unsignedToken({ sub: 'user-1', exp: nowSeconds() + 300 })))).toEqual(INVALID_TOKEN);
    });

    it('rejects a token signed with HS384 when only HS256 is pinned', async () => {
      expect(outcome(await get(signToken({}, { algorithm: 'HS384' })))).toEqual(INVALID_TOKEN);
    });

    it('rejects a token without exp', async () => {
      expect(outcome(await get(forgeHmacToken({ sub: 'user-1', iat: nowSeconds() })))).toEqual(INVALID_TOKEN);
    });

    it('rejects a token without sub', async () => {
      expect(outcome(await get(forgeHmacToken({ exp: nowSeconds() + 300 })))).toEqual(INVALID_TOKEN);
    });

    it('rejects a token with an empty sub', async () => {
      expect(outcome(await get(forgeHmacToken({ sub: '', exp: nowSeconds() + 300 })))).toEqual(INVALID_TOKEN);
    });

    it('rejects a token whose sub is not a string', async () => {
      expect(outcome(await get(forgeHmacToken({ sub: 42, exp: nowSeconds() + 300 })))).toEqual(INVALID_TOKEN);
    });

    it('rejects a token with a crit header (RFC 7515 §4.1.11)', async () => {
      const header = { alg: 'HS256', typ: 'JWT', crit: ['https://example.com/ext'], 'https://example.com/ext': true };
      expect(outcome(await get(forgeHmacToken({ sub: 'user-1', exp: nowSeconds() + 300 }, { header })))).toEqual(INVALID_TOKEN);
    });

    it('rejects a token whose nbf is in the future', async () => {
      expect(outcome(await get(signToken({ nbf: nowSeconds() + 120 })))).toEqual(INVALID_TOKEN);
    });

    it('rejects a roles claim that is a string, not an array, with 401 (not 500)', async () => {
      expect(outcome(await get(signToken({ roles: 'admin' })))).toEqual(INVALID_TOKEN);
    });

    it('rejects a roles claim that is a number with 401 (not 500)', async () => {
      expect(outcome(await get(signToken({ roles: 7 })))).toEqual(INVALID_TOKEN);
    });

    it('rejects a roles claim of 300 entries with 401 (not 500)', async () => {
      expect(outcome(await get(signToken({ roles: Array.from({ length: 300 }, (_, i) => `role-${i}`) })))).toEqual(INVALID_TOKEN);
    });

    it('rejects a roles claim holding a non-string entry with 401 (not 500)', async () => {
      expect(outcome(await get(signToken({ roles: ['admin', { nested: true }] })))).toEqual(INVALID_TOKEN);
    });

    it('rejects a scope claim that is a number with 401 (not 500)', async () => {
      expect(outcome(await get(signToken({ scope: 12 })))).toEqual(INVALID_TOKEN);
    });

    it('rejects a JSON array payload with 401 (not 500)', async () => {
      expect(outcome(await get(forgeHmacToken(['user-1'])))).toEqual(INVALID_TOKEN);
    });
  });

  describe('issuer and audience, single values', () => {
    const ctx = useApp(adapter, jwtApp({ secret: TEST_SECRET, issuer: 'https://id.example.com', audience: 'orders-api' }));
    const get = (claims: Record<string, unknown>) => ctx.http.get('/me').set('Authorization', `Bearer ${signToken(claims)}`);

    it('accepts a token with the expected iss and aud', async () => {
      const res = await get({ iss: 'https://id.example.com', aud: 'orders-api' });
      expect(res.status).toBe(200);
    });

    it('rejects an iss mismatch', async () => {
      expect(outcome(await get({ iss: 'https://evil.example.com', aud: 'orders-api' }))).toEqual(INVALID_TOKEN);
    });

    it('rejects a token without iss', async () => {
      expect(outcome(await get({ aud: 'orders-api' }))).toEqual(INVALID_TOKEN);
    });

    it('rejects an aud mismatch', async () => {
      expect(outcome(await get({ iss: 'https://id.example.com', aud: 'billing-api' }))).toEqual(INVALID_TOKEN);
    });

    it('rejects a token without aud', async () => {
      expect(outcome(await get({ iss: 'https://id.example.com' }))).toEqual(INVALID_TOKEN);
    });
  });

  describe('issuer and audience, arrays of accepted values', () => {
    const ctx = useApp(
      adapter,
      jwtApp({ secret: TEST_SECRET, issuer: ['https://id.example.com', 'https://legacy.example.com'], audience: ['orders-api', 'billing-api'] }),
    );
    const get = (claims: Record<string, unknown>) => ctx.http.get('/me').set('Authorization', `Bearer ${signToken(claims)}`);

    it('accepts any of the configured issuers', async () => {
      expect((await get({ iss: 'https://id.example.com', aud: 'orders-api' })).status).toBe(200);
      expect((await get({ iss: 'https://legacy.example.com', aud: 'orders-api' })).status).toBe(200);
    });

    it('accepts any of the configured audiences', async () => {
      expect((await get({ iss: 'https://id.example.com', aud: 'billing-api' })).status).toBe(200);
    });

    it('accepts an aud array that contains one configured audience', async () => {
      expect((await get({ iss: 'https://id.example.com', aud: ['other-api', 'billing-api'] })).status).toBe(200);
    });

    it('rejects an issuer outside the list', async () => {
      expect(outcome(await get({ iss: 'https://evil.example.com', aud: 'orders-api' }))).toEqual(INVALID_TOKEN);
    });

    it('rejects an aud array with no configured audience', async () => {
      expect(outcome(await get({ iss: 'https://id.example.com', aud: ['other-api', 'third-api'] }))).toEqual(INVALID_TOKEN);
    });
  });

  describe('clockTolerance', () => {
    const ctx = useApp(adapter, jwtApp({ secret: TEST_SECRET, clockTolerance: '30s' }));
    const get = (claims: Record<string, unknown>) => ctx.http.get('/me').set('Authorization', `Bearer ${signToken(claims)}`);

    it('accepts a token that expired within the tolerance', async () => {
      const now = nowSeconds();
      expect((await get({ iat: now - 600, exp: now - 10 })).status).toBe(200);
    });

    it('accepts a token whose nbf is within the tolerance', async () => {
      expect((await get({ nbf: nowSeconds() + 10 })).status).toBe(200);
    });

    it('still rejects a token that expired beyond the tolerance', async () => {
      const now = nowSeconds();
      expect(outcome(await get({ iat: now - 600, exp: now - 120 }))).toEqual(unauthorized(MESSAGE.expired, CHALLENGE.bearerExpired));
    });
  });

  describe('maxTokenLength', () => {
    const ctx = useApp(adapter, jwtApp({ secret: TEST_SECRET, maxTokenLength: 1024 }));

    it('accepts a valid token within the limit', async () => {
      const token = tokenOfLength(1000, 1024);
      expect((await ctx.http.get('/me').set('Authorization', `Bearer ${token}`)).status).toBe(200);
    });

    it('rejects an otherwise valid token longer than maxTokenLength', async () => {
      const token = tokenOfLength(1025, 1100);
      expect(outcome(await ctx.http.get('/me').set('Authorization', `Bearer ${token}`))).toEqual(INVALID_TOKEN);
    });
  });

  describe('RS256 with an RSA public key (PEM)', () => {
    const ctx = useApp(adapter, () => jwtApp({ publicKey: rsaKeys().publicKey.export({ type: 'spki', format: 'pem' }) as string })());
    const get = (token: string) => ctx.http.get('/me').set('Authorization', `Bearer ${token}`);

    it('accepts a token signed with the matching private key', async () => {
      const res = await get(jwt.sign(rsaClaims(), rsaKeys().privateKey, { algorithm: 'RS256' }));
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: 'rsa-user', scheme: 'jwt' });
    });

    it('rejects a token signed with another RSA key', async () => {
      const { privateKey: otherKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      expect(outcome(await get(jwt.sign(rsaClaims(), otherKey, { algorithm: 'RS256' })))).toEqual(INVALID_TOKEN);
    });

    it('rejects an HS256 token forged with the public key PEM as the HMAC secret (algorithm confusion)', async () => {
      const pem = rsaKeys().publicKey.export({ type: 'spki', format: 'pem' }) as string;
      const forged = forgeHmacToken(rsaClaims(), { secret: pem });
      expect(outcome(await get(forged))).toEqual(INVALID_TOKEN);
    });
  });

  describe('ES256 with an EC P-256 public key (KeyObject)', () => {
    const ctx = useApp(adapter, () => jwtApp({ publicKey: ecKeys().publicKey })());

    it('accepts a token signed with the matching private key', async () => {
      const token = jwt.sign({ sub: 'ec-user', exp: nowSeconds() + 300 }, ecKeys().privateKey, { algorithm: 'ES256' });
      const res = await ctx.http.get('/me').set('Authorization', `Bearer ${token}`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: 'ec-user', scheme: 'jwt' });
    });
  });

  describe('RS256 with a JWK public key', () => {
    const ctx = useApp(adapter, () => jwtApp({ publicKey: rsaKeys().publicKey.export({ format: 'jwk' }) })());

    it('accepts a token signed with the matching private key', async () => {
      const token = jwt.sign({ sub: 'jwk-user', exp: nowSeconds() + 300 }, rsaKeys().privateKey, { algorithm: 'RS256' });
      const res = await ctx.http.get('/me').set('Authorization', `Bearer ${token}`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: 'jwk-user', scheme: 'jwt' });
    });
  });

  describe('the jwt.validate hook', () => {
    const ctx = useApp(
      adapter,
      jwtApp({
        secret: TEST_SECRET,
        validate: async (claims) =>
          claims.sub === 'blocked' ? null : { id: `account:${String(claims.sub)}`, roles: ['member'], claims: { tenant: claims.tid } },
      }),
    );

    it('maps the verified claims to the principal it returns', async () => {
      const res = await ctx.http.get('/me').set('Authorization', `Bearer ${signToken({ tid: 't-9', roles: ['admin'] })}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ id: 'account:user-1', scheme: 'jwt', roles: ['member'], scopes: [], claims: { tenant: 't-9' } });
    });

    it('rejects the token with 401 when it returns null', async () => {
      const res = await ctx.http.get('/me').set('Authorization', `Bearer ${signToken({ sub: 'blocked' })}`);
      expect(outcome(res)).toEqual(INVALID_TOKEN);
    });
  });
});
