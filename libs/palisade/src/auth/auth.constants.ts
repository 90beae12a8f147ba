import type { NormalizedAuthOptions } from './auth-options.normalizer.js';

/**
 * Injection token of the normalised `auth` options (`NormalizedAuthOptions`): plain data,
 * validated once at startup from the module's options. The JWK Sets the options name are fetched by
 * `JwksKeys`, not held here.
 * @internal
 */
export const AUTH_OPTIONS = Symbol('PALISADE_AUTH_OPTIONS');

/**
 * The request headers that carry credentials under `auth`, lower-cased: `authorization`, `cookie`
 * and the API key header when `auth.apiKey` is set.
 * @internal
 */
export function credentialHeadersOf(auth: NormalizedAuthOptions): readonly string[] {
  return Object.freeze([...new Set(['authorization', 'cookie', ...(auth.apiKey ? [auth.apiKey.header] : [])].map((h) => h.toLowerCase()))]);
}
