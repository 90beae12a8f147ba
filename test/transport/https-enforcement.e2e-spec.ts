import { Controller, Delete, Get, Post } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { PalisadeModule, Public, type HttpsOptions } from '@palisade/nest';
import { ADAPTERS } from '../support/app.js';
import { DEFAULT_HEADERS, DEFAULT_HSTS, securityHeadersOf, useHeadersApp } from '../support/headers.js';
import { rawRequest } from '../support/transport.js';

@Controller()
@Public()
class ApiController {
  @Get('open') open(): object {
    return { ok: true };
  }

  @Post('open') create(): object {
    return { created: true };
  }

  @Delete('open') remove(): object {
    return { removed: true };
  }

  @Get('health') health(): object {
    return { status: 'ok' };
  }
}

const appWith = (https: HttpsOptions, trustProxy?: string) => () => ({
  imports: [PalisadeModule.forRoot({ https, ...(trustProxy === undefined ? {} : { trustProxy }) })],
  controllers: [ApiController],
});

const HOSTS = ['api.example.com', 'www.example.com'];
const HTTPS_REQUIRED = { statusCode: 403, error: 'Forbidden', message: 'HTTPS is required' };

describe.each(ADAPTERS)('HTTPS enforcement over plain HTTP (%s)', (adapter) => {
  const ctx = useHeadersApp(adapter, appWith({ enforce: true, hosts: HOSTS }));

  it('GET is redirected with a 308 to the same path and query on https://, with the security headers and no HSTS', async () => {
    const res = await ctx.http.get('/open?page=2&q=a%20b').set('Host', 'api.example.com');
    expect(res.status).toBe(308);
    expect(res.headers.location).toBe('https://api.example.com/open?page=2&q=a%20b');
    expect(res.text).toBe('');
    expect(securityHeadersOf(res.headers)).toEqual(DEFAULT_HEADERS);
  });

  it("keeps the request's host when it is one of https.hosts, dropping the plain-HTTP port", async () => {
    const res = await ctx.http.get('/open').set('Host', 'WWW.Example.com:8080');
    expect(res.status).toBe(308);
    expect(res.headers.location).toBe('https://www.example.com/open');
  });

  it('HEAD, OPTIONS and unknown paths are redirected too', async () => {
    expect((await ctx.http.head('/open').set('Host', 'api.example.com')).headers.location).toBe('https://api.example.com/open');
    expect((await ctx.http.options('/open').set('Host', 'api.example.com')).headers.location).toBe('https://api.example.com/open');
    const missing = await ctx.http.get('/missing').set('Host', 'api.example.com');
    expect([missing.status, missing.headers.location]).toEqual([308, 'https://api.example.com/missing']);
  });

  it('POST and DELETE are refused with a 403, never redirected (their body would travel in clear text again)', async () => {
    for (const res of [await ctx.http.post('/open').set('Host', 'api.example.com').send({ secret: 1 }), await ctx.http.delete('/open')]) {
      expect(res.status).toBe(403);
      expect(res.body).toEqual(HTTPS_REQUIRED);
      expect(res.headers.location).toBeUndefined();
      expect(securityHeadersOf(res.headers)).toEqual(DEFAULT_HEADERS);
    }
  });

  it('a hostile Host header cannot redirect elsewhere: the canonical host is used', async () => {
    const hosts = ['evil.example', 'evil.example:443', 'api.example.com.evil.example', 'api.example.com@evil.example', '[::1]:80'];
    const replies = await Promise.all(hosts.map((host) => rawRequest(ctx.app, { target: '/open', host })));
    expect(Object.fromEntries(replies.map((res, i) => [hosts[i], [res.status, res.headers.location]]))).toEqual(
      Object.fromEntries(hosts.map((host) => [host, [308, 'https://api.example.com/open']])),
    );
  });

  it('no Host header (HTTP/1.0): the canonical host', async () => {
    const res = await rawRequest(ctx.app, { target: '/open', host: null });
    expect([res.status, res.headers.location]).toEqual([308, 'https://api.example.com/open']);
  });

  it('X-Forwarded-Host is never used', async () => {
    const res = await ctx.http.get('/open').set('Host', 'api.example.com').set('X-Forwarded-Host', 'evil.example');
    expect(res.headers.location).toBe('https://api.example.com/open');
  });

  it('a path that looks like an authority stays a path on our host', async () => {
    const targets = ['//evil.example/x', '/\\evil.example/x'];
    const replies = await Promise.all(targets.map((target) => rawRequest(ctx.app, { target, host: 'api.example.com' })));
    expect(replies.map((res) => [res.status, res.headers.location, new URL(res.headers.location ?? 'invalid:').host])).toEqual(
      targets.map((target) => [308, `https://api.example.com${target}`, 'api.example.com']),
    );
  });

  it('an absolute-form request target keeps only its path and query', async () => {
    const res = await rawRequest(ctx.app, { target: 'http://evil.example/open?x=1', host: 'api.example.com' });
    expect([res.status, res.headers.location]).toEqual([308, 'https://api.example.com/open?x=1']);
  });

  it('X-Forwarded-Proto from a client that is not a trusted proxy is ignored', async () => {
    const res = await ctx.http.get('/open').set('Host', 'api.example.com').set('X-Forwarded-Proto', 'https');
    expect(res.status).toBe(308);
  });
});

describe.each(ADAPTERS)('HTTPS enforcement behind a trusted proxy (%s)', (adapter) => {
  const ctx = useHeadersApp(adapter, appWith({ enforce: true, hosts: HOSTS, port: 8443, exclude: ['/health'] }, 'loopback'));

  it("passes the proxy's HTTPS requests, with HSTS", async () => {
    const res = await ctx.http.post('/open').set('X-Forwarded-Proto', 'https');
    expect(res.status).toBe(201);
    expect(securityHeadersOf(res.headers)).toEqual({ ...DEFAULT_HEADERS, 'strict-transport-security': DEFAULT_HSTS });
  });

  it('redirects what the proxy received over HTTP, to the configured HTTPS port', async () => {
    const res = await ctx.http.get('/open').set('Host', 'www.example.com').set('X-Forwarded-Proto', 'http');
    expect([res.status, res.headers.location]).toEqual([308, 'https://www.example.com:8443/open']);
  });

  it('https.exclude: a health check probed over HTTP', async () => {
    const res = await ctx.http.get('/health');
    expect(res.status).toBe(200);
    expect((await ctx.http.get('/healthz').set('Host', 'api.example.com')).status).toBe(308);
  });
});

describe.each(ADAPTERS)('HTTPS enforcement over TLS (%s)', (adapter) => {
  const ctx = useHeadersApp(adapter, appWith({ enforce: true, hosts: HOSTS }), { tls: true });

  it('serves TLS requests normally', async () => {
    const res = await ctx.http.post('/open').trustLocalhost();
    expect(res.status).toBe(201);
    expect(res.headers['strict-transport-security']).toBe(DEFAULT_HSTS);
  });
});

describe.each(ADAPTERS)('https.redirect: false (%s)', (adapter) => {
  const ctx = useHeadersApp(adapter, appWith({ enforce: true, redirect: false }));

  it('refuses every plain-HTTP request', async () => {
    const res = await ctx.http.get('/open');
    expect(res.status).toBe(403);
    expect(res.body).toEqual(HTTPS_REQUIRED);
  });
});
