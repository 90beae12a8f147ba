import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { HttpRequestLike } from '../common/http-context.js';
import { PALISADE_OPTIONS } from '../common/palisade.constants.js';
import type { NormalizedPalisadeOptions } from '../common/palisade-options.normalizer.js';
import type { HeaderSet } from './headers-options.normalizer.js';
import { requestIdOf } from '../common/request-id.js';

/** The part of a Node.js `ServerResponse` Palisade writes headers with. @internal */
export interface HeaderTarget {
  setHeader(name: string, value: string): unknown;
  removeHeader(name: string): unknown;
  readonly headersSent?: boolean;
}

const APPLIED = Symbol('palisade.securityHeaders');
const NONCE = Symbol('palisade.cspNonce');

/** The raw request as Palisade marks it. @internal */
type MarkedRequest = IncomingMessage & { [APPLIED]?: HeaderSet; [NONCE]?: string; originalUrl?: string };

/** Bytes of randomness in a CSP nonce (128 bits, as CSP3 recommends). */
const NONCE_BYTES = 16;

/** The Node.js request under an Express request (itself) or a Fastify request (`raw`). @internal */
export function rawRequestOf(request: HttpRequestLike | IncomingMessage): IncomingMessage {
  return ((request as HttpRequestLike).raw ?? request) as IncomingMessage;
}

/** The CSP nonce of a raw request, or `undefined` when its policy has none. @internal */
export function cspNonceOf(request: IncomingMessage): string | undefined {
  return (request as MarkedRequest)[NONCE];
}

/** The Node.js response under an Express response (itself) or a Fastify reply (`raw`). @internal */
export function rawResponseOf(response: object): HeaderTarget {
  return ((response as { raw?: HeaderTarget }).raw ?? response) as HeaderTarget;
}

/**
 * Writes the precomputed security headers. Runs first for every request the HTTP server receives
 * (a `request` listener ahead of Express's or Fastify's), so that responses the framework sends
 * before any Nest code runs — a malformed URL, an unparseable or oversized body — carry them too;
 * `SecurityHeadersMiddleware` covers requests that bypass the server (Fastify's `inject()`), and
 * `SecurityHeadersInterceptor` applies `@SecurityHeaders()` and marks authenticated responses.
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
  private readonly listener = (request: IncomingMessage, response: HeaderTarget): void => {
    try {
      this.applyDefaults(request, response);
    } catch {
      // Never let a header failure escape into the HTTP server; the middleware tries again.
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
      server.prependListener('request', this.listener);
      this.server = server;
      const type = adapter.getType?.();
      if (type === 'express') this.coversEverything = true;
      else if (type === 'fastify') this.coversEverything = this.hookFastify(adapter.getInstance?.());
    }
    return this.coversEverything;
  }

  /**
   * Fastify's `inject()` bypasses the HTTP server; a root `onRequest` hook (cheaper than a Nest
   * middleware, which Fastify runs through middie) covers it and every route, 404s included.
   * Registered before Nest registers the routes.
   */
  private hookFastify(instance: unknown): boolean {
    const fastify = instance as
      { addHook?: (name: string, hook: (request: { raw: IncomingMessage }, reply: { raw: HeaderTarget }, done: () => void) => void) => unknown } | undefined;
    if (typeof fastify?.addHook !== 'function') return false;
    fastify.addHook('onRequest', (request, reply, done) => {
      try {
        this.applyDefaults(request.raw, reply.raw);
      } finally {
        done();
      }
    });
    return true;
  }

  private coversEverything = false;

  /** Removes the server-level listener. */
  onApplicationShutdown(): void {
    this.server?.removeListener('request', this.listener);
    this.server = undefined;
  }

  /**
   * Writes the headers of the request's scope (a `headers.paths` prefix, or the module's), once
   * per request; later calls return at once.
   */
  applyDefaults(request: IncomingMessage, response: HeaderTarget): void {
    const marked = request as MarkedRequest;
    if (marked[APPLIED] !== undefined || response.headersSent === true) return;
    const set = this.scopeOf(marked);
    marked[APPLIED] = set;
    // The request id rides along, so even responses the framework sends itself carry it.
    response.setHeader('X-Request-Id', requestIdOf(marked as unknown as HttpRequestLike, this.options.proxy));
    this.write(marked, response, set, this.carriesCredentials(marked));
  }

  /**
   * Replaces the request's headers with a route's (`@SecurityHeaders()`): sets the route's values
   * and removes the headers the route does not send.
   */
  applyRoute(request: IncomingMessage, response: HeaderTarget, set: HeaderSet): void {
    const marked = request as MarkedRequest;
    if (response.headersSent === true) return;
    marked[APPLIED] = set;
    for (const name of set.absent) response.removeHeader(name);
    this.write(marked, response, set, this.carriesCredentials(marked));
  }

  /** Marks the response of an authenticated request as such (`Cache-Control`). */
  applyAuthenticated(request: IncomingMessage, response: HeaderTarget): void {
    const set = (request as MarkedRequest)[APPLIED] ?? this.options.headers.base;
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

  private scopeOf(request: MarkedRequest): HeaderSet {
    const { paths, base } = this.options.headers;
    if (paths.length === 0) return base;
    const url = request.originalUrl ?? request.url ?? '/';
    const query = url.indexOf('?');
    const path = query < 0 ? url : url.slice(0, query);
    for (const { prefix, set } of paths) {
      if (path.startsWith(prefix) && (path.length === prefix.length || path.charCodeAt(prefix.length) === 47) /* '/' */) return set;
    }
    return base;
  }

  private write(request: MarkedRequest, response: HeaderTarget, set: HeaderSet, credentialed: boolean): void {
    for (const [name, value] of set.fixed) response.setHeader(name, value);
    if (set.hsts !== undefined && this.isHttps(request)) response.setHeader('Strict-Transport-Security', set.hsts);
    if (set.usesNonce) {
      const nonce = (request[NONCE] ??= this.createNonce());
      const source = `'nonce-${nonce}'`;
      for (const policy of set.policies) response.setHeader(policy.header, policy.parts.join(source));
    }
    if (credentialed && set.cacheControl !== undefined) response.setHeader('Cache-Control', set.cacheControl);
  }
}
