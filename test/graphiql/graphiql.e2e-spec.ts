/**
 * `@palisade/nest/graphiql` over real HTTP on both adapters (Apollo on Express, Mercurius on
 * Fastify): the page and its bundles are public, carry the `graphiql` policy with a fresh nonce on
 * every response, and are throttled per client address; the GraphQL endpoint and the other routes
 * keep the module's strict policy. The page itself is driven in Chromium in
 * test/browser/graphiql-browser.e2e-spec.ts.
 */
import type { INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphiqlModule } from '@palisade/nest/graphiql';
import { ADAPTERS, bootApp } from '../support/app.js';
import { graphiqlAppMetadata } from '../support/graphiql-app.js';

const API_POLICY = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** The nonce of a `graphiql` policy, after checking the policy around it. */
function nonceOf(policy: string | undefined): string {
  const match = /script-src 'nonce-([A-Za-z0-9+/]+={0,2})'/.exec(policy ?? '');
  expect(match, `no script nonce in ${policy}`).not.toBeNull();
  return match![1]!;
}

describe.each(ADAPTERS)('the self-hosted GraphiQL page (%s)', (adapter) => {
  let app: INestApplication;
  let http: Awaited<ReturnType<typeof bootApp>>['http'];

  beforeAll(async () => {
    ({ app, http } = await bootApp(adapter, graphiqlAppMetadata(adapter)));
  });
  afterAll(() => app?.close());

  it('serves the page to anyone, under the graphiql policy, its nonce on every script and the stylesheet', async () => {
    const res = await http.get('/graphiql');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-store');
    const policy = res.headers['content-security-policy'] as string;
    const nonce = nonceOf(policy);
    expect(policy).toBe(
      `default-src 'none'; base-uri 'none'; connect-src 'self'; font-src data:; form-action 'none'; frame-ancestors 'none'; img-src 'self' data:; object-src 'none'; script-src 'nonce-${nonce}'; script-src-attr 'none'; style-src 'nonce-${nonce}'; style-src-attr 'none'`,
    );
    expect(policy).not.toContain('unsafe-inline');
    const html = res.text;
    const scripts = [...html.matchAll(/<script\b([^>]*)>/g)].map((m) => m[1]!);
    expect(scripts).toHaveLength(4);
    for (const attributes of scripts) {
      expect(attributes).toMatch(/ src="graphiql\/[a-z.-]+\.js"/);
      expect(attributes).toContain(` nonce="${nonce}"`);
    }
    expect(html).toContain(`<link rel="stylesheet" href="graphiql/graphiql.min.css" nonce="${nonce}">`);
    expect(html).toContain('data-endpoint="/graphql"');
    expect(html).not.toMatch(/style=|<style/);
    // Other headers stay the module's.
    expect(res.headers['x-frame-options']).toBe('DENY');
  });

  it('gives each response its own nonce', async () => {
    const [a, b] = await Promise.all([http.get('/graphiql'), http.get('/graphiql')]);
    const [first, second] = [nonceOf(a.headers['content-security-policy']), nonceOf(b.headers['content-security-policy'])];
    expect(first).not.toBe(second);
    expect(a.text).toContain(first);
    expect(b.text).toContain(second);
  });

  it('serves the bundles from the installed packages with their media types', async () => {
    const expected: [string, string, string][] = [
      ['/graphiql/react.production.min.js', 'text/javascript; charset=utf-8', 'React'],
      ['/graphiql/react-dom.production.min.js', 'text/javascript; charset=utf-8', 'ReactDOM'],
      ['/graphiql/graphiql.min.js', 'text/javascript; charset=utf-8', 'GraphiQL'],
      ['/graphiql/graphiql.min.css', 'text/css; charset=utf-8', '.graphiql-container'],
      ['/graphiql/start.js', 'text/javascript; charset=utf-8', '__webpack_nonce__'],
    ];
    for (const [path, type, marker] of expected) {
      const res = await http
        .get(path)
        .buffer(true)
        .parse((response, done) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => done(null, Buffer.concat(chunks).toString('utf8')));
        });
      expect({ path, status: res.status, type: res.headers['content-type'] }).toEqual({ path, status: 200, type });
      expect(res.body as string).toContain(marker);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    }
    expect((await http.get('/graphiql/other.js')).status).toBe(404);
  });

  it('with a trailing slash, the page (Express routes it there; Fastify answers 404) still points at files that exist', async () => {
    const page = await http.get('/graphiql/');
    expect(page.status).toBe(adapter === 'express' ? 200 : 404);
    const sources = [...page.text.matchAll(/ (?:src|href)="([^"]+\.(?:js|css))"/g)].map((m) => new URL(m[1]!, 'http://host/graphiql/').pathname);
    const files = ['graphiql.min.css', 'react.production.min.js', 'react-dom.production.min.js', 'graphiql.min.js', 'start.js'];
    expect(sources).toEqual(adapter === 'express' ? files.map((file) => `/graphiql/${file}`) : []);
    for (const source of sources) expect({ source, status: (await http.get(source)).status }).toEqual({ source, status: 200 });
  });

  it('leaves the GraphQL endpoint and every other route under the strict default policy', async () => {
    const graphql = await http.post('/graphql').set('Content-Type', 'application/json').send({ query: '{ hello }' });
    expect(graphql.status).toBe(200);
    expect(graphql.body).toEqual({ data: { hello: 'hello' } });
    expect(graphql.headers['content-security-policy']).toBe(API_POLICY);
    const missing = await http.get('/graphiql-other');
    expect(missing.status).toBe(404);
    expect(missing.headers['content-security-policy']).toBe(API_POLICY);
  });

  // Apollo's own page answers GET /graphql as HTML (with scripts from a CDN) unless `graphiql: false`;
  // Mercurius' would take GET /graphiql, and Fastify refuses to start on the duplicate route.
  it("Apollo's and Mercurius' own pages are off: GET /graphql asking for HTML gets no page from a CDN", async () => {
    const res = await http.get('/graphql').set('Accept', 'text/html');
    expect(res.text).not.toMatch(/<script[^>]+src="https?:/);
    expect(res.headers['content-security-policy']).toBe(API_POLICY);
  });
});

