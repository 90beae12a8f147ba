import type { NormalizedAuthOptions } from './auth/auth-options.normalizer.js';
import { describe } from './common/duration.js';
import { assertKnownKeys } from './common/option-keys.js';
import type { InsecureSetting } from './events/events.constants.js';
import type { PalisadeModuleOptions } from './palisade-options.interface.js';
import type { NormalizedThrottleOptions } from './throttle/throttle-options.normalizer.js';
import type { NormalizedTokensOptions } from './tokens/tokens-options.normalizer.js';

const KNOWN_KEYS: readonly string[] = ['auth', 'roles', 'trustProxy', 'throttle', 'tokens', 'headers', 'https', 'events', 'stableRequestShapes'];

/**
 * Validates the root of the module's options once at startup: an object, no unknown key, and the
 * options that belong to no capability (`stableRequestShapes`). Each capability validates its own
 * key afterwards (`normalizeAuthOptions`, `normalizeThrottleOptions`, …, through the providers of
 * `palisade-options.providers.ts`). Returns the options, `{}` when there are none.
 * @internal
 */
export function validateModuleOptions(options: PalisadeModuleOptions | undefined): PalisadeModuleOptions {
  const input: unknown = options ?? {};
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new Error(`PalisadeModule: options are ${describe(input)}; expected an object.`);
  }
  assertKnownKeys(input, KNOWN_KEYS, '');
  const { stableRequestShapes } = input as PalisadeModuleOptions;
  if (stableRequestShapes !== undefined && typeof stableRequestShapes !== 'boolean') {
    throw new Error(`PalisadeModule: stableRequestShapes is ${describe(stableRequestShapes)}; expected true or false.`);
  }
  return input as PalisadeModuleOptions;
}

/**
 * Settings that are allowed but weaken security, across capabilities (a JWT scheme without
 * brute-force protection, say); reported once at startup as `configuration.insecure` events.
 * @internal
 */
export function insecureSettings(
  auth: NormalizedAuthOptions,
  throttle: NormalizedThrottleOptions | undefined,
  tokens: NormalizedTokensOptions | undefined,
): InsecureSetting[] {
  const warnings: InsecureSetting[] = [];
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
