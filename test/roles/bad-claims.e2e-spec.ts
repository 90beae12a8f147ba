import { Controller, Get } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { PalisadeModule, Roles, Scopes } from '@palisade/nest';
import { ADAPTERS } from '../support/app.js';
import { CHALLENGE, MESSAGE, useApp } from '../support/auth.js';
import { bearer, DENIED, expectForbidden, expectUnauthorized } from '../support/authorization.js';
import { TEST_SECRET } from '../support/tokens.js';

@Controller('claims')
class ClaimsController {
  @Get('role') @Roles('user') role() {
    return { ok: true };
  }

  @Get('scope') @Scopes('read') scope() {
    return { ok: true };
  }
}

const manyRoles = (count: number, name = (i: number) => `role-${i}`) => Array.from({ length: count }, (_, i) => name(i));

describe.each(ADAPTERS)('malformed role and scope claims on %s', (adapter) => {
  const ctx = useApp(adapter, () => ({
    imports: [PalisadeModule.forRoot({ auth: { jwt: { secret: TEST_SECRET } }, global: true })],
    controllers: [ClaimsController],
  }));
  const withToken = (path: string, claims: Record<string, unknown>) => ctx.http.get(path).set('Authorization', bearer(claims));

  it.each<[string, unknown]>([
    ['a string', 'user'],
    ['a number', 7],
    ['an object', { user: true }],
    ['null', null],
    ['a boolean', true],
    ['an array with a number', ['user', 1]],
    ['an array with a nested array', ['user', ['admin']]],
    ['an array with an empty string', ['user', '']],
    ['an array with a 257-character role', ['user', 'r'.repeat(257)]],
    ['an array of 257 roles', manyRoles(256).concat('user')],
  ])('rejects a token whose roles claim is %s with 401 "Invalid credentials", not 403 or 500', async (_what, roles) => {
    expectUnauthorized(await withToken('/claims/role', { roles }), MESSAGE.invalid, CHALLENGE.bearerInvalid);
  });

  it.each<[string, Record<string, unknown>]>([
    ['scope is a number', { scope: 42 }],
    ['scope is an object', { scope: { read: true } }],
    ['scope is null', { scope: null }],
    ['scope is an array with a number', { scope: ['read', 1] }],
    ['scp is a number', { scp: 42 }],
    ['scp is an object', { scp: { read: true } }],
  ])('rejects a token whose %s with 401 "Invalid credentials", not 403 or 500', async (_what, claims) => {
    expectUnauthorized(await withToken('/claims/scope', claims), MESSAGE.invalid, CHALLENGE.bearerInvalid);
  });

  it('rejects a token with a 10,000-entry roles claim without a 5xx (the header exceeds what the server reads: 431)', async () => {
    const res = await withToken('/claims/role', { roles: manyRoles(10_000) });
    expect(res.status).toBe(431);
  });

  it('accepts a huge but valid roles claim (200 roles, one matching) → 200', async () => {
    const res = await withToken('/claims/role', { roles: [...manyRoles(199), 'user'] });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true });
  });

  it('accepts the largest roles claim (256 roles) and still denies when none matches', async () => {
    expect((await withToken('/claims/role', { roles: [...manyRoles(255), 'user'] })).status).toBe(200);
    expectForbidden(await withToken('/claims/role', { roles: manyRoles(256) }), DENIED.role);
  });

  it('treats an empty roles array as holding no role: 403, not 401', async () => {
    expectForbidden(await withToken('/claims/role', { roles: [] }), DENIED.role);
  });
});
