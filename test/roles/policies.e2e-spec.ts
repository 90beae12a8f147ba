import { Controller, Get, Injectable, Module, NotFoundException, Param, Req } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { PalisadeModule, Policy, type PolicyContext, type PolicyHandler } from '@palisade/nest';
import { ADAPTERS, bootApp } from '../support/app.js';
import { CHALLENGE, MESSAGE, useApp } from '../support/auth.js';
import { bearer, DENIED, expectForbidden, expectUnauthorized } from '../support/authorization.js';
import { TEST_SECRET } from '../support/tokens.js';

/** Orders and their owners: what an ownership policy asks. */
@Injectable()
class OrdersService {
  private readonly owners = new Map([
    ['o-1', 'alice'],
    ['o-2', 'bob'],
  ]);

  ownerOf(id: string | undefined): string | undefined {
    return id === undefined ? undefined : this.owners.get(id);
  }

  async ownerOfAsync(id: string | undefined): Promise<string | undefined> {
    await Promise.resolve();
    return this.ownerOf(id);
  }
}

/** Ownership through an injected service (registered as a provider). */
@Injectable()
class OwnsOrder implements PolicyHandler {
  constructor(private readonly orders: OrdersService) {}

  can({ principal, request }: PolicyContext): boolean {
    return this.orders.ownerOf(request.params?.id) === principal.id;
  }
}

/** The same check, asynchronous. */
@Injectable()
class OwnsOrderAsync implements PolicyHandler {
  constructor(private readonly orders: OrdersService) {}

  async can({ principal, request }: PolicyContext): Promise<boolean> {
    return (await this.orders.ownerOfAsync(request.params?.id)) === principal.id;
  }
}

/** An unknown order is a 404, whoever asks. */
@Injectable()
class OrderExists implements PolicyHandler {
  constructor(private readonly orders: OrdersService) {}

  can({ request }: PolicyContext): boolean {
    if (this.orders.ownerOf(request.params?.id) === undefined) throw new NotFoundException('Order not found');
    return true;
  }
}

/** Never registered as a provider: Palisade must create it through DI, with its dependency. */
@Injectable()
class UnregisteredOwnsOrder implements PolicyHandler {
  constructor(private readonly orders: OrdersService) {}

  can({ principal, request }: PolicyContext): boolean {
    return this.orders.ownerOf(request.params?.id) === principal.id;
  }
}

type Recorded = { policyOrder?: string[]; seen?: unknown };

function record(request: PolicyContext['request'], step: string): true {
  const holder = request as unknown as Recorded;
  (holder.policyOrder ??= []).push(step);
  return true;
}

@Controller('orders')
class OrdersController {
  @Get(':id') @Policy(OwnsOrder) find(@Param('id') id: string) {
    return { id };
  }

  @Get(':id/async') @Policy(OwnsOrderAsync) findAsync(@Param('id') id: string) {
    return { id };
  }

  @Get(':id/fn') @Policy(({ principal, request }) => request.params?.id === `o-${principal.id}`) findFn(@Param('id') id: string) {
    return { id };
  }

  @Get(':id/checked') @Policy(OrderExists, OwnsOrder) findChecked(@Param('id') id: string) {
    return { id };
  }
}

@Controller('truthy')
class TruthyController {
  @Get('one') @Policy(() => 1 as unknown as boolean) one() {
    return { ok: true };
  }

  @Get('yes') @Policy(() => 'yes' as unknown as boolean) yes() {
    return { ok: true };
  }

  @Get('object') @Policy(async () => ({}) as unknown as boolean) object() {
    return { ok: true };
  }

  @Get('true') @Policy(() => true) exactlyTrue() {
    return { ok: true };
  }
}

@Controller('users/:userId')
@Policy(({ request }) => record(request, 'controller'))
class ProfileController {
  @Get('order') @Policy(({ request }) => record(request, 'handler')) order(@Req() request: Recorded) {
    return { order: request.policyOrder };
  }

  @Get('profile')
  @Policy(({ principal, request }) => {
    (request as unknown as Recorded).seen = { id: principal.id, scheme: principal.scheme, roles: principal.roles, params: { ...request.params } };
    return principal.id === request.params?.userId;
  })
  profile(@Req() request: Recorded) {
    return { seen: request.seen };
  }
}

@Controller('unregistered')
class UnregisteredController {
  @Get(':id') @Policy(UnregisteredOwnsOrder) find(@Param('id') id: string) {
    return { id };
  }
}

const palisade = () => PalisadeModule.forRoot({ auth: { jwt: { secret: TEST_SECRET } }, global: true });
const as = (sub: string) => bearer({ sub, roles: ['customer'] });

