import { randomBytes } from 'node:crypto';
import { Server as HttpServer, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { headerTargetOf, type FastifyReplyLike, type HeaderTarget, type HttpRequestLike } from '../common/http-context.js';
import { PALISADE_OPTIONS } from '../common/palisade.constants.js';
import type { NormalizedPalisadeOptions } from '../common/palisade-options.normalizer.js';
import type { HeaderSet } from './headers-options.normalizer.js';
import { requestIdOf } from '../common/request-id.js';
import { prepareNodeRequest, stateOfNodeRequest, type RequestState } from '../common/request-state.js';
import { ExpressObjectShapes } from '../common/request-shapes.js';
import { EarlyResponses, statusOfClientError } from './early-responses.js';

export type { HeaderTarget } from '../common/http-context.js';

/** On a raw Fastify response: its request, until `writeHead` has checked the headers went out. */
const WATCHED = Symbol('palisade.watchedRequest');
/** On a raw Fastify response: the `writeHead` that Palisade's check hands over to. */
const WRITE_HEAD = Symbol('palisade.writeHead');

/** A raw response whose `writeHead` Palisade watches (Fastify). */
type WatchedResponse = ServerResponse & { [WATCHED]?: IncomingMessage; [WRITE_HEAD]?: ServerResponse['writeHead'] };

/** Bytes of randomness in a CSP nonce (128 bits, as CSP3 recommends). */
const NONCE_BYTES = 16;

/** The CSP nonce of a raw request, or `undefined` when its policy has none. @internal */
export function cspNonceOf(request: IncomingMessage): string | undefined {
  return stateOfNodeRequest(request).nonce;
}

/** The header set applied to the request's response, if any yet. */
function appliedSet(state: RequestState): HeaderSet | undefined {
  return state.headerSet as HeaderSet | undefined;
}

/**
 * The name of Fastify's default `clientError` listener (`defaultClientErrorHandler`, bound to the
 * instance in fastify.js). Any other `clientError` listener is the application's.
 */
const FASTIFY_DEFAULT_CLIENT_ERROR = 'bound defaultClientErrorHandler';

/**
 * True when a response has started on the socket: its head is out, and a second one would corrupt
 * what the client reads. `_httpMessage` is the response in flight on a Node.js HTTP/1 socket, the
 * field Node.js's own default `clientError` answer checks.
 */
function responseStarted(socket: Duplex): boolean {
  // oxlint-disable-next-line no-underscore-dangle -- Node.js's field, not ours to rename
  return (socket as { _httpMessage?: { headersSent?: boolean } | null })._httpMessage?.headersSent === true;
}

/** True when `headers` has at least one entry. */
function hasAny(headers: object): boolean {
  for (const _ in headers) return true;
  return false;
}

/** Writes only the headers `existing` does not have yet: what the application set first wins. */
class KeepExisting implements HeaderTarget {
  constructor(
    private readonly target: HeaderTarget,
    private readonly existing: { hasHeader(name: string): boolean },
  ) {}

  setHeader(name: string, value: string): void {
    if (!this.existing.hasHeader(name)) this.target.setHeader(name, value);
  }

  removeHeader(name: string): void {
    this.target.removeHeader(name);
  }

  get headersSent(): boolean | undefined {
    return this.target.headersSent;
  }
}

/** True when the `writeHead` arguments after the status carry a header object with the request id (Fastify's). */
function carriesRequestId(reasonOrHeaders: unknown, headers: unknown): boolean {
  const object = typeof reasonOrHeaders === 'object' && reasonOrHeaders !== null ? reasonOrHeaders : headers;
  return typeof object === 'object' && object !== null && !Array.isArray(object) && (object as OutgoingHttpHeaders)['x-request-id'] !== undefined;
}

/**
 * Writes the precomputed security headers. On Express it runs first for every request the HTTP
 * server receives (a `request` listener ahead of Express's), so that responses the framework sends
 * before any Nest code runs — a malformed URL, an unparseable or oversized body — carry them too.
 * On Fastify the headers go into each reply's own headers from a root `onRequest` hook, and the same
 * listener watches the raw response so the responses that bypass the reply carry them too (see
 * `hookFastify`). `SecurityHeadersMiddleware` covers an adapter where neither can be installed, and
 * `SecurityHeadersInterceptor` applies `@SecurityHeaders()` and marks authenticated responses.
 *
 * It also answers what Node.js answers itself, before any `request` event, on an HTTP/1 server
 * (`http` or `https`): a request its parser rejects (`clientError`: 431 for oversized headers, 400
 * for a malformed request, 413, 408) and an `Expect` other than `100-continue`
 * (`checkExpectation`: 417). Those get the module's headers, an `X-Request-Id`, Palisade's JSON
 * body `{ statusCode, error, message }` and `Connection: close`, instead of a bare status line.
 * Palisade steps aside when another listener of the event is on the server (Fastify's
 * `clientErrorHandler` option, the application's `server.on('clientError', …)`). None of this
 * runs for a request the parser accepts.
 *
 * Per request it only reads precomputed values: the scope's fixed headers, HSTS when the request
 * came over HTTPS (TLS, or a trusted proxy's `X-Forwarded-Proto`), the CSP with a fresh nonce when
 * the policy uses `CSP_NONCE`, and `Cache-Control` when the request carries credentials.
 *
 * Extend it through its protected methods and provide the subclass in place of this class.
 */
@Injectable()
export class SecurityHeadersService implements OnModuleInit, OnApplicationShutdown {
  private server: Server | undefined;
  /** True on Fastify: the headers go into each reply's own headers, and raw responses are watched. */
  private fastify = false;
  /** On Express (unless `stableRequestShapes: false`): the fields declared before Express re-parents. */
  private shapes: ExpressObjectShapes | undefined;
  private readonly listener = (request: IncomingMessage, response: ServerResponse): void => {
    try {
      if (this.fastify) this.watch(request, response);
      else {
        // Express re-parents the request (Object.setPrototypeOf) after this listener: what Palisade
        // keeps per request is prepared here, while property accesses on the request are still cheap.
        prepareNodeRequest(request);
        this.applyDefaults(request, response);
        this.shapes?.declare(request, response);
      }
    } catch {
      // Never let a header failure escape into the HTTP server; the middleware tries again.
    }
  };

  /**
   * The `writeHead` of a watched Fastify response (one function for all of them): makes sure the
   * headers go out, then hands over to the response's own `writeHead`.
   */
  private readonly watchedWriteHead = ((service: SecurityHeadersService) =>
    function writeHead(this: WatchedResponse, ...args: unknown[]): unknown {
      const request = this[WATCHED];
      if (request !== undefined) {
        this[WATCHED] = undefined;
        try {
          service.ensureWritten(request, this, args[1], args[2]);
        } catch {
          // Never let a header failure break the response.
        }
      }
      const original = this[WRITE_HEAD] ?? (Object.getPrototypeOf(this) as ServerResponse).writeHead;
      try {
        return Reflect.apply(original, this, args);
      } catch (error) {
        // Fastify answers a failed writeHead (an invalid header value) with a bare writeHead(500):
        // check that one too.
        if (request !== undefined && !this.headersSent) this[WATCHED] = request;
        throw error;
      }
    })(this);

  /** The responses written on the raw socket, serialized at install (HTTP/1 servers only). */
  private early: EarlyResponses | undefined;

  /** Answers a request Node.js's parser rejected, unless another `clientError` listener does. */
  private readonly clientErrorListener = (error: NodeJS.ErrnoException, socket: Duplex): void => {
    if (this.early === undefined || this.othersListen('clientError')) return;
    try {
      // Nothing is written on a reset or destroyed socket, or after a response has started: like
      // Node.js's own answer, which Palisade's replaces (https://nodejs.org/api/http.html#event-clienterror).
      if (error.code !== 'ECONNRESET' && !socket.destroyed && socket.writable && !responseStarted(socket)) {
        socket.end(this.early.raw(statusOfClientError(error), (socket as { encrypted?: boolean }).encrypted === true, () => this.createNonce()));
      }
    } catch {
      // Never let a header failure escape into the HTTP server; the socket is closed below.
    }
    // The answer is flushed to the kernel as it is written; destroying the socket stops the parser
    // from reading the rest of the rejected request. On Fastify it also keeps Fastify's default
    // handler, which runs after this one, from writing a second answer: defaultClientErrorHandler
    // (node_modules/fastify/fastify.js) returns at once when `err.code === 'ECONNRESET' || socket.destroyed`.
    socket.destroy();
  };

  /**
   * Answers an `Expect` other than `100-continue` with a 417 (Node.js emits no `request` event for
   * it, so the `request` listener never ran), unless another `checkExpectation` listener does.
   */
  private readonly expectationListener = (request: IncomingMessage, response: ServerResponse): void => {
    if (this.early === undefined || this.othersListen('checkExpectation')) return;
    try {
      this.applyDefaults(request, response);
    } catch {
      // The 417 goes out without them rather than not at all.
    }
    try {
      const body = this.early.body(417);
      response.writeHead(417, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), Connection: 'close' });
      response.end(body);
    } catch {
      // Listening to the event took Node.js's own bare 417 away: never leave the client waiting.
      response.destroy();
    }
  };

  constructor(
    @Inject(PALISADE_OPTIONS) private readonly options: NormalizedPalisadeOptions,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  /** Installs the server-level listener and turns off Express's `X-Powered-By`. */
  onModuleInit(): void {
    this.install();
  }

  /**
   * Installs the server-level listener (once) and turns off Express's `X-Powered-By`. Returns true
   * when every request of an Express app is covered by it, so no middleware is needed there
   * (Fastify's `inject()` bypasses the server, so Fastify keeps the middleware).
   */
  install(): boolean {
    if (this.server) return this.coversEverything;
    const adapter = this.adapterHost?.httpAdapter;
    if (!adapter) return false; // an application context without HTTP
    if (this.options.headers.removeXPoweredBy) {
      const instance = adapter.getInstance?.() as { disable?: (setting: string) => unknown } | undefined;
      if (adapter.getType?.() === 'express' && typeof instance?.disable === 'function') instance.disable('x-powered-by');
    }
    const server = adapter.getHttpServer?.() as Server | undefined;
    if (server && typeof server.prependListener === 'function') {
      const type = adapter.getType?.();
      if (type === 'express') {
        this.coversEverything = true;
        if (this.options.stableRequestShapes) this.shapes = new ExpressObjectShapes();
      } else if (type === 'fastify') this.coversEverything = this.fastify = this.hookFastify(adapter.getInstance?.());
      server.prependListener('request', this.listener);
      this.server = server;
      this.answerEarlyResponses(server);
    }
    return this.coversEverything;
  }

  /**
   * On an HTTP/1 server, answers the responses Node.js writes itself before any `request` event
   * (see the class). Palisade's `clientError` listener goes first, ahead of Fastify's default one
   * (which then finds the socket destroyed and returns); the header lines are serialized here,
   * once. HTTP/2 servers are left alone: their errors are not raw HTTP/1 sockets.
   */
  private answerEarlyResponses(server: Server): void {
    const candidate: unknown = server; // typed as http.Server, but an HTTP/2 server may stand in its place
    if (!(candidate instanceof HttpServer) && !(candidate instanceof HttpsServer)) return;
    this.early = new EarlyResponses(this.options.headers.base);
    server.prependListener('clientError', this.clientErrorListener);
    server.on('checkExpectation', this.expectationListener);
  }

  /**
   * True when a listener other than Palisade's (and Fastify's default `clientError` one) is on the
   * server's `event`: the application answers those requests itself, so Palisade writes nothing.
   */
  private othersListen(event: 'clientError' | 'checkExpectation'): boolean {
    for (const listener of this.server?.listeners(event) ?? []) {
      if (listener === this.clientErrorListener || listener === this.expectationListener) continue;
      if (event === 'clientError' && listener.name === FASTIFY_DEFAULT_CLIENT_ERROR) continue;
      return true;
    }
    return false;
  }

  /**
   * On Fastify the headers go into the reply's own headers, from a root `onRequest` hook (it covers
   * `inject()`, which bypasses the HTTP server, and every route, 404s included; registered before
   * Nest registers the routes). Fastify sends them with its one `writeHead(status, headers)`, which
   * Node.js serialises as it is — nothing is set on the raw response, whose per-header path costs
   * more than all of Palisade's own work per request.
   *
   * The raw response is watched (its `writeHead`, in the manner of the `on-headers` package), so the
   * headers still go out on the responses that bypass the reply: those Fastify writes before any
   * hook runs (a malformed URL, a route parameter over `maxParamLength`, 503 while closing) and
   * those a middleware or a hijacked reply ends on the raw response.
   */
  private hookFastify(instance: unknown): boolean {
    const fastify = instance as
      { addHook?: (name: string, hook: (request: { raw: IncomingMessage }, reply: FastifyReplyLike, done: () => void) => void) => unknown } | undefined;
    if (typeof fastify?.addHook !== 'function') return false;
    fastify.addHook('onRequest', (request, reply, done) => {
      try {
        this.watch(request.raw, reply.raw);
        // What ran before this hook (a middleware, an earlier hook, @fastify/helmet) keeps its values.
        const target = headerTargetOf(reply);
        this.applyDefaults(request.raw, hasAny(reply.getHeaders()) ? new KeepExisting(target, reply) : target);
      } finally {
        done();
      }
    });
    return true;
  }

  /** Watches the `writeHead` of a raw Fastify response (once). */
  private watch(request: IncomingMessage, response: WatchedResponse): void {
    // Watched by the server listener already (a middleware may have wrapped writeHead since).
    if (response[WRITE_HEAD] !== undefined) return;
    response[WATCHED] = request;
    response[WRITE_HEAD] = response.writeHead;
    response.writeHead = this.watchedWriteHead as ServerResponse['writeHead'];
  }

  /**
   * Called as a watched response writes its head: writes the headers on the raw response when the
   * request never reached the `onRequest` hook, or when they went into a reply whose headers are not
   * being sent (they carry the request id; a response that has none bypassed the reply).
   */
  private ensureWritten(request: IncomingMessage, response: ServerResponse, reasonOrHeaders: unknown, headers: unknown): void {
    // Values the application set on the raw response (a middleware, a hijacked reply) are kept.
    const state = stateOfNodeRequest(request);
    const set = appliedSet(state);
    if (set === undefined) return this.applyDefaults(request, new KeepExisting(response, response));
    if (carriesRequestId(reasonOrHeaders, headers) || response.hasHeader('X-Request-Id')) return;
    const target = new KeepExisting(response, response);
    target.setHeader('X-Request-Id', requestIdOf(request as unknown as HttpRequestLike, this.options.proxy, state));
    this.write(request, state, target, set, this.carriesCredentials(request));
  }

  private coversEverything = false;

  /** Removes the server-level listeners. */
  onApplicationShutdown(): void {
    this.server?.removeListener('request', this.listener);
    this.server?.removeListener('clientError', this.clientErrorListener);
    this.server?.removeListener('checkExpectation', this.expectationListener);
    this.server = undefined;
    this.early = undefined;
  }

  /**
   * Writes the headers of the request's scope (a `headers.paths` prefix, or the module's), once
   * per request; later calls return at once.
   */
  applyDefaults(request: IncomingMessage, response: HeaderTarget): void {
    const state = stateOfNodeRequest(request);
    if (state.headerSet !== undefined || response.headersSent === true) return;
    const set = this.scopeOf(request);
    state.headerSet = set;
    // The request id rides along, so even responses the framework sends itself carry it.
    response.setHeader('X-Request-Id', requestIdOf(request as unknown as HttpRequestLike, this.options.proxy, state));
    this.write(request, state, response, set, this.carriesCredentials(request));
  }

  /**
   * Replaces the request's headers with a route's (`@SecurityHeaders()`): sets the route's values
   * and removes the headers the route does not send.
   */
  applyRoute(request: IncomingMessage, response: HeaderTarget, set: HeaderSet): void {
    if (response.headersSent === true) return;
    const state = stateOfNodeRequest(request);
    state.headerSet = set;
    for (const name of set.absent) response.removeHeader(name);
    this.write(request, state, response, set, this.carriesCredentials(request));
  }

  /** Marks the response of an authenticated request as such (`Cache-Control`). */
  applyAuthenticated(request: IncomingMessage, response: HeaderTarget): void {
    const set = appliedSet(stateOfNodeRequest(request)) ?? this.options.headers.base;
    if (set.cacheControl !== undefined && response.headersSent !== true) response.setHeader('Cache-Control', set.cacheControl);
  }

  /** The request's CSP nonce, or `undefined` when its policy has none. */
  nonceOf(request: IncomingMessage): string | undefined {
    return cspNonceOf(request);
  }

  /** Removes `X-Powered-By` where a framework set it after the server listener ran. */
  removePoweredBy(response: HeaderTarget): void {
    if (this.options.headers.removeXPoweredBy) response.removeHeader('X-Powered-By');
  }

  /** True when the request came over HTTPS: TLS, or `X-Forwarded-Proto: https` from a trusted proxy. */
  protected isHttps(request: IncomingMessage): boolean {
    return this.options.proxy.protocol(request as unknown as HttpRequestLike) === 'https';
  }

  /** True when the request carries credentials (`Authorization`, `Cookie`, the API-key header). */
  protected carriesCredentials(request: IncomingMessage): boolean {
    for (const name of this.options.headers.credentialHeaders) if (request.headers[name] !== undefined) return true;
    return false;
  }

  /** A fresh nonce: 128 random bits, base64. Override to use another source of randomness. */
  protected createNonce(): string {
    return randomBytes(NONCE_BYTES).toString('base64');
  }

  private scopeOf(request: IncomingMessage): HeaderSet {
    const { paths, base } = this.options.headers;
    if (paths.length === 0) return base;
    const url = (request as { originalUrl?: string }).originalUrl ?? request.url ?? '/';
    const query = url.indexOf('?');
    const path = query < 0 ? url : url.slice(0, query);
    for (const { prefix, set } of paths) {
      if (path.startsWith(prefix) && (path.length === prefix.length || path.charCodeAt(prefix.length) === 47) /* '/' */) return set;
    }
    return base;
  }

  private write(request: IncomingMessage, state: RequestState, response: HeaderTarget, set: HeaderSet, credentialed: boolean): void {
    for (const [name, value] of set.fixed) response.setHeader(name, value);
    if (set.hsts !== undefined && this.isHttps(request)) response.setHeader('Strict-Transport-Security', set.hsts);
    if (set.usesNonce) {
      const nonce = (state.nonce ??= this.createNonce());
      const source = `'nonce-${nonce}'`;
      for (const policy of set.policies) response.setHeader(policy.header, policy.parts.join(source));
    }
    if (credentialed && set.cacheControl !== undefined) response.setHeader('Cache-Control', set.cacheControl);
  }
}
