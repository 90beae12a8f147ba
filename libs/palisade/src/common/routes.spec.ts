import 'reflect-metadata';
import { Controller, Get, Injectable, Post } from '@nestjs/common';
import { MetadataScanner, type DiscoveryService } from '@nestjs/core';
import { Field, Mutation, ObjectType, Query, ResolveField, Resolver, Subscription } from '@nestjs/graphql';
import { EventPattern, MessagePattern } from '@nestjs/microservices';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { describe, expect, it } from 'vitest';
import { allHandlers, forEachRoute, HANDLER_KIND_LABEL, routeName } from './routes.js';

@Controller('base')
class BaseController {
  @Get() inherited(): string {
    return 'inherited';
  }
}

@Controller('orders')
class OrdersController extends BaseController {
  @Get(':id') show(): string {
    return 'show';
  }

  @Post() create(): string {
    return 'create';
  }

  @MessagePattern('orders.count') count(): number {
    return 0;
  }

  @EventPattern('orders.created') created(_event: unknown): void {}

  /** A plain method: not a handler. */
  helper(): string {
    return 'helper';
  }
}

@ObjectType()
class Order {
  @Field(() => String) id!: string;
}

@Resolver(() => Order)
class OrdersResolver {
  @Query(() => [Order]) orders(): Order[] {
    return [];
  }

  @Mutation(() => Order) placeOrder(): Order {
    return { id: '1' };
  }

  @Subscription(() => Order) orderPlaced(): AsyncIterator<Order> {
    throw new Error('not called');
  }

  @ResolveField(() => String) total(): string {
    return '0';
  }

  helper(): string {
    return 'helper';
  }
}

@WebSocketGateway()
class ChatGateway {
  @SubscribeMessage('say') say(): string {
    return 'said';
  }

  helper(): string {
    return 'helper';
  }
}

/** A provider with a method named like a handler, but no transport metadata. */
@Injectable()
class OrdersService {
  show(): string {
    return 'service';
  }
}

/** A `@SubscribeMessage` outside a gateway is not served by Nest: not a handler. */
class NotAGateway {
  @SubscribeMessage('say') say(): string {
    return 'never';
  }
}

type Wrapper = ReturnType<DiscoveryService['getControllers']>[number];

function wrapper(metatype: unknown): Wrapper {
  return { metatype, host: undefined } as unknown as Wrapper;
}

/** A DiscoveryService over the given controllers and providers (with a `useValue` provider, which has no class). */
function discovery(controllers: unknown[], providers: unknown[]): DiscoveryService {
  return {
    getControllers: () => controllers.map(wrapper),
    getProviders: () => [...providers.map(wrapper), { metatype: null, host: undefined } as unknown as Wrapper],
  } as unknown as DiscoveryService;
}

describe('allHandlers', () => {
  const entries = allHandlers(discovery([OrdersController], [OrdersResolver, ChatGateway, OrdersService, NotAGateway]), new MetadataScanner());
  const described = entries.map((entry) => `${routeName(entry.handler, entry.owner)} ${entry.kind}`);

  it('finds every handler of every transport, with its kind', () => {
    expect(described.toSorted()).toEqual(
      [
        'OrdersController.show http',
        'OrdersController.create http',
        'OrdersController.inherited http',
        'OrdersController.count rpc',
        'OrdersController.created rpc',
        'OrdersResolver.orders graphql-query',
        'OrdersResolver.placeOrder graphql-mutation',
        'OrdersResolver.orderPlaced graphql-subscription',
        'OrdersResolver.total graphql-field',
        'ChatGateway.say ws',
      ].toSorted(),
    );
  });

  it('names the subclass as the owner of an inherited route', () => {
    const inherited = entries.find((entry) => entry.handler === BaseController.prototype.inherited);
    expect(inherited?.owner).toBe(OrdersController);
  });

  it('forEachRoute visits the HTTP routes only', () => {
    const visited: string[] = [];
    forEachRoute(discovery([OrdersController], [OrdersResolver, ChatGateway]), new MetadataScanner(), (handler, controller) => {
      visited.push(routeName(handler, controller));
    });
    expect(visited.toSorted()).toEqual(['OrdersController.create', 'OrdersController.inherited', 'OrdersController.show']);
  });

  it('labels every kind for messages', () => {
    expect(entries.map((entry) => HANDLER_KIND_LABEL[entry.kind]).toSorted()).toEqual(
      [
        'HTTP route',
        'HTTP route',
        'HTTP route',
        'microservice handler',
        'microservice handler',
        'GraphQL query',
        'GraphQL mutation',
        'GraphQL subscription',
        'GraphQL field resolver',
        'WebSocket message handler',
      ].toSorted(),
    );
  });
});
