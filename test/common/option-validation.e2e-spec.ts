import { createHash } from 'node:crypto';
import { Controller, Get, Injectable, type ModuleMetadata } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import {
  CurrentUser,
  PalisadeModule,
  Public,
  Roles,
  Secure,
  Throttle,
  type PalisadeModuleOptions,
  type PalisadeOptionsFactory,
  type Principal,
} from '@palisade/nest';
import { ADAPTERS, bootApp, type AdapterName } from '../support/app.js';
import { bearer, startupError } from '../support/authorization.js';
import { deleteKeysUnder, redisPrefix, REDIS_URL, requireRedis } from '../support/redis.js';
import { TEST_SECRET } from '../support/tokens.js';

// "No silent configuration": a misspelled option key, a role no declaration mentions, or a duration
// given in seconds where milliseconds are meant used to start silently with the wrong behaviour.

@Controller('me')
class MeController {
  @Get() me(@CurrentUser() user: Principal) {
    return { id: user.id, roles: user.roles };
  }

  @Get('admin') @Roles('admin') admin() {
    return { ok: true };
  }

  @Get('user') @Roles('user') user() {
    return { ok: true };
  }

  @Get('public') @Public() open() {
    return { ok: true };
  }
}

const API_KEY = 'svc-key-0123456789abcdef';
const SHA256 = createHash('sha256').update(API_KEY).digest('hex');
const validate = () => null;

/** Every documented option key, at every depth (PalisadeModuleOptions and its interfaces). */
function maximalOptions(prefix: string): PalisadeModuleOptions {
  const storage = { redis: REDIS_URL, prefix, commandTimeout: '250ms' } as const;
  return {
    auth: {
      jwt: {
        secret: TEST_SECRET,
        algorithms: ['HS256'],
        jwks: [
          {
            uri: 'http://127.0.0.1:9/jwks.json',
            issuer: 'https://id.example.com',
            audience: 'api',
            algorithms: ['RS256'],
            cacheMaxAge: '10m',
            cooldown: '30s',
            timeout: '5s',
          },
        ],
        cache: { maxEntries: 1000, maxAge: '1m' },
        issuer: undefined,
        audience: undefined,
        clockTolerance: '5s',
        maxTokenLength: 8192,
        rolesClaim: 'roles',
        scopesClaim: 'scope',
        accessTokenTtl: '15m',
      },
      apiKey: {
        header: 'x-api-key',
        keys: [{ sha256: SHA256, principal: { id: 'svc', roles: ['admin'], scopes: ['a'], claims: { team: 'x' } } }],
        validate,
        maxKeyLength: 512,
      },
      basic: { realm: 'api', validate },
      defaultSchemes: ['jwt', 'api-key', 'basic'],
      realm: 'api',
    },
    roles: { hierarchy: { admin: ['user'] }, known: ['admin', 'user'] },
    trustProxy: 'loopback',
    throttle: {
      throttlers: [{ name: 'default', limit: 100, ttl: 60_000, blockDuration: '1m' }],
      storage,
      maxMemoryKeys: 1000,
      failOpen: true,
      headers: 'both',
      authFailures: { limit: 10, ttl: '1m', blockDuration: '5m' },
    },
    tokens: { refreshTokenTtl: '7d', storage: { ...storage, mirrorRevocations: false }, failOpen: false, maxMemoryEntries: 1000 },
    events: {
      log: { maxPerSecond: 10 },
      detection: { failuresPerClient: 20, failuresPerNetwork: 100, usernamesPerClient: 10, window: '5m' },
      fingerprintKey: 'k'.repeat(32),
    },
    headers: {
      contentSecurityPolicy: { preset: 'api', directives: { 'img-src': ["'self'"] } },
      contentSecurityPolicyReportOnly: { directives: { 'report-to': 'csp' } },
      reportingEndpoints: { csp: '/csp-reports' },
      strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true, preload: true },
      xFrameOptions: { action: 'deny' },
      referrerPolicy: { policy: 'no-referrer' },
      crossOriginOpenerPolicy: { policy: 'same-origin' },
      crossOriginResourcePolicy: { policy: 'same-origin' },
      crossOriginEmbedderPolicy: { policy: 'require-corp' },
      permissionsPolicy: { features: { fullscreen: ['self'] } },
      xDnsPrefetchControl: { allow: false },
      xPermittedCrossDomainPolicies: { permittedPolicies: 'none' },
      xContentTypeOptions: true,
      originAgentCluster: true,
      xXssProtection: true,
      cacheControl: 'no-store',
      dangerouslyDisable: ['X-Download-Options'],
      paths: { '/docs': { contentSecurityPolicy: { preset: 'swagger-ui' }, xFrameOptions: { action: 'sameorigin' } } },
      dangerouslyKeepXPoweredBy: false,
    },
    https: { enforce: false, hosts: ['api.example.com'], port: 443, redirect: true, exclude: ['/health'] },
    stableRequestShapes: true,
  };
}

