/**
 * Injection token of the normalised `headers` options (`NormalizedHeadersOptions`): every header
 * value precomputed at startup, as plain data. Route overrides are compiled by
 * `SecurityHeadersResolver` from its `scope`.
 * @internal
 */
export const HEADERS_OPTIONS = Symbol('PALISADE_HEADERS_OPTIONS');
