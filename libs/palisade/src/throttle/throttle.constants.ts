/**
 * Injection token of the normalised `throttle` options (`NormalizedThrottleOptions`), or
 * `undefined` when throttling is not configured. Validated once at startup.
 * @internal
 */
export const THROTTLE_OPTIONS = Symbol('PALISADE_THROTTLE_OPTIONS');
