import { STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { Controller, Get, Post } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { describe, expect, it } from 'vitest';
import { installEarlyResponses, PalisadeModule, Public } from '@palisade/nest';
import { ADAPTERS } from '../support/app.js';
import { DEFAULT_HEADERS, DEFAULT_HSTS, securityHeadersOf, useHeadersApp } from '../support/headers.js';
import { rawExchange, type RawExchange } from '../support/raw-http.js';

@Controller()
class ScenarioController {
  @Get('open') @Public() open() {
    return { ok: true };
  }

  @Post('echo') @Public() echo() {
    return { ok: true };
  }
}

/** What a client puts in the oversized header: it must never come back. */
const SECRET = 'palisade-secret-4f1c9a';

/** A request whose headers exceed Node.js's 16 KB limit (HPE_HEADER_OVERFLOW). */
const OVERSIZED = `GET /open HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${SECRET}${'a'.repeat(20_000)}\r\n\r\n`;
/** A request line with a space in the target (HPE_INVALID_CONSTANT). */
const MALFORMED_REQUEST_LINE = 'GET /op en HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
/** A header line without a colon (HPE_INVALID_HEADER_TOKEN). */
const INVALID_HEADER_LINE = `GET /open HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Token ${SECRET}\r\n\r\n`;
/** A chunk size that is not hexadecimal: the error comes after the `request` event, with a response in flight. */
const BAD_CHUNKED_BODY = 'POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n';
/** Chunk extensions over Node.js's 16 KB limit (HPE_CHUNK_EXTENSIONS_OVERFLOW). */
const OVERSIZED_CHUNK_EXTENSIONS = `POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2;x=${SECRET}${'a'.repeat(20_000)}\r\n{}\r\n0\r\n\r\n`;
/** An expectation Node.js does not meet (only `100-continue` is). */
const UNKNOWN_EXPECTATION = `GET /open HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: ${SECRET}\r\nConnection: close\r\n\r\n`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Asserts Palisade's complete answer: status, security headers, request id, JSON body, `Connection: close`, no echo. */
function expectPalisadeAnswer(res: RawExchange, status: number, error: string): void {
  expect(res.status).toBe(status);
  expect(securityHeadersOf(res.headers)).toEqual(DEFAULT_HEADERS);
  expect(res.headers['x-request-id']).toMatch(UUID);
  expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
  expect(res.headers['connection']).toBe('close');
  expect(res.headers['content-length']).toBe(String(Buffer.byteLength(res.body)));
  expect(res.json).toEqual({ statusCode: status, error, message: expect.any(String) });
  expect(Object.keys(res.json as object)).toEqual(['statusCode', 'error', 'message']);
  expect(res.text).not.toContain(SECRET);
}

describe.each(ADAPTERS)('responses Node.js writes before the framework sees the request, with installEarlyResponses (%s)', (adapter) => {
  const ctx = useHeadersApp(
    adapter,
    () => ({
      imports: [PalisadeModule.forRoot({ global: true })],
      controllers: [ScenarioController],
    }),
    { configure: installEarlyResponses },
  );

  it.each([
    ['431 for an oversized header: the header not echoed', OVERSIZED, 431, 'The request headers are too large'],
    [
      '431 for a 70 KB header, arriving whole (Content-Length), where Express used to reset the connection',
      `GET /open HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${SECRET}${'a'.repeat(70_000)}\r\n\r\n`,
      431,
      'The request headers are too large',
    ],
    ['400 for a malformed request line', MALFORMED_REQUEST_LINE, 400, 'The request is not valid HTTP'],
    ['400 for an invalid header line, its bytes not echoed', INVALID_HEADER_LINE, 400, 'The request is not valid HTTP'],
    [
      '400 for a bad chunked body (the parser fails after the request event, before any response started)',
      BAD_CHUNKED_BODY,
      400,
      'The request is not valid HTTP',
    ],
    ['413 for oversized chunk extensions, their bytes not echoed', OVERSIZED_CHUNK_EXTENSIONS, 413, 'The chunk extensions of the request body are too large'],
    [
      '417 for an Expect other than 100-continue (no request event: the request listener never ran)',
      UNKNOWN_EXPECTATION,
      417,
      'The only expectation supported is Expect: 100-continue',
    ],
  ])('%s: security headers and the JSON error instead of a bare status line', async (_case, bytes, status, message) => {
    const res = await rawExchange(ctx.port, bytes);
    expectPalisadeAnswer(res, status, STATUS_CODES[status] as string);
    expect(res.json).toEqual({ statusCode: status, error: STATUS_CODES[status], message });
  });

  it('each early answer carries a request id of its own', async () => {
    const [first, second] = await Promise.all([rawExchange(ctx.port, MALFORMED_REQUEST_LINE), rawExchange(ctx.port, MALFORMED_REQUEST_LINE)]);
    expect(first.headers['x-request-id']).toMatch(UUID);
    expect(second.headers['x-request-id']).toMatch(UUID);
    expect(first.headers['x-request-id']).not.toBe(second.headers['x-request-id']);
  });

  it('a well-formed request on the same app is answered as before', async () => {
    await rawExchange(ctx.port, OVERSIZED);
    const res = await rawExchange(ctx.port, 'GET /open HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ ok: true });
    expect(securityHeadersOf(res.headers)).toEqual(DEFAULT_HEADERS);
    const viaClient = await ctx.http.get('/open');
    expect(viaClient.status).toBe(200);
    expect(securityHeadersOf(viaClient.headers)).toEqual(DEFAULT_HEADERS);
  });
});

describe.each(ADAPTERS)('early answers over TLS and with a nonce policy (%s)', (adapter) => {
  const ctx = useHeadersApp(
    adapter,
    () => ({
      imports: [PalisadeModule.forRoot({ headers: { contentSecurityPolicy: { preset: 'page' } }, global: true })],
      controllers: [ScenarioController],
    }),
    { tls: true, configure: installEarlyResponses },
  );

  it('carries HSTS on a TLS connection and the policy with a fresh nonce each time', async () => {
    const [first, second] = await Promise.all([rawExchange(ctx.port, MALFORMED_REQUEST_LINE, { tls: true }), rawExchange(ctx.port, OVERSIZED, { tls: true })]);
    expect(first.status).toBe(400);
    expect(second.status).toBe(431);
    for (const res of [first, second]) {
      expect(res.headers['strict-transport-security']).toBe(DEFAULT_HSTS);
      expect(res.headers['content-security-policy']).toMatch(/script-src 'nonce-[A-Za-z0-9+/]{22}==' 'strict-dynamic'/);
      expect(res.text).not.toContain(SECRET);
    }
    expect(first.headers['content-security-policy']).not.toBe(second.headers['content-security-policy']);
  });
});

/** The application's own answer to a client error. */
function ownClientError(_error: Error, socket: Duplex): void {
  socket.end('HTTP/1.1 400 Bad Request\r\nX-Own: yes\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
}

describe.each(ADAPTERS)('an application that answers client errors itself, without installEarlyResponses (%s)', (adapter) => {
  const ctx = useHeadersApp(
    adapter,
    () => ({
      imports: [PalisadeModule.forRoot({ global: true })],
      controllers: [ScenarioController],
    }),
    {
      // Fastify's documented option; on Express, a listener on the server.
      fastify: { clientErrorHandler: ownClientError },
      configure: (app) => {
        const server = app.getHttpServer() as Server;
        if (adapter === 'express') server.on('clientError', ownClientError);
        // Answered a moment later (as after a lookup): Palisade must not have answered meanwhile.
        server.on('checkExpectation', (_request, response) => {
          setImmediate(() => {
            response.writeHead(417, { 'X-Own': 'yes', Connection: 'close' });
            response.end();
          });
        });
      },
    },
  );

  it('keeps its clientError answer: Palisade adds no listener', async () => {
    const res = await rawExchange(ctx.port, MALFORMED_REQUEST_LINE);
    expect(res.status).toBe(400);
    expect(res.headers['x-own']).toBe('yes');
    expect(res.headers['x-content-type-options']).toBeUndefined();
    expect(res.body).toBe('');
  });

  it('keeps its checkExpectation answer: Palisade adds no listener', async () => {
    const res = await rawExchange(ctx.port, UNKNOWN_EXPECTATION);
    expect(res.status).toBe(417);
    expect(res.headers['x-own']).toBe('yes');
    expect(res.body).toBe('');
  });
});

describe.each(ADAPTERS)('without installEarlyResponses (%s)', (adapter) => {
  const ctx = useHeadersApp(adapter, () => ({ imports: [PalisadeModule.forRoot({ global: true })], controllers: [ScenarioController] }));

  it("leaves Node.js's own answer to a request its parser rejects: the early answers are opt-in", async () => {
    const res = await rawExchange(ctx.port, OVERSIZED);
    expect(res.status).toBe(431);
    expect(res.headers['x-content-type-options']).toBeUndefined();
    expect(res.text).not.toContain(SECRET);
  });
});

describe('installEarlyResponses on an HTTP/2 server', () => {
  it('is refused, naming the fix: HTTP/2 answers parser errors on its own streams', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [PalisadeModule.forRoot({})], controllers: [ScenarioController] }).compile();
    const app = moduleRef.createNestApplication(new FastifyAdapter({ http2: true }), { logger: false });
    try {
      expect(() => installEarlyResponses(app)).toThrow(
        'installEarlyResponses: the application is not served by a Node.js HTTP/1 server (http or https); an HTTP/2 server answers parser errors on its own. Remove the call.',
      );
    } finally {
      await app.close();
    }
  });
});
