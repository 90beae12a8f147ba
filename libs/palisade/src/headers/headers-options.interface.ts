import type { Duration } from '../common/duration.js';
import type { CspDirectives, CspDirectivesCamelCase, CspPresetName } from './content-security-policy.js';

/**
 * The headers Palisade sets that protect something. Turning one off is spelled out with
 * `dangerouslyDisable: ['X-Frame-Options']`; giving `false` for its option (helmet's way) is
 * refused at startup with that fix.
 */
export type ProtectiveHeader =
  | 'Content-Security-Policy'
  | 'Strict-Transport-Security'
  | 'X-Content-Type-Options'
  | 'X-Frame-Options'
  | 'Referrer-Policy'
  | 'Cross-Origin-Opener-Policy'
  | 'Cross-Origin-Resource-Policy'
  | 'Origin-Agent-Cluster'
  | 'Permissions-Policy'
  | 'X-XSS-Protection'
  | 'X-DNS-Prefetch-Control'
  | 'X-Download-Options'
  | 'X-Permitted-Cross-Domain-Policies'
  | 'Cache-Control';

/** A `Referrer-Policy` token (W3C Referrer Policy §3). */
export type ReferrerPolicyToken =
  | 'no-referrer'
  | 'no-referrer-when-downgrade'
  | 'same-origin'
  | 'origin'
  | 'strict-origin'
  | 'origin-when-cross-origin'
  | 'strict-origin-when-cross-origin'
  | 'unsafe-url';

/**
 * A Content-Security-Policy: a starting point and the directives that change it, in helmet's and
 * Nest's shape (`{ directives, useDefaults }`) plus Palisade's `preset`.
 *
 * Directives given here replace the directive of the same name in the policy they start from;
 * `null` removes one; the others are kept. The starting point is `preset` when set, otherwise the
 * policy of the enclosing scope (the built-in `api` preset at module level, the module's policy in
 * `paths` and `@SecurityHeaders`), or no directive at all with `useDefaults: false`.
 * helmet's `reportOnly: true` is refused: report-only mode weakens the policy, and is spelled
 * `dangerouslyDisable: ['Content-Security-Policy']` plus `contentSecurityPolicyReportOnly`.
 *
 * @example
 * { preset: 'swagger-ui' }
 * { directives: { 'img-src': ["'self'", 'data:'] } }     // the API policy plus images
 * { directives: { imgSrc: ["'self'", 'data:'] } }        // the same, as helmet writes it
 * { preset: 'page', directives: { 'connect-src': ["'self'", 'https://api.example.com'] } }
 */
export interface ContentSecurityPolicyOptions {
  /** Start from a named preset instead of the enclosing policy (see `CSP_PRESETS`). */
  preset?: CspPresetName;
  /** As helmet: `true` (default) merges `directives` over the starting policy; `false` starts from no directive. */
  useDefaults?: boolean;
  /** Directives by their header (kebab-case) names, or camelCase as in helmet. Validated at startup. */
  directives?: CspDirectives & CspDirectivesCamelCase;
}

/** `Strict-Transport-Security` (RFC 6797), as helmet. Sent only on HTTPS responses. */
export interface StrictTransportSecurityOptions {
  /**
   * How long browsers remember to use HTTPS only, in **seconds** as in helmet (`31536000`), or a
   * duration string (`'1y'`). Default one year (`max-age=31536000`). At most two years
   * (`63072000`, what the preload list asks for): a larger number is refused as a likely
   * millisecond value.
   */
  maxAge?: number | Exclude<Duration, number>;
  /** Apply to every subdomain too. Default `true`. */
  includeSubDomains?: boolean;
  /** Ask for inclusion in browsers' preload lists (needs `maxAge` ≥ 1 year and `includeSubDomains`). Default `false`. */
  preload?: boolean;
}

/**
 * An allowlist of `Permissions-Policy`: `'*'` (every origin), or a list of `'self'`, `'src'` and
 * origins (`'https://maps.example.com'`). An empty list (the default for every feature Palisade
 * lists) turns the feature off.
 */
export type PermissionsPolicyAllowlist = '*' | readonly string[];

/** `Permissions-Policy`: features and who may use them. */
export interface PermissionsPolicyOptions {
  /**
   * Features (`camera`, `geolocation`, `fullscreen`, …) to set, merged over the enclosing policy;
   * `null` removes one from the header.
   *
   * @example
   * { features: { fullscreen: ['self'], geolocation: ['self', 'https://maps.example.com'] } }
   */
  features?: Readonly<Record<string, PermissionsPolicyAllowlist | null>>;
}

/**
 * Security headers of one scope: the module's defaults, a path prefix (`paths`) or a route
 * (`@SecurityHeaders`). Every key is optional: an absent key keeps the enclosing scope's value.
 */
