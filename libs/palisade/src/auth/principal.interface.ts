/**
 * The name of an authentication scheme. Built in: `'jwt'` (bearer JWT), `'api-key'` (a key in a
 * request header) and `'basic'` (HTTP Basic, RFC 7617).
 */
export type AuthScheme = 'jwt' | 'api-key' | 'basic';

/** The schemes Palisade ships, in the order they are tried by default. */
export const AUTH_SCHEMES: readonly AuthScheme[] = ['jwt', 'api-key', 'basic'];

/**
 * The authenticated caller, attached to the request (`request.user`) and injected with
 * `@CurrentUser()`.
 */
export interface Principal {
  /** Stable identifier: the JWT `sub`, the API key's owner, the Basic user id. */
  readonly id: string;
  /** The scheme that authenticated this request. */
  readonly scheme: AuthScheme;
  /** Roles held by the caller (before any role hierarchy is expanded). */
  readonly roles: readonly string[];
  /** OAuth2 scopes granted to the caller. */
  readonly scopes: readonly string[];
  /** Verified claims (JWT payload) or attributes returned by a `validate` callback. */
  readonly claims: Readonly<Record<string, unknown>>;
}

/**
 * What a `validate` callback returns for a valid credential: Palisade fills in `scheme` and
 * defaults `roles`, `scopes` and `claims` to empty.
 */
export interface PrincipalInit {
  /** Stable identifier of the caller; a non-empty string. */
  id: string;
  /** Roles held by the caller. */
  roles?: readonly string[];
  /** OAuth2 scopes granted to the caller. */
  scopes?: readonly string[];
  /** Extra attributes exposed as `principal.claims`. */
  claims?: Record<string, unknown>;
}
