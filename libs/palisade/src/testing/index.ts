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
 * @packageDocumentation
 */
import { randomUUID } from 'node:crypto';
import { Module, type DynamicModule } from '@nestjs/common';
import jwt from 'jsonwebtoken';
import { PalisadeModule } from '../palisade.module.js';
import type { PalisadeModuleOptions } from '../common/palisade-options.interface.js';
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
