import { describe, expect, it } from 'vitest';
import { CSP_NONCE } from './content-security-policy.js';
import { compileOverrides, normalizeHeadersOptions, PROTECTIVE_HEADERS, type HeaderSet } from './headers-options.normalizer.js';

const normalize = (options: unknown) => normalizeHeadersOptions(options);
const fixedOf = (set: HeaderSet) => Object.fromEntries(set.fixed);

describe('normalizeHeadersOptions', () => {
  it('precomputes the default set', () => {
    const { base, paths, removeXPoweredBy } = normalize(undefined);
    expect(fixedOf(base)).toEqual({
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Resource-Policy': 'same-origin',
      'Origin-Agent-Cluster': '?1',
      'X-XSS-Protection': '0',
      'X-DNS-Prefetch-Control': 'off',
      'X-Download-Options': 'noopen',
      'X-Permitted-Cross-Domain-Policies': 'none',
      'Referrer-Policy': 'no-referrer',
      'Permissions-Policy': expect.stringMatching(/^accelerometer=\(\), .*xr-spatial-tracking=\(\)$/) as unknown,
      'Content-Security-Policy': "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    });
    expect(base.hsts).toBe('max-age=31536000; includeSubDomains');
    expect(base.cacheControl).toBe('no-store');
    expect(base.usesNonce).toBe(false);
    expect(base.absent).toEqual(['Content-Security-Policy-Report-Only', 'Reporting-Endpoints', 'Cross-Origin-Embedder-Policy']);
    expect(paths).toEqual([]);
    expect(removeXPoweredBy).toBe(true);
  });

  it('keeps policies with a nonce out of the fixed headers', () => {
    const { base } = normalize({ contentSecurityPolicy: { directives: { 'script-src': [CSP_NONCE] } } });
    expect(base.usesNonce).toBe(true);
    expect(fixedOf(base)['Content-Security-Policy']).toBeUndefined();
    expect(base.policies).toEqual([
      { header: 'Content-Security-Policy', parts: ["default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; script-src ", ''] },
    ]);
  });

  it('HSTS: maxAge in seconds as helmet (or a duration string), preload only with a year and subdomains', () => {
    expect(normalize({ strictTransportSecurity: { maxAge: '2y', preload: true } }).base.hsts).toBe('max-age=63072000; includeSubDomains; preload');
    expect(normalize({ strictTransportSecurity: { maxAge: 86_400, includeSubDomains: false } }).base.hsts).toBe('max-age=86400');
    expect(normalize({ strictTransportSecurity: true }).base.hsts).toBe('max-age=31536000; includeSubDomains');
    expect(() => normalize({ strictTransportSecurity: { maxAge: 86_400_000 } })).toThrow(
      "PalisadeModule: headers.strictTransportSecurity.maxAge is 86400000 seconds, over two years (63072000); maxAge is in seconds, as in helmet (Palisade 0.x read a number as milliseconds). For one year write 31536000 or '1y'.",
    );
    expect(() => normalize({ strictTransportSecurity: { maxAge: 1.5 } })).toThrow('expected a whole number of seconds');
    expect(() => normalize({ strictTransportSecurity: { maxAge: '30d', preload: true } })).toThrow(
      'PalisadeModule: headers.strictTransportSecurity.preload is true but the preload list needs maxAge of at least',
    );
    expect(() => normalize({ strictTransportSecurity: { maxAge: 0 } })).toThrow('max-age=0 makes browsers forget HSTS');
    expect(() => normalize({ strictTransportSecurity: { maxAge: 'forever' } })).toThrow('PalisadeModule: headers.strictTransportSecurity.maxAge is "forever"');
    expect(() => normalize({ strictTransportSecurity: false })).toThrow("dangerouslyDisable: ['Strict-Transport-Security']");
  });

  it.each([
    [
      { xFrameOptions: { action: 'ALLOW-FROM https://a.example' } },
      "headers.xFrameOptions.action is \"ALLOW-FROM https://a.example\"; expected one of 'deny', 'sameorigin'.",
    ],
    [{ xFrameOptions: 'DENY' }, "headers.xFrameOptions is \"DENY\"; write { action: 'deny' }, the shape of helmet and Nest's SecurityHeadersOptions."],
    [{ referrerPolicy: { policy: 'never' } }, 'headers.referrerPolicy.policy is "never"; expected one of no-referrer'],
    [
      { referrerPolicy: 'no-referrer' },
      'headers.referrerPolicy is "no-referrer"; write { policy: "no-referrer" }, the shape of helmet and Nest\'s SecurityHeadersOptions.',
    ],
    [{ crossOriginResourcePolicy: 'same-site' }, 'headers.crossOriginResourcePolicy is "same-site"; write { policy: \'same-site\' }'],
    [{ xDnsPrefetchControl: 'on' }, 'headers.xDnsPrefetchControl is "on"; write { allow: true }'],
    [{ xPermittedCrossDomainPolicies: 'none' }, 'headers.xPermittedCrossDomainPolicies is "none"; write { permittedPolicies: \'none\' }'],
    [{ crossOriginEmbedderPolicy: 'require-corp' }, 'headers.crossOriginEmbedderPolicy is "require-corp"; write { policy: "require-corp" }'],
    [{ crossOriginEmbedderPolicy: { policy: 'unsafe-none' } }, 'write crossOriginEmbedderPolicy: false.'],
    [{ xContentTypeOptions: false }, "turning off X-Content-Type-Options is spelled dangerouslyDisable: ['X-Content-Type-Options']."],
    [{ xXssProtection: '1; mode=block' }, 'headers.xXssProtection is "1; mode=block"; X-XSS-Protection has one value, sent by default'],
    [{ xPoweredBy: false }, 'headers.xPoweredBy is false; keeping X-Powered-By is spelled dangerouslyKeepXPoweredBy: true.'],
    [{ frameguard: { action: 'deny' } }, "headers.frameguard is helmet's legacy name; write headers.xFrameOptions"],
    [{ contentSecurityPolicy: { useDefaults: false, preset: 'page' } }, 'sets both preset and useDefaults: false; keep one of them.'],
    [
      { contentSecurityPolicy: { directives: { scriptSrc: ["'self'"], 'script-src': ["'none'"] } } },
      "names directive 'script-src' twice ('scriptSrc' and 'script-src')",
    ],
    [{ referrerPolicy: false }, "turning off Referrer-Policy is spelled dangerouslyDisable: ['Referrer-Policy']."],
    [{ cacheControl: false }, "turning off Cache-Control is spelled dangerouslyDisable: ['Cache-Control']."],
    [{ cacheControl: 'no-store\r\nSet-Cookie: a=b' }, 'headers.cacheControl is "no-store\\r\\nSet-Cookie: a=b"; expected a Cache-Control value'],
    [{ permissionsPolicy: false }, "dangerouslyDisable: ['Permissions-Policy']"],
    [
      { permissionsPolicy: { features: { camera: ["'self'"] } } },
      "headers.permissionsPolicy.features['camera'] contains 'self'; Permissions-Policy keywords are not quoted. Write self.",
    ],
    [{ permissionsPolicy: { features: { Camera: [] } } }, 'feature names are lower-case with dashes'],
    [{ permissionsPolicy: { features: { camera: ['https://a.example/path'] } } }, "expected 'self', 'src', '*' or an origin"],
    [{ dangerouslyDisable: ['X-Powered-By'] }, 'headers.dangerouslyDisable contains "X-Powered-By"; expected one of Content-Security-Policy'],
    [
      { xFrameOptions: { action: 'deny' }, dangerouslyDisable: ['X-Frame-Options'] },
      "headers sets xFrameOptions and also lists 'X-Frame-Options' in dangerouslyDisable; keep one of them.",
    ],
    [
      { reportingEndpoints: { csp: 'http://reports.example.com' } },
      'headers.reportingEndpoints[\'csp\'] is "http://reports.example.com"; expected an absolute https: URL',
    ],
    [{ reportingEndpoints: { 'CSP Reports': '/r' } }, 'headers.reportingEndpoints has endpoint name "CSP Reports"'],
    [
      { contentSecurityPolicy: { nonce: true } },
      'PalisadeModule: unknown option headers.contentSecurityPolicy.nonce. Known options of headers.contentSecurityPolicy: preset, directives, useDefaults, reportOnly.',
    ],
    [{ paths: { docs: {} } }, 'headers.paths has prefix "docs"; expected an absolute path'],
    [{ paths: { '/docs': { paths: {} } } }, "headers.paths['/docs'] has option 'paths', which is only accepted in the module's headers options."],
    [{ dangerouslyKeepXPoweredBy: 'yes' }, 'headers.dangerouslyKeepXPoweredBy is "yes"; expected true or false.'],
  ])('refuses %j', (options, message) => {
    expect(() => normalize(options)).toThrow(message);
  });

  it('report-only policy starts from the enforced one; report-only mode disables the enforced one', () => {
    const { base } = normalize({
      dangerouslyDisable: ['Content-Security-Policy'],
      contentSecurityPolicyReportOnly: { directives: { 'report-to': 'csp' } },
      reportingEndpoints: { csp: '/csp-reports' },
    });
    const fixed = fixedOf(base);
    expect(fixed['Content-Security-Policy']).toBeUndefined();
    expect(fixed['Content-Security-Policy-Report-Only']).toBe("default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; report-to csp");
    expect(fixed['Reporting-Endpoints']).toBe('csp="/csp-reports"');
    expect(base.absent).toContain('Content-Security-Policy');
  });

  it('paths: longest prefix first, a trailing slash ignored, scopes over the module', () => {
    const { paths } = normalize({
      xFrameOptions: { action: 'sameorigin' },
      paths: { '/docs/': { contentSecurityPolicy: { preset: 'swagger-ui' } }, '/docs/v2': {} },
    });
    expect(paths.map((p) => p.prefix)).toEqual(['/docs/v2', '/docs']);
    expect(fixedOf(paths[1]!.set)['X-Frame-Options']).toBe('SAMEORIGIN');
    expect(fixedOf(paths[1]!.set)['Content-Security-Policy']).toContain("style-src 'self' 'unsafe-inline'");
  });

  it('compileOverrides: layers in order, configuring a header turns it back on, COEP can be removed', () => {
    const { scope } = normalize({ dangerouslyDisable: ['X-Frame-Options'], crossOriginEmbedderPolicy: { policy: 'require-corp' } });
    const set = compileOverrides(scope, [
      [{ xFrameOptions: { action: 'sameorigin' }, crossOriginEmbedderPolicy: false }, 'controller'],
      [{ dangerouslyDisable: ['Cache-Control'] }, 'handler'],
    ]);
    expect(fixedOf(set)['X-Frame-Options']).toBe('SAMEORIGIN');
    expect(fixedOf(set)['Cross-Origin-Embedder-Policy']).toBeUndefined();
    expect(set.absent).toEqual(expect.arrayContaining(['Cross-Origin-Embedder-Policy', 'Cache-Control']));
    expect(set.cacheControl).toBeUndefined();
    expect(() => compileOverrides(scope, [[{ xFrameOptions: { action: 'NEVER' } }, '@SecurityHeaders() on C.m']])).toThrow(
      "PalisadeModule: @SecurityHeaders() on C.m.xFrameOptions.action is \"NEVER\"; expected one of 'deny', 'sameorigin'.",
    );
  });

  it("carries a helmet configuration over: helmet's names, shapes and camelCase directives give the same headers", () => {
    const { base } = normalize({
      contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'self'"], imgSrc: ["'self'", 'data:'], upgradeInsecureRequests: true } },
      strictTransportSecurity: { maxAge: 15_552_000, includeSubDomains: true },
      xFrameOptions: { action: 'sameorigin' },
      referrerPolicy: { policy: 'strict-origin-when-cross-origin' },
      crossOriginOpenerPolicy: { policy: 'same-origin-allow-popups' },
      crossOriginResourcePolicy: { policy: 'cross-origin' },
      crossOriginEmbedderPolicy: true,
      xDnsPrefetchControl: { allow: true },
      xPermittedCrossDomainPolicies: { permittedPolicies: 'by-content-type' },
      xContentTypeOptions: true,
      originAgentCluster: true,
      xDownloadOptions: true,
      xXssProtection: true,
      xPoweredBy: true,
    });
    const fixed = fixedOf(base);
    expect(fixed['Content-Security-Policy']).toBe("default-src 'self'; img-src 'self' data:; upgrade-insecure-requests");
    expect(base.hsts).toBe('max-age=15552000; includeSubDomains');
    expect(fixed).toMatchObject({
      'X-Frame-Options': 'SAMEORIGIN',
      'Referrer-Policy': 'strict-origin-when-cross-origin',
      'Cross-Origin-Opener-Policy': 'same-origin-allow-popups',
      'Cross-Origin-Resource-Policy': 'cross-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'X-DNS-Prefetch-Control': 'on',
      'X-Permitted-Cross-Domain-Policies': 'by-content-type',
      'X-Content-Type-Options': 'nosniff',
      'Origin-Agent-Cluster': '?1',
      'X-Download-Options': 'noopen',
      'X-XSS-Protection': '0',
    });
  });
});

/** A valid setting of each protective header's option (the header descriptors' table, seen from outside). */
const OPTION_OF_HEADER: Record<(typeof PROTECTIVE_HEADERS)[number], [option: string, value: unknown]> = {
  'Content-Security-Policy': ['contentSecurityPolicy', true],
  'Strict-Transport-Security': ['strictTransportSecurity', true],
  'X-Content-Type-Options': ['xContentTypeOptions', true],
  'X-Frame-Options': ['xFrameOptions', { action: 'sameorigin' }],
  'Referrer-Policy': ['referrerPolicy', { policy: 'same-origin' }],
  'Cross-Origin-Opener-Policy': ['crossOriginOpenerPolicy', { policy: 'same-origin' }],
  'Cross-Origin-Resource-Policy': ['crossOriginResourcePolicy', { policy: 'same-site' }],
  'Origin-Agent-Cluster': ['originAgentCluster', true],
  'Permissions-Policy': ['permissionsPolicy', { features: { camera: ['self'] } }],
  'X-XSS-Protection': ['xXssProtection', true],
  'X-DNS-Prefetch-Control': ['xDnsPrefetchControl', { allow: false }],
  'X-Download-Options': ['xDownloadOptions', true],
  'X-Permitted-Cross-Domain-Policies': ['xPermittedCrossDomainPolicies', { permittedPolicies: 'none' }],
  'Cache-Control': ['cacheControl', 'private, max-age=60'],
};

describe('header descriptors', () => {
  it('PROTECTIVE_HEADERS lists every header dangerouslyDisable accepts, in the order Palisade writes them', () => {
    expect(PROTECTIVE_HEADERS).toEqual(Object.keys(OPTION_OF_HEADER));
  });

  it.each(PROTECTIVE_HEADERS)('%s: its option conflicts with disabling it, and configuring it in a narrower scope turns it back on', (header) => {
    const [option, value] = OPTION_OF_HEADER[header];
    expect(() => normalize({ [option]: value, dangerouslyDisable: [header] })).toThrow(
      `PalisadeModule: headers sets ${option} and also lists '${header}' in dangerouslyDisable; keep one of them.`,
    );
    const { base, scope } = normalize({ dangerouslyDisable: [header] });
    const sent = (set: HeaderSet) =>
      set.fixed.some(([name]) => name === header) ||
      set.policies.some((policy) => policy.header === header) ||
      (header === 'Strict-Transport-Security' && set.hsts !== undefined) ||
      (header === 'Cache-Control' && set.cacheControl !== undefined);
    expect(sent(base)).toBe(false);
    expect(base.absent).toContain(header);
    expect(sent(compileOverrides(scope, [[{ [option]: value }, 'route']]))).toBe(true);
  });

  it.each([
    ['hsts', 'strictTransportSecurity'],
    ['frameguard', 'xFrameOptions'],
    ['noSniff', 'xContentTypeOptions'],
    ['dnsPrefetchControl', 'xDnsPrefetchControl'],
    ['ieNoOpen', 'xDownloadOptions'],
    ['hidePoweredBy', 'xPoweredBy'],
    ['permittedCrossDomainPolicies', 'xPermittedCrossDomainPolicies'],
    ['xssFilter', 'xXssProtection'],
  ])("refuses helmet's legacy name %s and names %s instead", (alias, name) => {
    expect(() => normalize({ [alias]: true })).toThrow(`PalisadeModule: headers.${alias} is helmet's legacy name; write headers.${name}`);
  });

  it.each(['paths', 'dangerouslyKeepXPoweredBy', 'xPoweredBy'])('accepts %s in the module options only', (key) => {
    expect(() => normalize({ paths: { '/docs': { [key]: true } } })).toThrow(
      `PalisadeModule: headers.paths['/docs'] has option '${key}', which is only accepted in the module's headers options.`,
    );
  });

  it('suggests the option meant by a misspelled key', () => {
    expect(() => normalize({ xFrameOption: true })).toThrow(/xFrameOptions/);
  });
});