describe.each(ADAPTERS)('the GraphiQL page is throttled per client address (%s)', (adapter) => {
  let app: INestApplication;
  let http: Awaited<ReturnType<typeof bootApp>>['http'];

  beforeAll(async () => {
    ({ app, http } = await bootApp(adapter, graphiqlAppMetadata(adapter, { graphiql: { throttle: { default: { limit: 3, ttl: '1m' } } } })));
  });
  afterAll(() => app?.close());

  it('answers 429 with Retry-After past its tier, under the strict policy', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await http.get('/graphiql')).status);
    expect(statuses).toEqual([200, 200, 200]);
    const limited = await http.get('/graphiql');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // Rejected before the handler: the module's policy, no nonce handed out.
    expect(limited.headers['content-security-policy']).not.toContain('nonce-');
  });
});

describe.each(ADAPTERS)("the page's policy widened through contentSecurityPolicy.directives (%s)", (adapter) => {
  let app: INestApplication;
  let http: Awaited<ReturnType<typeof bootApp>>['http'];

  beforeAll(async () => {
    const directives = { 'connect-src': ["'self'", 'wss://subscriptions.example.com'] };
    ({ app, http } = await bootApp(adapter, graphiqlAppMetadata(adapter, { graphiql: { contentSecurityPolicy: { directives } } })));
  });
  afterAll(() => app?.close());

  it('starts from the graphiql preset (nonce kept), changes only the page, not /graphql', async () => {
    const policy = (await http.get('/graphiql')).headers['content-security-policy'] as string;
    const nonce = nonceOf(policy);
    expect(policy).toContain("connect-src 'self' wss://subscriptions.example.com;");
    expect(policy).toContain(`style-src 'nonce-${nonce}'`);
    const graphql = await http.post('/graphql').set('Content-Type', 'application/json').send({ query: '{ hello }' });
    expect(graphql.headers['content-security-policy']).toBe(API_POLICY);
  });
});

describe('GraphiqlModule.forRoot() refuses what would weaken or break the page', () => {
  it.each([
    [{ endpoint: 'https://api.example.com/graphql' }, /endpoint is "https:\/\/api.example.com\/graphql"; expected an absolute path on the same origin/],
    [{ endpoint: '//evil.example/graphql' }, /endpoint is "\/\/evil.example\/graphql"/],
    [{ path: 'graphiql' }, /path is "graphiql"; expected an absolute path/],
    [{ path: '/graphiql/' }, /path is "\/graphiql\/"/],
    [{ contentSecurityPolicy: { directives: { 'script-src': ["'self'", "'unsafe-inline'"] } } }, /must hold CSP_NONCE and not 'unsafe-inline'/],
    [{ pth: '/graphiql' }, /unknown option 'pth'; known options: path, endpoint, title, throttle, contentSecurityPolicy/],
  ])('%j', (options, message) => {
    expect(() => GraphiqlModule.forRoot(options as never)).toThrow(message);
  });
});
