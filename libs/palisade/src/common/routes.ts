import { ModuleRef, type DiscoveryService, type MetadataScanner } from '@nestjs/core';

/** @internal A route handler function. */
export type Handler = (...args: unknown[]) => unknown;

/**
 * What kind of call a handler serves. Read from the metadata each Nest package writes, with no
 * import of the optional packages (`@nestjs/graphql`, `@nestjs/websockets`, `@nestjs/microservices`).
 * @internal
 */
export type HandlerKind = 'http' | 'rpc' | 'graphql-query' | 'graphql-mutation' | 'graphql-subscription' | 'graphql-field' | 'ws';

/** One handler of the application, with what Palisade needs to judge and name it. @internal */
export interface HandlerEntry {
  readonly handler: Handler;
  /** The controller, resolver or gateway class. */
  readonly owner: object;
  readonly kind: HandlerKind;
  /** The module that declares the class (to resolve things in its scope). */
  readonly moduleRef: ModuleRef | undefined;
}

// Metadata keys written by Nest's decorators (PATH_METADATA, PATTERN_METADATA, RESOLVER_NAME_METADATA, …).
const ROUTE_PATH = 'path';
const RPC_PATTERN = 'microservices:pattern';
const GQL_RESOLVER_NAME = 'graphql:resolver_name';
const GQL_RESOLVER_TYPE = 'graphql:resolver_type';
const GQL_PROPERTY = 'graphql:resolve_property';
const WS_GATEWAY = 'websockets:is_gateway';
const WS_MESSAGE_MAPPING = 'websockets:message_mapping';

const GRAPHQL_ROOTS: Readonly<Record<string, HandlerKind>> = {
  Query: 'graphql-query',
  Mutation: 'graphql-mutation',
  Subscription: 'graphql-subscription',
};

function kindOf(handler: Handler, owner: object, controller: boolean): HandlerKind | undefined {
  if (controller) {
    if (Reflect.getMetadata(ROUTE_PATH, handler) !== undefined) return 'http';
    if (Reflect.hasOwnMetadata(RPC_PATTERN, handler)) return 'rpc';
    return undefined;
  }
  // The name is often `undefined` (a resolver named after its method): presence is what counts.
  if (Reflect.hasOwnMetadata(GQL_RESOLVER_NAME, handler)) {
    if (Reflect.getMetadata(GQL_PROPERTY, handler) === true) return 'graphql-field';
    const type: unknown = Reflect.getMetadata(GQL_RESOLVER_TYPE, handler) ?? Reflect.getMetadata(GQL_RESOLVER_TYPE, owner);
    return (typeof type === 'string' ? GRAPHQL_ROOTS[type] : undefined) ?? 'graphql-field';
  }
  if (Reflect.getMetadata(WS_MESSAGE_MAPPING, handler) === true && Reflect.getMetadata(WS_GATEWAY, owner) === true) return 'ws';
  return undefined;
}

/**
 * Every handler of the application on every transport: HTTP routes and microservice patterns of
 * controllers, GraphQL resolvers (queries, mutations, subscriptions, field resolvers) and WebSocket
 * message handlers of providers.
 * @internal
 */
export function allHandlers(discovery: DiscoveryService, scanner: MetadataScanner): HandlerEntry[] {
  const entries: HandlerEntry[] = [];
  const visit = (wrappers: ReturnType<DiscoveryService['getControllers']>, controllers: boolean): void => {
    for (const wrapper of wrappers) {
      const owner = wrapper.metatype as (new (...args: never[]) => unknown) | undefined;
      if (!owner || typeof owner !== 'function' || !owner.prototype) continue;
      const prototype = owner.prototype as Record<string, unknown>;
      let moduleRef: ModuleRef | undefined;
      for (const name of scanner.getAllMethodNames(prototype)) {
        const handler = prototype[name];
        if (typeof handler !== 'function') continue;
        const kind = kindOf(handler as Handler, owner, controllers);
        if (kind === undefined) continue;
        moduleRef ??= wrapper.host?.getProviderByKey<ModuleRef>(ModuleRef)?.instance;
        entries.push({ handler: handler as Handler, owner, kind, moduleRef });
      }
    }
  };
  visit(discovery.getControllers(), true);
  visit(discovery.getProviders(), false);
  return entries;
}

/**
 * Calls `visit` for every route handler of every controller of the application, with the
 * `ModuleRef` of the module that declares the controller (to resolve things in its scope).
 * @internal
 */
export function forEachRoute(
  discovery: DiscoveryService,
  scanner: MetadataScanner,
  visit: (handler: Handler, controller: object, moduleRef: ModuleRef | undefined) => void,
): void {
  for (const entry of allHandlers(discovery, scanner)) if (entry.kind === 'http') visit(entry.handler, entry.owner, entry.moduleRef);
}

/** `Controller.method`, for error messages. @internal */
export function routeName(handler: Handler, controller: object): string {
  return `${(controller as { name?: string }).name ?? 'controller'}.${handler.name}`;
}

/** How a kind of handler is named in messages. @internal */
export const HANDLER_KIND_LABEL: Readonly<Record<HandlerKind, string>> = {
  http: 'HTTP route',
  rpc: 'microservice handler',
  'graphql-query': 'GraphQL query',
  'graphql-mutation': 'GraphQL mutation',
  'graphql-subscription': 'GraphQL subscription',
  'graphql-field': 'GraphQL field resolver',
  ws: 'WebSocket message handler',
};
