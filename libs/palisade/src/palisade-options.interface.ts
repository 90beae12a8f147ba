import type { AuthOptions } from './auth/auth-options.interface.js';
import type { RolesOptions } from './roles/roles-options.interface.js';
import type { TrustProxySetting } from './common/trusted-proxy.js';
import type { ThrottleOptions } from './throttle/throttle-options.interface.js';
import type { TokensOptions } from './tokens/tokens-options.interface.js';
import type { EventsOptions } from './events/events-options.interface.js';
import type { HeadersOptions } from './headers/headers-options.interface.js';
import type { HttpsOptions } from './transport/https-options.interface.js';

/**
 * Options of `PalisadeModule.forRoot()` / the factory of `forRootAsync()`. Validated once at
 * startup: an unknown key, a bad value or an insecure setting stops the app with a message that
 * names the option and the fix.
 *
 * @example
 * PalisadeModule.forRoot({
 *   auth: { jwt: { secret: process.env.JWT_SECRET!, issuer: 'palisade-demo', audience: 'palisade-demo' } },
 *   global: true,
 * })
 */
export interface PalisadeModuleOptions {
  /** Authentication schemes (JWT, API key, Basic) and the default schemes of a route. */
  auth?: AuthOptions;
  /** Role hierarchy and known role names for `@Roles`. */
  roles?: RolesOptions;
  /**
   * Proxies whose `X-Forwarded-For` / `X-Forwarded-Proto` are believed, for the client IP
   * (throttling, events) and the protocol (HSTS, HTTPS enforcement). Unset: none.
   */
  trustProxy?: TrustProxySetting;
  /** Rate limiting and brute-force protection. Unset: no route is throttled. */
  throttle?: ThrottleOptions;
  /** Refresh tokens with rotation and reuse detection, and access-token revocation. Unset: off. */
  tokens?: TokensOptions;
  /** Security events: default log sink, attack detection, fingerprint key. */
  events?: EventsOptions;
  /** Security headers on every response (CSP, HSTS, …). Unset: the secure defaults of docs/headers.md. */
  headers?: HeadersOptions;
  /** HTTPS enforcement: redirect or refuse plain HTTP. Unset: off. */
  https?: HttpsOptions;
  /**
   * A performance opt-in, Express only, that changes what `in` and `hasOwnProperty` answer on
   * requests: declare, before Express sees each request (through a `request` listener on the
   * HTTP server), the fields Express, its router, its
   * body parsers and the application add to requests and responses (any field seen on one of the
   * first 64 requests), so that V8 keeps all requests on one hidden class. Express re-parents every
   * request and response; each field added after that otherwise gives the object a hidden class of
   * its own, which makes every later field access (Express's, Nest's, Palisade's) an uncached
   * look-up. In the benchmark this cut Express's CPU per request by about two thirds
   * (docs/headers.md, "Express: stable request shapes").
   *
   * Every declared field reads what it read before (`undefined`, or the value Node's prototypes give
   * it); methods, accessors and fields of Express's prototypes are never declared. What changes is
   * that the field is an own property earlier: `'field' in req` and `Object.hasOwn(req, 'field')`
   * are true, and `Object.keys(req)`, spreads and `util.inspect` list it, before the code that sets
   * it ran: after one request to a route that sets `req.isAdmin = true`, every later request has
   * `'isAdmin' in req === true` (with the value `undefined`), and `req.user` is declared on every
   * request. Only turn it on when no code of the application or its libraries tests for a field's
   * presence. Default: `false` (Palisade leaves Express's objects as Express makes them).
   */
  stableRequestShapes?: boolean;
}

/** Options that shape the module definition itself (not available to an async factory). */
export interface PalisadeModuleExtras {
  /**
   * Register Palisade's guards app-wide (`APP_GUARD`): every route then requires authentication
   * unless marked `@Public()`. When `false` (default), apply them with `@UseGuards(AuthGuard)`.
   */
  global?: boolean;
}
