import type { Type } from '@nestjs/common';
import type { ModuleRef } from '@nestjs/core';
import { describe } from './duration.js';

/** A store the application brings: an instance, or a class resolved through DI. @internal */
export type CustomStore<T> = { readonly instance: T; readonly name: string } | { readonly type: Type<T>; readonly name: string };

function fail(message: string): never {
  throw new Error(`PalisadeModule: ${message}`);
}

function missing(target: Record<string, unknown>, methods: readonly string[]): string[] {
  return methods.filter((method) => typeof target[method] !== 'function');
}

const list = (names: readonly string[]): string => names.map((name) => `${name}()`).join(', ');

function refuse(path: string, what: string, absent: readonly string[], methods: readonly string[], kind: string): never {
  fail(`${path} (${what}) has no ${list(absent)}; a ${kind} needs ${list(methods)}. Implement the missing method${absent.length > 1 ? 's' : ''}.`);
}

/**
 * Checks a user's store (an instance, or a class by its prototype) for every method of `kind`
 * once at startup, so a store missing one is refused with its name instead of failing on the
 * first request. @internal
 */
export function normalizeCustomStore<T>(value: unknown, methods: readonly string[], path: string, kind: string): CustomStore<T> {
  if (typeof value === 'function') {
    const type = value as Type<T>;
    // An arrow function (a factory, say) has no prototype and cannot be instantiated.
    if (type.prototype === undefined) fail(`${path} is a function that is not a class; pass a ${kind} instance or its class.`);
    const name = `class ${type.name || '(anonymous)'}`;
    const absent = missing(type.prototype as Record<string, unknown>, methods);
    if (absent.length > 0) refuse(path, name, absent, methods, kind);
    return { type, name };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(`${path} is ${describe(value)}; expected a ${kind} instance or its class.`);
  }
  const constructorName = (value as { constructor?: { name?: unknown } }).constructor?.name;
  const name = typeof constructorName === 'string' && constructorName !== 'Object' ? `a ${constructorName}` : 'an object';
  const absent = missing(value as Record<string, unknown>, methods);
  if (absent.length > 0) refuse(path, name, absent, methods, kind);
  return { instance: value as T, name };
}

/**
 * The store itself: the instance; for a class, the application's provider of that class when it
 * has one, else a new instance with its dependencies injected (resolved in Palisade's module).
 * @internal
 */
export async function resolveCustomStore<T>(store: CustomStore<T>, moduleRef: ModuleRef, path: string): Promise<T> {
  if ('instance' in store) return store.instance;
  try {
    return moduleRef.get(store.type, { strict: false });
  } catch {
    // Not a provider anywhere: create one below.
  }
  try {
    return await moduleRef.create(store.type);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return fail(
      `${path} (${store.name}) could not be created: ${reason} Register it as a provider, or list the modules of its dependencies in forRootAsync({ imports }).`,
    );
  }
}
