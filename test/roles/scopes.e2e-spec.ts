import { Controller, Get } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { CurrentUser, PalisadeModule, Roles, Scopes, type PrincipalInit, type Principal } from '@palisade/nest';
import { ADAPTERS } from '../support/app.js';
import { CHALLENGE, MESSAGE, useApp } from '../support/auth.js';
import { bearer, DENIED, expectForbidden, expectUnauthorized, insufficientScope } from '../support/authorization.js';
import { TEST_SECRET } from '../support/tokens.js';

@Controller('scopes')
class ScopesController {
  @Get('ab') @Scopes('a', 'b') ab(@CurrentUser() user: Principal) {
    return { id: user.id, scheme: user.scheme };
  }

  @Get('reports') @Scopes('reports:read') reports() {
    return { ok: true };
  }

  @Get('contrast') @Roles('admin', 'auditor') @Scopes('a', 'b') contrast() {
    return { ok: true };
  }
}

/** API keys of the suite and the principal each one becomes. */
const API_KEYS: Readonly<Record<string, PrincipalInit>> = {
  'svc-a-key': { id: 'svc-a', scopes: ['a'] },
  'svc-ab-key': { id: 'svc-ab', scopes: ['a', 'b'] },
};

describe.each(ADAPTERS)('@Scopes on %s', (adapter) => {
  const ctx = useApp(adapter, () => ({
    imports: [
      PalisadeModule.forRoot({
        auth: { jwt: { secret: TEST_SECRET }, apiKey: { validate: (key) => API_KEYS[key] ?? null } },
        global: true,
      }),
    ],
    controllers: [ScopesController],
  }));
  const withToken = (path: string, claims: Record<string, unknown>) => ctx.http.get(path).set('Authorization', bearer(claims));

  it.each(['a b', 'b a', 'c b a'])('lets a token holding every required scope through (all-of), in any order and with extra scopes: "%s"', async (scope) => {
    const res = await withToken('/scopes/ab', { scope });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: 'user-1', scheme: 'jwt' });
  });

  it('reads granted scopes from the space-separated "scope" claim', async () => {
    const res = await withToken('/scopes/reports', { scope: 'reports:write reports:read' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true });
  });

  it('reads granted scopes from an "scp" array claim', async () => {
    const res = await withToken('/scopes/reports', { scp: ['reports:write', 'reports:read'] });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true });
  });

  it('refuses a token missing one required scope with 403 "Insufficient scope" and the exact insufficient_scope challenge', async () => {
    const res = await withToken('/scopes/ab', { scope: 'a' });
    expectForbidden(res, DENIED.scope, insufficientScope('a b'));
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="api", error="insufficient_scope", error_description="The access token lacks a required scope", scope="a b"',
    );
  });

  it('refuses a token without any scope claim with the same challenge, listing every required scope', async () => {
    expectForbidden(await withToken('/scopes/ab', {}), DENIED.scope, insufficientScope('a b'));
    expectForbidden(await withToken('/scopes/reports', { scope: 'reports:readx' }), DENIED.scope, insufficientScope('reports:read'));
  });

  it('does not treat a scope as a prefix match or split on other separators', async () => {
    expectForbidden(await withToken('/scopes/ab', { scope: 'a,b' }), DENIED.scope, insufficientScope('a b'));
    expectForbidden(await withToken('/scopes/reports', { scp: ['reports'] }), DENIED.scope, insufficientScope('reports:read'));
  });

  it('lets an API-key principal holding every scope through', async () => {
    const res = await ctx.http.get('/scopes/ab').set('X-API-Key', 'svc-ab-key');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: 'svc-ab', scheme: 'api-key' });
  });

  it('refuses an API-key principal missing a scope with 403 and no Bearer challenge', async () => {
    expectForbidden(await ctx.http.get('/scopes/ab').set('X-API-Key', 'svc-a-key'), DENIED.scope);
  });

  it('answers an anonymous caller on a @Scopes route with 401 and every scheme challenge, never 403', async () => {
    expectUnauthorized(await ctx.http.get('/scopes/ab'), MESSAGE.required, `${CHALLENGE.bearer}, ${CHALLENGE.apiKey}`);
  });

  it('contrasts any-of roles with all-of scopes on one route', async () => {
    // One role of the two is enough…
    expect((await withToken('/scopes/contrast', { roles: ['auditor'], scope: 'a b' })).status).toBe(200);
    expect((await withToken('/scopes/contrast', { roles: ['admin'], scope: 'a b' })).status).toBe(200);
    // …but one scope of the two is not.
    expectForbidden(await withToken('/scopes/contrast', { roles: ['admin', 'auditor'], scope: 'a' }), DENIED.scope, insufficientScope('a b'));
    expectForbidden(await withToken('/scopes/contrast', { roles: ['admin', 'auditor'], scope: 'b' }), DENIED.scope, insufficientScope('a b'));
    // Roles are checked first: no role and no scope is a role denial, without a scope challenge.
    expectForbidden(await withToken('/scopes/contrast', { roles: ['user'], scope: 'a b' }), DENIED.role);
    expectForbidden(await withToken('/scopes/contrast', {}), DENIED.role);
  });
});
