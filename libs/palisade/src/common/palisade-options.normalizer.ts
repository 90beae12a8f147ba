import { normalizeAuthOptions, type NormalizedAuthOptions } from '../auth/auth-options.normalizer.js';
import { normalizeRolesOptions, type NormalizedRolesOptions } from '../roles/role-hierarchy.js';
import { describe } from './duration.js';
import { assertKnownKeys } from './option-keys.js';
import { compileTrustProxy, TrustedProxy } from './trusted-proxy.js';
import { normalizeThrottleOptions, type NormalizedThrottleOptions } from '../throttle/throttle-options.normalizer.js';
import { normalizeTokensOptions, type NormalizedTokensOptions } from '../tokens/tokens-options.normalizer.js';
import { normalizeEventsOptions, type NormalizedEventsOptions } from '../events/events-options.normalizer.js';
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
  /** Security events. */
  readonly events: NormalizedEventsOptions;
  /** Insecure but allowed settings, reported as `configuration.insecure` events at startup. */
  readonly warnings: readonly { readonly option: string; readonly message: string }[];
  /** Security headers, precomputed. */
  readonly headers: NormalizedHeadersOptions;
  /** HTTPS enforcement. */
  readonly https: NormalizedHttpsOptions;
  /** Declare Express's per-request fields before Express re-parents the objects. */
  readonly stableRequestShapes: boolean;
}

const KNOWN_KEYS: readonly string[] = ['auth', 'roles', 'trustProxy', 'throttle', 'tokens', 'headers', 'https', 'events', 'stableRequestShapes'];

/**
 * Validates every option once at startup and precomputes what requests need.
 * @internal
 */
export function normalizeOptions(options: PalisadeModuleOptions | undefined): NormalizedPalisadeOptions {
  const input: unknown = options ?? {};
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new Error(`PalisadeModule: options are ${describe(input)}; expected an object.`);
  }
  assertKnownKeys(input, KNOWN_KEYS, '');
  const { auth, roles, trustProxy, throttle, tokens, headers, https, events, stableRequestShapes } = input as PalisadeModuleOptions;
  if (stableRequestShapes !== undefined && typeof stableRequestShapes !== 'boolean') {
    throw new Error(`PalisadeModule: stableRequestShapes is ${describe(stableRequestShapes)}; expected true or false.`);
  }
  const normalizedAuth = normalizeAuthOptions(auth);
  // Responses to requests that carry credentials are authenticated responses (Cache-Control).
  const credentialHeaders = ['authorization', 'cookie', ...(normalizedAuth.apiKey ? [normalizedAuth.apiKey.header] : [])];
  const normalizedThrottle = throttle === undefined ? undefined : normalizeThrottleOptions(throttle);
  const normalizedTokens = tokens === undefined ? undefined : normalizeTokensOptions(tokens);
  return {
    auth: normalizedAuth,
    events: normalizeEventsOptions(events),
    warnings: insecureSettings(normalizedAuth, normalizedThrottle, normalizedTokens),
    roles: normalizeRolesOptions(roles),
    proxy: new TrustedProxy(compileTrustProxy(trustProxy)),
    throttle: normalizedThrottle,
    tokens: normalizedTokens,
    headers: normalizeHeadersOptions(headers, credentialHeaders),
    https: normalizeHttpsOptions(https),
    stableRequestShapes: stableRequestShapes ?? false,
  };
}

/** Settings that are allowed but weaken security, reported once at startup. */
function insecureSettings(
  auth: NormalizedAuthOptions,
  throttle: NormalizedThrottleOptions | undefined,
  tokens: NormalizedTokensOptions | undefined,
): { option: string; message: string }[] {
  const warnings: { option: string; message: string }[] = [];
  if (auth.jwt?.verifyKey && auth.jwt.issuer === undefined) {
    warnings.push({ option: 'auth.jwt.issuer', message: 'JWT issuer is not checked; set auth.jwt.issuer (RFC 8725 §3.8).' });
  }
  if (auth.jwt?.verifyKey && auth.jwt.audience === undefined) {
    warnings.push({
      option: 'auth.jwt.audience',
      message: 'JWT audience is not checked; a token minted for another service is accepted. Set auth.jwt.audience (RFC 8725 §3.9).',
    });
  }
  for (const [i, entry] of (auth.jwt?.jwks ?? []).entries()) {
    if (entry.audience === undefined) {
      warnings.push({
        option: `auth.jwt.jwks[${i}].audience`,
        message: `Tokens of ${entry.issuers.join(', ')} are accepted whatever their audience: an ID token or a token minted for another API gets in. Set auth.jwt.audience or auth.jwt.jwks[${i}].audience (RFC 8725 §3.9).`,
      });
    }
  }
  if (auth.jwt && auth.jwt.clockToleranceSeconds > 60) {
    warnings.push({
      option: 'auth.jwt.clockTolerance',
      message: `Clock tolerance of ${auth.jwt.clockToleranceSeconds} s extends every token's life; keep it under a minute.`,
    });
  }
  if (auth.configured.size > 0 && (throttle === undefined || throttle.authFailures === undefined)) {
    warnings.push({ option: 'throttle.authFailures', message: 'Brute-force protection is off: failed authentications are not limited. Configure throttle.' });
  }
  if (tokens?.failOpen) {
    warnings.push({ option: 'tokens.failOpen', message: 'Revoked tokens are accepted while the token store is unavailable.' });
  }
  return warnings;
}
