/**
 * `@palisade/nest/testing` used the way an application's own test would: a protected route, a
 * minted token, three assertions. Imported through the package's public entry point.
 */
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CurrentUser, PalisadeModule, Roles, TokenService, type Principal } from '@palisade/nest';
import {
  mintTestToken,
  overridePalisadeOptions,
  PalisadeTestingModule,
  TEST_JWT_AUDIENCE,
  TEST_JWT_ISSUER,
  TEST_JWT_SECRET,
  testOptions,
} from '@palisade/nest/testing';
import { ADAPTERS } from '../support/app.js';
import { useApp } from '../support/auth.js';

/** The application's controller under test. */
@Controller('orders')
class OrdersController {
  @Get() @Roles('clerk') list(@CurrentUser() user: Principal) {
    return { orders: [], for: user.id };
  }
}

describe.each(ADAPTERS)('@palisade/nest/testing in a user-style test on %s', (adapter) => {
  const booted = useApp(adapter, () => ({ imports: [PalisadeTestingModule.forRoot({ global: true })], controllers: [OrdersController] }));
  const getOrders = (token: string) => booted.http.get('/orders').set('Authorization', `Bearer ${token}`);

  it('a minted token with the role → 200', async () => {
    const res = await getOrders(mintTestToken({ id: 'alice', roles: ['clerk'] }));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ orders: [], for: 'alice' });
  });

  it('without the role → 403', async () => {
    expect((await getOrders(mintTestToken({ id: 'bob', roles: ['guest'] }))).status).toBe(403);
  });

  it("expired (ttl: -1000) → 401 'The access token expired'", async () => {
    const res = await getOrders(mintTestToken({ id: 'alice', roles: ['clerk'] }, { ttl: -1000 }));
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ message: 'The access token expired' });
  });
});

describe.each(ADAPTERS)('@palisade/nest/testing keeps the application’s own options, on %s', (adapter) => {
  const booted = useApp(adapter, () => ({
    imports: [PalisadeTestingModule.forRoot({ roles: { hierarchy: { manager: ['clerk'] } }, global: true })],
    controllers: [OrdersController],
  }));

  it('a role that inherits the required one → 200; a token signed with another secret → 401', async () => {
    const manager = mintTestToken({ id: 'carol', roles: ['manager'] });
    expect((await booted.http.get('/orders').set('Authorization', `Bearer ${manager}`)).status).toBe(200);
    const forged = mintTestToken({ id: 'carol', roles: ['clerk'] }, { secret: 'not-the-testing-secret-0123456789abcdef-0123' });
    expect((await booted.http.get('/orders').set('Authorization', `Bearer ${forged}`)).status).toBe(401);
  });
});

/** The application's own root module, as a real app writes it: its key, issuer, hierarchy and Redis storage. */
const APP_SECRET = 'the-applications-production-secret-0123456789abcdef';

@Module({
  imports: [
    PalisadeModule.forRootAsync({
      useFactory: () => ({
        auth: { jwt: { secret: APP_SECRET, issuer: 'https://id.example.com', audience: 'orders-api' } },
        roles: { hierarchy: { manager: ['clerk'] } },
        // Unreachable on purpose: the test runs on memory stores.
        throttle: { throttlers: [{ name: 'default', limit: 2, ttl: '1m' }], storage: { redis: 'redis://127.0.0.1:1' } },
      }),
      global: true,
    }),
  ],
  controllers: [OrdersController],
})
class AppModule {}

describe.each(ADAPTERS)('overridePalisadeOptions: the application’s real module with test keys, on %s', (adapter) => {
  let app: INestApplication;
  let http: ReturnType<typeof request>;

  beforeAll(async () => {
    const moduleRef = await overridePalisadeOptions(Test.createTestingModule({ imports: [AppModule] })).compile();
    app = moduleRef.createNestApplication(adapter === 'fastify' ? new FastifyAdapter() : new ExpressAdapter(), { logger: false });
    await app.init();
    if (adapter === 'fastify') await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
    http = request(app.getHttpServer());
  });
  afterAll(() => app.close());

  it('the app’s hierarchy applies to minted tokens (a manager reaches a clerk route); its throttle tiers too, on memory', async () => {
    const manager = mintTestToken({ id: 'carol', roles: ['manager'] });
    const first = await http.get('/orders').set('Authorization', `Bearer ${manager}`);
    expect({ status: first.status, body: first.body as unknown }).toEqual({ status: 200, body: { orders: [], for: 'carol' } });
    expect((await http.get('/orders').set('Authorization', `Bearer ${manager}`)).status).toBe(200);
    // limit 2 per minute, counted in memory (the app's Redis URL is unreachable and unused).
    expect((await http.get('/orders').set('Authorization', `Bearer ${manager}`)).status).toBe(429);
  });

  it('a token of the application’s real key and issuer is refused: the test key replaced it', async () => {
    const real = jwt.sign({ sub: 'carol', roles: ['manager'], iss: 'https://id.example.com', aud: 'orders-api', jti: 'j1' }, APP_SECRET, {
      algorithm: 'HS256',
      expiresIn: 300,
    });
    expect((await http.get('/orders').set('Authorization', `Bearer ${real}`)).status).toBe(401);
  });

  it('TokenService of the app signs tokens the app accepts (the test key, the test issuer)', async () => {
    const { accessToken } = app.get(TokenService).issueAccessToken({ id: 'dave', roles: ['clerk'] });
    expect((await http.get('/orders').set('Authorization', `Bearer ${accessToken}`)).status).toBe(200);
  });
});

describe('testOptions', () => {
  it('keeps everything but the JWT key material and the shared storage', () => {
    const options = testOptions({
      auth: {
        jwt: { secret: APP_SECRET, rolesClaim: 'realm_access.roles', jwks: [{ uri: 'https://id.example.com/jwks', issuer: 'x' }] },
        basic: { validate: () => null },
      },
      roles: { hierarchy: { a: ['b'] } },
      tokens: { storage: { redis: 'redis://127.0.0.1:1' } },
    });
    expect(options.auth?.jwt).toEqual({ rolesClaim: 'realm_access.roles', secret: TEST_JWT_SECRET, issuer: TEST_JWT_ISSUER, audience: TEST_JWT_AUDIENCE });
    expect(options.auth?.basic).toBeDefined();
    expect(options.roles).toEqual({ hierarchy: { a: ['b'] } });
    expect(options.tokens).toEqual({ storage: 'memory' });
  });
});
