import { normalizeAuthOptions, type NormalizedAuthOptions } from '../auth/auth-options.normalizer.js';
import { normalizeRolesOptions, type NormalizedRolesOptions } from '../roles/role-hierarchy.js';
import { describe } from './duration.js';
import { compileTrustProxy, TrustedProxy } from './trusted-proxy.js';
import { normalizeThrottleOptions, type NormalizedThrottleOptions } from '../throttle/throttle-options.normalizer.js';
import { normalizeTokensOptions, type NormalizedTokensOptions } from '../tokens/tokens-options.normalizer.js';
import type { PalisadeModuleOptions } from './palisade-options.interface.js';
import { normalizeHeadersOptions, type NormalizedHeadersOptions } from '../headers/headers-options.normalizer.js';
import { normalizeHttpsOptions, type NormalizedHttpsOptions } from '../transport/https-options.normalizer.js';

/** @internal Options after validation and precomputation: what the request path reads. */
export interface NormalizedPalisadeOptions {
  readonly auth: NormalizedAuthOptions;
  readonly roles: NormalizedRolesOptions;
  /** The proxy model, shared by every capability. */
  readonly proxy: TrustedProxy;
  /** Throttling, when configured. */
  readonly throttle: NormalizedThrottleOptions | undefined;
  /** Token lifecycle, when configured. */
  readonly tokens: NormalizedTokensOptions | undefined;
  /** Security headers, precomputed. */
  readonly headers: NormalizedHeadersOptions;
  /** HTTPS enforcement. */
  readonly https: NormalizedHttpsOptions;
}

const KNOWN_KEYS: ReadonlySet<string> = new Set(['auth', 'roles', 'trustProxy', 'throttle', 'tokens', 'headers', 'https']);

/**
 * Validates every option once at startup and precomputes what requests need.
 * @internal
 */
export function normalizeOptions(options: PalisadeModuleOptions | undefined): NormalizedPalisadeOptions {
  const input: unknown = options ?? {};
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new Error(`PalisadeModule: options are ${describe(input)}; expected an object.`);
  }
  for (const key of Object.keys(input)) {
    if (!KNOWN_KEYS.has(key)) {
      throw new Error(`PalisadeModule: unknown option '${key}'; known options: ${[...KNOWN_KEYS].join(', ')}.`);
    }
  }
  const { auth, roles, trustProxy, throttle, tokens, headers, https } = input as PalisadeModuleOptions;
  const normalizedAuth = normalizeAuthOptions(auth);
  // Responses to requests that carry credentials are authenticated responses (Cache-Control).
  const credentialHeaders = ['authorization', 'cookie', ...(normalizedAuth.apiKey ? [normalizedAuth.apiKey.header] : [])];
  return {
    auth: normalizedAuth,
    roles: normalizeRolesOptions(roles),
    proxy: new TrustedProxy(compileTrustProxy(trustProxy)),
    throttle: throttle === undefined ? undefined : normalizeThrottleOptions(throttle),
    tokens: tokens === undefined ? undefined : normalizeTokensOptions(tokens),
    headers: normalizeHeadersOptions(headers, credentialHeaders),
    https: normalizeHttpsOptions(https),
  };
}