describe.each(ADAPTERS)('@Policy on %s', (adapter) => {
  describe('policies resolved through dependency injection', () => {
    const ctx = useApp(adapter, () => ({
      imports: [palisade()],
      controllers: [OrdersController, TruthyController, ProfileController],
      providers: [OrdersService, OwnsOrder, OwnsOrderAsync, OrderExists],
    }));

    it('lets the owner of an order through a policy class that injects a service', async () => {
      const res = await ctx.http.get('/orders/o-1').set('Authorization', as('alice'));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ id: 'o-1' });
    });

    it('refuses another caller with 403 "Access denied" and no challenge', async () => {
      expectForbidden(await ctx.http.get('/orders/o-1').set('Authorization', as('bob')), DENIED.policy);
    });

    it('answers an anonymous caller on a @Policy route with 401, not 403', async () => {
      expectUnauthorized(await ctx.http.get('/orders/o-1'), MESSAGE.required, CHALLENGE.bearer);
    });

    it('awaits an async policy (one that returns a Promise)', async () => {
      const allowed = await ctx.http.get('/orders/o-2/async').set('Authorization', as('bob'));
      expect(allowed.status).toBe(200);
      expect(allowed.body).toEqual({ id: 'o-2' });
      expectForbidden(await ctx.http.get('/orders/o-2/async').set('Authorization', as('alice')), DENIED.policy);
    });

    it('accepts a policy function', async () => {
      const allowed = await ctx.http.get('/orders/o-alice/fn').set('Authorization', as('alice'));
      expect(allowed.status).toBe(200);
      expect(allowed.body).toEqual({ id: 'o-alice' });
      expectForbidden(await ctx.http.get('/orders/o-alice/fn').set('Authorization', as('bob')), DENIED.policy);
    });

    it('keeps the status of an HttpException a policy throws (404 for an unknown order)', async () => {
      const res = await ctx.http.get('/orders/o-404/checked').set('Authorization', as('alice'));
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'Order not found' });
    });

    it('runs every policy of one @Policy(...) in order: existence first, then ownership', async () => {
      expect((await ctx.http.get('/orders/o-1/checked').set('Authorization', as('alice'))).status).toBe(200);
      expectForbidden(await ctx.http.get('/orders/o-1/checked').set('Authorization', as('bob')), DENIED.policy);
    });

    it.each(['one', 'yes', 'object'])('refuses a policy returning a truthy non-boolean (%s): only `true` allows', async (path) => {
      expectForbidden(await ctx.http.get(`/truthy/${path}`).set('Authorization', as('alice')), DENIED.policy);
    });

    it('allows a policy returning exactly `true`', async () => {
      expect((await ctx.http.get('/truthy/true').set('Authorization', as('alice'))).status).toBe(200);
    });

    it('runs the controller policy before the handler policy', async () => {
      const res = await ctx.http.get('/users/alice/order').set('Authorization', as('alice'));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ order: ['controller', 'handler'] });
    });

    it('hands the policy the principal and the route parameters of the request', async () => {
      const res = await ctx.http.get('/users/alice/profile').set('Authorization', as('alice'));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ seen: { id: 'alice', scheme: 'jwt', roles: ['customer'], params: { userId: 'alice' } } });
      expectForbidden(await ctx.http.get('/users/alice/profile').set('Authorization', as('bob')), DENIED.policy);
    });
  });

  describe('a policy class that is not a provider, with its dependency in the module declaring the route', () => {
    // Users write `@Policy(OwnsOrder)` next to the controller and provide `OrdersService` in that
    // controller's module; they should not have to make the service global or register the policy.
    it("is created through DI with that module's providers and starts: owner → 200, other → 403", async () => {
      const { app, http } = await bootApp(adapter, { imports: [palisade()], controllers: [UnregisteredController], providers: [OrdersService] });
      try {
        const allowed = await http.get('/unregistered/o-2').set('Authorization', as('bob'));
        expect(allowed.status).toBe(200);
        expect(allowed.body).toEqual({ id: 'o-2' });
        expectForbidden(await http.get('/unregistered/o-2').set('Authorization', as('alice')), DENIED.policy);
      } finally {
        await app.close();
      }
    });
  });

  describe('a policy class that is not a provider, with its dependency in a global module', () => {
    @Module({ providers: [OrdersService], exports: [OrdersService] })
    class OrdersModule {}

    const ctx = useApp(adapter, () => ({
      imports: [palisade(), { module: OrdersModule, global: true }],
      controllers: [UnregisteredController],
    }));

    it('is created through DI (moduleRef.create) with its injected service', async () => {
      expect((await ctx.http.get('/unregistered/o-1').set('Authorization', as('alice'))).status).toBe(200);
      expectForbidden(await ctx.http.get('/unregistered/o-1').set('Authorization', as('bob')), DENIED.policy);
    });
  });
});
