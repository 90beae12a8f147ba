import { randomUUID } from 'node:crypto';
import type { HttpRequestLike } from './http-context.js';
import { requestStateOf, type RequestState } from './request-state.js';
import type { TrustedProxy } from './trusted-proxy.js';

const ACCEPTABLE = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/**
 * The request's id: the `X-Request-Id` a trusted proxy set (if well-formed), else a new UUID.
 * Computed once per request. A client that is not a trusted proxy cannot choose the id, so it
 * cannot forge or collide with another request's events.
 * @internal
 */
export function requestIdOf(request: HttpRequestLike, proxy: TrustedProxy, state: RequestState = requestStateOf(request)): string {
  // Kept in the request's state (on the Node request, which Express requests are and Fastify
  // requests wrap), so the middleware (which sees the raw request on Fastify) and the guards agree.
  const cached = state.requestId;
  if (cached !== undefined) return cached;
  const header = request.headers['x-request-id'];
  const id = typeof header === 'string' && ACCEPTABLE.test(header) && proxy.peerTrusted(request) ? header : randomUUID();
  state.requestId = id;
  return id;
}
