import { createHash } from 'node:crypto';
import { Controller, Get, Injectable, Module, UseGuards } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { Auth, AuthGuard, CurrentUser, PalisadeModule, Public, type PalisadeModuleOptions, type Principal } from '@palisade/nest';
import { ADAPTERS } from '../support/app.js';
import { CHALLENGE, MESSAGE, outcome, unauthorized, useApp } from '../support/auth.js';
import { nowSeconds } from '../support/forge.js';
import { signToken, TEST_SECRET } from '../support/tokens.js';

const API_KEY = 'svc-key-0123456789abcdef';
const API_KEYS = [{ sha256: createHash('sha256').update(API_KEY).digest('hex'), principal: { id: 'svc' } }];
const BASIC_CREDENTIALS = `Basic ${Buffer.from('alice:alice-password').toString('base64')}`;

const bearer = (token = signToken()) => `Bearer ${token}`;

const summary = (user: Principal | undefined) => (user === undefined ? { user: null } : { user: { id: user.id, scheme: user.scheme } });

@Controller('routes')
class RoutesController {
  @Get('default') byDefault(@CurrentUser() user: Principal) {
    return summary(user);
  }

  @Get('key-only') @Auth('api-key') keyOnly(@CurrentUser() user: Principal) {
    return summary(user);
  }

  @Get('basic-then-jwt') @Auth('basic', 'jwt') basicThenJwt(@CurrentUser() user: Principal) {
    return summary(user);
  }

  @Get('optional') @Auth({ optional: true }) optional(@CurrentUser() user: Principal | undefined) {
    return summary(user);
  }

  @Get('public') @Public() open(@CurrentUser() user: Principal | undefined) {
    return summary(user);
  }
}

@Controller('keyed')
@Auth('api-key')
class KeyedController {
  @Get('inherited') inherited(@CurrentUser() user: Principal) {
    return summary(user);
  }

  @Get('overridden') @Auth('jwt') overridden(@CurrentUser() user: Principal) {
    return summary(user);
  }
}

@Controller('open')
@Public()
class OpenController {
  @Get('anything') anything(@CurrentUser() user: Principal | undefined) {
    return summary(user);
  }

  @Get('guarded') @Auth('jwt') guarded(@CurrentUser() user: Principal) {
    return summary(user);
  }
}

@Controller('plain')
class PlainController {
  @Get() plain(@CurrentUser() user: Principal | undefined) {
    return summary(user);
  }
}

@Controller('guarded')
@UseGuards(AuthGuard)
class GuardedController {
  @Get() guarded(@CurrentUser() user: Principal) {
    return summary(user);
  }
}

@Injectable()
class SettingsService {
  readonly jwtSecret = TEST_SECRET;
  readonly apiKeys = API_KEYS;
}

@Module({ providers: [SettingsService], exports: [SettingsService] })
class SettingsModule {}

@Injectable()
class PalisadeSettings {
  constructor(private readonly settings: SettingsService) {}

  createPalisadeOptions(): PalisadeModuleOptions {
    return { auth: { apiKey: { keys: this.settings.apiKeys } } };
  }
}

const ALL_MISSING = `${CHALLENGE.bearer}, ${CHALLENGE.apiKey}, ${CHALLENGE.basic}`;

