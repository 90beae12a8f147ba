import type { Duration } from '../common/duration.js';
import type { CspDirectives, CspPresetName } from './content-security-policy.js';

/**
 * The headers Palisade sets that protect something. Turning one off is spelled out with
 * `dangerouslyDisable: ['X-Frame-Options']`; giving `false` for its option is refused at startup.
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
 * A Content-Security-Policy: a starting point and the directives that change it.
 *
 * Directives given here replace the directive of the same name in the policy they start from;
 * `null` removes one; the others are kept. The starting point is `preset` when set, otherwise the
 * policy of the enclosing scope (the built-in `api` preset at module level, the module's policy in
 * `paths` and `@SecurityHeaders`).
 *
 * @example
 * { preset: 'swagger-ui' }
 * { directives: { 'img-src': ["'self'", 'data:'] } }     // the API policy plus images
 * { preset: 'page', directives: { 'connect-src': ["'self'", 'https://api.example.com'] } }
 */
export interface ContentSecurityPolicyOptions {
  /** Start from a named preset instead of the enclosing policy (see `CSP_PRESETS`). */
  preset?: CspPresetName;
  /** Directives by their real (kebab-case) names. Validated at startup. */
  directives?: CspDirectives;
}

/** `Strict-Transport-Security` (RFC 6797). Sent only on HTTPS responses. */
export interface StrictTransportSecurityOptions {
  /**
   * How long browsers remember to use HTTPS only: milliseconds or a duration string (`'1y'`),
   * sent in whole **seconds**. Default `'1y'` (`max-age=31536000`).
   */
  maxAge?: Duration;
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
  /** `Strict-Transport-Security`. Default `max-age=31536000; includeSubDomains`, on HTTPS only. */
  strictTransportSecurity?: StrictTransportSecurityOptions;
  /** `X-Frame-Options`. Default `'DENY'`. */
  xFrameOptions?: 'DENY' | 'SAMEORIGIN';
  /** `Referrer-Policy`; a list is a fallback chain (the last supported one applies). Default `'no-referrer'`. */
  referrerPolicy?: ReferrerPolicyToken | readonly ReferrerPolicyToken[];
  /** `Cross-Origin-Opener-Policy`. Default `'same-origin'`. */
  crossOriginOpenerPolicy?: 'same-origin' | 'same-origin-allow-popups' | 'noopener-allow-popups';
  /** `Cross-Origin-Resource-Policy`. Default `'same-origin'` (CORS reads are not affected). */
  crossOriginResourcePolicy?: 'same-origin' | 'same-site' | 'cross-origin';
  /** `Cross-Origin-Embedder-Policy`. Not sent by default; `false` removes an enclosing scope's. */
  crossOriginEmbedderPolicy?: 'require-corp' | 'credentialless' | false;
  /** `Permissions-Policy`. Default: every powerful feature turned off (see the README). */
  permissionsPolicy?: PermissionsPolicyOptions;
  /** `X-DNS-Prefetch-Control`. Default `'off'`. */
  xDnsPrefetchControl?: 'off' | 'on';
  /** `X-Permitted-Cross-Domain-Policies`. Default `'none'`. */
  xPermittedCrossDomainPolicies?: 'none' | 'master-only' | 'by-content-type' | 'all';
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
 * Without options, the defaults listed in the README apply.
 *
 * @example
 * headers: {
 *   strictTransportSecurity: { maxAge: '2y', preload: true },
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
}
