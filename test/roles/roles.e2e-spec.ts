import { Controller, Get } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { Auth, CurrentUser, PalisadeModule, Public, Roles, type Principal } from '@palisade/nest';
import { ADAPTERS, bootApp } from '../support/app.js';
import { CHALLENGE, MESSAGE, useApp } from '../support/auth.js';
import { bearer, DENIED, expectForbidden, expectUnauthorized, startupError } from '../support/authorization.js';
import { TEST_SECRET } from '../support/tokens.js';

@Controller('roles')
class RolesController {
  @Get('admin-or-auditor') @Roles('admin', 'auditor') adminOrAuditor(@CurrentUser() user: Principal) {
    return { id: user.id };
  }

  @Get('user') @Roles('user') user() {
    return { ok: true };
  }

  @Get('editor') @Roles('editor') editor() {
    return { ok: true };
  }

  @Get('admin') @Roles('admin') admin() {
    return { ok: true };
  }

  @Get('optional') @Auth({ optional: true }) @Roles('user') optional(@CurrentUser() user: Principal | undefined) {
    return { id: user?.id ?? null };
  }
}

const jwt = { jwt: { secret: TEST_SECRET } };

describe.each(ADAPTERS)('@Roles on %s', (adapter) => {
  describe('with the hierarchy admin → editor → user', () => {
    const ctx = useApp(adapter, () => ({
      imports: [PalisadeModule.forRoot({ auth: jwt, roles: { hierarchy: { admin: ['editor'], editor: ['user'], auditor: [] } }, global: true })],
      controllers: [RolesController],
    }));
    const get = (path: string, roles?: unknown) => ctx.http.get(path).set('Authorization', bearer(roles === undefined ? {} : { roles }));

    it.each([[['admin']], [['auditor']], [['auditor', 'admin']], [['unrelated', 'auditor']]])(
      'lets a caller holding any one of the listed roles through (admin or auditor): %j',
      async (roles) => {
        const res = await get('/roles/admin-or-auditor', roles);
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ id: 'user-1' });
      },
    );

    it('refuses a caller holding none of the listed roles with 403 "Insufficient role" and no challenge', async () => {
      expectForbidden(await get('/roles/admin-or-auditor', ['user', 'editor']), DENIED.role);
    });

    it('lets admin pass @Roles("user") through editor (transitive hierarchy)', async () => {
      const res = await get('/roles/user', ['admin']);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ ok: true });
    });

    it('lets editor pass @Roles("user") and admin pass @Roles("editor")', async () => {
      expect((await get('/roles/user', ['editor'])).status).toBe(200);
      expect((await get('/roles/editor', ['admin'])).status).toBe(200);
    });

    it('never applies the hierarchy upwards: user fails @Roles("editor"), editor fails @Roles("admin")', async () => {
      expectForbidden(await get('/roles/editor', ['user']), DENIED.role);
      expectForbidden(await get('/roles/admin', ['editor']), DENIED.role);
    });

    it('refuses an authenticated caller without any role with 403 "Insufficient role"', async () => {
      expectForbidden(await get('/roles/user'), DENIED.role);
      expectForbidden(await get('/roles/user', []), DENIED.role);
    });

    it('answers a caller nobody authenticated with 401 and the Bearer challenge, never 403', async () => {
      expectUnauthorized(await ctx.http.get('/roles/admin'), MESSAGE.required, CHALLENGE.bearer);
    });

    it('answers a rejected token on a @Roles route with 401 invalid_token, not 403', async () => {
      expectUnauthorized(await ctx.http.get('/roles/admin').set('Authorization', 'Bearer abc.def.ghi'), MESSAGE.invalid, CHALLENGE.bearerInvalid);
    });

    it('answers an anonymous caller on an @Auth({ optional: true }) route with @Roles with 401, not 403', async () => {
      expectUnauthorized(await ctx.http.get('/roles/optional'), MESSAGE.required, CHALLENGE.bearer);
    });

    it('lets an authenticated caller with the role through an optional route with @Roles, and refuses one without it', async () => {
      const res = await get('/roles/optional', ['user']);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ id: 'user-1' });
      expectForbidden(await get('/roles/optional', ['guest']), DENIED.role);
    });
  });

  describe('startup checks', () => {
    it('refuses to start when roles.hierarchy has a cycle (a → b → a), naming the cycle', async () => {
      const error = await startupError(adapter, {
        imports: [PalisadeModule.forRoot({ auth: jwt, roles: { hierarchy: { a: ['b'], b: ['a'] } }, global: true })],
        controllers: [RolesController],
      });
      expect(error.message).toContain('cycle');
      expect(error.message).toContain('a → b → a');
    });

    it('refuses to start when a role implies itself', async () => {
      const error = await startupError(adapter, {
        imports: [PalisadeModule.forRoot({ auth: jwt, roles: { hierarchy: { admin: ['admin'] } }, global: true })],
        controllers: [RolesController],
      });
      expect(error.message).toContain('cycle');
    });

    it('refuses to start when @Roles names a role missing from roles.known (typo "admn"), naming the role and the route', async () => {
      @Controller('typo')
      class TypoController {
        @Get() @Roles('admn') typo() {
          return { ok: true };
        }
      }
      const error = await startupError(adapter, {
        imports: [PalisadeModule.forRoot({ auth: jwt, roles: { known: ['admin', 'user'] }, global: true })],
        controllers: [TypoController],
      });
      expect(error.message).toContain("'admn'");
      expect(error.message).toContain('TypoController.typo');
      expect(error.message).toContain('roles.known');
    });

    it('starts when every @Roles name is in roles.known', async () => {
      @Controller('known')
      class KnownController {
        @Get() @Roles('admin') known() {
          return { ok: true };
        }
      }
      const { app, http } = await bootApp(adapter, {
        imports: [PalisadeModule.forRoot({ auth: jwt, roles: { known: ['admin'] }, global: true })],
        controllers: [KnownController],
      });
      try {
        expect((await http.get('/known').set('Authorization', bearer({ roles: ['admin'] }))).status).toBe(200);
      } finally {
        await app.close();
      }
    });

    it('refuses to start when one handler is both @Public() and @Roles()', async () => {
      @Controller('contradiction')
      class ContradictionController {
        @Get() @Public() @Roles('admin') both() {
          return { ok: true };
        }
      }
      const error = await startupError(adapter, {
        imports: [PalisadeModule.forRoot({ auth: jwt, global: true })],
        controllers: [ContradictionController],
      });
      expect(error.message).toContain('ContradictionController.both');
      expect(error.message).toContain('@Public()');
    });
  });
});
