/**
 * The OpenAPI document of `@palisade/nest/openapi`: every route's `security` and error responses
 * come from what Palisade enforces (issue 17), on both adapters; the document validates against
 * the OpenAPI 3.1 schema, and hand-written swagger decorators keep the last word.
 */
import { Controller, Get, Injectable, Post, UseGuards, type DynamicModule, type INestApplication } from '@nestjs/common';
import { ApiBearerAuth, ApiResponse, ApiSecurity, DocumentBuilder, SwaggerModule, type OpenAPIObject, type OperationObject } from '@nestjs/swagger';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Auth,
  AuthGuard,
  PalisadeModule,
  Policy,
  Public,
  Roles,
  Scopes,
  Secure,
  SkipThrottle,
  Throttle,
  type PolicyContext,
  type PolicyHandler,
} from '@palisade/nest';
import { createPalisadeDocument, type PalisadeDocumentOptions } from '@palisade/nest/openapi';
import { ADAPTERS, bootApp, type AdapterName } from '../support/app.js';
import { CHALLENGE } from '../support/auth.js';
import { deleteKeysUnder, redisPrefix, REDIS_URL, requireRedis } from '../support/redis.js';
import { TEST_SECRET } from '../support/tokens.js';

const ok = { ok: true } as const;

@Injectable()
class OwnsThing implements PolicyHandler {
  can(context: PolicyContext): boolean {
    return context.principal.id === 'owner';
  }
}

@Controller('t')
class TableController {
  @Get('default') plain() {
    return ok;
  }

  @Get('public') @Public() open() {
    return ok;
  }

  @Get('api-key') @Auth('api-key') apiKeyOnly() {
    return ok;
  }

  @Get('optional') @Auth({ optional: true }) optional() {
    return ok;
  }

  @Get('roles') @Roles('admin') admin() {
    return ok;
  }

  @Get('scopes') @Scopes('reports:read') reports() {
    return ok;
  }

  @Get('policy') @Policy(OwnsThing) owned() {
    return ok;
  }

  @Post('secure') @Secure({ auth: ['jwt'], roles: ['admin'], scopes: ['reports:write'], throttle: { default: { limit: 5, ttl: '1m' } } }) secure() {
    return ok;
  }

  @Get('throttled') @Throttle({ default: { limit: 5, ttl: '1m' } }) throttled() {
    return ok;
  }

  @Get('unthrottled') @SkipThrottle() unthrottled() {
    return ok;
  }

  @Get('hand-401') @ApiResponse({ status: 401, description: 'Hand-written 401' }) handWritten401() {
    return ok;
  }

  @Get('hand-security') @ApiSecurity('api_key') handWrittenSecurity() {
    return ok;
  }
}

@Controller('acc')
@Roles('staff')
@Scopes('a')
class AccumulationController {
  @Get() @Roles('admin') @Scopes('b') both() {
    return ok;
  }
}

@Controller('bearer-class')
@ApiBearerAuth()
class BearerClassController {
  @Get('public') @Public() open() {
    return ok;
  }

  @Get('private') closed() {
    return ok;
  }
}

const CONTROLLERS = [TableController, AccumulationController, BearerClassController];

const ALL_SCHEMES = `${CHALLENGE.bearer}, ${CHALLENGE.apiKey}, ${CHALLENGE.basic}`;
const DEFAULT_POLICY = '"default";q=100;w=60';
const STRICT_POLICY = '"default";q=5;w=60';
const ISSUER = 'https://id.example.com';

const DOCUMENT_OPTIONS: PalisadeDocumentOptions = { tokenUrl: '/auth/token', openIdConnect: true };
const config = (): Omit<OpenAPIObject, 'paths'> => new DocumentBuilder().setTitle('Palisade test').setVersion('1').setOpenAPIVersion('3.1.0').build();

function tableModule() {
  return {
    imports: [
      PalisadeModule.forRoot({
        auth: {
          jwt: { secret: TEST_SECRET, issuer: ISSUER, audience: 'api', jwks: [{ uri: `${ISSUER}/.well-known/jwks.json` }] },
          apiKey: { validate: () => null },
          basic: { validate: () => null },
        },
        throttle: { throttlers: [{ name: 'default', limit: 100, ttl: '1m' }], authFailures: false },
        global: true,
      }),
    ],
    controllers: CONTROLLERS,
    providers: [OwnsThing],
  };
}

/** The operation at `method path`, failing the test when the document lacks it. */
function operation(document: OpenAPIObject, method: 'get' | 'post', path: string): OperationObject {
  const found = (document.paths[path] as Record<string, OperationObject | undefined> | undefined)?.[method];
  if (!found) throw new Error(`the document has no ${method.toUpperCase()} ${path}`);
  return found;
}

