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
}
