import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
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
 * How many times a header occurs in the request as received. Node keeps only the first
 * `Authorization` header and joins repeated custom headers with `, `, so repetition is only
 * visible in `rawHeaders`.
 * @internal
 */
export function countRawHeader(request: HttpRequestLike, lowerCaseName: string): number {
  const raw = request.raw?.rawHeaders ?? request.rawHeaders;
  if (!raw) return request.headers[lowerCaseName] === undefined ? 0 : 1;
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    // A name sent in lower case (as many clients do) costs no lower-cased copy.
    if (name !== undefined && name.length === lowerCaseName.length && (name === lowerCaseName || name.toLowerCase() === lowerCaseName)) count++;
  }
  return count;
}

/** The part of a Node.js response Palisade sets headers on. @internal */
export interface RawResponseLike {
  setHeader(name: string, value: string): unknown;
}

/**
 * The Node.js response under an Express response (itself) or a Fastify reply (`raw`). Headers set
 * there are sent by both adapters (Fastify merges them into its `writeHead`), without the adapters'
 * own per-call work.
 * @internal
 */
export function rawResponse(response: object): RawResponseLike {
  return ((response as { raw?: RawResponseLike }).raw ?? response) as RawResponseLike;
}
