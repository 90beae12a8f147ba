import { Controller, Get } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { describe, expect, it } from 'vitest';
import { PalisadeModule, Public, Roles, Scopes, Secure, type PrincipalInit } from '@palisade/nest';
import { ADAPTERS } from '../support/app.js';
import { CHALLENGE, MESSAGE, useApp } from '../support/auth.js';
import { bearer, DENIED, expectForbidden, expectUnauthorized, insufficientScope } from '../support/authorization.js';
import { TEST_SECRET } from '../support/tokens.js';

// Metadata keys written by `@Throttle` of @nestjs/throttler (THROTTLER_LIMIT / THROTTLER_TTL + the
// throttler's name); the package does not export its constants from its entry point.
const THROTTLER_LIMIT_DEFAULT = 'THROTTLER:LIMITdefault';
const THROTTLER_TTL_DEFAULT = 'THROTTLER:TTLdefault';

const ok = { ok: true } as const;

@Controller('acc/roles')
@Roles('staff')
class RolesAccController {
  @Get() @Roles('admin') both() {
    return ok;
  }

  @Get('controller-only') controllerOnly() {
    return ok;
  }

  @Get('public') @Public() open() {
    return ok;
  }
}

@Controller('acc/scopes')
@Scopes('a')
class ScopesAccController {
  @Get() @Scopes('b') union() {
    return ok;
  }
}

@Controller('acc/secure')
@Secure({ roles: ['staff'], scopes: ['a'] })
class SecureAccController {
  @Get() @Roles('admin') both() {
    return ok;
  }
}

@Controller('acc/public')
@Public()
class PublicAccController {
  @Get() plain() {
    return ok;
  }

  @Get('roles') @Roles('admin') guarded() {
    return ok;
  }
}

@Controller('acc/handler')
class HandlerAccController {
  @Get('two-roles') @Roles('admin', 'owner') @Roles('staff') twoGroups() {
    return ok;
  }

  @Get('api-key-only') @Secure({ auth: ['api-key'], roles: ['admin'] }) apiKeyOnly() {
    return ok;
  }

  @Get('throttled') @Secure({ roles: ['admin'], throttle: { default: { limit: 5, ttl: 60_000 } } }) throttled() {
    return ok;
  }
}

const API_KEYS: Readonly<Record<string, PrincipalInit>> = {
  'admin-key': { id: 'svc-admin', roles: ['admin'] },
  'reader-key': { id: 'svc-reader', roles: ['reader'] },
};

const BOTH_CHALLENGES = `${CHALLENGE.bearer}, ${CHALLENGE.apiKey}`;

