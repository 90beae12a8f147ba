import { Controller, Get } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { PalisadeModule, PROTECTIVE_HEADERS, Public, type HeadersOptions } from '@palisade/nest';
import { ADAPTERS } from '../support/app.js';
import { API_CSP, bootHeadersApp, DEFAULT_HEADERS, DEFAULT_HSTS, securityHeadersOf, useHeadersApp } from '../support/headers.js';

@Controller('open')
@Public()
class OpenController {
  @Get() open(): object {
    return { ok: true };
  }
}

const moduleWith = (headers: HeadersOptions, extra: Record<string, unknown> = {}) => ({
  imports: [PalisadeModule.forRoot({ headers, ...extra })],
  controllers: [OpenController],
});

describe.each(ADAPTERS)('changing every header at module level (%s)', (adapter) => {
  const ctx = useHeadersApp(adapter, () =>
    moduleWith({
      contentSecurityPolicy: { directives: { 'img-src': ["'self'", 'https://images.example.com'], 'report-to': 'csp' } },
      contentSecurityPolicyReportOnly: { directives: { 'connect-src': ["'self'"], 'report-to': 'csp' } },
      reportingEndpoints: { csp: 'https://reports.example.com/csp' },
      strictTransportSecurity: { maxAge: 63_072_000, preload: true },
      xFrameOptions: { action: 'sameorigin' },
      referrerPolicy: { policy: ['no-referrer', 'strict-origin-when-cross-origin'] },
      crossOriginOpenerPolicy: { policy: 'same-origin-allow-popups' },
      crossOriginResourcePolicy: { policy: 'same-site' },
      crossOriginEmbedderPolicy: { policy: 'require-corp' },
      permissionsPolicy: { features: { fullscreen: ['self'], geolocation: ['self', 'https://maps.example.com'], camera: null, 'interest-cohort': [] } },
      xDnsPrefetchControl: { allow: true },
      xPermittedCrossDomainPolicies: { permittedPolicies: 'master-only' },
      cacheControl: 'private, no-cache',
    }),
  );

  it('sends each changed value', async () => {
    const res = await ctx.http.get('/open').set('Cookie', 'session=1');
    expect(securityHeadersOf(res.headers)).toEqual({
      'content-security-policy': `${API_CSP}; img-src 'self' https://images.example.com; report-to csp`,
      'content-security-policy-report-only': `${API_CSP}; img-src 'self' https://images.example.com; report-to csp; connect-src 'self'`,
      'reporting-endpoints': 'csp="https://reports.example.com/csp"',
      'cross-origin-embedder-policy': 'require-corp',
      'cross-origin-opener-policy': 'same-origin-allow-popups',
      'cross-origin-resource-policy': 'same-site',
      'origin-agent-cluster': '?1',
      'permissions-policy': DEFAULT_HEADERS['permissions-policy']!.replace('camera=(), ', '')
        .replace('fullscreen=()', 'fullscreen=(self)')
        .replace('geolocation=()', 'geolocation=(self "https://maps.example.com")')
        .concat(', interest-cohort=()'),
      'referrer-policy': 'no-referrer, strict-origin-when-cross-origin',
      'x-content-type-options': 'nosniff',
      'x-dns-prefetch-control': 'on',
      'x-download-options': 'noopen',
      'x-frame-options': 'SAMEORIGIN',
      'x-permitted-cross-domain-policies': 'master-only',
      'x-xss-protection': '0',
      'cache-control': 'private, no-cache',
    });
  });
});

describe.each(ADAPTERS)('turning every header off, on purpose (%s)', (adapter) => {
  const ctx = useHeadersApp(adapter, () => moduleWith({ dangerouslyDisable: PROTECTIVE_HEADERS, dangerouslyKeepXPoweredBy: true }), { tls: true });

  it('sends none of them, even over HTTPS with credentials', async () => {
    const res = await ctx.http.get('/open').trustLocalhost().set('Authorization', 'Bearer x');
    expect(res.status).toBe(200);
    const expected = adapter === 'express' ? { 'x-powered-by': 'Express' } : {};
    expect(securityHeadersOf(res.headers)).toEqual(expected);
  });
});

