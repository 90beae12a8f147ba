/**
 * Body-parser failures (malformed JSON, too large, unsupported charset, unsupported media type)
 * answer with Palisade's stable error body `{ statusCode, error, message }` and a fixed message:
 * never the parser's own message, which for malformed JSON quotes the body (a password sent back
 * in the error). On both adapters, with each adapter's default body parsing.
 */
import { Body, Controller, HttpCode, Post, type INestApplication } from '@nestjs/common';
import { installEarlyResponses, Public, PalisadeModule } from '@palisade/nest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { ADAPTERS, bootApp, type AdapterName } from '../support/app.js';
import { rawExchange } from '../support/raw-http.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { TEST_SECRET } from '../support/tokens.js';

const SECRET = 'S3cret-Passw0rd-do-not-echo';

/** Per adapter: the malformed-JSON message, and a request its parsers refuse with 415. */
const EXPECTED = {
  express: {
    malformed: 'The request body is not valid JSON',
    unsupported: { contentType: 'application/json; charset=x-unknown', message: 'The charset of the request body is not supported' },
  },
  // Fastify's own messages name no part of the body; Palisade adds the `error` field.
  fastify: {
    malformed: "Body is not valid JSON but content-type is set to 'application/json'",
    unsupported: { contentType: 'application/x-unknown', message: 'Unsupported Media Type' },
  },
} as const;

@Controller('login')
class LoginController {
  @Post() @Public() @HttpCode(200) login(@Body() body: unknown) {
    return { received: typeof body };
  }
}

describe.each(ADAPTERS)('body-parser failures on %s', (adapter: AdapterName) => {
  let app: INestApplication;
  let http: Awaited<ReturnType<typeof bootApp>>['http'];
  const logger = new RecordingLogger();
  beforeAll(async () => {
    ({ app, http } = await bootApp(
      adapter,
      {
        imports: [PalisadeModule.forRoot({ auth: { jwt: { secret: TEST_SECRET } }, global: true })],
        controllers: [LoginController],
      },
      logger,
      // Palisade's JSON answer to what Node.js's parser rejects (the broken-off chunked body) is opt-in.
      installEarlyResponses,
    ));
  });
  afterAll(async () => {
    await app?.close();
  });

  const post = (body: string, contentType = 'application/json') => http.post('/login').set('Content-Type', contentType).send(body);

  it.each([
    ['an unquoted value', `{"username":"alice","password":${SECRET}}`],
    ['a bare word', SECRET],
    ['a truncated object', `{"password":"${SECRET}"`],
  ])('malformed JSON (%s): 400 with the stable body, and no part of the body in it', async (_case, body) => {
    const res = await post(body);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message: EXPECTED[adapter].malformed });
    expect(res.text).not.toContain('S3cret');
    expect(res.text).not.toContain('alice');
  });

  it('a body over the limit: 413 with the stable body', async () => {
    const res = await post(JSON.stringify({ password: SECRET, pad: 'x'.repeat(2 * 1024 * 1024) }));
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ statusCode: 413, error: 'Payload Too Large', message: expect.any(String) });
    expect(res.text).not.toContain('S3cret');
  });

  it('a well-formed body still reaches the handler (control)', async () => {
    const res = await post(JSON.stringify({ username: 'alice', password: SECRET }));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ received: 'object' });
  });

  it('a body its parsers cannot read (charset, media type): 415 with the stable body', async () => {
    const { contentType, message } = EXPECTED[adapter].unsupported;
    const res = await post(`{"password":"${SECRET}"}`, contentType);
    expect(res.status).toBe(415);
    expect(res.body).toEqual({ statusCode: 415, error: 'Unsupported Media Type', message });
    expect(res.text).not.toContain('S3cret');
  });

  it('a chunked body the client breaks off is a 400 (Palisade answers the parser error, with installEarlyResponses), with no error in the log: it is not a server fault', async () => {
    const { port } = (app.getHttpServer() as { address(): AddressInfo }).address();
    const before = logger.lines.length;
    const res = await rawExchange(
      port,
      `POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"pas\r\nzz\r\n`,
    );
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ statusCode: 400, error: 'Bad Request', message: expect.any(String) });
    // The server handles the abort when it sees the socket close: wait until it has (no open
    // connection left), then let the error path's promises settle.
    const server = app.getHttpServer() as { getConnections(callback: (error: Error | null, count: number) => void): void };
    const open = () => new Promise<number>((resolve, reject) => server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
    while ((await open()) > 0) await new Promise((resolve) => setTimeout(resolve, 10));
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(logger.lines.slice(before).filter((line) => line.level === 'error' || line.level === 'fatal')).toEqual([]);
    // And the app still serves.
    expect((await post(JSON.stringify({ username: 'alice' }))).status).toBe(200);
  });
});

// Issue 16: a broken gzip/br body was answered with zlib's message and no `error` field. Express
// only: its body parsers decompress; Nest's Fastify adapter hands a body with a Content-Encoding to
// the handler as the raw Buffer, still encoded (no zlib in play, nothing to map).
describe('a compressed body that does not decompress, on express', () => {
  let app: INestApplication;
  let http: Awaited<ReturnType<typeof bootApp>>['http'];
  beforeAll(async () => {
    ({ app, http } = await bootApp('express', {
      imports: [PalisadeModule.forRoot({ auth: { jwt: { secret: TEST_SECRET } }, global: true })],
      controllers: [LoginController],
    }));
  });
  afterAll(async () => {
    await app?.close();
  });

  it.each([
    ['gzip', Buffer.from('not gzip at all')],
    ['gzip', gzipSync(JSON.stringify({ password: SECRET })).subarray(0, 12)],
    ['deflate', Buffer.from('not deflate')],
    ['br', Buffer.from('not brotli, not at all')],
  ])('a %s body that does not decompress: 400 with the stable body and a fixed message', async (encoding, body) => {
    const res = await http.post('/login').set('Content-Type', 'application/json').set('Content-Encoding', encoding).send(body);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message: 'The request body could not be decompressed' });
    expect(res.text).not.toMatch(/header check|unexpected end|Decompression failed/);
  });
});
