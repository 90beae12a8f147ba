import { Controller, Get, Injectable, UseGuards, type INestApplication, type ModuleMetadata } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ClientProxyFactory, MessagePattern, Transport, type ClientProxy, type MicroserviceOptions } from '@nestjs/microservices';
import { firstValueFrom } from 'rxjs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  Auth,
  AuthGuard,
  PalisadeModule,
  Public,
  Roles,
  RolesGuard,
  Secure,
  Throttle,
  ThrottlerGuard,
  type PalisadeModuleExtras,
  type PalisadeModuleOptions,
} from '@palisade/nest';
import { ADAPTERS, bootApp, type AdapterName } from '../support/app.js';
import { bearer, DENIED, expectForbidden, startupError } from '../support/authorization.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { freePort } from '../support/redis.js';
import { TEST_SECRET } from '../support/tokens.js';

/** Palisade with JWT and, unless told otherwise, throttling configured; guards not global unless `global`. */
function palisade(options: { global?: boolean; throttle?: boolean } = {}): NonNullable<ModuleMetadata['imports']>[number] {
  const config: PalisadeModuleOptions & PalisadeModuleExtras = { auth: { jwt: { secret: TEST_SECRET } }, global: options.global === true };
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

@Controller('guarded')
@UseGuards(AuthGuard)
class GuardedWithoutSchemeController {
  @Get() guarded() {
    return { guarded: true };
  }

  @Get('open') @Public() open() {
    return { open: true };
  }
}

describe.each(ADAPTERS)('Startup audit of HTTP routes: no declared requirement goes unenforced (%s)', (adapter: AdapterName) => {
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

  it('headers only (no auth scheme configured): a route no guard reaches starts and answers, with the headers', async () => {
    const { app, http } = await bootApp(adapter, { imports: [PalisadeModule.forRoot({})], controllers: [UndecoratedController] });
    try {
      const plain = await http.get('/open/plain');
      expect({ status: plain.status, body: plain.body as unknown, nosniff: plain.headers['x-content-type-options'] }).toEqual({
        status: 200,
        body: { plain: true },
        nosniff: 'nosniff',
      });
    } finally {
      await app.close();
    }
  });

  it('no auth scheme configured: a route AuthGuard runs on stops the app, naming it and the fix; its @Public() neighbour does not', async () => {
    const error = await startupError(adapter, { imports: [PalisadeModule.forRoot({})], controllers: [GuardedWithoutSchemeController] });
    expect(error.message).toBe(
      'PalisadeModule: GuardedWithoutSchemeController.guarded (HTTP route) requires authentication but no scheme is configured; set auth.jwt, auth.apiKey or auth.basic, or mark it @Public().',
    );
  });

  it('no auth scheme configured under global guards: every route that is not @Public() stops the app', async () => {
    const error = await startupError(adapter, { imports: [PalisadeModule.forRoot({ global: true })], controllers: [UndecoratedController] });
    expect(error.message).toBe(
      'PalisadeModule: UndecoratedController.plain (HTTP route) requires authentication but no scheme is configured; set auth.jwt, auth.apiKey or auth.basic, or mark it @Public().',
    );
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

/** How many times each message handler ran. */
const runs = { secret: 0, ping: 0 };

@Controller('messages')
class JobsMessagesController {
  @MessagePattern('jobs.secret') secret(): string {
    runs.secret++;
    return 'the secret';
  }

  @MessagePattern('jobs.ping') @Public() ping(): string {
    runs.ping++;
    return 'pong';
  }

  @Get('health') @Public() health() {
    return { ok: true };
  }
}

@Controller()
class RolesMessagesController {
  @MessagePattern('jobs.admin') @Roles('admin') admin(): string {
    return 'admin';
  }
}

/** Connects a TCP microservice on `port` to the app, sharing its global guards (before init). */
function tcpMicroservice(port: number): (app: INestApplication) => void {
  return (app) => {
    app.connectMicroservice<MicroserviceOptions>({ transport: Transport.TCP, options: { host: '127.0.0.1', port } }, { inheritAppConfig: true });
  };
}

describe.each(ADAPTERS)('Microservice handlers in a hybrid app with global guards (%s)', (adapter: AdapterName) => {
  let app: INestApplication;
  let http: Awaited<ReturnType<typeof bootApp>>['http'];
  let client: ClientProxy;
  const logger = new RecordingLogger();

  beforeAll(async () => {
    const port = await freePort();
    ({ app, http } = await bootApp(adapter, { imports: [palisade({ global: true })], controllers: [JobsMessagesController] }, logger, tcpMicroservice(port)));
    await app.startAllMicroservices();
    client = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port } });
    await client.connect();
  });
  afterAll(async () => {
    await client?.close();
    await app?.close();
  });
  beforeEach(() => {
    runs.secret = 0;
    runs.ping = 0;
  });

  it('a call to a non-public pattern is refused and its handler never runs', async () => {
    const refused = await firstValueFrom(client.send<string>('jobs.secret', { token: bearer({ roles: ['admin'] }) })).then(
      (value) => ({ answered: value }),
      (error: unknown) => ({ error }),
    );
    expect(refused).toEqual({
      error: { status: 'error', statusCode: 403, error: 'Forbidden', message: 'This handler cannot be called on this transport', code: 'FORBIDDEN' },
    });
    expect(runs.secret).toBe(0);
  });

  it('a @Public() pattern answers', async () => {
    expect(await firstValueFrom(client.send<string>('jobs.ping', {}))).toBe('pong');
    expect(runs.ping).toBe(1);
  });

  it('the HTTP side of the hybrid app still answers', async () => {
    expect((await http.get('/messages/health')).body).toEqual({ ok: true });
  });

  it('the startup warning lists the handler that will refuse every call, and only it', () => {
    expect(logger.linesOf('PalisadeModule').map(({ level, message }) => ({ level, message }))).toEqual([
      {
        level: 'warn',
        message:
          'These handlers cannot be protected on their transport and refuse every call unless marked @Public(): JobsMessagesController.secret (microservice handler).',
      },
    ]);
  });
});

describe.each(ADAPTERS)('Startup audit of microservice handlers (%s)', (adapter: AdapterName) => {
  it('@Roles on a message pattern stops the app: Palisade cannot judge microservice calls', async () => {
    const port = await freePort();
    const error = await startupError(adapter, { imports: [palisade({ global: true })], controllers: [RolesMessagesController] }, tcpMicroservice(port));
    expect(error.message).toBe(
      'PalisadeModule: RolesMessagesController.admin (microservice handler) declares an authentication, authorization or throttling requirement, but Palisade cannot judge microservice calls, so every call would be refused. Remove the requirement and mark the handler @Public() (protect the transport itself, e.g. with mTLS), or serve it over HTTP.',
    );
  });
});
