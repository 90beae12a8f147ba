/**
 * A claim to read, compiled once at startup: its name (also the exact top-level key tried first)
 * and its dot-separated segments (`realm_access.roles` → `['realm_access', 'roles']`).
 * @internal
 */
export interface CompiledClaimPath {
  readonly name: string;
  readonly segments: readonly string[];
}

/** Deepest path accepted (`resource_access.<client>.roles` is 3). */
const MAX_SEGMENTS = 8;
const FORBIDDEN_SEGMENTS: ReadonlySet<string> = new Set(['__proto__', 'prototype', 'constructor']);

/**
 * Compiles one claim name or path; returns an error text (without the option path) when it is not
 * usable.
 * @internal
 */
export function compileClaimPath(value: unknown): CompiledClaimPath | string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 256) return 'expected a claim name or a dot-separated path such as realm_access.roles';
  const segments = value.split('.');
  if (segments.length > MAX_SEGMENTS || segments.some((segment) => segment.length === 0 || FORBIDDEN_SEGMENTS.has(segment))) {
    return `expected a claim name or a dot-separated path of at most ${MAX_SEGMENTS} non-empty segments (not __proto__, prototype or constructor)`;
  }
  return { name: value, segments };
}

/**
 * The value at `path` in `claims`: the top-level claim named exactly `path.name` when present
 * (names such as `https://example.com/roles` contain dots), else the nested value the segments
 * lead to through plain objects. Own properties only.
 * @internal
 */
export function readClaim(claims: Readonly<Record<string, unknown>>, path: CompiledClaimPath): unknown {
  if (Object.hasOwn(claims, path.name)) return claims[path.name];
  if (path.segments.length === 1) return undefined;
  let node: unknown = claims;
  for (const segment of path.segments) {
    if (typeof node !== 'object' || node === null || Array.isArray(node) || !Object.hasOwn(node, segment)) return undefined;
    node = (node as Record<string, unknown>)[segment];
  }
  return node;
}
