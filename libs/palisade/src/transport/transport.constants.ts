/**
 * Injection token of the normalised `https` options (`NormalizedHttpsOptions`), validated once at
 * startup.
 * @internal
 */
export const HTTPS_OPTIONS = Symbol('PALISADE_HTTPS_OPTIONS');
