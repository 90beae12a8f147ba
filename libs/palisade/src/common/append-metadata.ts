import type { ReflectableDecorator } from '@nestjs/core';

/**
 * A decorator that appends `item` to the list stored under a typed metadata key instead of
 * replacing it, so `@Roles('a') @Roles('b')` (or `@Secure` next to `@Roles`) on one target both apply.
 * @internal
 */
export function appendMetadata<T>(decorator: ReflectableDecorator<T[]>, item: T): ClassDecorator & MethodDecorator {
  return (target: object, _key?: string | symbol, descriptor?: PropertyDescriptor): void => {
    const holder = (descriptor?.value ?? target) as object;
    const previous = (Reflect.getMetadata(decorator.KEY, holder) as T[] | undefined) ?? [];
    Reflect.defineMetadata(decorator.KEY, [...previous, item], holder);
  };
}
