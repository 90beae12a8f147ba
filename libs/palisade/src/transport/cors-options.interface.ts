import type { IncomingMessage, ServerResponse } from 'node:http';
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

/** Who may read: `'*'` (anyone), or a check that answers whether the request's `Origin` may. */
export type StrictCorsOrigin = '*' | ((requestOrigin: string | undefined, callback: (error: Error | null, allow: boolean) => void) => void);

/**
 * The plain CORS options {@link strictCors} builds, typed so that both `cors` (Express) and
 * `@fastify/cors` accept them. Read-only: they are computed once, at startup.
 */
export interface StrictCorsSettings {
  readonly origin: StrictCorsOrigin;
  readonly credentials: boolean;
  readonly methods: string[];
  readonly allowedHeaders: string[];
  readonly exposedHeaders: string[];
  /** Preflight cache lifetime, in **seconds**. */
  readonly maxAge: number;
  readonly preflightContinue: false;
  readonly optionsSuccessStatus: number;
}

/**
 * What {@link strictCors} returns: the CORS options, built once, as an object that is also
 * callable with one argument, so that each adapter's `app.enableCors()` gets what it needs:
 * - Nest's Fastify adapter (like `fastify.register()`) calls an options function with the Fastify
 *   instance: it returns the plain options, which `@fastify/cors` compiles once into its hook;
 * - Express's `cors` calls an options function on every request with the request and a callback
 *   (an options delegate): it adds `Vary: Origin` to the response (`request.res`, which Express
 *   sets) and hands on the same options. `cors` alone sends no header at all to a refused origin
 *   or a request without `Origin`, so a shared cache could serve that response to an allowed origin.
 *
 * @example
 * app.enableCors(strictCors({ origins: ['https://app.example.com'] }));
 */
export interface StrictCors extends StrictCorsSettings {
  /** As Nest's Fastify adapter calls it: returns the plain options. */
  (instance: object): StrictCorsSettings;
  /** As Express's `cors` calls an options delegate: `Vary: Origin` on `request.res`, then `callback(null, options)`. */
  (request: IncomingMessage & { res?: ServerResponse }, callback: (error: Error | null, options: StrictCorsSettings) => void): void;
}
