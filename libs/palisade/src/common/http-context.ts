import { IncomingMessage, ServerResponse, type IncomingHttpHeaders } from 'node:http';
import type { ExecutionContext } from '@nestjs/common';

/**
 * The request as Palisade sees it on either adapter: an Express request is an `IncomingMessage`;
 * a Fastify request wraps one in `raw`. Both expose `headers` with lower-cased names.
 * @internal
 */
export interface HttpRequestLike {
  headers: IncomingHttpHeaders;
  raw?: IncomingMessage;
  rawHeaders?: string[];
  user?: unknown;
  [key: PropertyKey]: unknown;
}

/**
 * The HTTP request of a context. Reads the argument directly: `switchToHttp()` allocates three
 * closures on every call, and the guards ask several times per request.
 * @internal
 */
export function getRequest(context: ExecutionContext): HttpRequestLike {
  return context.getArgByIndex<HttpRequestLike>(0);
}

/** The HTTP response of a context (see {@link getRequest}). @internal */
export function getResponse(context: ExecutionContext): object {
  return context.getArgByIndex<object>(1);
}

/**
 * The Node.js request of an Express request (itself) or of a Fastify request (`raw`). `instanceof`
 * first: probing an Express request for a `raw` it does not have is a lookup along its prototype
 * chain that V8 cannot cache (see docs/decisions/0007-stable-request-shapes.md).
 * @internal
 */
export function nodeRequestOf(request: HttpRequestLike | IncomingMessage): IncomingMessage {
  if (request instanceof IncomingMessage) return request;
  return ((request as HttpRequestLike).raw ?? request) as IncomingMessage;
}

/** The Node.js response of an Express response (itself) or of a Fastify reply (`raw`). @internal */
export function nodeResponseOf(response: object): ServerResponse {
  if (response instanceof ServerResponse) return response;
  return ((response as { raw?: ServerResponse }).raw ?? response) as ServerResponse;
}

/**
 * How many times a header occurs in the request as received. Node keeps only the first
 * `Authorization` header and joins repeated custom headers with `, `, so repetition is only
 * visible in `rawHeaders`.
 * @internal
 */
export function countRawHeader(request: HttpRequestLike, lowerCaseName: string): number {
  const raw = nodeRequestOf(request).rawHeaders ?? request.rawHeaders;
  if (!raw) return request.headers[lowerCaseName] === undefined ? 0 : 1;
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    // A name sent in lower case (as many clients do) costs no lower-cased copy.
    if (name !== undefined && name.length === lowerCaseName.length && (name === lowerCaseName || name.toLowerCase() === lowerCaseName)) count++;
  }
  return count;
}

/** Where Palisade writes response headers: a Node.js response, or a Fastify reply's own headers. @internal */
export interface HeaderTarget {
  setHeader(name: string, value: string): unknown;
  removeHeader(name: string): unknown;
  readonly headersSent?: boolean;
}

/** A Fastify reply, as far as Palisade writes headers on it. @internal */
export interface FastifyReplyLike {
  readonly raw: ServerResponse;
  header(name: string, value: string): unknown;
  removeHeader(name: string): unknown;
  hasHeader(name: string): boolean;
  getHeaders(): object;
}

/**
 * A Fastify reply's own headers as a `HeaderTarget`. Fastify hands them to Node.js in its single
 * `writeHead(status, headers)`; as long as nothing was set on the raw response, Node.js serialises
 * that object as it is. One header set on the raw response instead puts every response on Node's
 * per-header path (each of Fastify's headers is then `setHeader`'d and merged), which costs more
 * than all of Palisade's own work per request.
 */
class FastifyReplyHeaders implements HeaderTarget {
  constructor(private readonly reply: FastifyReplyLike) {}

  setHeader(name: string, value: string): void {
    this.reply.header(name, value);
  }

  removeHeader(name: string): void {
    this.reply.removeHeader(name); // from the reply's headers and from the raw response
  }

  get headersSent(): boolean {
    return this.reply.raw.headersSent;
  }
}

/**
 * Where to write the headers of `response`: an Express response (a Node.js response) itself, a
 * Fastify reply's own headers for a Fastify reply.
 * @internal
 */
export function headerTargetOf(response: object): HeaderTarget {
  if (response instanceof ServerResponse) return response; // Express (no probe for `raw`, as in countRawHeader)
  const reply = response as Partial<FastifyReplyLike>;
  if (reply.raw !== undefined && typeof reply.header === 'function' && typeof reply.removeHeader === 'function') {
    return new FastifyReplyHeaders(reply as FastifyReplyLike);
  }
  return response as HeaderTarget;
}
