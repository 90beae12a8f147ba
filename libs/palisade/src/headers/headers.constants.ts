/**
 * Injection token of the normalised `headers` options (`NormalizedHeadersOptions`): every header
 * value precomputed at startup, as plain data. Route overrides are compiled by
 * `SecurityHeadersResolver` from its `scope`.
 * @internal
 */
export const HEADERS_OPTIONS = Symbol('PALISADE_HEADERS_OPTIONS');

/**
 * Injection token of the lower-cased request headers that carry credentials: a response to a
 * request with one of them is an authenticated response (`Cache-Control` of the headers). The
 * library's root provides it from the `auth` options (`authorization`, `cookie`, the API key header).
 * @internal
 */
export const CREDENTIAL_HEADERS = Symbol('PALISADE_CREDENTIAL_HEADERS');
