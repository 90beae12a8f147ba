/**
 * Injection token of the normalised `tokens` options (`NormalizedTokensOptions`), or `undefined`
 * when the token lifecycle (refresh tokens, revocation) is not configured. Validated once at startup.
 * @internal
 */
export const TOKENS_OPTIONS = Symbol('PALISADE_TOKENS_OPTIONS');
