/**
 * Injection token of the normalised `roles` options (`NormalizedRolesOptions`: the role
 * hierarchy's closure and the known role names), validated once at startup.
 * @internal
 */
export const ROLES_OPTIONS = Symbol('PALISADE_ROLES_OPTIONS');
