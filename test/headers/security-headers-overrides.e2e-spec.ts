import { Controller, Get, Header, UseInterceptors } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { CSP_NONCE, CspNonce, PalisadeModule, Public, SecurityHeaders, SecurityHeadersInterceptor } from '@palisade/nest';
import { ADAPTERS } from '../support/app.js';
import { API_CSP, AUTHENTICATED_HEADERS, bootHeadersApp, DEFAULT_HEADERS, securityHeadersOf, useHeadersApp } from '../support/headers.js';
import { signToken, TEST_SECRET } from '../support/tokens.js';

const PAGE_CSP = (nonce: string): string =>
  `default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; img-src 'self' data:; object-src 'none'; ` +
  `script-src 'nonce-${nonce}' 'strict-dynamic'; script-src-attr 'none'; style-src 'self' 'nonce-${nonce}'`;

@Controller('pages')
@Public()
@SecurityHeaders({ contentSecurityPolicy: { preset: 'page' } })
class PagesController {
  @Get('hello')
  @Header('Content-Type', 'text/html; charset=utf-8')
  hello(@CspNonce() nonce: string): string {
    return `<!doctype html><script nonce="${nonce}">document.title = 'ok'</script>`;
  }

  /** The handler's options merge over the controller's. */
  @Get('embeddable')
  @SecurityHeaders({ dangerouslyDisable: ['X-Frame-Options'], contentSecurityPolicy: { directives: { 'frame-ancestors': ['https://partner.example'] } } })
  embeddable(@CspNonce() nonce: string): { nonce: string } {
    return { nonce };
  }

  /** Report-only mode for one route: the page policy is reported, not enforced. */
  @Get('trial')
  @SecurityHeaders({ dangerouslyDisable: ['Content-Security-Policy'], contentSecurityPolicyReportOnly: { directives: { 'img-src': ["'none'"] } } })
  trial(@CspNonce() nonce: string): { nonce: string } {
    return { nonce };
  }
}

@Controller('assets')
class AssetsController {
  @Get('logo')
  @Public()
  @SecurityHeaders({ crossOriginResourcePolicy: { policy: 'cross-origin' }, cacheControl: 'private, max-age=60' })
  logo(): { logo: true } {
    return { logo: true };
  }

  /** Protected: a rejected request never reaches the interceptor and keeps the module's headers. */
  @Get('private')
  @SecurityHeaders({ crossOriginResourcePolicy: { policy: 'cross-origin' } })
  privateAsset(): { private: true } {
    return { private: true };
  }

  /** A handler's own header still wins over Palisade's. */
  @Get('cached')
  @Public()
  @Header('Cache-Control', 'public, max-age=300')
  cached(): { cached: true } {
    return { cached: true };
  }
}

@Controller('docs')
@Public()
class DocsController {
  @Get() index(): { docs: true } {
    return { docs: true };
  }
}

const nonceOf = (html: string): string => /nonce="([^"]+)"/.exec(html)![1]!;
const token = (): string => signToken({ sub: 'alice', roles: ['admin'] });

describe.each(ADAPTERS)('per-route and per-path overrides (%s)', (adapter) => {
  const ctx = useHeadersApp(adapter, () => ({
    imports: [
      PalisadeModule.forRoot({
        auth: { jwt: { secret: TEST_SECRET } },
        headers: { paths: { '/docs': { contentSecurityPolicy: { preset: 'swagger-ui' }, xFrameOptions: { action: 'sameorigin' } } } },
        global: true,
      }),
    ],
    controllers: [PagesController, AssetsController, DocsController],
  }));

  it('@SecurityHeaders on a controller: the page preset with a fresh nonce per response, readable by the handler', async () => {
    const first = await ctx.http.get('/pages/hello');
    const second = await ctx.http.get('/pages/hello');
    const [a, b] = [nonceOf(first.text), nonceOf(second.text)];
    expect(a).toMatch(/^[A-Za-z0-9+/]{22}==$/); // 128 bits, base64
    expect(a).not.toBe(b);
    expect(securityHeadersOf(first.headers)).toEqual({ ...DEFAULT_HEADERS, 'content-security-policy': PAGE_CSP(a) });
    expect(second.headers['content-security-policy']).toBe(PAGE_CSP(b));
  });

  it('a handler merges over its controller: X-Frame-Options dropped, frame-ancestors changed, nonce kept', async () => {
    const res = await ctx.http.get('/pages/embeddable');
    const { nonce } = res.body as { nonce: string };
    const { 'x-frame-options': _dropped, ...expected } = DEFAULT_HEADERS;
    expect(securityHeadersOf(res.headers)).toEqual({
      ...expected,
      'content-security-policy': PAGE_CSP(nonce).replace("frame-ancestors 'none'", 'frame-ancestors https://partner.example'),
    });
  });

  it('report-only mode: the enforced policy removed, the report-only policy carries the nonce', async () => {
    const res = await ctx.http.get('/pages/trial');
    const { nonce } = res.body as { nonce: string };
    const { 'content-security-policy': _removed, ...expected } = DEFAULT_HEADERS;
    expect(securityHeadersOf(res.headers)).toEqual({
      ...expected,
      'content-security-policy-report-only': PAGE_CSP(nonce).replace("img-src 'self' data:", "img-src 'none'"),
    });
  });

  it('other headers per route, and Cache-Control of an authenticated response to that route', async () => {
    const anonymous = await ctx.http.get('/assets/logo');
    expect(securityHeadersOf(anonymous.headers)).toEqual({ ...DEFAULT_HEADERS, 'cross-origin-resource-policy': 'cross-origin' });
    const authenticated = await ctx.http.get('/assets/logo').set('Authorization', `Bearer ${token()}`);
    expect(securityHeadersOf(authenticated.headers)).toEqual({
      ...DEFAULT_HEADERS,
      'cross-origin-resource-policy': 'cross-origin',
      'cache-control': 'private, max-age=60',
    });
  });

  it("a request rejected before the handler keeps the module's headers", async () => {
    const rejected = await ctx.http.get('/assets/private');
    expect(rejected.status).toBe(401);
    expect(securityHeadersOf(rejected.headers)).toEqual(DEFAULT_HEADERS);
    const served = await ctx.http.get('/assets/private').set('Authorization', `Bearer ${token()}`);
    expect(served.status).toBe(200);
    expect(securityHeadersOf(served.headers)).toEqual({ ...AUTHENTICATED_HEADERS, 'cross-origin-resource-policy': 'cross-origin' });
  });

  it('@Header() on a handler overrides Palisade', async () => {
    const res = await ctx.http.get('/assets/cached').set('Authorization', `Bearer ${token()}`);
    expect(res.headers['cache-control']).toBe('public, max-age=300');
  });

  it('headers.paths: the Swagger UI preset under /docs, 404s included, and not on /docsx', async () => {
    const swagger =
      "default-src 'self'; base-uri 'self'; connect-src 'self'; font-src 'self' data:; form-action 'self'; frame-ancestors 'none'; " +
      "img-src 'self' data:; object-src 'none'; script-src 'self'; script-src-attr 'none'; style-src 'self' 'unsafe-inline'";
    const paths = ['/docs', '/docs/', '/docs/swagger-ui.css', '/docs?x=1'];
    const replies = await Promise.all(paths.map((path) => ctx.http.get(path)));
    const expected = { ...DEFAULT_HEADERS, 'content-security-policy': swagger, 'x-frame-options': 'SAMEORIGIN' };
    expect(Object.fromEntries(replies.map((res, i) => [paths[i], securityHeadersOf(res.headers)]))).toEqual(
      Object.fromEntries(paths.map((path) => [path, expected])),
    );
    const other = await ctx.http.get('/docsx');
    expect(other.headers['content-security-policy']).toBe(API_CSP);
  });
});

