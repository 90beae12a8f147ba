import { Controller, Get, Injectable, UseGuards, type INestApplication, type ModuleMetadata } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Auth, AuthGuard, PalisadeModule, Public, Roles, RolesGuard, Secure, Throttle, ThrottlerGuard, type PalisadeModuleOptions } from '@palisade/nest';
import { ADAPTERS, bootApp, type AdapterName } from '../support/app.js';
import { bearer, DENIED, expectForbidden, startupError } from '../support/authorization.js';
import { TEST_SECRET } from '../support/tokens.js';

/** Palisade with JWT and, unless told otherwise, throttling configured; guards not global unless `global`. */
function palisade(options: { global?: boolean; throttle?: boolean } = {}): NonNullable<ModuleMetadata['imports']>[number] {
  const config: PalisadeModuleOptions = { auth: { jwt: { secret: TEST_SECRET } }, global: options.global === true };
  if (options.throttle !== false) config.throttle = { throttlers: [{ name: 'default', limit: 100, ttl: '1m' }] };
  return PalisadeModule.forRoot(config);
}

const FIX = "add @UseGuards(GUARD) to it or its class, or register Palisade's guards globally (PalisadeModule.forRoot({ global: true })).";

/** The exact line the startup audit writes for a route whose requirement no Palisade guard enforces. */
function unenforced(route: string, guard: 'AuthGuard' | 'RolesGuard' | 'ThrottlerGuard'): string {
  const what = guard === 'AuthGuard' ? '@Auth()' : guard === 'RolesGuard' ? '@Roles(), @Scopes() or @Policy()' : '@Throttle()';
  return `PalisadeModule: ${route} (HTTP route) declares ${what}, but no ${guard} runs on it; ${FIX.replace('GUARD', guard)}`;
}

const THROTTLE_UNCONFIGURED = (route: string): string =>
  `PalisadeModule: ${route} (HTTP route) declares @Throttle(), but throttling is not configured; add throttle to PalisadeModule.forRoot() or remove the decorator.`;

// The original report: AuthGuard on the controller, @Roles on the route, global off; a `user` token got 200.
@Controller('reports')
@UseGuards(AuthGuard)
class AuthOnlyController {
  @Get('admin') @Roles('admin') admin() {
    return { secret: 'admin report' };
  }
}

@Controller('reports')
@UseGuards(AuthGuard, RolesGuard)
class BothGuardsController {
  @Get('admin') @Roles('admin') admin() {
    return { secret: 'admin report' };
  }
}

@Controller('reports')
class BareRolesController {
  @Get('admin') @Roles('admin') admin() {
    return { secret: 'admin report' };
  }
}

@Controller('jobs')
class BareAuthController {
  @Get() @Auth('jwt') list() {
    return [];
  }
}

@Controller('jobs')
@UseGuards(AuthGuard)
class ThrottleWithoutThrottlerController {
  @Get() @Throttle({ default: { limit: 5, ttl: 60_000 } }) list() {
    return [];
  }
}

@Controller('jobs')
@UseGuards(AuthGuard, ThrottlerGuard)
class ThrottledController {
  @Get() @Throttle({ default: { limit: 5, ttl: 60_000 } }) list() {
    return [];
  }
}

@Controller('reports')
@UseGuards(AuthGuard)
class SecureRolesController {
  @Get('admin') @Secure({ roles: ['admin'] }) admin() {
    return { secret: 'admin report' };
  }
}

/** An application's own RolesGuard (e.g. to override `authorize`). */
@Injectable()
class AuditedRolesGuard extends RolesGuard {}

@Controller('reports')
@UseGuards(AuthGuard, AuditedRolesGuard)
class SubclassGuardController {
  @Get('admin') @Roles('admin') admin() {
    return { secret: 'admin report' };
  }
}

@Controller('open')
class UndecoratedController {
  @Get('health') @Public() health() {
    return { ok: true };
  }

  @Get('plain') plain() {
    return { plain: true };
  }
}

@Controller('many')
@UseGuards(AuthGuard)
class ManyProblemsController {
  @Get('a') @Roles('admin') a() {
    return 'a';
  }

  @Get('b') @Throttle({ default: { limit: 5, ttl: 60_000 } }) b() {
    return 'b';
  }

  @Get('c') @Public() c() {
    return 'c';
  }
}

@Controller('other')
class OtherProblemController {
  @Get() @Auth('jwt') other() {
    return 'other';
  }
}