export interface SecurityHeadersOverride {
  /** Enforced `Content-Security-Policy`. Default (module): the `api` preset, `default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`. */
  contentSecurityPolicy?: ContentSecurityPolicyOptions;
  /**
   * An additional `Content-Security-Policy-Report-Only` policy, starting from the enforced policy of
   * the same scope (so `directives` can hold just the change being tried). None by default. For a
   * report-only *mode*, add `dangerouslyDisable: ['Content-Security-Policy']`.
   */
  contentSecurityPolicyReportOnly?: ContentSecurityPolicyOptions;
  /**
   * Endpoints of the Reporting API sent in `Reporting-Endpoints`, by name, for the CSP `report-to`
   * directive: absolute `https:` URLs or absolute paths. Merged over the enclosing scope's.
   *
   * @example
   * { reportingEndpoints: { csp: 'https://reports.example.com/csp' },
   *   contentSecurityPolicy: { directives: { 'report-to': 'csp' } } }
   */
  reportingEndpoints?: Readonly<Record<string, string>>;
  /** `Strict-Transport-Security`. Default `max-age=31536000; includeSubDomains`, on HTTPS only. `true`: the default. */
  strictTransportSecurity?: true | StrictTransportSecurityOptions;
  /** `X-Frame-Options`, as helmet: `{ action: 'deny' | 'sameorigin' }` (either case). Default `DENY`. */
  xFrameOptions?: true | { action?: 'deny' | 'sameorigin' | 'DENY' | 'SAMEORIGIN' };
  /** `Referrer-Policy`, as helmet; a list is a fallback chain (the last supported one applies). Default `no-referrer`. */
  referrerPolicy?: true | { policy?: ReferrerPolicyToken | readonly ReferrerPolicyToken[] };
  /** `Cross-Origin-Opener-Policy`, as helmet. Default `same-origin`; `'unsafe-none'` is spelled `dangerouslyDisable`. */
  crossOriginOpenerPolicy?: true | { policy?: 'same-origin' | 'same-origin-allow-popups' | 'noopener-allow-popups' };
  /** `Cross-Origin-Resource-Policy`, as helmet. Default `same-origin` (CORS reads are not affected). */
  crossOriginResourcePolicy?: true | { policy?: 'same-origin' | 'same-site' | 'cross-origin' };
  /**
   * `Cross-Origin-Embedder-Policy`, as helmet. Not sent by default; `true` sends `require-corp`,
   * `false` removes an enclosing scope's.
   */
  crossOriginEmbedderPolicy?: boolean | { policy?: 'require-corp' | 'credentialless' };
  /** `Permissions-Policy` (Palisade's addition). Default: every powerful feature turned off (see docs/headers.md). */
  permissionsPolicy?: PermissionsPolicyOptions;
  /** `X-DNS-Prefetch-Control`, as helmet: `{ allow: true }` sends `on`. Default `off`. */
  xDnsPrefetchControl?: true | { allow?: boolean };
  /** `X-Permitted-Cross-Domain-Policies`, as helmet. Default `none`. */
  xPermittedCrossDomainPolicies?: true | { permittedPolicies?: 'none' | 'master-only' | 'by-content-type' | 'all' };
  /** `X-Content-Type-Options: nosniff`, always sent; `true` is accepted as in helmet. */
  xContentTypeOptions?: true;
  /** `Origin-Agent-Cluster: ?1`, always sent; `true` is accepted as in helmet. */
  originAgentCluster?: true;
  /** `X-Download-Options: noopen`, always sent; `true` is accepted as in helmet. */
  xDownloadOptions?: true;
  /** `X-XSS-Protection: 0`, always sent; `true` is accepted as in helmet. */
  xXssProtection?: true;
  /**
   * `Cache-Control` of authenticated responses: those to requests that carry credentials
   * (`Authorization`, `Cookie`, the API-key header) and those of routes where a principal was
   * authenticated. Other responses get no `Cache-Control` from Palisade. Default `'no-store'`.
   */
  cacheControl?: string;
  /**
   * Protective headers to leave out, written out on purpose. Each one weakens the responses of
   * this scope: only list a header you have replaced or truly do not need.
   *
   * @example
   * dangerouslyDisable: ['X-Frame-Options'] // a widget meant to be framed, with frame-ancestors set
   */
  dangerouslyDisable?: readonly ProtectiveHeader[];
}

/**
 * `headers` of `PalisadeModule.forRoot()`: the security headers set on **every** response the
 * application sends (routes, 401/403/404/429, errors, redirects), computed once at startup.
 * Without options, the defaults listed in docs/headers.md apply.
 *
 * @example
 * headers: {
 *   strictTransportSecurity: { maxAge: 63072000, preload: true }, // seconds, as in helmet
 *   xFrameOptions: { action: 'sameorigin' },
 *   paths: { '/docs': { contentSecurityPolicy: { preset: 'swagger-ui' } } },
 * }
 */
export interface HeadersOptions extends SecurityHeadersOverride {
  /**
   * Overrides for requests whose path is a prefix given here (exactly, or followed by `/`), for
   * content not served by controllers, such as Swagger UI. Matched on the raw path, case-sensitively;
   * a request that does not match gets the module's (stricter) headers. Controller routes use
   * `@SecurityHeaders()` instead.
   */
  paths?: Readonly<Record<string, SecurityHeadersOverride>>;
  /** Keep the framework's `X-Powered-By` header (removed by default). */
  dangerouslyKeepXPoweredBy?: boolean;
  /** helmet's and Nest's `xPoweredBy: true` (remove the header, the default); `false` is spelled `dangerouslyKeepXPoweredBy: true`. */
  xPoweredBy?: true;
}
