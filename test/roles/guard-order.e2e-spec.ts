import {
  Controller,
  Get,
  Injectable,
  Module,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
  type INestApplication,
  type MiddlewareConsumer,
  type ModuleMetadata,
  type NestMiddleware,
  type NestModule,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthGuard, CurrentUser, PalisadeModule, Roles, RolesGuard, type Principal } from '@palisade/nest';
import { ADAPTERS, bootApp, type AdapterName } from '../support/app.js';
import { CHALLENGE, MESSAGE } from '../support/auth.js';
import { bearer, DENIED, expectForbidden, expectUnauthorized } from '../support/authorization.js';
import { TEST_SECRET } from '../support/tokens.js';

@Controller('admin')
@UseGuards(RolesGuard)
class RolesGuardOnlyController {
  @Get() @Roles('admin') admin(@CurrentUser() user: Principal) {
    return { id: user.id, scheme: user.scheme };
  }
}

@Controller('admin')
@UseGuards(RolesGuard, AuthGuard)
class ReversedGuardsController {
  @Get() @Roles('admin') admin(@CurrentUser() user: Principal) {
    return { id: user.id, scheme: user.scheme };
  }
}

@Controller('admin')
class PlainController {
  @Get() @Roles('admin') admin(@CurrentUser() user: Principal) {
    return { id: user.id, scheme: user.scheme };
  }
}

/** What other code puts on `request.user`: an admin that no scheme authenticated. */
const FORGED_USER = { id: 'mallory', scheme: 'jwt', roles: ['admin'], scopes: [], claims: {} };

/** A guard between AuthGuard and RolesGuard that replaces the principal on `request.user`. */
@Injectable()
class ReplaceUserGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    context.switchToHttp().getRequest<{ user?: unknown }>().user = { ...FORGED_USER };
    return true;
  }
}

@Controller('admin')
@UseGuards(AuthGuard, ReplaceUserGuard, RolesGuard)
class ReplacedUserController {
  @Get() @Roles('admin') admin(@CurrentUser() user: Principal) {
    return { id: user.id };
  }
}

/** A middleware that sets `request.user` before any guard runs (as a session library might). */
@Injectable()
class ForgeUserMiddleware implements NestMiddleware {
  use(request: { user?: unknown }, _response: unknown, next: () => void): void {
    request.user = { ...FORGED_USER };
    next();
  }
}

@Module({ controllers: [PlainController] })
class ForgedUserModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(ForgeUserMiddleware).forRoutes('{*path}');
  }
}

const palisade = (global: boolean) => PalisadeModule.forRoot({ auth: { jwt: { secret: TEST_SECRET } }, global });

const SETUPS: [string, () => ModuleMetadata][] = [
  ['@UseGuards(RolesGuard) alone, without AuthGuard', () => ({ imports: [palisade(false)], controllers: [RolesGuardOnlyController] })],
  ['@UseGuards(RolesGuard, AuthGuard) (reverse order)', () => ({ imports: [palisade(false)], controllers: [ReversedGuardsController] })],
  [
    'APP_GUARD useClass registered by the app in reverse order',
    () => ({
      imports: [palisade(false)],
      controllers: [PlainController],
      providers: [
        { provide: APP_GUARD, useClass: RolesGuard },
        { provide: APP_GUARD, useClass: AuthGuard },
      ],
    }),
  ],
  [
    'APP_GUARD useExisting registered by the app in reverse order',
    () => ({
      imports: [palisade(false)],
      controllers: [PlainController],
      providers: [
        { provide: APP_GUARD, useExisting: RolesGuard },
        { provide: APP_GUARD, useExisting: AuthGuard },
      ],
    }),
  ],
  ['global: true', () => ({ imports: [palisade(true)], controllers: [PlainController] })],
];

type Http = Awaited<ReturnType<typeof bootApp>>['http'];

/**
 * Boots the app before the tests and returns an accessor for its HTTP client. A setup that fails to
 * start fails every test with the startup error (instead of skipping them), since starting is part
 * of what each setup promises.
 */
function useSetup(adapter: AdapterName, metadata: () => ModuleMetadata): () => Http {
  let app: INestApplication | undefined;
  let http: Http | undefined;
  let startup: unknown;
  beforeAll(async () => {
    try {
      ({ app, http } = await bootApp(adapter, metadata()));
    } catch (error) {
      startup = error;
    }
  });
  afterAll(async () => {
    await app?.close();
  });
  return () => {
    if (http === undefined) throw startup instanceof Error ? startup : new Error('the app did not start');
    return http;
  };
}

describe.each(ADAPTERS)('RolesGuard, whatever the guard order, on %s', (adapter) => {
  describe.each(SETUPS)('%s', (_name, metadata) => {
    const http = useSetup(adapter, metadata);

    it('authenticates the caller itself: a valid token with the role → 200 and the principal is attached', async () => {
      const res = await http()
        .get('/admin')
        .set('Authorization', bearer({ sub: 'alice', roles: ['admin'] }));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ id: 'alice', scheme: 'jwt' });
    });

    it('answers a request without a token with 401 and the Bearer challenge, never 403', async () => {
      expectUnauthorized(await http().get('/admin'), MESSAGE.required, CHALLENGE.bearer);
    });

    it('answers a forged token with 401 invalid_token, never 403', async () => {
      expectUnauthorized(
        await http()
          .get('/admin')
          .set('Authorization', bearer({ roles: ['admin'] }).slice(0, -4) + 'AAAA'),
        MESSAGE.invalid,
        CHALLENGE.bearerInvalid,
      );
    });

    it('answers a valid token without the role with 403 "Insufficient role"', async () => {
      expectForbidden(
        await http()
          .get('/admin')
          .set('Authorization', bearer({ roles: ['user'] })),
        DENIED.role,
      );
    });
  });
});

describe.each(ADAPTERS)('RolesGuard judges the principal Palisade authenticated, not whatever request.user holds, on %s', (adapter) => {
  describe('a guard between AuthGuard and RolesGuard replaces request.user with an admin', () => {
    const http = useSetup(adapter, () => ({ imports: [palisade(false)], controllers: [ReplacedUserController] }));

    it('a valid token without the role still gets 403', async () => {
      expectForbidden(
        await http()
          .get('/admin')
          .set('Authorization', bearer({ sub: 'bob', roles: ['user'] })),
        DENIED.role,
      );
    });

    it('a valid token with the role gets 200, and the handler sees the principal the guards judged', async () => {
      const res = await http()
        .get('/admin')
        .set('Authorization', bearer({ sub: 'alice', roles: ['admin'] }));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ id: 'alice' });
    });
  });

  describe('a middleware sets request.user before the guards (global guards)', () => {
    const http = useSetup(adapter, () => ({ imports: [palisade(true), ForgedUserModule] }));

    it('a request without credentials gets 401, not the forged admin', async () => {
      expectUnauthorized(await http().get('/admin'), MESSAGE.required, CHALLENGE.bearer);
    });

    it('a valid token without the role gets 403, and the principal attached is the one the token names', async () => {
      expectForbidden(
        await http()
          .get('/admin')
          .set('Authorization', bearer({ sub: 'bob', roles: ['user'] })),
        DENIED.role,
      );
      const res = await http()
        .get('/admin')
        .set('Authorization', bearer({ sub: 'alice', roles: ['admin'] }));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ id: 'alice', scheme: 'jwt' });
    });
  });
});
