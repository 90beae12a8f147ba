/**
 * The demo's `GET /docs` and `GET /docs-json` (DESIGN.md's demo contract): Swagger UI under its own
 * CSP, and the OpenAPI document with every route's security and 401/403/429, served by a
 * `@Public()` route throttled per client address. The demo runs in process on each adapter.
 */
import type { INestApplication } from '@nestjs/common';
import type { OpenAPIObject, OperationObject } from '@nestjs/swagger';
import { Validator } from '@seriousme/openapi-schema-validator';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoApp } from '../../apps/demo/src/app.factory.js';
import { loadConfig } from '../../apps/demo/src/config.js';
import { ADAPTERS, type AdapterName } from '../support/app.js';

// The demo documents its password grant (POST /auth/token) as an OAuth2 password flow: every
// bearer-token alternative has its oauth2 twin, which Swagger UI's "Authorize" logs in through.
const ALL = [{ bearer: [] }, { oauth2: [] }, { api_key: [] }, { basic: [] }];

describe.each(ADAPTERS)('demo /docs and /docs-json on %s', (adapter: AdapterName) => {
  let app: INestApplication;
  let http: ReturnType<typeof request>;
  let document: OpenAPIObject;

  beforeAll(async () => {
    app = await createDemoApp(loadConfig({ HTTP_ADAPTER: adapter, JWT_SECRET: 'demo-openapi-jwt-secret-0123456789abcdef-0123' }), { logger: false });
    await app.listen(0, '127.0.0.1');
    http = request(app.getHttpServer());
    const res = await http.get('/docs-json');
    if (res.status !== 200) throw new Error(`GET /docs-json answered ${res.status}: ${res.text}`);
    document = res.body as OpenAPIObject;
  });
  afterAll(async () => {
    await app?.close();
  });

  const op = (method: 'get' | 'post', path: string): OperationObject => {
    const found = (document.paths[path] as Record<string, OperationObject | undefined> | undefined)?.[method];
    if (!found) throw new Error(`the document has no ${method.toUpperCase()} ${path}`);
    return found;
  };

  it('serves an OpenAPI 3.1 document that validates', async () => {
    expect(document.openapi).toBe('3.1.0');
    const result = await new Validator().validate(document as unknown as Record<string, unknown>);
    expect(result.errors).toBeUndefined();
  });

  it("documents the contract's routes with their security and error responses", () => {
    const summary = (method: 'get' | 'post', path: string) => ({
      security: op(method, path).security,
      responses: Object.keys(op(method, path).responses).sort(),
    });
    expect(summary('get', '/health')).toEqual({ security: [], responses: ['200'] });
    expect(summary('post', '/auth/login')).toEqual({ security: [], responses: ['200', '429'] });
    expect(summary('post', '/auth/token')).toEqual({ security: [], responses: ['200', '429'] });
    expect(document.components?.securitySchemes?.oauth2).toEqual(
      expect.objectContaining({ type: 'oauth2', flows: { password: expect.objectContaining({ tokenUrl: '/auth/token' }) } }),
    );
    expect(summary('get', '/me')).toEqual({ security: ALL, responses: ['200', '401', '429'] });
    expect(summary('get', '/admin')).toEqual({ security: ALL, responses: ['200', '401', '403', '429'] });
    expect(summary('get', '/reports')).toEqual({
      security: [{ bearer: ['reports:read'] }, { oauth2: ['reports:read'] }, { api_key: [] }, { basic: [] }],
      responses: ['200', '401', '403', '429'],
    });
    expect((op('get', '/admin') as OperationObject & Record<string, unknown>)['x-palisade-roles']).toEqual([['admin']]);
    expect(document.paths['/docs-json']).toBeUndefined();
  });

  it('serves /docs-json as a @Public() route throttled per address, under the API policy', async () => {
    const res = await http.get('/docs-json').set('Authorization', 'Bearer garbage');
    expect(res.status).toBe(200);
    expect(res.headers['ratelimit-policy']).toBe('"default";q=60;w=60');
    expect(res.headers['content-security-policy']).not.toContain("script-src 'self'");
  });

  it("serves Swagger UI at /docs under the swagger-ui policy: its scripts are files of 'self', no inline script", async () => {
    const res = await http.get('/docs');
    expect(res.status).toBe(200);
    expect(res.text).toContain('swagger-ui-init.js');
    expect(res.text).not.toMatch(/<script>/);
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    const init = await http.get('/docs/swagger-ui-init.js');
    expect(init.status).toBe(200);
    expect(init.text).toContain('"openapi": "3.1.0"');
  });
});
