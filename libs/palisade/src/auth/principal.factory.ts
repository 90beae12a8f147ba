import type { AuthScheme, Principal, PrincipalInit } from './principal.interface.js';

const EMPTY: readonly string[] = Object.freeze([]);
const NO_CLAIMS: Readonly<Record<string, unknown>> = Object.freeze({});

function stringList(value: unknown, what: string): readonly string[] {
  if (value === undefined) return EMPTY;
  if (!Array.isArray(value) || value.some((entry) => typeof entry !== 'string')) {
    throw new TypeError(`Palisade: a validate callback returned a principal whose ${what} is not an array of strings.`);
  }
  return Object.freeze([...(value as string[])]);
}

/**
 * Builds the immutable principal attached to the request from what a strategy or a `validate`
 * callback returned. A malformed return value is a programming error and throws.
 * @internal
 */
export function createPrincipal(init: PrincipalInit, scheme: AuthScheme): Principal {
  if (typeof init !== 'object' || init === null || typeof init.id !== 'string' || init.id.length === 0) {
    throw new TypeError('Palisade: a validate callback returned a principal without a non-empty string id.');
  }
  return Object.freeze({
    id: init.id,
    scheme,
    roles: stringList(init.roles, 'roles'),
    scopes: stringList(init.scopes, 'scopes'),
    claims: init.claims === undefined ? NO_CLAIMS : Object.freeze({ ...init.claims }),
  });
}
