/**
 * `@palisade/nest/testing` used the way an application's own test would: a protected route, a
 * minted token, three assertions. Imported through the package's public entry point.
 */
import { Controller, Get } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { CurrentUser, Roles, type Principal } from '@palisade/nest';
import { mintTestToken, PalisadeTestingModule } from '@palisade/nest/testing';
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
