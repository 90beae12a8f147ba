import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { allHandlers, routeName, type Handler } from './routes.js';

/**
 * Reads a capability's route metadata once per handler and caches what it computes from it. Every
 * handler (HTTP route, GraphQL resolver, WebSocket message handler, microservice handler) is
 * resolved at application bootstrap, so a bad decorator value stops the app at
 * startup instead of failing the first request; requests only read the cache. A subclass injects
 * the options of its own capability.
 * @internal
 */
@Injectable()
export abstract class RouteResolver<T extends object | null> implements OnApplicationBootstrap {
  private readonly cache = new WeakMap<Handler, T>();

  constructor(
    protected readonly reflector: Reflector,
    protected readonly discovery: DiscoveryService,
    protected readonly scanner: MetadataScanner,
  ) {}

  onApplicationBootstrap(): void | Promise<void> {
    for (const { handler, owner } of allHandlers(this.discovery, this.scanner)) this.resolve(handler, owner);
  }

  /** The route's value, computed on first use and cached. */
  resolve(handler: Handler, controller: object): T {
    const cached = this.cache.get(handler);
    if (cached !== undefined) return cached;
    const value = this.compute(handler, controller, routeName(handler, controller));
    this.cache.set(handler, value);
    return value;
  }

  /** Computes a route's value from its metadata; throws a precise error on a bad value. */
  protected abstract compute(handler: Handler, controller: object, where: string): T;
}
