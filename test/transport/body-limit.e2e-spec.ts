/**
 * Issue 16: a body declared over the limit is answered 413 at once, before a byte of it is sent.
 * Express's body parser answered only after reading the whole declared body (20 MB on a slow link
 * held the connection for as long as the client took); `bodyLimit()` placed between CORS and the
 * parser answers from `Content-Length`. Fastify's `bodyLimit` (1 MiB by default) already does. On
 * both: Palisade's error body, `Connection: close`, the CORS and the security headers.
 */
import { Body, Controller, HttpCode, Post, type INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { bodyLimit, PalisadeModule, Public, strictCors } from '@palisade/nest';
import { afterEach, describe, expect, it } from 'vitest';
import { ADAPTERS, type AdapterName } from '../support/app.js';
import { DEFAULT_HEADERS, securityHeadersOf, useHeadersApp } from '../support/headers.js';
import { rawConnection, type RawConnection } from '../support/raw-http.js';
import { TEST_SECRET } from '../support/tokens.js';
import { headerList } from '../support/transport.js';

/** Fastify's default `bodyLimit`, given to Express's middleware and parser too. */
const LIMIT = 1024 * 1024;
const APP = 'https://app.example.com';
const TOO_LARGE = { statusCode: 413, error: 'Payload Too Large', message: 'The request body is too large' };
/** How long a test waits for an answer the server owes at once (generous for a loaded machine). */
const PROMPTLY = 3000;

@Controller('upload')
class UploadController {
  @Post() @Public() @HttpCode(200) upload(@Body() body: unknown): object {
    return { received: JSON.stringify(body).length };
  }
}

/** The demo's set-up: CORS first, then (Express) the limit, then the JSON parser with the same limit. */
function configure(adapter: AdapterName) {
  return (app: INestApplication): void => {
    app.enableCors(strictCors({ origins: [APP] }));
    if (adapter === 'express') {
      app.use(bodyLimit({ limit: LIMIT }));
      (app as NestExpressApplication).useBodyParser('json', { limit: LIMIT });
    }
  };
}

const head = (lines: readonly string[]): string =>
  ['POST /upload HTTP/1.1', 'Host: 127.0.0.1', `Origin: ${APP}`, 'Content-Type: application/json', ...lines, '', ''].join('\r\n');

describe.each(ADAPTERS)('a body over the limit on %s', (adapter) => {
  const ctx = useHeadersApp(
    adapter,
    () => ({ imports: [PalisadeModule.forRoot({ auth: { jwt: { secret: TEST_SECRET } }, global: true })], controllers: [UploadController] }),
    {
      configure: configure(adapter),
    },
  );
  let connection: RawConnection | undefined;
  afterEach(() => connection?.destroy());

  it('a 20 MB Content-Length: 413 before any byte of the body is sent, with Connection: close, the stable body, CORS and security headers', async () => {
    connection = await rawConnection(ctx.port);
    await connection.write(head([`Content-Length: ${20 * 1024 * 1024}`]));
    const res = await connection.responseWithin(PROMPTLY);
    expect(res?.status).toBe(413);
    expect(res?.json).toEqual(TOO_LARGE);
    expect(res?.headers.connection).toBe('close');
    expect(res?.headers['access-control-allow-origin']).toBe(APP);
    expect(headerList(res?.headers.vary)).toContain('Origin');
    expect(securityHeadersOf(res?.headers ?? {})).toMatchObject(DEFAULT_HEADERS);
    // And the server does not keep the connection for the body it will not read.
    expect(await connection.closedWithin(PROMPTLY)).toBe(true);
  });

  it('a body at the limit still reaches the handler (control)', async () => {
    const payload = JSON.stringify({ pad: 'x'.repeat(LIMIT - 10) });
    expect(Buffer.byteLength(payload)).toBe(LIMIT);
    const res = await ctx.http.post('/upload').set('Content-Type', 'application/json').send(payload);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ received: payload.length });
  });

  it('a body one byte over the limit: 413 with the same body', async () => {
    const payload = JSON.stringify({ pad: 'x'.repeat(LIMIT - 9) });
    expect(Buffer.byteLength(payload)).toBe(LIMIT + 1);
    const res = await ctx.http.post('/upload').set('Content-Type', 'application/json').set('Origin', APP).send(payload);
    expect(res.status).toBe(413);
    expect(res.body).toEqual(TOO_LARGE);
    expect(res.headers['access-control-allow-origin']).toBe(APP);
  });
});