@Controller('widget')
@Public()
class WidgetController {
  @Get() @UseInterceptors(SecurityHeadersInterceptor) @SecurityHeaders({ crossOriginResourcePolicy: { policy: 'cross-origin' } }) widget(): object {
    return {};
  }

  @Get('plain') plain(): object {
    return {};
  }
}

describe.each(ADAPTERS)('without global: true (%s)', (adapter) => {
  const ctx = useHeadersApp(adapter, () => ({
    imports: [PalisadeModule.forRoot({ auth: { jwt: { secret: TEST_SECRET } } })],
    controllers: [WidgetController],
  }));

  it('the headers are still on every response; @UseInterceptors(SecurityHeadersInterceptor) applies the overrides', async () => {
    expect(securityHeadersOf((await ctx.http.get('/widget/plain')).headers)).toEqual(DEFAULT_HEADERS);
    expect(securityHeadersOf((await ctx.http.get('/nowhere')).headers)).toEqual(DEFAULT_HEADERS);
    expect(securityHeadersOf((await ctx.http.get('/widget')).headers)).toEqual({ ...DEFAULT_HEADERS, 'cross-origin-resource-policy': 'cross-origin' });
  });
});

@Controller('bad')
@Public()
class NonceWithoutPolicyController {
  @Get() page(@CspNonce() nonce: string): string {
    return nonce;
  }
}

@Controller('bad')
@Public()
class BadDirectiveController {
  @Get() @SecurityHeaders({ contentSecurityPolicy: { directives: { 'script-src': ['self'] } } }) page(): string {
    return '';
  }
}

describe.each(ADAPTERS)('startup checks of route overrides (%s)', (adapter) => {
  const boot = (controller: new () => unknown, headers = {}) =>
    bootHeadersApp(adapter, {
      imports: [PalisadeModule.forRoot({ auth: { jwt: { secret: TEST_SECRET } }, headers, global: true })],
      controllers: [controller],
    });

  it('@CspNonce() on a route whose policy has no nonce stops the app, naming the route', async () => {
    await expect(boot(NonceWithoutPolicyController)).rejects.toThrow(
      "PalisadeModule: NonceWithoutPolicyController.page takes @CspNonce() but its Content-Security-Policy has no CSP_NONCE; add CSP_NONCE to script-src or style-src (or use the 'page' preset) in @SecurityHeaders() or headers.contentSecurityPolicy.",
    );
  });

  it('a module policy with CSP_NONCE makes @CspNonce() valid everywhere', async () => {
    const { app, http } = await boot(NonceWithoutPolicyController, { contentSecurityPolicy: { directives: { 'script-src': [CSP_NONCE] } } });
    try {
      const res = await http.get('/bad');
      expect(res.headers['content-security-policy']).toBe(
        `${API_CSP.replace("frame-ancestors 'none'", "frame-ancestors 'none'; script-src 'nonce-")}${res.text}'`,
      );
    } finally {
      await app.close();
    }
  });

  it('an unquoted keyword in @SecurityHeaders stops the app, naming the route and the fix', async () => {
    await expect(boot(BadDirectiveController)).rejects.toThrow(
      `PalisadeModule: @SecurityHeaders() on BadDirectiveController.page.contentSecurityPolicy.directives['script-src'] contains self without quotes; CSP keywords must be quoted, so browsers do not read them as a host named "self". Write "'self'".`,
    );
  });
});