describe.each(ADAPTERS)('accumulation of controller and handler requirements on %s', (adapter) => {
  const ctx = useApp(adapter, () => ({
    imports: [
      PalisadeModule.forRoot({
        auth: { jwt: { secret: TEST_SECRET }, apiKey: { validate: (key) => API_KEYS[key] ?? null } },
        // @Secure({ throttle }) below declares a limit: an app that declares one configures throttling.
        throttle: { throttlers: [{ name: 'default', limit: 100, ttl: '1m' }] },
        global: true,
      }),
    ],
    controllers: [RolesAccController, ScopesAccController, SecureAccController, PublicAccController, HandlerAccController],
  }));
  const withToken = (path: string, claims: Record<string, unknown>) => ctx.http.get(path).set('Authorization', bearer(claims));

  describe('controller @Roles + handler @Roles', () => {
    it('requires both: staff and admin → 200', async () => {
      const res = await withToken('/acc/roles', { roles: ['staff', 'admin'] });
      expect(res.status).toBe(200);
      expect(res.body).toEqual(ok);
    });

    it('refuses the controller role alone and the handler role alone with 403 "Insufficient role"', async () => {
      expectForbidden(await withToken('/acc/roles', { roles: ['staff'] }), DENIED.role);
      expectForbidden(await withToken('/acc/roles', { roles: ['admin'] }), DENIED.role);
    });

    it('applies the controller @Roles to a handler without its own', async () => {
      expect((await withToken('/acc/roles/controller-only', { roles: ['staff'] })).status).toBe(200);
      expectForbidden(await withToken('/acc/roles/controller-only', { roles: ['admin'] }), DENIED.role);
      expectUnauthorized(await ctx.http.get('/acc/roles/controller-only'), MESSAGE.required, BOTH_CHALLENGES);
    });
  });

  describe('controller @Scopes + handler @Scopes', () => {
    it('requires the union: scopes a and b → 200', async () => {
      expect((await withToken('/acc/scopes', { scope: 'a b' })).status).toBe(200);
    });

    it('refuses either scope alone, challenging for the union (controller scopes first)', async () => {
      expectForbidden(await withToken('/acc/scopes', { scope: 'a' }), DENIED.scope, insufficientScope('a b'));
      expectForbidden(await withToken('/acc/scopes', { scope: 'b' }), DENIED.scope, insufficientScope('a b'));
    });
  });

  describe('controller @Secure({ roles, scopes }) + handler @Roles', () => {
    it('requires the controller role, the controller scope and the handler role', async () => {
      expect((await withToken('/acc/secure', { roles: ['staff', 'admin'], scope: 'a' })).status).toBe(200);
    });

    it('refuses when any one part is missing', async () => {
      expectForbidden(await withToken('/acc/secure', { roles: ['staff', 'admin'] }), DENIED.scope, insufficientScope('a'));
      expectForbidden(await withToken('/acc/secure', { roles: ['admin'], scope: 'a' }), DENIED.role);
      expectForbidden(await withToken('/acc/secure', { roles: ['staff'], scope: 'a' }), DENIED.role);
    });
  });

  describe('@Public() on a handler of a @Roles controller', () => {
    it('is open to a caller without credentials', async () => {
      const res = await ctx.http.get('/acc/roles/public');
      expect(res.status).toBe(200);
      expect(res.body).toEqual(ok);
      expect(res.headers['www-authenticate']).toBeUndefined();
    });

    it.each([
      ['Authorization', 'Bearer not-a-jwt'],
      ['Authorization', 'Bearer a.b.c'],
      ['Authorization', '!!! junk'],
      ['X-API-Key', 'unknown-key'],
    ] as const)('ignores garbage credentials instead of rejecting them (%s: %s)', async (header, value) => {
      const res = await ctx.http.get('/acc/roles/public').set(header, value);
      expect(res.status).toBe(200);
      expect(res.body).toEqual(ok);
    });
  });

  describe('@Public() on the controller', () => {
    it('leaves a plain handler open, even with garbage credentials', async () => {
      expect((await ctx.http.get('/acc/public')).status).toBe(200);
      const res = await ctx.http.get('/acc/public').set('Authorization', 'Bearer garbage');
      expect(res.status).toBe(200);
      expect(res.body).toEqual(ok);
    });

    it('makes a handler with @Roles require authentication again: anonymous → 401', async () => {
      expectUnauthorized(await ctx.http.get('/acc/public/roles'), MESSAGE.required, BOTH_CHALLENGES);
    });

    it('makes a handler with @Roles require the role: admin → 200, other → 403', async () => {
      expect((await withToken('/acc/public/roles', { roles: ['admin'] })).status).toBe(200);
      expectForbidden(await withToken('/acc/public/roles', { roles: ['user'] }), DENIED.role);
    });
  });

  describe('two @Roles on the same handler', () => {
    it('requires one role of each group', async () => {
      expect((await withToken('/acc/handler/two-roles', { roles: ['owner', 'staff'] })).status).toBe(200);
      expect((await withToken('/acc/handler/two-roles', { roles: ['staff', 'admin'] })).status).toBe(200);
    });

    it('refuses a caller satisfying only one group', async () => {
      expectForbidden(await withToken('/acc/handler/two-roles', { roles: ['owner', 'admin'] }), DENIED.role);
      expectForbidden(await withToken('/acc/handler/two-roles', { roles: ['staff'] }), DENIED.role);
    });
  });

  describe("@Secure({ auth: ['api-key'], roles })", () => {
    it('lets an API key with the role through', async () => {
      const res = await ctx.http.get('/acc/handler/api-key-only').set('X-API-Key', 'admin-key');
      expect(res.status).toBe(200);
      expect(res.body).toEqual(ok);
    });

    it('refuses an API key without the role with 403', async () => {
      expectForbidden(await ctx.http.get('/acc/handler/api-key-only').set('X-API-Key', 'reader-key'), DENIED.role);
    });

    it('does not accept a JWT, even one holding the role: 401 with only the ApiKey challenge', async () => {
      expectUnauthorized(await withToken('/acc/handler/api-key-only', { roles: ['admin'] }), MESSAGE.required, CHALLENGE.apiKey);
    });
  });

  describe('@Secure with a throttle option', () => {
    it("writes @nestjs/throttler's metadata on the handler", () => {
      const reflector = ctx.app.get(Reflector);
      const handler = HandlerAccController.prototype.throttled;
      expect(reflector.get<unknown>(THROTTLER_LIMIT_DEFAULT, handler)).toBe(5);
      expect(reflector.get<unknown>(THROTTLER_TTL_DEFAULT, handler)).toBe(60_000);
    });

    it('still enforces the roles of the same @Secure', async () => {
      expect((await withToken('/acc/handler/throttled', { roles: ['admin'] })).status).toBe(200);
      expectForbidden(await withToken('/acc/handler/throttled', { roles: ['user'] }), DENIED.role);
      expectUnauthorized(await ctx.http.get('/acc/handler/throttled'), MESSAGE.required, BOTH_CHALLENGES);
    });
  });
});
