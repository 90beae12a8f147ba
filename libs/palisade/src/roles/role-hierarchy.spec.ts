import { describe, expect, it } from 'vitest';
import { checkRoleNames, normalizeRolesOptions, satisfyingRoles, type NormalizedRolesOptions } from './role-hierarchy.js';
import type { RolesOptions } from './roles-options.interface.js';

/** The expansion as plain sorted arrays, for readable equality. */
function expansion(roles: NormalizedRolesOptions): Record<string, string[]> {
  return Object.fromEntries([...roles.implies].map(([role, implied]) => [role, [...implied].sort()]));
}

const sorted = (set: ReadonlySet<string>) => [...set].sort();

describe('normalizeRolesOptions', () => {
  it('accepts no options: no hierarchy, no known roles', () => {
    const roles = normalizeRolesOptions(undefined);
    expect(expansion(roles)).toEqual({});
    expect(roles.known).toBeUndefined();
    expect(expansion(normalizeRolesOptions({}))).toEqual({});
  });

  it('expands the hierarchy transitively, each role implying itself', () => {
    const roles = normalizeRolesOptions({ hierarchy: { admin: ['editor'], editor: ['user'] } });
    expect(expansion(roles)).toEqual({ admin: ['admin', 'editor', 'user'], editor: ['editor', 'user'], user: ['user'] });
  });

  it('expands a diamond and deep chains, whatever the declaration order', () => {
    const roles = normalizeRolesOptions({
      hierarchy: { reader: ['guest'], root: ['admin', 'auditor'], admin: ['writer'], auditor: ['reader'], writer: ['reader'] },
    });
    expect(expansion(roles)).toEqual({
      guest: ['guest'],
      reader: ['guest', 'reader'],
      root: ['admin', 'auditor', 'guest', 'reader', 'root', 'writer'],
      admin: ['admin', 'guest', 'reader', 'writer'],
      auditor: ['auditor', 'guest', 'reader'],
      writer: ['guest', 'reader', 'writer'],
    });
  });

  it('refuses a two-role cycle, naming it', () => {
    expect(() => normalizeRolesOptions({ hierarchy: { a: ['b'], b: ['a'] } })).toThrow(
      'PalisadeModule: roles.hierarchy has a cycle: a → b → a. A role cannot imply itself.',
    );
  });

  it('refuses a self-cycle', () => {
    expect(() => normalizeRolesOptions({ hierarchy: { admin: ['admin'] } })).toThrow(
      'PalisadeModule: roles.hierarchy has a cycle: admin → admin. A role cannot imply itself.',
    );
  });

  it('refuses a longer cycle reached through a role outside it', () => {
    expect(() => normalizeRolesOptions({ hierarchy: { root: ['a'], a: ['b'], b: ['c'], c: ['a'] } })).toThrow(/cycle: a → b → c → a\./);
  });

  it.each<[string, unknown]>([
    ['an empty name', ''],
    ['a name with a space', 'super user'],
    ['a non-ASCII name', 'rôle'],
    ['a 129-character name', 'r'.repeat(129)],
    ['a number', 7],
    ['null', null],
  ])('refuses %s among the implied roles', (_what, name) => {
    expect(() => normalizeRolesOptions({ hierarchy: { admin: [name] } } as unknown as RolesOptions)).toThrow(
      /^PalisadeModule: roles\.hierarchy\.admin\[0\] is .*; expected a role name \(1 to 128 visible ASCII characters\)\.$/,
    );
  });

  it('refuses a bad role name as a hierarchy key', () => {
    expect(() => normalizeRolesOptions({ hierarchy: { 'bad name': ['user'] } })).toThrow(
      'PalisadeModule: roles.hierarchy key is "bad name"; expected a role name (1 to 128 visible ASCII characters).',
    );
  });

  it('accepts a 128-character name', () => {
    const long = 'r'.repeat(128);
    expect(expansion(normalizeRolesOptions({ hierarchy: { [long]: ['user'] } }))).toEqual({ [long]: [long, 'user'], user: ['user'] });
  });

  it('refuses implied roles that are not an array', () => {
    expect(() => normalizeRolesOptions({ hierarchy: { admin: 'user' } } as unknown as RolesOptions)).toThrow(
      'PalisadeModule: roles.hierarchy.admin is "user"; expected an array of role names.',
    );
  });

  it.each<[string, unknown]>([
    ['an array', ['admin']],
    ['a string', 'admin'],
  ])('refuses a hierarchy that is %s', (_what, hierarchy) => {
    expect(() => normalizeRolesOptions({ hierarchy } as unknown as RolesOptions)).toThrow(/^PalisadeModule: roles\.hierarchy is .*; expected an object/);
  });

  it('refuses roles options that are not an object', () => {
    expect(() => normalizeRolesOptions(['admin'] as unknown as RolesOptions)).toThrow('PalisadeModule: roles is an array of 1; expected an object.');
  });

  it('keeps roles.known and checks the hierarchy against it', () => {
    const roles = normalizeRolesOptions({ known: ['admin', 'user'], hierarchy: { admin: ['user'] } });
    expect(sorted(roles.known ?? new Set())).toEqual(['admin', 'user']);
    expect(() => normalizeRolesOptions({ known: ['admin', 'user'], hierarchy: { admin: ['usr'] } })).toThrow(
      "PalisadeModule: roles.hierarchy.admin[0] names the role 'usr', which is not in roles.known; add it there or fix the name.",
    );
    expect(() => normalizeRolesOptions({ known: ['user'], hierarchy: { admin: ['user'] } })).toThrow(/names the role 'admin', which is not in roles\.known/);
  });

  it('refuses bad entries in roles.known', () => {
    expect(() => normalizeRolesOptions({ known: ['admin', 'bad name'] })).toThrow(
      'PalisadeModule: roles.known[1] is "bad name"; expected a role name (1 to 128 visible ASCII characters).',
    );
    expect(() => normalizeRolesOptions({ known: 'admin' } as unknown as RolesOptions)).toThrow(
      'PalisadeModule: roles.known is "admin"; expected an array of role names.',
    );
  });
});

