import { Controller, Get, UseGuards, type INestApplication, type ModuleMetadata } from '@nestjs/common';
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