describe.each(ADAPTERS)('Startup audit of HTTP routes: no declared requirement goes unenforced (%s)', (adapter: AdapterName) => {
  describe('the original report: @UseGuards(AuthGuard) on the controller, @Roles on the route, global off', () => {
    it('the app refuses to start, naming the route and RolesGuard', async () => {
      const error = await startupError(adapter, { imports: [palisade()], controllers: [AuthOnlyController] });
      expect(error.message).toBe(unenforced('AuthOnlyController.admin', 'RolesGuard'));
    });

    describe('with @UseGuards(AuthGuard, RolesGuard)', () => {
      let app: INestApplication;
      let http: Awaited<ReturnType<typeof bootApp>>['http'];
      beforeAll(async () => {
        ({ app, http } = await bootApp(adapter, { imports: [palisade()], controllers: [BothGuardsController] }));
      });
      afterAll(() => app.close());

      it('a user token gets 403 with the fixed message; an admin token gets 200', async () => {
        expectForbidden(await http.get('/reports/admin').set('Authorization', bearer({ roles: ['user'] })), DENIED.role);
        const admin = await http.get('/reports/admin').set('Authorization', bearer({ roles: ['admin'] }));
        expect({ status: admin.status, body: admin.body as unknown }).toEqual({ status: 200, body: { secret: 'admin report' } });
      });
    });
  });

  it('@Auth() with no guard at all stops the app, naming AuthGuard', async () => {
    const error = await startupError(adapter, { imports: [palisade()], controllers: [BareAuthController] });
    expect(error.message).toBe(unenforced('BareAuthController.list', 'AuthGuard'));
  });

  it('@Throttle() where no ThrottlerGuard runs stops the app', async () => {
    const error = await startupError(adapter, { imports: [palisade()], controllers: [ThrottleWithoutThrottlerController] });
    expect(error.message).toBe(unenforced('ThrottleWithoutThrottlerController.list', 'ThrottlerGuard'));
  });

  it('@Throttle() while throttle is not configured stops the app, under @UseGuards(ThrottlerGuard) and under global guards', async () => {
    const guarded = await startupError(adapter, { imports: [palisade({ throttle: false })], controllers: [ThrottledController] });
    expect(guarded.message).toBe(THROTTLE_UNCONFIGURED('ThrottledController.list'));
    const global = await startupError(adapter, { imports: [palisade({ throttle: false, global: true })], controllers: [ThrottledController] });
    expect(global.message).toBe(THROTTLE_UNCONFIGURED('ThrottledController.list'));
  });

  it('@Secure({ roles }) without RolesGuard stops the app like @Roles', async () => {
    const error = await startupError(adapter, { imports: [palisade()], controllers: [SecureRolesController] });
    expect(error.message).toBe(unenforced('SecureRolesController.admin', 'RolesGuard'));
  });

  it('several problems are all listed, one line each, in one error', async () => {
    const error = await startupError(adapter, { imports: [palisade()], controllers: [ManyProblemsController, OtherProblemController] });
    expect(error.message.split('\n')).toEqual([
      unenforced('ManyProblemsController.a', 'RolesGuard'),
      unenforced('ManyProblemsController.b', 'ThrottlerGuard'),
      unenforced('OtherProblemController.other', 'AuthGuard'),
    ]);
  });

  describe('guards that count', () => {
    /** Boots, checks the user/admin answers of GET /reports/admin, closes. */
    async function expectEnforced(metadata: ModuleMetadata, prepare?: (app: INestApplication) => void): Promise<void> {
      const { app, http } = await bootApp(adapter, metadata, false, prepare);
      try {
        expectForbidden(await http.get('/reports/admin').set('Authorization', bearer({ roles: ['user'] })), DENIED.role);
        expect((await http.get('/reports/admin').set('Authorization', bearer({ roles: ['admin'] }))).status).toBe(200);
      } finally {
        await app.close();
      }
    }

    it('RolesGuard registered by the application through APP_GUARD', async () => {
      await expectEnforced({ imports: [palisade()], controllers: [AuthOnlyController], providers: [{ provide: APP_GUARD, useExisting: RolesGuard }] });
    });

    it('RolesGuard registered with app.useGlobalGuards(app.get(RolesGuard)) before init', async () => {
      await expectEnforced({ imports: [palisade()], controllers: [AuthOnlyController] }, (app) => {
        app.useGlobalGuards(app.get(RolesGuard));
      });
    });

    it('a subclass of RolesGuard in @UseGuards', async () => {
      await expectEnforced({ imports: [palisade()], controllers: [SubclassGuardController], providers: [AuditedRolesGuard] });
    });

    it('PalisadeModule.forRoot({ global: true }) for a controller with no @UseGuards', async () => {
      await expectEnforced({ imports: [palisade({ global: true })], controllers: [BareRolesController] });
    });
  });

  it('@Public() routes and routes with no Palisade decorator start without any guard', async () => {
    const { app, http } = await bootApp(adapter, { imports: [palisade()], controllers: [UndecoratedController] });
    try {
      expect((await http.get('/open/health')).body).toEqual({ ok: true });
      expect((await http.get('/open/plain')).body).toEqual({ plain: true });
    } finally {
      await app.close();
    }
  });
});