describe('satisfyingRoles', () => {
  const roles = normalizeRolesOptions({ hierarchy: { admin: ['editor'], editor: ['user'], auditor: ['reader'] } });

  it('returns the required role and every role that implies it, transitively', () => {
    expect(sorted(satisfyingRoles(['user'], roles))).toEqual(['admin', 'editor', 'user']);
    expect(sorted(satisfyingRoles(['editor'], roles))).toEqual(['admin', 'editor']);
    expect(sorted(satisfyingRoles(['admin'], roles))).toEqual(['admin']);
  });

  it('unions the satisfying roles of an any-of group', () => {
    expect(sorted(satisfyingRoles(['editor', 'reader'], roles))).toEqual(['admin', 'auditor', 'editor', 'reader']);
  });

  it('returns just the required roles when the hierarchy does not mention them', () => {
    expect(sorted(satisfyingRoles(['billing'], roles))).toEqual(['billing']);
    expect(sorted(satisfyingRoles(['user'], normalizeRolesOptions(undefined)))).toEqual(['user']);
  });
});

describe('checkRoleNames', () => {
  it('accepts any well-formed name without roles.known, and refuses malformed ones', () => {
    expect(() => checkRoleNames(['anything'], normalizeRolesOptions(undefined), '@Roles() on A.b')).not.toThrow();
    expect(() => checkRoleNames(['two words'], normalizeRolesOptions(undefined), '@Roles() on A.b')).toThrow(
      'PalisadeModule: @Roles() on A.b is "two words"; expected a role name (1 to 128 visible ASCII characters).',
    );
  });

  it('refuses an unknown key of roles, suggesting the closest one', () => {
    expect(() => normalizeRolesOptions({ heirarchy: { admin: ['user'] } } as unknown as RolesOptions)).toThrow(
      'PalisadeModule: unknown option roles.heirarchy; did you mean roles.hierarchy? Known options of roles: hierarchy, known.',
    );
  });

  it('with a hierarchy and no roles.known, accepts keys and implied roles and refuses a name the hierarchy mentions nowhere', () => {
    const roles = normalizeRolesOptions({ hierarchy: { admin: ['editor'], editor: ['user'] } });
    expect(() => checkRoleNames(['admin', 'editor', 'user'], roles, '@Roles() on A.b')).not.toThrow();
    expect(() => checkRoleNames(['user', 'auditor'], roles, '@Roles() on A.b')).toThrow(
      "PalisadeModule: @Roles() on A.b names the role 'auditor', which roles.hierarchy mentions nowhere; add it to roles.hierarchy (as a role or as a role another implies), or list every role name in roles.known.",
    );
    expect(() => checkRoleNames(['editr'], roles, '@Roles() on A.b')).toThrow(
      "names the role 'editr', which roles.hierarchy mentions nowhere (did you mean 'editor'?)",
    );
  });

  it('leaves the check to roles.known when both are set, and accepts any name with an empty hierarchy', () => {
    const roles = normalizeRolesOptions({ hierarchy: { admin: ['user'] }, known: ['admin', 'user', 'auditor'] });
    expect(() => checkRoleNames(['auditor'], roles, '@Roles() on A.b')).not.toThrow();
    expect(() => checkRoleNames(['anything'], normalizeRolesOptions({ hierarchy: {} }), '@Roles() on A.b')).not.toThrow();
  });

  it('refuses a name missing from roles.known, naming it and where it was used', () => {
    const roles = normalizeRolesOptions({ known: ['admin'] });
    expect(() => checkRoleNames(['admin'], roles, '@Roles() on A.b')).not.toThrow();
    expect(() => checkRoleNames(['admn'], roles, '@Roles() on A.b')).toThrow(
      "PalisadeModule: @Roles() on A.b names the role 'admn', which is not in roles.known; add it there or fix the name.",
    );
  });
});
