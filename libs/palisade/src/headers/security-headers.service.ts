import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Inject, Injectable, InternalServerErrorException, Optional, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { HeaderTarget, HttpRequestLike } from '../common/http-context.js';
import { errorBody } from '../common/error-body.js';
import { TrustedProxy } from '../common/trusted-proxy.js';
import { CREDENTIAL_HEADERS, HEADERS_OPTIONS } from './headers.constants.js';
import type { HeaderSet, NormalizedHeadersOptions } from './headers-options.normalizer.js';
import { requestIdOf } from '../common/request-id.js';
import { prepareNodeRequest, stateOfNodeRequest, type RequestState } from '../common/request-state.js';
import { ExpressObjectShapes, STABLE_REQUEST_SHAPES } from '../common/request-shapes.js';
import { SecurityEvents } from '../events/security-events.service.js';

export type { HeaderTarget } from '../common/http-context.js';

/** Bytes of randomness in a CSP nonce (128 bits, as CSP3 recommends). */
const NONCE_BYTES = 16;

/** The message of the 500 that replaces a response whose security headers could not be written. */
const WRITE_FAILED_MESSAGE = 'The security headers of the response could not be written';

/** The CSP nonce of a raw request, or `undefined` when its policy has none. @internal */
export function cspNonceOf(request: IncomingMessage): string | undefined {
  return stateOfNodeRequest(request).nonce;
}

/** The header set applied to the request's response, if any yet. */
function appliedSet(state: RequestState): HeaderSet | undefined {
  return state.headerSet as HeaderSet | undefined;
}

/**
 * A security header that Node.js or the framework refused to write (an invalid value, a response
 * already started). Carries the header's name, never its value.
 */
