import type { IncomingMessage } from 'node:http';
import { countRawHeader, nodeRequestOf, type HttpRequestLike } from './http-context.js';

const STATE = Symbol('palisade.request');

/**
 * What Palisade keeps about one request: one object of one shape, held by the Node.js request
 * under a single symbol.
 *
 * Why not one property per value on the request: Express re-parents every request
 * (`Object.setPrototypeOf`) before any Nest code runs, and from then on V8 gives that request a
 * hidden class of its own, so every property name read or written on it is a lookup V8 cannot
 * cache across requests (about 0.3–0.7 µs each on the benchmark machine). Reading this object once
 * per guard replaces several such lookups; its own fields share one hidden class for every request.
 * With `stableRequestShapes: true` on Express, it is created before Express re-parents the request.
 *
 * Each field belongs to the capability that writes it; the others only pass it along.
 * @internal
 */
export class RequestState {
  /** The request id (`requestIdOf`). */
  requestId: string | undefined = undefined;
  /** The security-header set applied to the response (the headers capability's `HeaderSet`). */
  headerSet: object | undefined = undefined;
  /** The CSP nonce of the response, when its policy uses one. */
  nonce: string | undefined = undefined;
  /** The credentials the request presented, parsed once (the auth capability's `PresentedCredentials`). */
  credentials: object | undefined = undefined;
  /** The principal Palisade authenticated and attached to `request.user` (the auth capability's `Principal`). */
  principal: object | undefined = undefined;
  /** True once the request was authenticated as anonymous (an optional route, no credentials). */
  anonymous = false;
  /** How many `Authorization` headers the request carried as received; -1 until counted. */
  authorizationCount = -1;
}

/** The state of a Node.js request, created on first use. @internal */
export function stateOfNodeRequest(request: IncomingMessage): RequestState {
  const holder = request as IncomingMessage & { [STATE]?: RequestState };
  return (holder[STATE] ??= new RequestState());
}

/** The state of an Express or Fastify request (kept on the Node.js request, which both share). @internal */
export function requestStateOf(request: HttpRequestLike | IncomingMessage): RequestState {
  return stateOfNodeRequest(nodeRequestOf(request));
}

/** How many `Authorization` headers the request carried as received, counted once per request. @internal */
export function authorizationCountOf(request: HttpRequestLike, state: RequestState = requestStateOf(request)): number {
  if (state.authorizationCount < 0) {
    state.authorizationCount = request.headers.authorization === undefined ? 0 : countRawHeader(request, 'authorization');
  }
  return state.authorizationCount;
}

/**
 * Prepares an Express request before Express re-parents it (see {@link RequestState}): creates its
 * state, counts its `Authorization` headers and declares `request.user`, so that later reads and the
 * principal's attachment are plain field accesses (`req.user = …` alone cost about 2 µs when added
 * after the re-parenting). Part of the `stableRequestShapes: true` opt-in only (its server `request`
 * listener calls it): by default Palisade declares nothing on a request, and `'user' in req` stays
 * false until a guard authenticates one.
 * @internal
 */
export function prepareNodeRequest(request: IncomingMessage): RequestState {
  const state = stateOfNodeRequest(request);
  authorizationCountOf(request as unknown as HttpRequestLike, state);
  (request as { user?: unknown }).user ??= undefined;
  return state;
}
