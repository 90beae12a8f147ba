import { Controller, Get, type INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { describe, expect, it } from 'vitest';
import { CurrentUser, PalisadeModule, Public, strictCors, type Principal, type StrictCorsOptions } from '@palisade/nest';
import { ADAPTERS } from '../support/app.js';
import { DEFAULT_HEADERS, securityHeadersOf, useHeadersApp, type HeadersApp } from '../support/headers.js';
import { signToken, TEST_SECRET } from '../support/tokens.js';
import { headerList } from '../support/transport.js';

@Controller()
class ApiController {
  @Get('open') @Public() open(): object {
    return { ok: true };
  }

  @Get('me') me(@CurrentUser() user: Principal): object {
    return { id: user.id };
  }
}

const APP = 'https://app.example.com';

/** The CORS headers each origin gets on `GET /open`, by origin. */
async function corsHeadersFor(ctx: HeadersApp, origins: readonly string[]): Promise<Record<string, { allowOrigin: unknown; expose: unknown }>> {
  const responses = await Promise.all(origins.map((origin) => ctx.http.get('/open').set('Origin', origin)));
  return Object.fromEntries(
    responses.map((res, i) => [origins[i]!, { allowOrigin: res.headers['access-control-allow-origin'], expose: res.headers['access-control-expose-headers'] }]),
  );
}
const appWith = (cors: StrictCorsOptions) => ({
  metadata: () => ({ imports: [PalisadeModule.forRoot({ auth: { jwt: { secret: TEST_SECRET } }, global: true })], controllers: [ApiController] }),
  // Through each adapter's typed `enableCors()`: the result type-checks against both `cors` and `@fastify/cors`.
  configure: {
    configure: (app: INestApplication) =>
      app.getHttpAdapter().getType() === 'fastify'
        ? (app as NestFastifyApplication).enableCors(strictCors(cors))
        : (app as NestExpressApplication).enableCors(strictCors(cors)),
  },
});

describe.each(ADAPTERS)('strictCors with app.enableCors (%s)', (adapter) => {
  const { metadata, configure } = appWith({ origins: [APP, 'https://*.preview.example.com'] });
  const ctx = useHeadersApp(adapter, metadata, configure);

  it('an allowed origin may read: its origin echoed, Vary: Origin, the rate-limit headers exposed, no credentials', async () => {
    const res = await ctx.http.get('/open').set('Origin', APP);
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe(APP);
    expect(headerList(res.headers.vary)).toContain('Origin');
    expect(headerList(res.headers['access-control-expose-headers'])).toEqual(['RateLimit', 'RateLimit-Policy', 'Retry-After', 'WWW-Authenticate']);
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    expect(securityHeadersOf(res.headers)).toMatchObject(DEFAULT_HEADERS);
  });

  it('another origin gets no CORS headers, so the browser withholds the response', async () => {
    const origins = ['https://evil.example', 'https://app.example.com.evil.example', 'http://app.example.com', 'https://app.example.com:8443', 'null'];
    const seen = await corsHeadersFor(ctx, origins);
    expect(seen).toEqual(Object.fromEntries(origins.map((origin) => [origin, { allowOrigin: undefined, expose: undefined }])));
  });

  // Issue 16: Express's cors sent no header at all to a refused origin or a request without Origin,
  // so a shared cache could serve that answer (no Access-Control-Allow-Origin) to an allowed origin.
  it('every response varies on Origin: a refused origin, no Origin at all, and their errors, still without ACAO or exposed headers', async () => {
    const [refused, none, refusedError, noneError] = await Promise.all([
      ctx.http.get('/open').set('Origin', 'https://evil.example'),
      ctx.http.get('/open'),
      ctx.http.get('/me').set('Origin', 'https://evil.example'),
      ctx.http.get('/missing'),
    ]);
    const seen = [refused, none, refusedError, noneError].map((res) => ({
      status: res.status,
      varyOrigin: headerList(res.headers.vary).includes('Origin'),
      allowOrigin: res.headers['access-control-allow-origin'],
      expose: res.headers['access-control-expose-headers'],
    }));
    expect(seen).toEqual([200, 200, 401, 404].map((status) => ({ status, varyOrigin: true, allowOrigin: undefined, expose: undefined })));
    expect(headerList(refused.headers.vary).filter((name) => name === 'Origin')).toHaveLength(1);
  });

  it('a pattern matches exactly one label under its domain', async () => {
    const allowed = await ctx.http.get('/open').set('Origin', 'https://pr-42.preview.example.com');
    expect(allowed.headers['access-control-allow-origin']).toBe('https://pr-42.preview.example.com');
    const origins = [
      'https://preview.example.com',
      'https://a.b.preview.example.com',
      'http://pr-42.preview.example.com',
      'https://pr-42.preview.example.com.evil.example',
    ];
    const seen = await corsHeadersFor(ctx, origins);
    expect(seen).toEqual(Object.fromEntries(origins.map((origin) => [origin, { allowOrigin: undefined, expose: undefined }])));
  });

  it('answers a preflight for an allowed origin: 204, Authorization and X-API-Key allowed, cached 10 minutes', async () => {
    const res = await ctx.http
      .options('/me')
      .set('Origin', APP)
      .set('Access-Control-Request-Method', 'DELETE')
      .set('Access-Control-Request-Headers', 'authorization, x-api-key, content-type');
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(APP);
    expect(headerList(res.headers['access-control-allow-methods'])).toEqual(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']);
    expect(headerList(res.headers['access-control-allow-headers'])).toEqual(['Authorization', 'Content-Type', 'X-API-Key']);
    expect(res.headers['access-control-max-age']).toBe('600');
  });

  it('a preflight from another origin is not approved', async () => {
    const res = await ctx.http.options('/me').set('Origin', 'https://evil.example').set('Access-Control-Request-Method', 'GET');
    // Not answered as a preflight: it falls through to the router, which has no OPTIONS route.
    expect(res.status).toBe(404);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(res.headers['access-control-allow-methods']).toBeUndefined();
    expect(res.headers['access-control-allow-headers']).toBeUndefined();
    expect(res.headers['access-control-expose-headers']).toBeUndefined();
    expect(headerList(res.headers.vary)).toContain('Origin');
  });

  it('error responses carry the CORS headers and the security headers (the page can read the 401)', async () => {
    const [unauthorized, missing] = await Promise.all([ctx.http.get('/me').set('Origin', APP), ctx.http.get('/missing').set('Origin', APP)]);
    for (const [res, status] of [
      [unauthorized, 401],
      [missing, 404],
    ] as const) {
      expect(res.status).toBe(status);
      expect(res.headers['access-control-allow-origin']).toBe(APP);
      expect(securityHeadersOf(res.headers)).toMatchObject(DEFAULT_HEADERS);
    }
  });

  it('an authenticated cross-origin read', async () => {
    const res = await ctx.http
      .get('/me')
      .set('Origin', APP)
      .set('Authorization', `Bearer ${signToken({ sub: 'alice' })}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: 'alice' });
    expect(res.headers['access-control-allow-origin']).toBe(APP);
    expect(res.headers['cache-control']).toBe('no-store');
  });
});

describe.each(ADAPTERS)('strictCors with credentials (%s)', (adapter) => {
  const { metadata, configure } = appWith({ origins: [APP], credentials: true, maxAge: '1h', exposedHeaders: ['X-Request-Id'] });
  const ctx = useHeadersApp(adapter, metadata, configure);

  it('sends Access-Control-Allow-Credentials to the allowed origin only', async () => {
    const res = await ctx.http.get('/open').set('Origin', APP);
    expect(res.headers['access-control-allow-credentials']).toBe('true');
    expect(headerList(res.headers['access-control-expose-headers'])).toEqual([
      'RateLimit',
      'RateLimit-Policy',
      'Retry-After',
      'WWW-Authenticate',
      'X-Request-Id',
    ]);
    const other = await ctx.http.get('/open').set('Origin', 'https://evil.example');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await ctx.http.options('/open').set('Origin', APP).set('Access-Control-Request-Method', 'GET');
    expect(preflight.headers['access-control-max-age']).toBe('3600');
  });
});

describe.each(ADAPTERS)("strictCors with origins: ['*'] (%s)", (adapter) => {
  const { metadata, configure } = appWith({ origins: ['*'] });
  const ctx = useHeadersApp(adapter, metadata, configure);

  it('any origin may read, without credentials', async () => {
    const res = await ctx.http.get('/open').set('Origin', 'https://anyone.example');
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    // The answer is the same for every origin: nothing to vary on.
    expect(headerList(res.headers.vary)).not.toContain('Origin');
  });
});