const withOptions = (options: unknown, controllers: ModuleMetadata['controllers'] = [MeController]): ModuleMetadata => ({
  imports: [PalisadeModule.forRoot({ ...(options as PalisadeModuleOptions), global: true })],
  controllers,
});

async function refusal(adapter: AdapterName, options: unknown, controllers?: ModuleMetadata['controllers']): Promise<string> {
  return (await startupError(adapter, withOptions(options, controllers))).message;
}

const jwt = { jwt: { secret: TEST_SECRET } };

describe.each(ADAPTERS)('option validation on %s', (adapter) => {
  it('starts with every documented option key set, at every depth, and serves requests', async (ctx) => {
    const redis = await requireRedis(ctx);
    const prefix = redisPrefix();
    ctx.onTestFinished(() => deleteKeysUnder(redis, prefix));
    const { app, http } = await bootApp(adapter, withOptions(maximalOptions(prefix)));
    try {
      const res = await http.get('/me/user').set('X-API-Key', API_KEY);
      expect(res.status).toBe(200);
      expect(res.headers['ratelimit-policy']).toBe('"default";q=100;w=60');
    } finally {
      await app.close();
    }
  });

  describe('unknown keys are refused at every depth, with the full path and the closest name', () => {
    it.each<[string, unknown, string]>([
      [
        'the top level (nothing close: the known keys are listed)',
        { jwt: { secret: TEST_SECRET } },
        'PalisadeModule: unknown option jwt. Known options: auth, roles, trustProxy, throttle, tokens, headers, https, events, stableRequestShapes.',
      ],
      [
        'roles.heirarchy',
        { roles: { heirarchy: { admin: ['user'] } } },
        'PalisadeModule: unknown option roles.heirarchy; did you mean roles.hierarchy? Known options of roles: hierarchy, known.',
      ],
      [
        'throttle.storrage',
        { throttle: { throttlers: [{ limit: 1, ttl: '1m' }], storrage: 'memory' } },
        'PalisadeModule: unknown option throttle.storrage; did you mean throttle.storage? Known options of throttle: throttlers, storage, maxMemoryKeys, maxSecurityKeys, failOpen, headers, authFailures.',
      ],
      [
        'a JWKS entry written { url, iss }',
        { auth: { jwt: { jwks: [{ url: 'https://id.example.com/jwks.json', iss: 'https://id.example.com' }] } } },
        'PalisadeModule: unknown option auth.jwt.jwks[0].url; did you mean auth.jwt.jwks[0].uri? Known options of auth.jwt.jwks[0]: uri, issuer, audience, algorithms, profile, typ, requiredClaims, allowedClients, rolesClaim, scopesClaim, cacheMaxAge, cooldown, maxBackoff, staleIfError, timeout.',
      ],
      [
        'a JWKS entry with iss for issuer',
        { auth: { jwt: { jwks: [{ uri: 'https://id.example.com/jwks.json', iss: 'https://id.example.com' }] } } },
        'PalisadeModule: unknown option auth.jwt.jwks[0].iss; did you mean auth.jwt.jwks[0].issuer? Known options of auth.jwt.jwks[0]: uri, issuer, audience, algorithms, profile, typ, requiredClaims, allowedClients, rolesClaim, scopesClaim, cacheMaxAge, cooldown, maxBackoff, staleIfError, timeout.',
      ],
      [
        'auth.jwt (a jsonwebtoken option)',
        { auth: { jwt: { secret: TEST_SECRET, expiresIn: '15m' } } },
        'PalisadeModule: unknown option auth.jwt.expiresIn. Known options of auth.jwt: secret, publicKey, privateKey, algorithms, jwks, cache, issuer, audience, clockTolerance, maxTokenLength, rolesClaim, scopesClaim, accessTokenTtl, validate.',
      ],
      [
        'auth.jwt.cache',
        { auth: { jwt: { secret: TEST_SECRET, cache: { maxEntrys: 10 } } } },
        'PalisadeModule: unknown option auth.jwt.cache.maxEntrys; did you mean auth.jwt.cache.maxEntries? Known options of auth.jwt.cache: maxEntries, maxAge.',
      ],
      [
        'an API key entry',
        { auth: { apiKey: { keys: [{ sha256: SHA256, principal: { id: 'svc', role: ['admin'] } }] } } },
        'PalisadeModule: unknown option auth.apiKey.keys[0].principal.role; did you mean auth.apiKey.keys[0].principal.roles? Known options of auth.apiKey.keys[0].principal: id, roles, scopes, claims.',
      ],
      [
        'auth.basic',
        { auth: { basic: { relm: 'api', validate } } },
        'PalisadeModule: unknown option auth.basic.relm; did you mean auth.basic.realm? Known options of auth.basic: realm, validate.',
      ],
      [
        'throttle.throttlers[i]',
        {
          throttle: {
            throttlers: [
              { limit: 1, ttl: '1m' },
              { name: 'burst', limit: 1, tll: '1s' },
            ],
          },
        },
        'PalisadeModule: unknown option throttle.throttlers[1].tll; did you mean throttle.throttlers[1].ttl? Known options of throttle.throttlers[1]: name, limit, ttl, blockDuration.',
      ],
      [
        'throttle.authFailures',
        { throttle: { throttlers: [{ limit: 1, ttl: '1m' }], authFailures: { limit: 5, ttl: '1m', block: '5m' } } },
        'PalisadeModule: unknown option throttle.authFailures.block; did you mean throttle.authFailures.blockDuration? Known options of throttle.authFailures: limit, ttl, blockDuration.',
      ],
      [
        'throttle.storage',
        { throttle: { throttlers: [{ limit: 1, ttl: '1m' }], storage: { redis: REDIS_URL, keyPrefix: 'x:' } } },
        'PalisadeModule: unknown option throttle.storage.keyPrefix; did you mean throttle.storage.prefix? Known options of throttle.storage: redis, prefix, commandTimeout.',
      ],
      [
        'tokens.storage',
        { tokens: { storage: { redis: REDIS_URL, mirrorRevocation: true } } },
        'PalisadeModule: unknown option tokens.storage.mirrorRevocation; did you mean tokens.storage.mirrorRevocations? Known options of tokens.storage: redis, prefix, commandTimeout, mirrorRevocations.',
      ],
      [
        'events.detection',
        { events: { detection: { windw: '1m' } } },
        'PalisadeModule: unknown option events.detection.windw; did you mean events.detection.window? Known options of events.detection: failuresPerClient, failuresPerNetwork, usernamesPerClient, window.',
      ],
      [
        'headers.strictTransportSecurity (case)',
        { headers: { strictTransportSecurity: { maxage: '1y' } } },
        'PalisadeModule: unknown option headers.strictTransportSecurity.maxage; did you mean headers.strictTransportSecurity.maxAge? Known options of headers.strictTransportSecurity: maxAge, includeSubDomains, preload.',
      ],
      [
        "headers.paths['/docs']",
        { headers: { paths: { '/docs': { xFrameOption: 'SAMEORIGIN' } } } },
        "PalisadeModule: unknown option headers.paths['/docs'].xFrameOption; did you mean headers.paths['/docs'].xFrameOptions? Known options of headers.paths['/docs']: contentSecurityPolicy, contentSecurityPolicyReportOnly, reportingEndpoints, strictTransportSecurity, xFrameOptions, referrerPolicy, crossOriginOpenerPolicy, crossOriginResourcePolicy, crossOriginEmbedderPolicy, permissionsPolicy, xDnsPrefetchControl, xPermittedCrossDomainPolicies, xContentTypeOptions, originAgentCluster, xDownloadOptions, xXssProtection, cacheControl, dangerouslyDisable.",
      ],
      [
        'https',
        { https: { enforce: false, host: ['api.example.com'] } },
        'PalisadeModule: unknown option https.host; did you mean https.hosts? Known options of https: enforce, hosts, port, redirect, exclude.',
      ],
    ])('%s', async (_name, options, message) => {
      expect(await refusal(adapter, options)).toBe(message);
    });
  });

  describe('@Roles names must be declared when the app declares its roles', () => {
    @Controller('reports')
    class ReportsController {
      @Get() @Roles('auditor') list() {
        return { ok: true };
      }
    }

    @Controller('secure')
    @Secure({ roles: ['analyst'] })
    class SecureController {
      @Get() read() {
        return { ok: true };
      }
    }

    it('refuses a @Roles name that roles.hierarchy mentions nowhere, naming the handler, the role and the fix', async () => {
      expect(await refusal(adapter, { auth: jwt, roles: { hierarchy: { admin: ['user'] } } }, [ReportsController])).toBe(
        "PalisadeModule: @Roles() on ReportsController.list names the role 'auditor', which roles.hierarchy mentions nowhere; add it to roles.hierarchy (as a role or as a role another implies), or list every role name in roles.known.",
      );
    });

    it('applies the same rule to @Secure({ roles }) on a controller, with a suggestion when a name is close', async () => {
      expect(await refusal(adapter, { auth: jwt, roles: { hierarchy: { admin: ['analist'] } } }, [SecureController])).toBe(
        "PalisadeModule: @Roles() on SecureController.read names the role 'analyst', which roles.hierarchy mentions nowhere (did you mean 'analist'?); add it to roles.hierarchy (as a role or as a role another implies), or list every role name in roles.known.",
      );
    });

    it('starts when every name is a key or an implied role of the hierarchy, and when roles.known lists it', async () => {
      const hierarchy = await bootApp(
        adapter,
        withOptions({ auth: jwt, roles: { hierarchy: { admin: ['user'], auditor: [] } } }, [MeController, ReportsController]),
      );
      try {
        expect((await hierarchy.http.get('/me/user').set('Authorization', bearer({ roles: ['admin'] }))).status).toBe(200);
        expect((await hierarchy.http.get('/reports').set('Authorization', bearer({ roles: ['auditor'] }))).status).toBe(200);
      } finally {
        await hierarchy.app.close();
      }
      const known = await bootApp(
        adapter,
        withOptions({ auth: jwt, roles: { hierarchy: { admin: ['user'] }, known: ['admin', 'user', 'auditor'] } }, [ReportsController]),
      );
      await known.app.close();
    });
  });

  describe('numeric durations under one second are refused (numbers are milliseconds)', () => {
    @Controller('limited')
    class LimitedController {
      @Get() @Throttle({ default: { limit: 5, ttl: 60 } }) limited() {
        return { ok: true };
      }
    }

    const tier = { limit: 5, ttl: '1m' };
    it.each<[string, unknown, string]>([
      [
        'throttle.throttlers[i].ttl',
        { throttle: { throttlers: [{ limit: 100, ttl: 60 }] } },
        "PalisadeModule: throttle.throttlers[0].ttl is 60, which is 60 ms: numeric durations in Palisade are milliseconds, as in @nestjs/throttler. For 60 seconds write 60_000 or '60s'; if 60 ms is really meant, write '60ms'.",
      ],
      [
        'throttle.throttlers[i].blockDuration',
        { throttle: { throttlers: [{ limit: 100, ttl: '1m', blockDuration: 300 }] } },
        "PalisadeModule: throttle.throttlers[0].blockDuration is 300, which is 300 ms: numeric durations in Palisade are milliseconds, as in @nestjs/throttler. For 300 seconds write 300_000 or '300s'; if 300 ms is really meant, write '300ms'.",
      ],
      [
        'throttle.authFailures.ttl',
        { throttle: { throttlers: [tier], authFailures: { limit: 10, ttl: 60 } } },
        "PalisadeModule: throttle.authFailures.ttl is 60, which is 60 ms: numeric durations in Palisade are milliseconds, as in @nestjs/throttler. For 60 seconds write 60_000 or '60s'; if 60 ms is really meant, write '60ms'.",
      ],
      [
        'auth.jwt.clockTolerance',
        { auth: { jwt: { secret: TEST_SECRET, clockTolerance: 30 } } },
        "PalisadeModule: auth.jwt.clockTolerance is 30, which is 30 ms: numeric durations in Palisade are milliseconds, as in @nestjs/throttler. For 30 seconds write 30_000 or '30s'; if 30 ms is really meant, write '30ms'.",
      ],
      [
        'auth.jwt.jwks[i].cooldown',
        { auth: { jwt: { jwks: [{ uri: 'https://id.example.com/jwks.json', issuer: 'https://id.example.com', cooldown: 30 }] } } },
        "PalisadeModule: auth.jwt.jwks[0].cooldown is 30, which is 30 ms: numeric durations in Palisade are milliseconds, as in @nestjs/throttler. For 30 seconds write 30_000 or '30s'; if 30 ms is really meant, write '30ms'.",
      ],
    ])('%s', async (_name, options, message) => {
      expect(await refusal(adapter, options)).toBe(message);
    });

    it('refuses a numeric @Throttle() ttl under one second, naming the route and the tier', async () => {
      expect(await refusal(adapter, { auth: jwt, throttle: { throttlers: [tier] } }, [LimitedController])).toBe(
        "PalisadeModule: @Throttle() default.ttl on LimitedController.limited is 60, which is 60 ms: numeric durations in Palisade are milliseconds, as in @nestjs/throttler. For 60 seconds write 60_000 or '60s'; if 60 ms is really meant, write '60ms'.",
      );
    });

    it("starts with a sub-second window written as a string ('500ms')", async () => {
      const { app, http } = await bootApp(adapter, withOptions({ auth: jwt, throttle: { throttlers: [{ limit: 1, ttl: '500ms' }] } }));
      try {
        expect((await http.get('/me/public')).headers['ratelimit-policy']).toBe('"default";q=1;w=1');
      } finally {
        await app.close();
      }
    });
  });

  describe('several mistakes at once: the first in validation order is reported, whichever capability owns it', () => {
    // Each capability validates its own options behind its own provider; the order stays the
    // documented one: the root, then auth, throttle, tokens, events, roles, trustProxy, headers, https.
    const mistakes: [key: string, value: unknown, message: RegExp][] = [
      ['bogus', 1, /^PalisadeModule: unknown option bogus\./],
      ['auth', { jwt: { secret: 'short' } }, /^PalisadeModule: auth\.jwt\.secret is 5 bytes/],
      ['throttle', { throttlers: [] }, /^PalisadeModule: throttle\.throttlers is /],
      ['tokens', 3, /^PalisadeModule: tokens is 3;/],
      ['events', 5, /^PalisadeModule: events is 5;/],
      ['roles', 4, /^PalisadeModule: roles is 4;/],
      ['trustProxy', true, /^PalisadeModule: trustProxy is true;/],
      ['headers', 3, /^PalisadeModule: headers /],
      ['https', 5, /^PalisadeModule: https is 5;/],
    ];
    const cases = mistakes.map(([key, , message], i) => [key, Object.fromEntries(mistakes.slice(i).map(([k, v]) => [k, v])), message] as const);

    it.each(cases)('reports %s first through forRoot()', async (_key, options, message) => {
      const error = await startupError(adapter, { imports: [PalisadeModule.forRoot(options as PalisadeModuleOptions)], controllers: [MeController] });
      expect(error.message).toMatch(message);
    });

    it.each(cases)('reports %s first through forRootAsync()', async (_key, options, message) => {
      const error = await startupError(adapter, {
        imports: [PalisadeModule.forRootAsync({ useFactory: async () => options as PalisadeModuleOptions })],
        controllers: [MeController],
      });
      expect(error.message).toMatch(message);
    });
  });

  describe('forRootAsync({ useClass }) with a PalisadeOptionsFactory', () => {
    @Injectable()
    class SecurityConfig implements PalisadeOptionsFactory {
      async createPalisadeOptions(): Promise<PalisadeModuleOptions> {
        return { auth: { apiKey: { keys: [{ sha256: SHA256, principal: { id: 'svc', roles: ['admin'] } }] } }, roles: { hierarchy: { admin: ['user'] } } };
      }
    }

    @Injectable()
    class MisspelledConfig implements PalisadeOptionsFactory {
      createPalisadeOptions(): PalisadeModuleOptions {
        return { roles: { heirarchy: { admin: ['user'] } } as PalisadeModuleOptions['roles'] };
      }
    }

    it('boots with the options the class builds and enforces them', async () => {
      const { app, http } = await bootApp(adapter, {
        imports: [PalisadeModule.forRootAsync({ useClass: SecurityConfig, global: true })],
        controllers: [MeController],
      });
      try {
        expect((await http.get('/me/user').set('X-API-Key', API_KEY)).body).toEqual({ ok: true });
        expect((await http.get('/me/user')).status).toBe(401);
      } finally {
        await app.close();
      }
    });

    it('validates the options the class builds like those of forRoot()', async () => {
      const error = await startupError(adapter, {
        imports: [PalisadeModule.forRootAsync({ useClass: MisspelledConfig, global: true })],
        controllers: [MeController],
      });
      expect(error.message).toBe('PalisadeModule: unknown option roles.heirarchy; did you mean roles.hierarchy? Known options of roles: hierarchy, known.');
    });
  });
});
