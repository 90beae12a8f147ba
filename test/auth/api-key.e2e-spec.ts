import { createHash } from 'node:crypto';
import { Controller, ForbiddenException, Get } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { CurrentUser, PalisadeModule, type ApiKeyAuthOptions, type Principal, type PrincipalInit } from '@palisade/nest';
import { ADAPTERS } from '../support/app.js';
import { CHALLENGE, MESSAGE, outcome, unauthorized, useApp } from '../support/auth.js';
import { rawGet } from '../support/raw-http.js';

@Controller('me')
class MeController {
  @Get() me(@CurrentUser() user: Principal) {
    return user;
  }
}

const HEX_KEY = 'pk_live_hex_0123456789abcdef';
const BASE64_KEY = 'pk_live_b64_fedcba9876543210';
const sha256 = (key: string, encoding: 'hex' | 'base64') => createHash('sha256').update(key, 'utf8').digest(encoding);

/** Keys the `validate` callback knows, and how it answers them. */
function validate(key: string): PrincipalInit | null {
  if (key === 'callback-key') return { id: 'from-callback', roles: ['robot'], claims: { plan: 'pro' } };
  if (key === 'suspended-key') throw new ForbiddenException('This API key is suspended');
  if (key === 'database-down') throw new Error('connection refused');
  if (key.startsWith('long-')) return { id: 'long' };
  return null;
}

function apiKeyApp(options: ApiKeyAuthOptions) {
  return () => ({ imports: [PalisadeModule.forRoot({ auth: { apiKey: options }, global: true })], controllers: [MeController] });
}

describe.each(ADAPTERS)('API key authentication on %s', (adapter) => {
  describe('hashed keys, a validate callback and a 64-character limit', () => {
    const ctx = useApp(
      adapter,
      apiKeyApp({
        keys: [
          { sha256: sha256(HEX_KEY, 'hex'), principal: { id: 'svc-hex', roles: ['service'], scopes: ['reports:read'] } },
          { sha256: sha256(BASE64_KEY, 'base64'), principal: { id: 'svc-b64' } },
        ],
        validate: (key) => validate(key),
        maxKeyLength: 64,
      }),
    );
    const withKey = (key: string) => ctx.http.get('/me').set('X-Api-Key', key);

    it('accepts a key configured as a hex SHA-256 digest, with its principal', async () => {
      const res = await withKey(HEX_KEY);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ id: 'svc-hex', scheme: 'api-key', roles: ['service'], scopes: ['reports:read'], claims: {} });
    });

    it('accepts a key configured as a base64 SHA-256 digest, with its principal', async () => {
      const res = await withKey(BASE64_KEY);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ id: 'svc-b64', scheme: 'api-key', roles: [], scopes: [], claims: {} });
    });

    it('answers a request without a key with 401 and the ApiKey challenge', async () => {
      expect(outcome(await ctx.http.get('/me'))).toEqual(unauthorized(MESSAGE.required, CHALLENGE.apiKey));
    });

    it('rejects an unknown key', async () => {
      expect(outcome(await withKey('pk_live_hex_0123456789abcdeX'))).toEqual(unauthorized(MESSAGE.invalid, CHALLENGE.apiKey));
    });

    it('rejects the digest itself presented as the key', async () => {
      expect(outcome(await withKey(sha256(HEX_KEY, 'hex')))).toEqual(unauthorized(MESSAGE.invalid, CHALLENGE.apiKey));
    });

    it('accepts a key the validate callback resolves, with the principal it returns', async () => {
      const res = await withKey('callback-key');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ id: 'from-callback', scheme: 'api-key', roles: ['robot'], scopes: [], claims: { plan: 'pro' } });
    });

    it('reads the header name case-insensitively', async () => {
      const res = await ctx.http.get('/me').set('x-API-kEy', HEX_KEY);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: 'svc-hex' });
    });

    it('rejects a repeated API key header, even when both copies are the valid key', async () => {
      const res = await rawGet(ctx.app, '/me', [`X-Api-Key: ${HEX_KEY}`, `X-Api-Key: ${HEX_KEY}`]);
      expect(outcome(res)).toEqual(unauthorized(MESSAGE.invalid, CHALLENGE.apiKey));
    });

    it('rejects a key containing a space', async () => {
      expect(outcome(await withKey('callback key'))).toEqual(unauthorized(MESSAGE.invalid, CHALLENGE.apiKey));
    });

    it('rejects a key containing a control character (tab)', async () => {
      expect(outcome(await withKey('callback\tkey'))).toEqual(unauthorized(MESSAGE.invalid, CHALLENGE.apiKey));
    });

    it('accepts a key of exactly maxKeyLength characters', async () => {
      const res = await withKey(`long-${'x'.repeat(59)}`);
      expect(res.status).toBe(200);
    });

    it('rejects a key longer than maxKeyLength before asking the callback', async () => {
      expect(outcome(await withKey(`long-${'x'.repeat(60)}`))).toEqual(unauthorized(MESSAGE.invalid, CHALLENGE.apiKey));
    });

    it('keeps the status of an HttpException thrown by the validate callback (403)', async () => {
      const res = await withKey('suspended-key');
      expect(res.status).toBe(403);
      expect(res.body).toEqual({ statusCode: 403, error: 'Forbidden', message: 'This API key is suspended' });
    });

    it('answers a plain Error thrown by the validate callback (e.g. a database outage) as a 500 without details', async () => {
      const res = await withKey('database-down');
      expect(res.status).toBe(500);
      expect(res.body).toEqual({ statusCode: 500, message: 'Internal server error' });
    });
  });

  describe('a custom header name', () => {
    const ctx = useApp(adapter, apiKeyApp({ header: 'X-Service-Key', keys: [{ sha256: sha256(HEX_KEY, 'hex'), principal: { id: 'svc-hex' } }] }));

    it('reads the key from the configured header, whatever its case', async () => {
      const res = await ctx.http.get('/me').set('X-SERVICE-KEY', HEX_KEY);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: 'svc-hex', scheme: 'api-key' });
    });

    it('ignores the default x-api-key header and names the configured header in the challenge', async () => {
      expect(outcome(await ctx.http.get('/me').set('X-Api-Key', HEX_KEY))).toEqual(
        unauthorized(MESSAGE.required, 'ApiKey realm="api", header="x-service-key"'),
      );
    });
  });
});
