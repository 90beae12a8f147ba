/**
 * `@palisade/nest/testing`: mint tokens and boot Palisade with known keys, so an application can
 * test its own protected routes in a few lines.
 *
 * @example
 * const moduleRef = await Test.createTestingModule({
 *   imports: [PalisadeTestingModule.forRoot({ global: true })],
 *   controllers: [OrdersController],
 * }).compile();
 * const token = mintTestToken({ id: 'alice', roles: ['admin'], scopes: ['orders:read'] });
 * await request(app.getHttpServer()).get('/orders').set('Authorization', `Bearer ${token}`).expect(200);
 *
 * @example
 * // The application's own configuration (role hierarchy, throttling, headers), with test keys:
 * const moduleRef = await overridePalisadeOptions(Test.createTestingModule({ imports: [AppModule] })).compile();
 * @packageDocumentation
 */
import { randomUUID } from 'node:crypto';
import { Module, type DynamicModule } from '@nestjs/common';
import jwt from 'jsonwebtoken';
import { PalisadeModule } from '../palisade.module.js';
import type { PalisadeModuleOptions } from '../palisade-options.interface.js';
import { PALISADE_MODULE_OPTIONS } from '../palisade.constants.js';
import { MODULE_OPTIONS_TOKEN } from '../palisade.module-definition.js';
import { validateModuleOptions } from '../palisade-options.normalizer.js';
import type { PrincipalInit } from '../auth/principal.interface.js';
import { parseDuration, type Duration } from '../common/duration.js';

/** The HS256 secret `PalisadeTestingModule` and `mintTestToken` share. For tests only. */
export const TEST_JWT_SECRET = 'palisade-testing-secret-do-not-use-in-production-0123456789';
/** The issuer and audience of test tokens. */
export const TEST_JWT_ISSUER = 'palisade-test';
/** The audience of test tokens. */
export const TEST_JWT_AUDIENCE = 'palisade-test';

/** Options of {@link mintTestToken}. */
export interface MintTestTokenOptions {
  /** Lifetime, ms or duration; negative values mint an already expired token. Default `'5m'`. */
  ttl?: Duration | number;
  /** Extra or overriding claims (e.g. `{ aud: 'other' }` to test a rejection). */
  claims?: Record<string, unknown>;
  /** Signing secret. Default {@link TEST_JWT_SECRET}. */
  secret?: string;
}

/**
 * Signs an HS256 access token for `principal` that `PalisadeTestingModule` accepts (`sub`, `roles`,
 * `scope`, `iss`, `aud`, `iat`, `exp`, `jti`).
 */
export function mintTestToken(principal: PrincipalInit, options: MintTestTokenOptions = {}): string {
  const now = Math.floor(Date.now() / 1000);
  const ttl = options.ttl ?? '5m';
  const ttlSeconds = typeof ttl === 'number' ? Math.trunc(ttl / 1000) : Math.trunc(parseDuration(ttl, 'ttl') / 1000);
  const payload = {
    sub: principal.id,
    roles: [...(principal.roles ?? [])],
    scope: (principal.scopes ?? []).join(' '),
    iss: TEST_JWT_ISSUER,
    aud: TEST_JWT_AUDIENCE,
    iat: now,
    exp: now + ttlSeconds,
    jti: randomUUID(),
    ...options.claims,
  };
  return jwt.sign(payload, options.secret ?? TEST_JWT_SECRET, { algorithm: 'HS256' });
}

/** Palisade configured for tests: the JWT scheme with the test secret, issuer and audience. */
@Module({})
export class PalisadeTestingModule {
  /**
   * `PalisadeModule.forRoot` with the test JWT settings merged under `options` (your `auth.apiKey`,
   * `roles`, `throttle`… are kept).
   */
  static forRoot(options: PalisadeModuleOptions & { global?: boolean } = {}): DynamicModule {
    const { auth, ...rest } = options;
    return PalisadeModule.forRoot({
      ...rest,
      auth: { ...auth, jwt: { secret: TEST_JWT_SECRET, issuer: TEST_JWT_ISSUER, audience: TEST_JWT_AUDIENCE, ...auth?.jwt } },
    });
  }
}

/** How {@link testOptions} turns an application's options into test options. */
export interface TestOptionsOverrides {
  /**
   * Keep the application's shared storage (Redis) for throttling and tokens. Default `false`: the
   * test runs on the in-memory stores, so it needs no Redis and starts from empty counters.
   */
  keepStorage?: boolean;
  /**
   * Keep the application's JWKS issuers. Default `false`: tests cannot reach an identity provider,
   * and {@link mintTestToken} signs with the test secret.
   */
  keepJwks?: boolean;
  /** Last changes to the test options (e.g. a lower throttle limit). */
  options?: (options: PalisadeModuleOptions) => PalisadeModuleOptions;
}

/**
 * The application's own Palisade options made testable: the JWT scheme verifies (and
 * `TokenService` signs) with {@link TEST_JWT_SECRET}, issuer and audience, so {@link mintTestToken}
 * tokens are accepted; everything else — the role hierarchy, API keys, Basic, default schemes,
 * throttle tiers, headers — stays as the application configured it. Redis storage becomes memory
 * unless `keepStorage`.
 */
export function testOptions(options: PalisadeModuleOptions, overrides: TestOptionsOverrides = {}): PalisadeModuleOptions {
  const { auth, throttle, tokens } = options;
  const jwt = auth?.jwt ?? {};
  const { secret: _secret, publicKey: _publicKey, privateKey: _privateKey, algorithms: _algorithms, jwks, ...keptJwt } = jwt;
  const result: PalisadeModuleOptions = {
    ...options,
    auth: {
      ...auth,
      jwt: {
        ...keptJwt,
        ...(overrides.keepJwks && jwks ? { jwks } : {}),
        secret: TEST_JWT_SECRET,
        issuer: TEST_JWT_ISSUER,
        audience: TEST_JWT_AUDIENCE,
      },
    },
    ...(throttle && !overrides.keepStorage ? { throttle: { ...throttle, storage: 'memory' as const } } : {}),
    ...(tokens && !overrides.keepStorage ? { tokens: { ...tokens, storage: 'memory' as const } } : {}),
  };
  return overrides.options ? overrides.options(result) : result;
}

/** What {@link overridePalisadeOptions} needs of `Test.createTestingModule(...)`'s builder. */
export interface ProviderOverridingBuilder<TBuilder> {
  overrideProvider(token: unknown): { useFactory(options: { factory: (...args: never[]) => unknown; inject?: unknown[] }): TBuilder };
}

/**
 * Runs the application's real module (its `PalisadeModule.forRoot` / `forRootAsync` configuration,
 * hierarchy and all) with test options ({@link testOptions}): the one line to add to a testing
 * module built from `AppModule`.
 *
 * @example
 * const moduleRef = await overridePalisadeOptions(Test.createTestingModule({ imports: [AppModule] })).compile();
 * const app = moduleRef.createNestApplication();
 * await app.init();
 * const token = mintTestToken({ id: 'alice', roles: ['admin'] }); // the app's hierarchy applies
 */
export function overridePalisadeOptions<TBuilder>(builder: ProviderOverridingBuilder<TBuilder>, overrides: TestOptionsOverrides = {}): TBuilder {
  // Every capability's options are derived from this token, so each one sees the test options.
  return builder.overrideProvider(PALISADE_MODULE_OPTIONS).useFactory({
    factory: ((options: PalisadeModuleOptions) => validateModuleOptions(testOptions(options ?? {}, overrides))) as (...args: never[]) => unknown,
    inject: [MODULE_OPTIONS_TOKEN],
  });
}
