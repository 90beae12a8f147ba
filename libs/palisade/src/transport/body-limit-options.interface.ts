/**
 * Options of {@link bodyLimit}. Validated when `bodyLimit()` is called, at startup.
 *
 * @example
 * const LIMIT = 64 * 1024;
 * app.use(bodyLimit({ limit: LIMIT }));
 * app.useBodyParser('json', { limit: LIMIT });
 */
export interface BodyLimitOptions {
  /**
   * Largest body a request may declare, in **bytes** (an integer, `0` or more): a `Content-Length`
   * above it is answered 413 before any of the body is read. Give the body parser the same number.
   */
  limit: number;
  /**
   * Refuse a body that declares no length (`Transfer-Encoding: chunked`) with 411 at once, instead
   * of letting the body parser read it to its end before its 413 (Express). Default `false`:
   * browsers send `Content-Length` with `fetch()` and forms, but a streamed `fetch()` body and
   * some HTTP clients do not.
   */
  lengthRequired?: boolean;
}
