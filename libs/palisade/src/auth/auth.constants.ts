import type { NormalizedAuthOptions } from './auth-options.normalizer.js';

/**
 * Injection token of the normalised `auth` options (`NormalizedAuthOptions`): plain data,
 * validated once at startup from the module's options. The JWK Sets the options name are fetched by
 * `JwksKeys`, not held here.
 * @internal
 */
export const AUTH_OPTIONS = Symbol('PALISADE_AUTH_OPTIONS');

/**
 * Injection token of the request headers that carry credentials ({@link credentialHeadersOf}):
 * what the security headers need of `auth` to tell an authenticated response (`Cache-Control`).
 * Derived from {@link AUTH_OPTIONS}.
 * @internal
 */
export const CREDENTIAL_HEADERS = Symbol('PALISADE_CREDENTIAL_HEADERS');

/**
 * The request headers that carry credentials under `auth`: `authorization`, `cookie` and the API
 * key header when `auth.apiKey` is set.
 * @internal
 */
export function credentialHeadersOf(auth: NormalizedAuthOptions): readonly string[] {
  return Object.freeze(['authorization', 'cookie', ...(auth.apiKey ? [auth.apiKey.header] : [])]);
}