const bearer = (scopes: string[] = []) => ({ bearer: scopes });
const oauth2 = (scopes: string[] = []) => ({ oauth2: scopes });
const oidc = (scopes: string[] = []) => ({ 'oidc-id.example.com': scopes });
const JWT = (scopes: string[] = []) => [bearer(scopes), oauth2(scopes), oidc(scopes)];
const API_KEY = { api_key: [] };
const BASIC = { basic: [] };

interface Row {
  readonly name: string;
  readonly method?: 'get' | 'post';
  readonly path: string;
  readonly security: unknown;
  readonly responses: readonly string[];
  /** `WWW-Authenticate` example of the 401; default: every configured scheme's. */
  readonly challenge?: string;
  /** `RateLimit-Policy` example of the 429; default: the configured tier's. */
  readonly policy?: string;
  readonly roles?: unknown;
  readonly policies?: unknown;
  readonly access?: string;
}

const ROWS: readonly Row[] = [
  {
    name: 'no decorator under global guards: every configured scheme, 401 and 429',
    path: '/t/default',
    security: [...JWT(), API_KEY, BASIC],
    responses: ['200', '401', '429'],
    challenge: ALL_SCHEMES,
    policy: DEFAULT_POLICY,
  },
  { name: '@Public(): security [] and no 401', path: '/t/public', security: [], responses: ['200', '429'], policy: DEFAULT_POLICY },
  { name: "@Auth('api-key'): the API key alone", path: '/t/api-key', security: [API_KEY], responses: ['200', '401', '429'], challenge: CHALLENGE.apiKey },
  {
    name: '@Auth({ optional: true }): an extra empty alternative',
    path: '/t/optional',
    security: [...JWT(), API_KEY, BASIC, {}],
    responses: ['200', '401', '429'],
    challenge: ALL_SCHEMES,
  },
  {
    name: "@Roles('admin'): 403, x-palisade-roles and the access line",
    path: '/t/roles',
    security: [...JWT(), API_KEY, BASIC],
    responses: ['200', '401', '403', '429'],
    roles: [['admin']],
    access: '**Access:** role `admin`.',
  },
  {
    name: "@Scopes('reports:read'): scopes on the bearer, OAuth 2.0 and OpenID Connect entries only",
    path: '/t/scopes',
    security: [...JWT(['reports:read']), API_KEY, BASIC],
    responses: ['200', '401', '403', '429'],
    access: '**Access:** scope `reports:read`.',
  },
  {
    name: '@Policy(OwnsThing): 403 and x-palisade-policies',
    path: '/t/policy',
    security: [...JWT(), API_KEY, BASIC],
    responses: ['200', '401', '403', '429'],
    policies: ['OwnsThing'],
    access: '**Access:** policy `OwnsThing`.',
  },
  {
    name: '@Secure({ auth, roles, scopes, throttle }): all of it, the route limit in RateLimit-Policy',
    method: 'post',
    path: '/t/secure',
    security: JWT(['reports:write']),
    responses: ['201', '401', '403', '429'],
    challenge: CHALLENGE.bearer,
    policy: STRICT_POLICY,
    roles: [['admin']],
    access: '**Access:** role `admin`; scope `reports:write`.',
  },
  { name: '@Throttle(): the route limit', path: '/t/throttled', security: [...JWT(), API_KEY, BASIC], responses: ['200', '401', '429'], policy: STRICT_POLICY },
  { name: '@SkipThrottle(): no 429', path: '/t/unthrottled', security: [...JWT(), API_KEY, BASIC], responses: ['200', '401'] },
  {
    name: 'class + handler accumulation: both role groups, the union of scopes',
    path: '/acc',
    security: [...JWT(['a', 'b']), API_KEY, BASIC],
    responses: ['200', '401', '403', '429'],
    roles: [['staff'], ['admin']],
    access: '**Access:** role `staff`, and role `admin`; scopes `a`, `b`.',
  },
  {
    name: 'hand-written @ApiBearerAuth() on the class, @Public() route: security [] wins',
    path: '/bearer-class/public',
    security: [],
    responses: ['200', '429'],
  },
  {
    name: 'hand-written @ApiBearerAuth() on the class, other route: the hand-written requirement is kept',
    path: '/bearer-class/private',
    security: [bearer()],
    responses: ['200', '401', '429'],
  },
  { name: 'hand-written @ApiSecurity() on the handler: kept', path: '/t/hand-security', security: [API_KEY], responses: ['200', '401', '429'] },
];