export class HeaderWriteError extends Error {
  constructor(
    /** The header that could not be written. */
    readonly header: string,
    cause: unknown,
  ) {
    super(`${header} could not be written: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'HeaderWriteError';
  }
}

/** The HTTP adapter, as far as Palisade installs its headers through it. */
interface AdapterLike {
  getType?(): string;
  getInstance?(): unknown;
  getHttpServer?(): unknown;
  use?(handler: (request: IncomingMessage, response: ServerResponse, next: (error?: unknown) => void) => void): unknown;
}

/** A Fastify request and reply, as far as the `onRequest` hook uses them. */
interface FastifyHookArgs {
  readonly request: { readonly raw: IncomingMessage };
  readonly reply: { readonly raw: ServerResponse };
}

/**
 * Writes the precomputed security headers on every response, through the framework's own request
 * hooks, installed when Nest attaches the HTTP adapter (`HttpAdapterHost.init$`, before `app.init()`
 * registers CORS, the body parsers, Nest middleware and the routes):
 *
 * - Express: a middleware added with the adapter's `use()`, ahead of everything the application
 *   and Nest add — the position `app.useSecurityHeaders()` takes. Every response carries the
 *   headers: routes, 404s, guard and handler errors, body-parser errors, responses a middleware ends.
 * - Fastify: a root `onRequest` hook, writing on the Node.js response (`reply.raw`), as Nest's own
 *   security hook does: routes, 404s, guard and handler errors, body-parser errors, hijacked replies
 *   and responses a middleware ends. `reply.header()`, `@Header()` and filters still override them.
 *   A root `onSend` hook writes them on the replies of requests an earlier hook rejected (Nest's
 *   `enableCsrfProtection()` runs its hook first).
 *   Fastify's framework errors (a request target that is not valid URL encoding, a parameter over
 *   `maxParamLength`) are answered before any hook runs: only `app.useSecurityHeaders()` reaches them.
 * - Any other adapter: `SecurityHeadersMiddleware`, registered for every path by the module.
 *
 * Nothing of Node.js or the framework is replaced or wrapped. A header that cannot be written is
 * not skipped: a `headers.write-failed` event is emitted and the request is answered with a 500.
 *
 * Per request it only reads precomputed values: the scope's fixed headers, HSTS when the request
 * came over HTTPS (TLS, or a trusted proxy's `X-Forwarded-Proto`), the CSP with a fresh nonce when
 * the policy uses `CSP_NONCE`, and `Cache-Control` when the request carries credentials.
 *
 * `SecurityHeadersInterceptor` applies `@SecurityHeaders()` and marks authenticated responses.
 * Extend it through its protected methods and provide the subclass in place of this class.
 */
@Injectable()
export class SecurityHeadersService implements OnModuleInit {
  private adapter: AdapterLike | undefined;
  /** True once the headers are written by a framework hook (Express or Fastify): no Nest middleware is needed. */
  private hooked = false;

  /** The Express middleware: the headers, then the rest of the chain (or the error layer, on a failure). */
  private readonly expressMiddleware = (request: IncomingMessage, response: ServerResponse, next: (error?: unknown) => void): void => {
    next(this.applyOrReject(request, response));
  };

  /** The Fastify `onRequest` hook: as the Express middleware, on the Node.js response. */
  private readonly fastifyHook = (request: FastifyHookArgs['request'], reply: FastifyHookArgs['reply'], done: (error?: Error) => void): void => {
    done(this.applyOrReject(request.raw, reply.raw));
  };

  /**
   * The Fastify `onSend` hook: writes the headers of a reply whose request never reached the
   * `onRequest` hook, because an earlier hook rejected it (Nest's `enableCsrfProtection()`, a rate
   * limiter's hook). Returns at once for every other request (the headers are marked as written).
   */
  private readonly fastifyOnSend = (
    request: FastifyHookArgs['request'],
    reply: FastifyHookArgs['reply'],
    payload: unknown,
    done: (error: Error | null, payload?: unknown) => void,
  ): void => {
    const error = this.applyOrReject(request.raw, reply.raw);
    if (error === undefined) done(null, payload);
    else done(error);
  };

  constructor(
    @Inject(HEADERS_OPTIONS) private readonly headers: NormalizedHeadersOptions,
    @Inject(CREDENTIAL_HEADERS) private readonly credentialHeaders: readonly string[],
    private readonly proxy: TrustedProxy,
    @Inject(STABLE_REQUEST_SHAPES) private readonly stableRequestShapes: boolean,
    @Optional() private readonly adapterHost?: HttpAdapterHost,
    @Optional() private readonly events?: SecurityEvents,
  ) {
    // `init$` replays once the adapter is attached: at once with NestFactory.create() (which attaches
    // it before creating providers), at createNestApplication() with a testing module. Either way
    // before the application can call app.init(), so the hook runs ahead of everything else.
    adapterHost?.init$?.subscribe(() => this.install(adapterHost.httpAdapter as AdapterLike | undefined));
  }

  /**
   * With `stableRequestShapes: true` on Express, declares the learned fields on each request before
   * Express re-parents it (see `ExpressObjectShapes`): a `request` listener on the HTTP server, the
   * one place that runs before Express. Off by default.
   */
  onModuleInit(): void {
    if (!this.stableRequestShapes || this.adapter?.getType?.() !== 'express') return;
    const server = this.adapter.getHttpServer?.() as Server | undefined;
    if (typeof server?.prependListener !== 'function') return;
    const shapes = new ExpressObjectShapes();
    server.prependListener('request', (request: IncomingMessage, response: ServerResponse) => {
      prepareNodeRequest(request);
      shapes.declare(request, response);
    });
  }

  /**
   * Installs the headers through the adapter's request hook (once). Returns true when a framework
   * hook writes them, so the module needs no Nest middleware for them.
   */
  install(adapter: AdapterLike | undefined = this.adapterHost?.httpAdapter as AdapterLike | undefined): boolean {
    if (this.adapter !== undefined || adapter === undefined || adapter === null) return this.hooked;
    this.adapter = adapter;
    const type = adapter.getType?.();
    const instance = adapter.getInstance?.() as
      | {
          disable?: (setting: string) => unknown;
          addHook?: (name: 'onRequest' | 'onSend', hook: SecurityHeadersService['fastifyHook'] | SecurityHeadersService['fastifyOnSend']) => unknown;
        }
      | undefined;
    if (type === 'express' && typeof adapter.use === 'function') {
      // Express's documented setting; the header is never added, so nothing has to remove it.
      if (this.headers.removeXPoweredBy && typeof instance?.disable === 'function') instance.disable('x-powered-by');
      adapter.use(this.expressMiddleware);
      this.hooked = true;
    } else if (type === 'fastify' && typeof instance?.addHook === 'function') {
      instance.addHook('onRequest', this.fastifyHook);
      instance.addHook('onSend', this.fastifyOnSend);
      this.hooked = true;
    }
    return this.hooked;
  }

  /** True when the headers are written by a framework hook (see {@link install}). */
  get installed(): boolean {
    return this.hooked;
  }

  /**
   * Writes the request's headers; on a failure, reports it and returns the error to hand to the
   * framework's error layer (a 500 with Palisade's error body) instead of sending the response
   * without them.
   */
  applyOrReject(request: IncomingMessage, response: HeaderTarget): Error | undefined {
    try {
      this.applyDefaults(request, response);
      return undefined;
    } catch (error) {
      this.reportWriteFailure(request, error);
      return new InternalServerErrorException(errorBody(500, WRITE_FAILED_MESSAGE));
    }
  }

  /** Emits `headers.write-failed` for a failed write (a `HeaderWriteError`, or any other failure). */
  reportWriteFailure(request: IncomingMessage | undefined, error: unknown): void {
    const header = error instanceof HeaderWriteError ? error.header : 'unknown';
    const reason = error instanceof HeaderWriteError ? error.message : error instanceof Error ? error.message : String(error);
    this.events?.emit({ type: 'headers.write-failed', header, reason }, request as unknown as HttpRequestLike | undefined);
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
    setHeader(response, 'X-Request-Id', requestIdOf(request as unknown as HttpRequestLike, this.proxy, state));
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
    for (const name of set.absent) removeHeader(response, name);
    this.write(request, state, response, set, this.carriesCredentials(request));
  }

  /** Marks the response of an authenticated request as such (`Cache-Control`). */
  applyAuthenticated(request: IncomingMessage, response: HeaderTarget): void {
    const set = appliedSet(stateOfNodeRequest(request)) ?? this.headers.base;
    if (set.cacheControl !== undefined && response.headersSent !== true) setHeader(response, 'Cache-Control', set.cacheControl);
  }

  /** The request's CSP nonce, or `undefined` when its policy has none. */
  nonceOf(request: IncomingMessage): string | undefined {
    return cspNonceOf(request);
  }

  /** Removes `X-Powered-By` where a framework set it (the middleware of adapters without a hook). */
  removePoweredBy(response: HeaderTarget): void {
    if (this.headers.removeXPoweredBy) response.removeHeader('X-Powered-By');
  }

  /** True when the request came over HTTPS: TLS, or `X-Forwarded-Proto: https` from a trusted proxy. */
  protected isHttps(request: IncomingMessage): boolean {
    return this.proxy.protocol(request as unknown as HttpRequestLike) === 'https';
  }

  /** True when the request carries credentials (`Authorization`, `Cookie`, the API-key header). */
  protected carriesCredentials(request: IncomingMessage): boolean {
    for (const name of this.credentialHeaders) if (request.headers[name] !== undefined) return true;
    return false;
  }

  /** A fresh nonce: 128 random bits, base64. Override to use another source of randomness. */
  protected createNonce(): string {
    return randomBytes(NONCE_BYTES).toString('base64');
  }

  private scopeOf(request: IncomingMessage): HeaderSet {
    const { paths, base } = this.headers;
    if (paths.length === 0) return base;
    const url = (request as { originalUrl?: string }).originalUrl ?? request.url ?? '/';
    const query = url.indexOf('?');
    const path = query < 0 ? url : url.slice(0, query);
    for (const { prefix, set } of paths) {
      if (path.startsWith(prefix) && (path.length === prefix.length || path.charCodeAt(prefix.length) === 47) /* '/' */) return set;
    }
    return base;
  }

  /** Writes a scope's headers; a header Node.js or the framework refuses throws a `HeaderWriteError` naming it. */
  private write(request: IncomingMessage, state: RequestState, response: HeaderTarget, set: HeaderSet, credentialed: boolean): void {
    for (const [name, value] of set.fixed) setHeader(response, name, value);
    if (set.hsts !== undefined && this.isHttps(request)) setHeader(response, 'Strict-Transport-Security', set.hsts);
    if (set.usesNonce) {
      const nonce = (state.nonce ??= this.createNonce());
      const source = `'nonce-${nonce}'`;
      for (const policy of set.policies) setHeader(response, policy.header, policy.parts.join(source));
    }
    if (credentialed && set.cacheControl !== undefined) setHeader(response, 'Cache-Control', set.cacheControl);
  }
}

/** Sets one header, naming it in the error when it cannot be written. */
function setHeader(response: HeaderTarget, name: string, value: string): void {
  try {
    response.setHeader(name, value);
  } catch (error) {
    throw new HeaderWriteError(name, error);
  }
}

/** Removes one header, naming it in the error when it cannot be removed. */
function removeHeader(response: HeaderTarget, name: string): void {
  try {
    response.removeHeader(name);
  } catch (error) {
    throw new HeaderWriteError(name, error);
  }
}
