import { ModuleRef, type DiscoveryService, type MetadataScanner } from '@nestjs/core';

/** @internal A route handler function. */
export type Handler = (...args: unknown[]) => unknown;

// Nest stores the route path of a handler under this metadata key (PATH_METADATA).
const ROUTE_PATH_METADATA = 'path';

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
  for (const wrapper of discovery.getControllers()) {
    const moduleRef = wrapper.host?.getProviderByKey<ModuleRef>(ModuleRef)?.instance;
    const controller = wrapper.metatype as (new (...args: never[]) => unknown) | undefined;
    if (!controller || typeof controller !== 'function') continue;
    const prototype = controller.prototype as Record<string, unknown>;
    for (const name of scanner.getAllMethodNames(prototype)) {
      const handler = prototype[name];
      if (typeof handler === 'function' && Reflect.getMetadata(ROUTE_PATH_METADATA, handler) !== undefined) {
        visit(handler as Handler, controller, moduleRef);
      }
    }
  }
}

/** `Controller.method`, for error messages. @internal */
export function routeName(handler: Handler, controller: object): string {
  return `${(controller as { name?: string }).name ?? 'controller'}.${handler.name}`;
}
