import { randomUUID } from 'node:crypto';
import { nodeRequestOf, type HttpRequestLike } from './http-context.js';
import type { TrustedProxy } from './trusted-proxy.js';

const REQUEST_ID = Symbol('palisade.requestId');
const ACCEPTABLE = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/**
 * The request's id: the `X-Request-Id` a trusted proxy set (if well-formed), else a new UUID.
 * Computed once per request. A client that is not a trusted proxy cannot choose the id, so it
 * cannot forge or collide with another request's events.
 * @internal
 */
export function requestIdOf(request: HttpRequestLike, proxy: TrustedProxy): string {
  // Cache on the Node request, which Express requests are and Fastify requests wrap, so the
  // middleware (which sees the raw request on Fastify) and the guards agree.
  const holder = nodeRequestOf(request) as unknown as Record<symbol, unknown>;
  const cached = holder[REQUEST_ID];
  if (typeof cached === 'string') return cached;
  const header = request.headers['x-request-id'];
  const id = typeof header === 'string' && ACCEPTABLE.test(header) && proxy.peerTrusted(request) ? header : randomUUID();
  holder[REQUEST_ID] = id;
  return id;
}
