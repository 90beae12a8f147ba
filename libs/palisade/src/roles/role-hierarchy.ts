import { describe } from '../common/duration.js';
import { assertKnownKeys, closestName } from '../common/option-keys.js';
import type { RolesOptions } from './roles-options.interface.js';

/** @internal The role hierarchy, validated and expanded once at startup. */
export interface NormalizedRolesOptions {
  /** For each role named in the hierarchy: every role it implies, itself included. */
  readonly implies: ReadonlyMap<string, ReadonlySet<string>>;
  /** Known role names, when `roles.known` is set. */
  readonly known: ReadonlySet<string> | undefined;
  /** Every role the hierarchy names, as a key or as an implied role (empty without a hierarchy). */
  readonly named: ReadonlySet<string>;
}

const ROLE_NAME = /^[\x21-\x7e]{1,128}$/;

function fail(message: string): never {
  throw new Error(`PalisadeModule: ${message}`);
}

function checkName(role: unknown, path: string, known: ReadonlySet<string> | undefined): string {
  if (typeof role !== 'string' || !ROLE_NAME.test(role)) fail(`${path} is ${describe(role)}; expected a role name (1 to 128 visible ASCII characters).`);
  if (known && !known.has(role)) fail(`${path} names the role '${role}', which is not in roles.known; add it there or fix the name.`);
  return role;
}

/**
 * Validates `roles` options (names, cycles) and expands the hierarchy transitively.
 * @internal
 */
export function normalizeRolesOptions(options: RolesOptions | undefined): NormalizedRolesOptions {
  const input = options ?? {};
  if (typeof input !== 'object' || input === null || Array.isArray(input)) fail(`roles is ${describe(input)}; expected an object.`);
  assertKnownKeys(input, ['hierarchy', 'known'], 'roles');
  let known: Set<string> | undefined;
  if (input.known !== undefined) {
    if (!Array.isArray(input.known)) fail(`roles.known is ${describe(input.known)}; expected an array of role names.`);
    known = new Set();
    input.known.forEach((role, i) => known?.add(checkName(role, `roles.known[${i}]`, undefined)));
  }
  const hierarchy = input.hierarchy === undefined ? {} : input.hierarchy;
  if (typeof hierarchy !== 'object' || hierarchy === null || Array.isArray(hierarchy)) {
    fail(`roles.hierarchy is ${describe(hierarchy)}; expected an object such as { admin: ['user'] }.`);
  }
  const direct = new Map<string, string[]>();
  for (const [role, implied] of Object.entries(hierarchy)) {
    checkName(role, `roles.hierarchy key`, known);
    if (!Array.isArray(implied)) fail(`roles.hierarchy.${role} is ${describe(implied)}; expected an array of role names.`);
    direct.set(
      role,
      implied.map((name, i) => checkName(name, `roles.hierarchy.${role}[${i}]`, known)),
    );
  }
  const implies = new Map<string, ReadonlySet<string>>();
  const expand = (role: string, path: string[]): ReadonlySet<string> => {
    const done = implies.get(role);
    if (done) return done;
    if (path.includes(role)) fail(`roles.hierarchy has a cycle: ${[...path.slice(path.indexOf(role)), role].join(' → ')}. A role cannot imply itself.`);
    const result = new Set<string>([role]);
    for (const child of direct.get(role) ?? []) for (const r of expand(child, [...path, role])) result.add(r);
    implies.set(role, result);
    return result;
  };
  for (const role of direct.keys()) expand(role, []);
  const named = new Set<string>();
  for (const roles of implies.values()) for (const role of roles) named.add(role);
  return { implies, known, named };
}

/**
 * The set of held roles that satisfy a requirement of any of `required`: every role that is, or
 * implies, one of them. Computed once per route so a request only does set look-ups.
 * @internal
 */
export function satisfyingRoles(required: readonly string[], roles: NormalizedRolesOptions): ReadonlySet<string> {
  const wanted = new Set(required);
  const result = new Set<string>(required);
  for (const [role, implied] of roles.implies) {
    for (const r of implied) {
      if (wanted.has(r)) {
        result.add(role);
        break;
      }
    }
  }
  return result;
}

/**
 * Checks `@Roles(...)` names (also written by `@Secure({ roles })`) against the roles the app
 * declares: `roles.known` when set, otherwise a non-empty `roles.hierarchy`, where a role that is
 * neither a key nor an implied role is most likely a typo. Without either, any name is accepted.
 * @internal
 */
export function checkRoleNames(required: readonly string[], roles: NormalizedRolesOptions, where: string): void {
  for (const role of required) {
    checkName(role, where, roles.known);
    if (roles.known === undefined && roles.named.size > 0 && !roles.named.has(role)) {
      const suggestion = closestName(role, roles.named);
      fail(
        `${where} names the role '${role}', which roles.hierarchy mentions nowhere${suggestion === undefined ? '' : ` (did you mean '${suggestion}'?)`}; add it to roles.hierarchy (as a role or as a role another implies), or list every role name in roles.known.`,
      );
    }
  }
}
