import {
  Body,
  Controller,
  Get,
  Injectable,
  Module,
  Post,
  Req,
  Res,
  type INestApplication,
  type MiddlewareConsumer,
  type NestMiddleware,
  type NestModule,
} from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PalisadeModule, Public } from '@palisade/nest';
import { bootApp } from '../support/app.js';

type ExpressRequest = Record<string, unknown> & { get(name: string): string | undefined; query: Record<string, unknown>; ip?: string };

/** Reports, as the router is about to run, which fields are already own properties of the request. */
@Injectable()
class OwnFieldsMiddleware implements NestMiddleware {
  use(request: ExpressRequest, _response: unknown, next: () => void): void {
    request.ownAtMiddleware = ['route', 'tenant'].filter((name) => Object.hasOwn(request, name));
    if (request.get('x-tenant') !== undefined) request.tenant = request.get('x-tenant');
    next();
  }
}

@Controller('shape')
@Public()
class ShapeController {
  @Get('echo')
  echo(@Req() request: ExpressRequest, @Res({ passthrough: true }) response: { locals: Record<string, unknown> }) {
    response.locals.seen = true;
    return {
      query: request.query.x,
      host: request.get('host') !== undefined,
      ip: typeof request.ip,
      tenant: request.tenant ?? null,
      ownAtMiddleware: request.ownAtMiddleware,
      locals: response.locals.seen,
    };
  }

  @Post('body')
  body(@Body() body: unknown) {
    return { body };
  }
}

@Module({ controllers: [ShapeController] })
class ShapeModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(OwnFieldsMiddleware).forRoutes('{*path}');
  }
}

describe.each([true, false])('stableRequestShapes: %s on Express', (enabled) => {
  let app: INestApplication;
  let http: Awaited<ReturnType<typeof bootApp>>['http'];

  beforeAll(async () => {
    ({ app, http } = await bootApp('express', { imports: [PalisadeModule.forRoot({ stableRequestShapes: enabled }), ShapeModule] }));
    // The first requests teach the fields Express, its router, body-parser and the middleware add.
    for (let i = 0; i < 3; i++) await http.get('/shape/echo?x=1').set('X-Tenant', 'acme').expect(200);
  });
  afterAll(async () => {
    await app?.close();
  });

  it(`${enabled ? 'declares' : 'does not declare'} the learned fields before Express sees the request (own properties at the middleware)`, async () => {
    const res = await http.get('/shape/echo?x=2');
    expect(res.status).toBe(200);
    expect(res.body.ownAtMiddleware).toEqual(enabled ? ['route', 'tenant'] : []);
  });

  it("keeps Express's request API: the query getter, req.get(), req.ip, res.locals, a field a middleware sets only sometimes", async () => {
    const plain = await http.get('/shape/echo?x=3');
    expect(plain.body).toMatchObject({ query: '3', host: true, ip: 'string', tenant: null, locals: true });
    const tenant = await http.get('/shape/echo?x=4').set('X-Tenant', 'globex');
    expect(tenant.body).toMatchObject({ query: '4', tenant: 'globex' });
  });

  it('keeps body parsing, malformed bodies and 404s as they were', async () => {
    expect((await http.post('/shape/body').send({ a: 1 })).body).toEqual({ body: { a: 1 } });
    expect((await http.post('/shape/body').set('Content-Type', 'application/json').send('{"a":')).status).toBe(400);
    expect((await http.get('/shape/missing')).status).toBe(404);
  });
});

describe('stableRequestShapes', () => {
  it('refuses a value that is not a boolean at startup', async () => {
    await expect(bootApp('express', { imports: [PalisadeModule.forRoot({ stableRequestShapes: 'yes' as unknown as boolean })] })).rejects.toThrow(
      'PalisadeModule: stableRequestShapes is',
    );
  });
});

@Controller('fshape')
@Public()
class FastifyShapeController {
  @Get()
  echo(@Req() request: { raw: ExpressRequest }) {
    return { tenant: request.raw.tenant ?? null, ownAtMiddleware: request.raw.ownAtMiddleware };
  }
}

/** On Fastify, Nest middleware sees the Node.js request, which Fastify never re-parents. */
@Injectable()
class RawOwnFieldsMiddleware implements NestMiddleware {
  use(request: Record<string, unknown> & { headers: Record<string, unknown> }, _response: unknown, next: () => void): void {
    request.ownAtMiddleware = ['tenant'].filter((name) => Object.hasOwn(request, name));
    if (request.headers['x-tenant'] !== undefined) request.tenant = request.headers['x-tenant'];
    next();
  }
}

@Module({ controllers: [FastifyShapeController] })
class FastifyShapeModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(RawOwnFieldsMiddleware).forRoutes('{*path}');
  }
}

describe('stableRequestShapes on Fastify', () => {
  let app: INestApplication;
  let http: Awaited<ReturnType<typeof bootApp>>['http'];

  beforeAll(async () => {
    ({ app, http } = await bootApp('fastify', { imports: [PalisadeModule.forRoot({ stableRequestShapes: true }), FastifyShapeModule] }));
    for (let i = 0; i < 3; i++) await http.get('/fshape').set('X-Tenant', 'acme').expect(200);
  });
  afterAll(async () => {
    await app?.close();
  });

  it('is accepted and declares nothing: Fastify does not re-parent requests', async () => {
    const res = await http.get('/fshape');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ tenant: null, ownAtMiddleware: [] });
    expect((await http.get('/fshape').set('X-Tenant', 'globex')).body).toEqual({ tenant: 'globex', ownAtMiddleware: [] });
  });
});

@Controller('flags')
@Public()
class FlagController {
  /** Marks its own request, as an application's middleware or handler might. */
  @Get('admin')
  admin(@Req() request: ExpressRequest) {
    request.isAdmin = true;
    return { isAdmin: request.isAdmin };
  }

  /** Reports which fields the request has, by presence. */
  @Get('other')
  other(@Req() request: ExpressRequest) {
    return { isAdmin: 'isAdmin' in request, user: 'user' in request, ownUser: Object.hasOwn(request, 'user') };
  }
}

describe.each([
  ['by default', {}, false],
  ['with stableRequestShapes: true (the documented opt-in)', { stableRequestShapes: true }, true],
] as const)("'x' in req on Express, %s", (_case, options, declared) => {
  let app: INestApplication;
  let http: Awaited<ReturnType<typeof bootApp>>['http'];

  beforeAll(async () => {
    ({ app, http } = await bootApp('express', { imports: [PalisadeModule.forRoot({ ...options, global: true })], controllers: [FlagController] }));
  });
  afterAll(async () => {
    await app?.close();
  });

  it(`a field one route sets ${declared ? 'is declared on' : 'is unchanged by Palisade on'} later requests to another route; req.user likewise`, async () => {
    expect((await http.get('/flags/admin')).body).toEqual({ isAdmin: true });
    const res = await http.get('/flags/other');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ isAdmin: declared, user: declared, ownUser: declared });
  });
});