// A chunked body declares no length. Fastify stops at the limit and answers at once; Express's body
// parser stops keeping the body at the limit but reads the rest off before answering (docs/headers.md).
const chunk = (size: number): string => `${size.toString(16)}\r\n${'x'.repeat(size)}\r\n`;

describe('a chunked body over the limit on fastify', () => {
  const ctx = useHeadersApp(
    'fastify',
    () => ({ imports: [PalisadeModule.forRoot({ auth: { jwt: { secret: TEST_SECRET } }, global: true })], controllers: [UploadController] }),
    {
      configure: configure('fastify'),
    },
  );

  it('is answered 413 as soon as the limit is passed, before the body ends', async () => {
    const connection = await rawConnection(ctx.port);
    try {
      await connection.write(head(['Transfer-Encoding: chunked']) + chunk(LIMIT + 1));
      const res = await connection.responseWithin(PROMPTLY);
      expect(res?.status).toBe(413);
      expect(res?.json).toEqual(TOO_LARGE);
      expect(res?.headers.connection).toBe('close');
    } finally {
      connection.destroy();
    }
  });
});

describe('a chunked body over the limit on express', () => {
  const ctx = useHeadersApp(
    'express',
    () => ({ imports: [PalisadeModule.forRoot({ auth: { jwt: { secret: TEST_SECRET } }, global: true })], controllers: [UploadController] }),
    {
      configure: configure('express'),
    },
  );

  it('is answered 413 with the stable body once the client ends it (body-parser reads the rest off first, as documented)', async () => {
    const connection = await rawConnection(ctx.port);
    try {
      await connection.write(head(['Transfer-Encoding: chunked']) + chunk(LIMIT + 1));
      expect(await connection.responseWithin(300)).toBeUndefined();
      await connection.write(chunk(1024) + '0\r\n\r\n');
      const res = await connection.responseWithin(PROMPTLY);
      expect(res?.status).toBe(413);
      expect(res?.json).toEqual(TOO_LARGE);
      expect(res?.headers['access-control-allow-origin']).toBe(APP);
    } finally {
      connection.destroy();
    }
  });
});

describe('bodyLimit({ lengthRequired: true }) on express', () => {
  const ctx = useHeadersApp(
    'express',
    () => ({ imports: [PalisadeModule.forRoot({ auth: { jwt: { secret: TEST_SECRET } }, global: true })], controllers: [UploadController] }),
    {
      configure: (app) => {
        app.enableCors(strictCors({ origins: [APP] }));
        app.use(bodyLimit({ limit: LIMIT, lengthRequired: true }));
        (app as NestExpressApplication).useBodyParser('json', { limit: LIMIT });
      },
    },
  );

  it('refuses a chunked body with 411 at once, before it ends, with Connection: close and the CORS headers', async () => {
    const connection = await rawConnection(ctx.port);
    try {
      await connection.write(head(['Transfer-Encoding: chunked']) + chunk(16));
      const res = await connection.responseWithin(PROMPTLY);
      expect(res?.status).toBe(411);
      expect(res?.json).toEqual({ statusCode: 411, error: 'Length Required', message: 'The request body must declare its length (Content-Length)' });
      expect(res?.headers.connection).toBe('close');
      expect(res?.headers['access-control-allow-origin']).toBe(APP);
      expect(await connection.closedWithin(PROMPTLY)).toBe(true);
    } finally {
      connection.destroy();
    }
  });

  it('a body with its Content-Length still reaches the handler (control)', async () => {
    const res = await ctx.http.post('/upload').set('Content-Type', 'application/json').send('{"a":1}');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ received: 7 });
  });
});