/** A module with the JWT scheme and global guards over `controllers`. */
function jwtModule(controllers: (new () => unknown)[]): { imports: DynamicModule[]; controllers: (new () => unknown)[] } {
  return { imports: [PalisadeModule.forRoot({ auth: { jwt: { secret: TEST_SECRET } }, global: true })], controllers };
}

describe.each(ADAPTERS)('OpenAPI document from Palisade requirements on %s', (adapter: AdapterName) => {
  let app: INestApplication;
  let http: Awaited<ReturnType<typeof bootApp>>['http'];
  let document: OpenAPIObject;

  beforeAll(async () => {
    ({ app, http } = await bootApp(adapter, tableModule(), false, (created) => {
      SwaggerModule.setup('docs', created, () => createPalisadeDocument(created, config(), DOCUMENT_OPTIONS));
    }));
    document = createPalisadeDocument(app, config(), DOCUMENT_OPTIONS);
  });
  afterAll(async () => {
    await app?.close();
  });

  it('validates against the OpenAPI 3.1 schema', async () => {
    const result = await new Validator().validate(document as unknown as Record<string, unknown>);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
  });

  it.each(ROWS)('$name', (row) => {
    const op = operation(document, row.method ?? 'get', row.path);
    const extensions = op as OperationObject & Record<string, unknown>;
    const responses = op.responses as Record<string, { headers?: Record<string, { schema?: { example?: string } }>; content?: unknown }>;
    const has = (status: string): boolean => row.responses.includes(status);
    const errorStatuses = row.responses.filter((s) => ['401', '403', '429', '503'].includes(s));
    expect({
      security: op.security,
      responses: Object.keys(op.responses).sort(),
      roles: extensions['x-palisade-roles'],
      policies: extensions['x-palisade-policies'],
      description: op.description,
      challenge: responses['401']?.headers?.['WWW-Authenticate']?.schema?.example,
      rateLimitHeaders: Object.keys(responses['429']?.headers ?? {}),
      policy: responses['429']?.headers?.['RateLimit-Policy']?.schema?.example,
      successHeaders: Object.keys(responses[row.method === 'post' ? '201' : '200']?.headers ?? {}),
      errorBodies: errorStatuses.map((s) => responses[s]?.content),
    }).toEqual({
      security: row.security,
      responses: [...row.responses].sort(),
      roles: row.roles,
      policies: row.policies,
      description: row.access,
      challenge: has('401') ? (row.challenge ?? ALL_SCHEMES) : undefined,
      // The table app counts no failed authentications: every 429 comes from a tier.
      rateLimitHeaders: has('429') ? ['Retry-After', 'RateLimit-Policy', 'RateLimit'] : [],
      policy: has('429') ? (row.policy ?? DEFAULT_POLICY) : undefined,
      // A request the limiter let through carries the quota headers too.
      successHeaders: has('429') ? ['RateLimit-Policy', 'RateLimit'] : [],
      errorBodies: errorStatuses.map(() => ({ 'application/json': { schema: { $ref: '#/components/schemas/PalisadeError' } } })),
    });
  });

  it('keeps a hand-written @ApiResponse({ status: 401 }) and still adds what it lacks', () => {
    const op = operation(document, 'get', '/t/hand-401');
    expect(op.responses['401']).toEqual({ description: 'Hand-written 401' });
    expect(op.security).toEqual([...JWT(), API_KEY, BASIC]);
    // An @ApiResponse replaces @nestjs/swagger's default 200; the 429 is still Palisade's.
    expect(Object.keys(op.responses).sort()).toEqual(['401', '429']);
  });

  it('declares the security schemes from the configuration, the OAuth 2.0 scopes from every @Scopes', () => {
    const schemes = document.components?.securitySchemes ?? {};
    expect(schemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    expect(schemes.api_key).toMatchObject({ type: 'apiKey', in: 'header', name: 'x-api-key' });
    expect(schemes.basic).toMatchObject({ type: 'http', scheme: 'basic' });
    expect(schemes['oidc-id.example.com']).toMatchObject({ type: 'openIdConnect', openIdConnectUrl: `${ISSUER}/.well-known/openid-configuration` });
    const flows = (schemes.oauth2 as { type: string; flows: { password: { tokenUrl: string; scopes: Record<string, string> } } }).flows;
    expect(flows.password.tokenUrl).toBe('/auth/token');
    expect(Object.keys(flows.password.scopes).sort()).toEqual(['a', 'b', 'reports:read', 'reports:write']);
    expect(flows.password.scopes['reports:read']).toBe('Required by GET /t/scopes.');
    expect(document.components?.schemas?.PalisadeError).toMatchObject({ type: 'object', required: ['statusCode', 'error', 'message'] });
  });

  it("keeps the operation ids @nestjs/swagger's default factory gives", () => {
    expect(operation(document, 'get', '/t/default').operationId).toBe('TableController_plain');
    expect(operation(document, 'post', '/t/secure').operationId).toBe('TableController_secure');
    expect(JSON.stringify(document)).not.toContain('#palisade-operation-');
  });

  it('uses a custom operationIdFactory for the ids', () => {
    const custom = createPalisadeDocument(app, config(), { swagger: { operationIdFactory: (controller, method) => `${method}Of${controller}` } });
    expect(operation(custom, 'get', '/t/roles').operationId).toBe('adminOfTableController');
    expect(operation(custom, 'get', '/t/roles').security).toEqual([bearer(), API_KEY, BASIC]);
  });

  it('lists scopes on OAuth 2.0 entries only in an OpenAPI 3.0 document (3.0 wants [] for other types)', async () => {
    const v30 = createPalisadeDocument(app, new DocumentBuilder().setTitle('3.0').build(), { tokenUrl: '/auth/token' });
    expect(v30.openapi).toBe('3.0.0');
    expect(operation(v30, 'get', '/t/scopes').security).toEqual([bearer(), oauth2(['reports:read']), API_KEY, BASIC]);
    expect((await new Validator().validate(v30 as unknown as Record<string, unknown>)).valid).toBe(true);
  });

  it('serves the same document at /docs-json and Swagger UI at /docs (SwaggerModule.setup with a factory)', async () => {
    const json = await http.get('/docs-json');
    expect(json.status).toBe(200);
    expect(json.body).toEqual(JSON.parse(JSON.stringify(document)));
    const ui = await http.get('/docs');
    expect(ui.status).toBe(200);
    expect(ui.text).toContain('swagger-ui-init.js');
  });

  it('refuses an unknown option, naming it', () => {
    expect(() => createPalisadeDocument(app, config(), { tokenURL: '/auth/token' } as PalisadeDocumentOptions)).toThrow(
      'createPalisadeDocument: unknown option tokenURL; did you mean tokenUrl?',
    );
  });

  it('refuses an openIdConnect issuer that no JWKS entry expects', () => {
    expect(() =>
      createPalisadeDocument(app, config(), { openIdConnect: { 'https://other.example.com': 'https://other.example.com/.well-known/openid-configuration' } }),
    ).toThrow("createPalisadeDocument: openIdConnect names the issuer 'https://other.example.com', which no auth.jwt.jwks entry expects");
  });
});

describe.each(ADAPTERS)('OpenAPI document before startup, without global guards, with Redis stores on %s', (adapter: AdapterName) => {
  it('refuses to document an application that has not started, pointing at the factory form', async () => {
    const moduleRef = await Test.createTestingModule(tableModule()).compile();
    const created = moduleRef.createNestApplication(adapter === 'fastify' ? new FastifyAdapter() : new ExpressAdapter(), { logger: false });
    try {
      expect(() => createPalisadeDocument(created, config())).toThrow(
        /has not started yet.*SwaggerModule\.setup\('docs', app, \(\) => createPalisadeDocument\(app, config\)\)/,
      );
    } finally {
      await created.close();
    }
  });

  it('leaves a route no Palisade guard protects as it is, and documents one under @UseGuards(AuthGuard)', async () => {
    @Controller('plain')
    class PlainController {
      @Get('unguarded') unguarded() {
        return ok;
      }

      @Get('guarded') @UseGuards(AuthGuard) guarded() {
        return ok;
      }
    }
    const { app } = await bootApp(adapter, { imports: [PalisadeModule.forRoot({ auth: { jwt: { secret: TEST_SECRET } } })], controllers: [PlainController] });
    try {
      const document = createPalisadeDocument(app, config());
      expect(operation(document, 'get', '/plain/unguarded').security).toBeUndefined();
      expect(Object.keys(operation(document, 'get', '/plain/unguarded').responses)).toEqual(['200']);
      expect(operation(document, 'get', '/plain/guarded').security).toEqual([bearer()]);
      expect(Object.keys(operation(document, 'get', '/plain/guarded').responses).sort()).toEqual(['200', '401']);
    } finally {
      await app.close();
    }
  });

  it('refuses two same-named controllers whose same-named methods differ in requirements, and documents them when they agree', async () => {
    const First = (() => {
      @Controller('dup-a')
      class DupController {
        @Get() list() {
          return ok;
        }
      }
      return DupController;
    })();
    const Second = (() => {
      @Controller('dup-b')
      class DupController {
        @Get() @Roles('admin') list() {
          return ok;
        }
      }
      return DupController;
    })();
    const Agreeing = (() => {
      @Controller('dup-c')
      class DupController {
        @Get() list() {
          return ok;
        }
      }
      return DupController;
    })();
    const differing = await bootApp(adapter, jwtModule([First, Second]));
    try {
      expect(() => createPalisadeDocument(differing.app, config())).toThrow(
        'createPalisadeDocument: DupController.list and DupController.list are different controllers with the same name and different requirements',
      );
    } finally {
      await differing.app.close();
    }
    const agreeing = await bootApp(adapter, jwtModule([First, Agreeing]));
    try {
      const document = createPalisadeDocument(agreeing.app, config());
      expect(operation(document, 'get', '/dup-a').security).toEqual([bearer()]);
      expect(operation(document, 'get', '/dup-c').security).toEqual([bearer()]);
    } finally {
      await agreeing.app.close();
    }
  });

  it("documents the legacy X-RateLimit-* headers per tier with throttle.headers: 'both'", async () => {
    const { app } = await bootApp(adapter, {
      imports: [
        PalisadeModule.forRoot({
          auth: { jwt: { secret: TEST_SECRET } },
          throttle: {
            throttlers: [
              { name: 'default', limit: 100, ttl: '1m' },
              { name: 'burst', limit: 10, ttl: '1s' },
            ],
            headers: 'both',
            authFailures: false,
          },
          global: true,
        }),
      ],
      controllers: [AccumulationController],
    });
    try {
      const op = operation(createPalisadeDocument(app, config()), 'get', '/acc');
      const quota = ['RateLimit-Policy', 'RateLimit', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset'];
      const burst = ['X-RateLimit-Limit-burst', 'X-RateLimit-Remaining-burst', 'X-RateLimit-Reset-burst'];
      const headersOf = (status: string) => Object.keys((op.responses[status] as { headers?: object } | undefined)?.headers ?? {});
      expect(headersOf('429')).toEqual(['Retry-After', ...quota, ...burst]);
      expect(headersOf('200')).toEqual([...quota, ...burst]);
    } finally {
      await app.close();
    }
  });

  it('documents 503 where a Redis store fails closed, and 429 for counted failed authentications', async (ctx) => {
    const redis = await requireRedis(ctx);
    const prefix = redisPrefix();
    const { app } = await bootApp(adapter, {
      imports: [
        PalisadeModule.forRoot({
          auth: { jwt: { secret: TEST_SECRET }, apiKey: { validate: () => null } },
          throttle: { throttlers: [{ name: 'default', limit: 100, ttl: '1m' }], storage: { redis: REDIS_URL, prefix: `${prefix}th:` }, failOpen: false },
          tokens: { storage: { redis: REDIS_URL, prefix: `${prefix}tk:` } },
          global: true,
        }),
      ],
      controllers: CONTROLLERS,
      providers: [OwnsThing],
    });
    try {
      const document = createPalisadeDocument(app, config());
      expect((await new Validator().validate(document as unknown as Record<string, unknown>)).valid).toBe(true);
      const responses = (path: string) =>
        operation(document, 'get', path).responses as Record<string, { description: string; headers?: Record<string, unknown> }>;
      // JWT accepted: both stores can refuse; API key only: the rate-limit store alone.
      expect(responses('/t/default')['503']?.description).toBe(
        'Temporarily unavailable: the rate-limit store (Redis) cannot answer and throttling fails closed; or the token store (Redis) cannot answer and revocation checks fail closed.',
      );
      expect(Object.keys(responses('/t/default')['503']?.headers ?? {})).toEqual(['Retry-After']);
      expect(responses('/t/api-key')['503']?.description).toBe(
        'Temporarily unavailable: the rate-limit store (Redis) cannot answer and throttling fails closed.',
      );
      // A public route: throttled (429, and 503 from the rate-limit store) but never a 401.
      expect(Object.keys(responses('/t/public')).sort()).toEqual(['200', '429', '503']);
      // Failed authentications are counted (authFailures on by default): 429 even without a tier.
      expect(responses('/t/unthrottled')['429']?.description).toBe('Too many requests: too many failed authentications from this address.');
      expect(Object.keys(responses('/t/unthrottled')['429']?.headers ?? {})).toEqual(['Retry-After']);
    } finally {
      await app.close();
      await deleteKeysUnder(redis, prefix);
    }
  });
});
