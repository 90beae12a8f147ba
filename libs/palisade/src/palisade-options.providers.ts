import type { Provider } from '@nestjs/common';
import { getOptionsToken, type ThrottlerModuleOptions } from '@nestjs/throttler';
import { AUTH_OPTIONS, credentialHeadersOf } from './auth/auth.constants.js';
import { normalizeAuthOptions, type NormalizedAuthOptions } from './auth/auth-options.normalizer.js';
import { STABLE_REQUEST_SHAPES } from './common/request-shapes.js';
import { normalizeTrustProxy, TRUST_PROXY_OPTIONS, TrustedProxy, trustedProxyOf, type NormalizedTrustProxy } from './common/trusted-proxy.js';
import { EVENTS_OPTIONS, INSECURE_SETTINGS } from './events/events.constants.js';
import { normalizeEventsOptions } from './events/events-options.normalizer.js';
import { CREDENTIAL_HEADERS, HEADERS_OPTIONS } from './headers/headers.constants.js';
import { normalizeHeadersOptions } from './headers/headers-options.normalizer.js';
import { PALISADE_MODULE_OPTIONS } from './palisade.constants.js';
import { MODULE_OPTIONS_TOKEN } from './palisade.module-definition.js';
import type { PalisadeModuleOptions } from './palisade-options.interface.js';
import { insecureSettings, validateModuleOptions } from './palisade-options.normalizer.js';
import { normalizeRolesOptions } from './roles/role-hierarchy.js';
import { ROLES_OPTIONS } from './roles/roles.constants.js';
import { THROTTLE_OPTIONS } from './throttle/throttle.constants.js';
import { normalizeThrottleOptions, type NormalizedThrottleOptions } from './throttle/throttle-options.normalizer.js';
import { TOKENS_OPTIONS } from './tokens/tokens.constants.js';
import { normalizeTokensOptions, type NormalizedTokensOptions } from './tokens/tokens-options.normalizer.js';
import { HTTPS_OPTIONS } from './transport/transport.constants.js';
import { normalizeHttpsOptions } from './transport/https-options.normalizer.js';

/** A provider of one capability's options: a factory over the module's (root-validated) options. */
function capability(token: symbol, normalize: (options: PalisadeModuleOptions) => unknown): Provider {
  return { provide: token, inject: [PALISADE_MODULE_OPTIONS], useFactory: normalize };
}

/**
 * The providers of Palisade's options. The module's options (`MODULE_OPTIONS_TOKEN`, from
 * `forRoot` or the `forRootAsync` factory) are validated at the root once
 * ({@link PALISADE_MODULE_OPTIONS}); then each capability normalises its own key behind its own
 * token, and each service injects only the tokens it reads. Listed in the order the options are
 * validated: a configuration with several mistakes reports the first of them.
 *
 * Everything these tokens hold is plain data; what acts on it is a provider of its own
 * (`TrustedProxy`, `JwksKeys`, the stores, `SecurityHeadersResolver`).
 * @internal
 */
export const OPTIONS_PROVIDERS: Provider[] = [
  {
    provide: PALISADE_MODULE_OPTIONS,
    inject: [MODULE_OPTIONS_TOKEN],
    useFactory: (options: PalisadeModuleOptions | undefined) => validateModuleOptions(options),
  },
  { provide: STABLE_REQUEST_SHAPES, inject: [PALISADE_MODULE_OPTIONS], useFactory: (options: PalisadeModuleOptions) => options.stableRequestShapes ?? false },
  capability(AUTH_OPTIONS, (options) => normalizeAuthOptions(options.auth)),
  capability(THROTTLE_OPTIONS, (options) => (options.throttle === undefined ? undefined : normalizeThrottleOptions(options.throttle))),
  capability(TOKENS_OPTIONS, (options) => (options.tokens === undefined ? undefined : normalizeTokensOptions(options.tokens))),
  capability(EVENTS_OPTIONS, (options) => normalizeEventsOptions(options.events)),
  {
    provide: INSECURE_SETTINGS,
    inject: [AUTH_OPTIONS, THROTTLE_OPTIONS, TOKENS_OPTIONS],
    useFactory: (auth: NormalizedAuthOptions, throttle: NormalizedThrottleOptions | undefined, tokens: NormalizedTokensOptions | undefined) =>
      insecureSettings(auth, throttle, tokens),
  },
  capability(ROLES_OPTIONS, (options) => normalizeRolesOptions(options.roles)),
  capability(TRUST_PROXY_OPTIONS, (options) => normalizeTrustProxy(options.trustProxy)),
  { provide: TrustedProxy, inject: [TRUST_PROXY_OPTIONS], useFactory: (options: NormalizedTrustProxy) => trustedProxyOf(options) },
  capability(HEADERS_OPTIONS, (options) => normalizeHeadersOptions(options.headers)),
  capability(HTTPS_OPTIONS, (options) => normalizeHttpsOptions(options.https)),
  // What the security headers need of `auth`: the request headers that make a response authenticated.
  { provide: CREDENTIAL_HEADERS, inject: [AUTH_OPTIONS], useFactory: (auth: NormalizedAuthOptions) => credentialHeadersOf(auth) },
  {
    // @nestjs/throttler's own options token, so its API sees Palisade's configuration.
    provide: getOptionsToken(),
    inject: [THROTTLE_OPTIONS],
    useFactory: (throttle: NormalizedThrottleOptions | undefined): ThrottlerModuleOptions => ({
      throttlers: (throttle?.tiers ?? []).map((t) => ({ name: t.name, limit: t.limit, ttl: t.ttlMs, blockDuration: t.blockMs })),
    }),
  },
];