describe.each(ADAPTERS)('refusing unsafe header options at startup (%s)', (adapter) => {
  const boot = (headers: unknown) => bootHeadersApp(adapter, moduleWith(headers as HeadersOptions));

  it.each([
    [
      { xFrameOptions: false },
      "PalisadeModule: headers.xFrameOptions is false; turning off X-Frame-Options is spelled dangerouslyDisable: ['X-Frame-Options'].",
    ],
    [
      { contentSecurityPolicy: false },
      "PalisadeModule: headers.contentSecurityPolicy is false; turning off the Content-Security-Policy is spelled dangerouslyDisable: ['Content-Security-Policy'].",
    ],
    [
      { contentSecurityPolicy: { directives: { 'script-src': ['self'] } } },
      `PalisadeModule: headers.contentSecurityPolicy.directives['script-src'] contains self without quotes; CSP keywords must be quoted, so browsers do not read them as a host named "self". Write "'self'".`,
    ],
    [
      { contentSecurityPolicy: { directives: { scirptSrc: ["'self'"] } } },
      "PalisadeModule: headers.contentSecurityPolicy.directives has unknown directive 'scirptSrc'; did you mean 'script-src'? Directives are written in kebab-case, as in the header (see CspDirectives).",
    ],
    [
      { contentSecurityPolicy: { reportOnly: true } },
      "PalisadeModule: headers.contentSecurityPolicy.reportOnly is true, which stops enforcing the policy; write dangerouslyDisable: ['Content-Security-Policy'] and the policy as contentSecurityPolicyReportOnly.",
    ],
    [
      { xFrameOptions: 'SAMEORIGIN' },
      "PalisadeModule: headers.xFrameOptions is \"SAMEORIGIN\"; write { action: 'sameorigin' }, the shape of helmet and Nest's SecurityHeadersOptions.",
    ],
    [
      { strictTransportSecurity: { maxAge: 31_536_000_000 } },
      'PalisadeModule: headers.strictTransportSecurity.maxAge is 31536000000 seconds, over two years (63072000); maxAge is in seconds, as in helmet',
    ],
    [{ hsts: { maxAge: 31_536_000 } }, "PalisadeModule: headers.hsts is helmet's legacy name; write headers.strictTransportSecurity"],
    [{ dangerouslyDisable: ['x-frame-options'] }, 'PalisadeModule: headers.dangerouslyDisable contains "x-frame-options"; write it as \'X-Frame-Options\'.'],
    [
      { crossOriginOpenerPolicy: { policy: 'unsafe-none' } },
      "PalisadeModule: headers.crossOriginOpenerPolicy.policy is 'unsafe-none', which turns the protection off; write dangerouslyDisable: ['Cross-Origin-Opener-Policy'] instead.",
    ],
    [{ helmet: true }, 'PalisadeModule: unknown option headers.helmet. Known options of headers: contentSecurityPolicy,'],
  ])('%j', async (headers, message) => {
    await expect(boot(headers)).rejects.toThrow(message);
  });
});

describe.each(ADAPTERS)('Strict-Transport-Security only over HTTPS (%s)', (adapter) => {
  describe('plain HTTP, no trusted proxy', () => {
    const ctx = useHeadersApp(adapter, () => moduleWith({}));

    it('no HSTS on plain HTTP', async () => {
      const res = await ctx.http.get('/open');
      expect(res.headers['strict-transport-security']).toBeUndefined();
    });

    it('no HSTS when an untrusted client claims X-Forwarded-Proto: https', async () => {
      const res = await ctx.http.get('/open').set('X-Forwarded-Proto', 'https');
      expect(securityHeadersOf(res.headers)).toEqual(DEFAULT_HEADERS);
    });
  });

  describe('over TLS', () => {
    const ctx = useHeadersApp(adapter, () => moduleWith({}), { tls: true });

    it('the default set plus HSTS, on a 200 and a 404', async () => {
      const [open, missing] = await Promise.all([ctx.http.get('/open').trustLocalhost(), ctx.http.get('/missing').trustLocalhost()]);
      expect([open.status, missing.status]).toEqual([200, 404]);
      for (const res of [open, missing]) expect(securityHeadersOf(res.headers)).toEqual({ ...DEFAULT_HEADERS, 'strict-transport-security': DEFAULT_HSTS });
    });
  });

  describe('behind a trusted proxy (trustProxy: loopback)', () => {
    const ctx = useHeadersApp(adapter, () =>
      moduleWith({ strictTransportSecurity: { maxAge: 15_552_000, includeSubDomains: false } }, { trustProxy: 'loopback' }),
    );

    it('HSTS when the proxy says https, none when it says http', async () => {
      const https = await ctx.http.get('/open').set('X-Forwarded-Proto', 'https');
      expect(securityHeadersOf(https.headers)).toEqual({ ...DEFAULT_HEADERS, 'strict-transport-security': 'max-age=15552000' });
      const http = await ctx.http.get('/open').set('X-Forwarded-Proto', 'http');
      expect(http.headers['strict-transport-security']).toBeUndefined();
    });
  });
});
