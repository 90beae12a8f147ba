import { describe, expect, it } from 'vitest';
import { CSP_NONCE } from './content-security-policy.js';
import { normalizeHeadersOptions, type HeaderSet } from './headers-options.normalizer.js';

const CREDENTIALS = ['authorization', 'cookie', 'x-api-key'];
const normalize = (options: unknown) => normalizeHeadersOptions(options, CREDENTIALS);
const fixedOf = (set: HeaderSet) => Object.fromEntries(set.fixed);

describe('normalizeHeadersOptions', () => {
  it('precomputes the default set', () => {
    const { base, paths, removeXPoweredBy, credentialHeaders } = normalize(undefined);
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
    expect(credentialHeaders).toEqual(CREDENTIALS);
  });

  it('keeps policies with a nonce out of the fixed headers', () => {
    const { base } = normalize({ contentSecurityPolicy: { directives: { 'script-src': [CSP_NONCE] } } });
    expect(base.usesNonce).toBe(true);
    expect(fixedOf(base)['Content-Security-Policy']).toBeUndefined();
    expect(base.policies).toEqual([
      { header: 'Content-Security-Policy', parts: ["default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; script-src ", ''] },
    ]);
  });

  it('HSTS: durations in seconds, preload only with a year and subdomains', () => {
    expect(normalize({ strictTransportSecurity: { maxAge: '2y', preload: true } }).base.hsts).toBe('max-age=63072000; includeSubDomains; preload');
    expect(normalize({ strictTransportSecurity: { maxAge: 86_400_000, includeSubDomains: false } }).base.hsts).toBe('max-age=86400');
    expect(() => normalize({ strictTransportSecurity: { maxAge: '30d', preload: true } })).toThrow(
      'PalisadeModule: headers.strictTransportSecurity.preload is true but the preload list needs maxAge of at least',
    );
    expect(() => normalize({ strictTransportSecurity: { maxAge: 0 } })).toThrow('max-age=0 makes browsers forget HSTS');
    expect(() => normalize({ strictTransportSecurity: { maxAge: 'forever' } })).toThrow('PalisadeModule: headers.strictTransportSecurity.maxAge is "forever"');
    expect(() => normalize({ strictTransportSecurity: false })).toThrow("dangerouslyDisable: ['Strict-Transport-Security']");
  });

  it.each([
    [{ xFrameOptions: 'ALLOW-FROM https://a.example' }, "headers.xFrameOptions is \"ALLOW-FROM https://a.example\"; expected one of 'DENY', 'SAMEORIGIN'."],
    [{ referrerPolicy: 'never' }, 'headers.referrerPolicy is "never"; expected one of no-referrer'],
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
      { xFrameOptions: 'DENY', dangerouslyDisable: ['X-Frame-Options'] },
      "headers sets xFrameOptions and also lists 'X-Frame-Options' in dangerouslyDisable; keep one of them.",
    ],
    [
      { reportingEndpoints: { csp: 'http://reports.example.com' } },
      'headers.reportingEndpoints[\'csp\'] is "http://reports.example.com"; expected an absolute https: URL',
    ],
    [{ reportingEndpoints: { 'CSP Reports': '/r' } }, 'headers.reportingEndpoints has endpoint name "CSP Reports"'],
    [
      { contentSecurityPolicy: { useDefaults: false } },
      'PalisadeModule: unknown option headers.contentSecurityPolicy.useDefaults. Known options of headers.contentSecurityPolicy: preset, directives.',
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
    const { paths } = normalize({ xFrameOptions: 'SAMEORIGIN', paths: { '/docs/': { contentSecurityPolicy: { preset: 'swagger-ui' } }, '/docs/v2': {} } });
    expect(paths.map((p) => p.prefix)).toEqual(['/docs/v2', '/docs']);
    expect(fixedOf(paths[1]!.set)['X-Frame-Options']).toBe('SAMEORIGIN');
    expect(fixedOf(paths[1]!.set)['Content-Security-Policy']).toContain("style-src 'self' 'unsafe-inline'");
  });

  it('compileOverrides: layers in order, configuring a header turns it back on, COEP can be removed', () => {
    const { compileOverrides } = normalize({ dangerouslyDisable: ['X-Frame-Options'], crossOriginEmbedderPolicy: 'require-corp' });
    const set = compileOverrides([
      [{ xFrameOptions: 'SAMEORIGIN', crossOriginEmbedderPolicy: false }, 'controller'],
      [{ dangerouslyDisable: ['Cache-Control'] }, 'handler'],
    ]);
    expect(fixedOf(set)['X-Frame-Options']).toBe('SAMEORIGIN');
    expect(fixedOf(set)['Cross-Origin-Embedder-Policy']).toBeUndefined();
    expect(set.absent).toEqual(expect.arrayContaining(['Cross-Origin-Embedder-Policy', 'Cache-Control']));
    expect(set.cacheControl).toBeUndefined();
    expect(() => compileOverrides([[{ xFrameOptions: 'NEVER' }, '@SecurityHeaders() on C.m']])).toThrow(
      "PalisadeModule: @SecurityHeaders() on C.m.xFrameOptions is \"NEVER\"; expected one of 'DENY', 'SAMEORIGIN'.",
    );
  });
});
