import type { Duration } from '../common/duration.js';

/**
 * Options of {@link strictCors}. Validated when `strictCors()` is called, at startup.
 *
 * @example
 * app.enableCors(strictCors({ origins: ['https://app.example.com', 'https://*.preview.example.com'] }));
 */
export interface StrictCorsOptions {
  /**
   * Origins allowed to read responses, matched exactly against the `Origin` header:
   * - an origin, `'https://app.example.com'` (scheme, host and port; no path);
   * - a pattern, `'https://*.example.com'`: `*` stands for exactly **one** DNS label, so it matches
   *   `https://a.example.com` but neither `https://example.com` nor `https://a.b.example.com`;
   *   scheme and port must match as written;
   * - `'*'`, every origin — refused with `credentials: true`.
   * The `null` origin (sandboxed frames, `file:` pages) is never allowed: anyone can send it.
   */
  origins: readonly string[];
  /**
   * Let browsers send cookies and HTTP authentication with cross-origin requests
   * (`Access-Control-Allow-Credentials: true`). Default `false`: an `Authorization` header set by
   * the page's script does not need it.
   */
  credentials?: boolean;
  /** Methods allowed by preflights. Default `GET, HEAD, POST, PUT, PATCH, DELETE`. */
  methods?: readonly string[];
  /** Request headers allowed by preflights. Default `Authorization, Content-Type, X-API-Key`. */
  allowedHeaders?: readonly string[];
  /**
   * Response headers scripts may read, **added** to the ones always exposed: `RateLimit`,
   * `RateLimit-Policy`, `Retry-After` and `WWW-Authenticate`.
   */
  exposedHeaders?: readonly string[];
  /** How long browsers may cache a preflight: milliseconds or a duration, sent in **seconds**. Default `'10m'`. */
  maxAge?: Duration;
}