describe.each(ADAPTERS)('scheme selection on %s', (adapter) => {
  describe('per-route schemes with jwt, api-key and basic configured (global: true)', () => {
    const ctx = useApp(adapter, () => ({
      imports: [
        PalisadeModule.forRoot({
          auth: {
            jwt: { secret: TEST_SECRET },
            apiKey: { keys: API_KEYS },
            basic: { validate: (user, password) => (user === 'alice' && password === 'alice-password' ? { id: 'alice' } : null) },
          },
          global: true,
        }),
      ],
      controllers: [RoutesController, KeyedController, OpenController],
    }));
    it('guards a route without @UseGuards and challenges once per default scheme, in order jwt, api-key, basic', async () => {
      expect(outcome(await ctx.http.get('/routes/default'))).toEqual(unauthorized(MESSAGE.required, ALL_MISSING));
    });

    it('accepts each default scheme on a route without @Auth', async () => {
      expect((await ctx.http.get('/routes/default').set('Authorization', bearer())).body).toEqual({ user: { id: 'user-1', scheme: 'jwt' } });
      expect((await ctx.http.get('/routes/default').set('X-Api-Key', API_KEY)).body).toEqual({ user: { id: 'svc', scheme: 'api-key' } });
      expect((await ctx.http.get('/routes/default').set('Authorization', BASIC_CREDENTIALS)).body).toEqual({ user: { id: 'alice', scheme: 'basic' } });
    });

    it("refuses a valid JWT on an @Auth('api-key') route, challenging with ApiKey only", async () => {
      expect(outcome(await ctx.http.get('/routes/key-only').set('Authorization', bearer()))).toEqual(unauthorized(MESSAGE.required, CHALLENGE.apiKey));
    });

    it("accepts the API key on an @Auth('api-key') route", async () => {
      const res = await ctx.http.get('/routes/key-only').set('X-Api-Key', API_KEY);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ user: { id: 'svc', scheme: 'api-key' } });
    });

    it('lists one challenge per accepted scheme in the order @Auth names them', async () => {
      expect(outcome(await ctx.http.get('/routes/basic-then-jwt'))).toEqual(unauthorized(MESSAGE.required, `${CHALLENGE.basic}, ${CHALLENGE.bearer}`));
    });

    it("applies a controller's @Auth to its handlers", async () => {
      expect(outcome(await ctx.http.get('/keyed/inherited').set('Authorization', bearer()))).toEqual(unauthorized(MESSAGE.required, CHALLENGE.apiKey));
      expect((await ctx.http.get('/keyed/inherited').set('X-Api-Key', API_KEY)).status).toBe(200);
    });

    it("lets a handler's @Auth override its controller's", async () => {
      expect(outcome(await ctx.http.get('/keyed/overridden').set('X-Api-Key', API_KEY))).toEqual(unauthorized(MESSAGE.required, CHALLENGE.bearer));
      const res = await ctx.http.get('/keyed/overridden').set('Authorization', bearer());
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ user: { id: 'user-1', scheme: 'jwt' } });
    });

    // Issue 16: a guess riding along a valid credential was never counted, and the principal's
    // scheme told whether it was right. Every credential presented for an accepted scheme must now be
    // right: one wrong or malformed credential fails the request (401, counted as a guess).
    it('refuses a malformed Authorization header next to a valid API key (every presented credential must be right)', async () => {
      const res = await ctx.http.get('/routes/default').set('Authorization', 'Bearer a b').set('X-Api-Key', API_KEY);
      expect(outcome(res)).toEqual(unauthorized(MESSAGE.invalid, `${CHALLENGE.bearerMalformed}, ${CHALLENGE.apiKey}, ${CHALLENGE.basic}`));
    });

    it('refuses an invalid JWT next to a valid API key, answering as for two wrong credentials', async () => {
      const forged = bearer(signToken({}, { secret: 'x'.repeat(40) }));
      const res = await ctx.http.get('/routes/default').set('Authorization', forged).set('X-Api-Key', API_KEY);
      const bothWrong = await ctx.http.get('/routes/default').set('Authorization', forged).set('X-Api-Key', 'wrong-key');
      expect(outcome(res)).toEqual(unauthorized(MESSAGE.invalid, `${CHALLENGE.bearerInvalid}, ${CHALLENGE.apiKey}, ${CHALLENGE.basic}`));
      expect(res.status).toBe(bothWrong.status);
      expect(res.body).toEqual(bothWrong.body);
    });

    it('challenges an invalid JWT and an unknown API key each with its own failure', async () => {
      const res = await ctx.http.get('/routes/default').set('Authorization', bearer('abc.def.ghi')).set('X-Api-Key', 'wrong-key');
      expect(outcome(res)).toEqual(unauthorized(MESSAGE.invalid, `${CHALLENGE.bearerInvalid}, ${CHALLENGE.apiKey}, ${CHALLENGE.basic}`));
    });

    it("reports 'The access token expired' only when the expired token is the sole failure", async () => {
      const expired = bearer(signToken({ exp: nowSeconds() - 60 }));
      const alone = await ctx.http.get('/routes/default').set('Authorization', expired);
      expect(outcome(alone)).toEqual(unauthorized(MESSAGE.expired, `${CHALLENGE.bearerExpired}, ${CHALLENGE.apiKey}, ${CHALLENGE.basic}`));
      const withBadKey = await ctx.http.get('/routes/default').set('Authorization', expired).set('X-Api-Key', 'wrong-key');
      expect(outcome(withBadKey)).toEqual(unauthorized(MESSAGE.invalid, `${CHALLENGE.bearerExpired}, ${CHALLENGE.apiKey}, ${CHALLENGE.basic}`));
    });

    it('ignores credentials, even garbage ones, on a @Public handler', async () => {
      const res = await ctx.http.get('/routes/public').set('Authorization', 'Bearer garbage junk %%%').set('X-Api-Key', 'not a key');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ user: null });
    });

    it('ignores a valid credential on a @Public handler: no principal is attached', async () => {
      const res = await ctx.http.get('/routes/public').set('Authorization', bearer());
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ user: null });
    });

    it('ignores credentials, even garbage ones, on every handler of a @Public controller', async () => {
      const res = await ctx.http.get('/open/anything').set('Authorization', 'Basic %%%').set('X-Api-Key', 'x'.repeat(10_000));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ user: null });
    });

    it('requires authentication on a handler with @Auth inside a @Public controller', async () => {
      expect(outcome(await ctx.http.get('/open/guarded'))).toEqual(unauthorized(MESSAGE.required, CHALLENGE.bearer));
      expect((await ctx.http.get('/open/guarded').set('Authorization', bearer())).body).toEqual({ user: { id: 'user-1', scheme: 'jwt' } });
    });

    it('lets an anonymous caller through an @Auth({ optional: true }) route with no user', async () => {
      const res = await ctx.http.get('/routes/optional');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ user: null });
    });

    it('attaches the user on an optional route when a valid token is sent', async () => {
      const res = await ctx.http.get('/routes/optional').set('Authorization', bearer());
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ user: { id: 'user-1', scheme: 'jwt' } });
    });

    it('rejects an invalid token on an optional route', async () => {
      const res = await ctx.http.get('/routes/optional').set('Authorization', bearer(signToken({ exp: nowSeconds() - 60 })));
      expect(outcome(res)).toEqual(unauthorized(MESSAGE.expired, `${CHALLENGE.bearerExpired}, ${CHALLENGE.apiKey}, ${CHALLENGE.basic}`));
    });

    it('rejects a malformed Authorization header on an optional route', async () => {
      const res = await ctx.http.get('/routes/optional').set('Authorization', 'Bearer');
      expect(outcome(res)).toEqual(unauthorized(MESSAGE.invalid, `${CHALLENGE.bearerMalformed}, ${CHALLENGE.apiKey}, ${CHALLENGE.basic}`));
    });
  });

  describe('defaultSchemes', () => {
    const ctx = useApp(adapter, () => ({
      imports: [PalisadeModule.forRoot({ auth: { jwt: { secret: TEST_SECRET }, apiKey: { keys: API_KEYS }, defaultSchemes: ['api-key'] }, global: true })],
      controllers: [PlainController, KeyedController],
    }));

    it('limits a route without @Auth to the default schemes', async () => {
      expect(outcome(await ctx.http.get('/plain').set('Authorization', `Bearer ${signToken()}`))).toEqual(unauthorized(MESSAGE.required, CHALLENGE.apiKey));
      expect((await ctx.http.get('/plain').set('X-Api-Key', API_KEY)).body).toEqual({ user: { id: 'svc', scheme: 'api-key' } });
    });

    it('still lets @Auth name a configured scheme outside the defaults', async () => {
      const res = await ctx.http.get('/keyed/overridden').set('Authorization', `Bearer ${signToken()}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ user: { id: 'user-1', scheme: 'jwt' } });
    });
  });

  describe('without global: true', () => {
    const ctx = useApp(adapter, () => ({
      imports: [PalisadeModule.forRoot({ auth: { jwt: { secret: TEST_SECRET } } })],
      controllers: [PlainController, GuardedController],
    }));

    it('leaves a route without @UseGuards(AuthGuard) unguarded', async () => {
      const res = await ctx.http.get('/plain');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ user: null });
    });

    it('guards a controller with @UseGuards(AuthGuard)', async () => {
      expect(outcome(await ctx.http.get('/guarded'))).toEqual(unauthorized(MESSAGE.required, CHALLENGE.bearer));
      expect((await ctx.http.get('/guarded').set('Authorization', `Bearer ${signToken()}`)).body).toEqual({ user: { id: 'user-1', scheme: 'jwt' } });
    });
  });

  describe('forRootAsync with useFactory and inject', () => {
    const ctx = useApp(adapter, () => ({
      imports: [
        PalisadeModule.forRootAsync({
          imports: [SettingsModule],
          inject: [SettingsService],
          useFactory: async (settings: SettingsService) => ({ auth: { jwt: { secret: settings.jwtSecret } } }),
          global: true,
        }),
      ],
      controllers: [PlainController],
    }));

    it('uses the options the factory built from the injected provider', async () => {
      expect((await ctx.http.get('/plain').set('Authorization', `Bearer ${signToken()}`)).body).toEqual({ user: { id: 'user-1', scheme: 'jwt' } });
    });

    it('registers the guard globally', async () => {
      expect(outcome(await ctx.http.get('/plain'))).toEqual(unauthorized(MESSAGE.required, CHALLENGE.bearer));
    });
  });

  describe('forRootAsync with useClass', () => {
    const ctx = useApp(adapter, () => ({
      imports: [PalisadeModule.forRootAsync({ imports: [SettingsModule], useClass: PalisadeSettings, global: true })],
      controllers: [PlainController],
    }));

    it("uses the options of the class's createPalisadeOptions()", async () => {
      expect((await ctx.http.get('/plain').set('X-Api-Key', API_KEY)).body).toEqual({ user: { id: 'svc', scheme: 'api-key' } });
    });

    it('registers the guard globally', async () => {
      expect(outcome(await ctx.http.get('/plain'))).toEqual(unauthorized(MESSAGE.required, CHALLENGE.apiKey));
    });
  });
});
