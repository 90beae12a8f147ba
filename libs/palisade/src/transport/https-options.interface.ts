/**
 * `https` of `PalisadeModule.forRoot()`: refuse plain HTTP. A request is HTTPS when its connection
 * is TLS, or when a trusted proxy (`trustProxy`) says so in `X-Forwarded-Proto`; the header is
 * ignored from anyone else.
 *
 * With `enforce: true`, a plain-HTTP `GET`, `HEAD`, `OPTIONS` or `TRACE` is redirected (308) to
 * the same path and query on `https://`, on one of `hosts` — the request's own `Host` when it is
 * listed, the first of `hosts` otherwise, so a forged `Host` cannot turn the redirect into an open
 * redirect. Other methods are refused with a 403 (a redirect would resend their body in clear
 * text, or be silently downgraded to GET by some clients).
 *
 * @example
 * https: { enforce: true, hosts: ['api.example.com', 'www.example.com'] }
 * https: { enforce: process.env.NODE_ENV === 'production', hosts: ['api.example.com'], port: 8443 }
 */
export interface HttpsOptions {
  /** Redirect or refuse plain-HTTP requests. Default `false`. */
  enforce?: boolean;
  /**
   * Host names the application serves over HTTPS (no scheme, no port), the first being canonical.
   * Required when `enforce` is true and `redirect` is not false.
   */
  hosts?: readonly string[];
  /** Port of the HTTPS listener that redirects point to. Default `443` (left out of the URL). */
  port?: number;
  /** Redirect safe methods (default `true`); `false` refuses every plain-HTTP request with a 403. */
  redirect?: boolean;
  /**
   * Path prefixes also served over plain HTTP (exactly, or followed by `/`), such as an internal
   * health check probed over HTTP. Default: none.
   */
  exclude?: readonly string[];
}
