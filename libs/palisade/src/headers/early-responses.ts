import { randomBytes, randomUUID } from 'node:crypto';
import { Server as HttpServer, STATUS_CODES, validateHeaderName, validateHeaderValue, type IncomingMessage, type ServerResponse } from 'node:http';
import { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { INestApplication } from '@nestjs/common';
import { errorBody } from '../common/error-body.js';
import { HEADERS_OPTIONS } from './headers.constants.js';
import type { HeaderSet, NormalizedHeadersOptions } from './headers-options.normalizer.js';
import { SecurityHeadersService } from './security-headers.service.js';

/**
 * The statuses of the responses Node.js would otherwise write itself, before the framework sees
 * the request, with their fixed, readable messages (nothing of the request is ever echoed).
 */
const MESSAGES: ReadonlyMap<number, string> = new Map([
  [400, 'The request is not valid HTTP'],
  [408, 'The request was not received in time'],
  [413, 'The chunk extensions of the request body are too large'],
  [417, 'The only expectation supported is Expect: 100-continue'],
  [431, 'The request headers are too large'],
]);

/**
 * The status answering each Node.js client error code, as Node.js's own default answer maps them
 * (https://nodejs.org/api/http.html#event-clienterror). Every other parser error is a 400.
 */
const STATUS_OF_CODE: ReadonlyMap<string, number> = new Map([
  ['HPE_HEADER_OVERFLOW', 431],
  ['HPE_CHUNK_EXTENSIONS_OVERFLOW', 413],
  ['ERR_HTTP_REQUEST_TIMEOUT', 408],
]);

/** The status Palisade answers a Node.js client error (`clientError`) with. @internal */
export function statusOfClientError(error: { code?: unknown }): number {
  return (typeof error.code === 'string' ? STATUS_OF_CODE.get(error.code) : undefined) ?? 400;
}

/** A header line, checked at startup: a raw response bypasses Node.js's own header checks. */
function lineOf(name: string, value: string): string {
  validateHeaderName(name);
  validateHeaderValue(name, value);
  return `${name}: ${value}\r\n`;
}

/** The parts of one complete early response that do not change between errors. */
interface RawAnswer {
  /** `HTTP/1.1 431 Request Header Fields Too Large\r\n` and the fixed security headers. */
  readonly head: string;
  /** `Content-Type`, `Content-Length`, `Connection: close`, the blank line and the JSON body. */
  readonly tail: string;
  /** The JSON body alone (Palisade's stable error body). */
  readonly body: string;
}

/**
 * The responses Palisade writes where Node.js would write a bare one itself: a request the HTTP
 * parser rejects (`clientError`: 400, 408, 413, 431), and an `Expect` other than `100-continue`
 * (`checkExpectation`: 417). Everything but the request id, the date and a CSP nonce is serialized
 * once, at startup, from the module's header set.
 * @internal
 */
export class EarlyResponses {
  private readonly answers = new Map<number, RawAnswer>();
  private readonly hstsLine: string;

  /** @param set the module's header set (`headers.base`): no path is known before a request is parsed. */
  constructor(private readonly set: HeaderSet) {
    let fixed = '';
    for (const [name, value] of set.fixed) fixed += lineOf(name, value);
    for (const policy of set.policies) for (const part of policy.parts) validateHeaderValue(policy.header, part);
    this.hstsLine = set.hsts === undefined ? '' : lineOf('Strict-Transport-Security', set.hsts);
    for (const [status, message] of MESSAGES) {
      const body = JSON.stringify(errorBody(status, message));
      this.answers.set(status, {
        body,
        head: `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${fixed}`,
        tail: `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      });
    }
  }

  /** The JSON body of `status` (400, 408, 413, 417 or 431; any other status is answered as a 400). */
  body(status: number): string {
    return this.answerOf(status).body;
  }

  /**
   * The complete HTTP/1.1 response to write on a raw socket: the status line, the security
   * headers (HSTS when the connection is TLS, each nonce policy with a fresh `nonce`), a new
   * `X-Request-Id`, `Date`, the JSON headers, `Connection: close` and the body.
   */
  raw(status: number, tls: boolean, nonce: () => string): string {
    const answer = this.answerOf(status);
    let response = answer.head;
    if (tls) response += this.hstsLine;
    if (this.set.usesNonce) {
      const source = `'nonce-${nonce()}'`;
      for (const policy of this.set.policies) response += `${policy.header}: ${policy.parts.join(source)}\r\n`;
    }
    return `${response}X-Request-Id: ${randomUUID()}\r\nDate: ${new Date().toUTCString()}\r\n${answer.tail}`;
  }

  private answerOf(status: number): RawAnswer {
    return this.answers.get(status) ?? (this.answers.get(400) as RawAnswer);
  }
}

/** Bytes of randomness in the CSP nonce of an early answer (128 bits, as CSP3 recommends). */
const NONCE_BYTES = 16;

/**
 * Makes Palisade answer what Node.js answers itself, before any framework code, on an HTTP/1 server
 * (`http` or `https`): a request its parser rejects (`clientError`: 431 for oversized headers, 400
 * for a malformed request, 413, 408) and an `Expect` other than `100-continue` (`checkExpectation`:
 * 417). Those then carry the module's security headers, an `X-Request-Id`, Palisade's JSON body
 * `{ statusCode, error, message }` and `Connection: close`, instead of a bare status line.
 *
 * Opt-in, through Node.js's documented server events: call it once after creating the app, before
 * `app.listen()`. It takes those answers over from Node.js and from Fastify's default
 * `clientError` handler (which leaves a destroyed socket alone), so do not combine it with your own
 * `clientError`/`checkExpectation` listener or Fastify's `clientErrorHandler` option. Nothing runs
 * for a request the parser accepts, except a `request` listener that notes the response in flight on
 * each connection (so an answer never interleaves with a response already started).
 *
 * An answer that cannot be written emits `headers.write-failed` and closes the connection.
 *
 * @throws when the app has no `PalisadeModule`, or its server is not an HTTP/1 server (HTTP/2
 * answers parser errors on its own streams).
 * @example
 * const app = await NestFactory.create(AppModule);
 * installEarlyResponses(app);
 * await app.listen(3000);
 */
export function installEarlyResponses(app: INestApplication): void {
  const options = app.get<NormalizedHeadersOptions>(HEADERS_OPTIONS, { strict: false });
  const headers = app.get(SecurityHeadersService, { strict: false });
  const server: unknown = app.getHttpServer();
  if (!(server instanceof HttpServer) && !(server instanceof HttpsServer)) {
    throw new Error(
      'installEarlyResponses: the application is not served by a Node.js HTTP/1 server (http or https); an HTTP/2 server answers parser errors on its own. Remove the call.',
    );
  }
  new EarlyResponseListeners(new EarlyResponses(options.base), headers).attach(server);
}

/** The server listeners of {@link installEarlyResponses}. @internal */
export class EarlyResponseListeners {
  /** The last response of each connection, to know whether one has started (pipelining). */
  private readonly inFlight = new WeakMap<Duplex, ServerResponse>();

  constructor(
    private readonly early: EarlyResponses,
    private readonly headers: SecurityHeadersService,
  ) {}

  /** Adds the listeners to `server`: `clientError` first (ahead of Fastify's default one), `checkExpectation`, `request`. */
  attach(server: HttpServer): void {
    server.prependListener('clientError', this.clientError);
    server.on('checkExpectation', this.checkExpectation);
    server.on('request', this.noteResponse);
  }

  private readonly noteResponse = (request: IncomingMessage, response: ServerResponse): void => {
    this.inFlight.set(request.socket, response);
  };

  /** Answers a request Node.js's parser rejected. */
  private readonly clientError = (error: NodeJS.ErrnoException, socket: Duplex): void => {
    // Nothing is written on a reset or closed socket, or while a response is being written: as
    // Node.js's own answer, which this one replaces (https://nodejs.org/api/http.html#event-clienterror).
    const current = this.inFlight.get(socket);
    const started = current !== undefined && current.headersSent && !current.writableFinished;
    if (error.code !== 'ECONNRESET' && !socket.destroyed && socket.writable && !started) {
      try {
        socket.end(this.early.raw(statusOfClientError(error), (socket as { encrypted?: boolean }).encrypted === true, newNonce));
      } catch (failure) {
        this.headers.reportWriteFailure(undefined, failure);
      }
    }
    // The answer is flushed as it is written; destroying the socket stops the parser from reading
    // the rest of the rejected request, and tells Fastify's default handler, which runs next, that
    // the error is answered (it returns at once on a destroyed socket).
    socket.destroy();
  };

  /** Answers an `Expect` other than `100-continue` (Node.js emits no `request` event for it). */
  private readonly checkExpectation = (request: IncomingMessage, response: ServerResponse): void => {
    if (this.headers.applyOrReject(request, response) !== undefined) {
      // Reported already: the answer does not go out without its headers.
      response.destroy();
      return;
    }
    const body = this.early.body(417);
    response.writeHead(417, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), Connection: 'close' });
    response.end(body);
  };
}

/** A fresh CSP nonce for an early answer. */
function newNonce(): string {
  return randomBytes(NONCE_BYTES).toString('base64');
}
