import { HttpException, type ExecutionContext } from '@nestjs/common';
import { getRequest, getResponse, type HttpRequestLike } from '../common/http-context.js';
import { graphQLRequestOf, toGraphQLError } from './graphql.transport.js';
import { socketRequestOf, toSocketError } from './websocket.transport.js';

/**
 * The transports whose calls Palisade judges: HTTP routes, GraphQL resolvers (the HTTP request
 * under the GraphQL context) and WebSocket message handlers (the handshake's credentials, checked
 * again on every message). Any other context type (microservice handlers, a transport added later)
 * is refused unless the handler is `@Public()`.
 */
export type Transport = 'http' | 'graphql' | 'ws';

/** The transport of a call, or `undefined` for a context Palisade cannot judge. @internal */
export function transportOf(context: ExecutionContext): Transport | undefined {
  const type = context.getType<string>();
  return type === 'http' || type === 'graphql' || type === 'ws' ? type : undefined;
}

/** The request each non-HTTP call is judged on, created once per call (shared by the guards and `@CurrentUser()`). */
const views = new WeakMap<unknown[], HttpRequestLike | null>();

/**
 * The request Palisade judges a call on: the HTTP request itself, a view of the HTTP request under
 * a GraphQL resolver, or a per-message view of a WebSocket's handshake. `undefined` when the call
 * carries none (an unsupported context, a GraphQL subscription over a socket).
 * @internal
 */
export function requestOf(context: ExecutionContext): HttpRequestLike | undefined {
  const type = context.getType<string>();
  if (type === 'http') return getRequest(context);
  const args = context.getArgs();
  let view = views.get(args);
  if (view === undefined) {
    view = (type === 'graphql' ? graphQLRequestOf(args) : type === 'ws' ? socketRequestOf(args) : undefined) ?? null;
    views.set(args, view);
    if (type === 'ws' && view !== null) rememberSocketCall(args, view);
  }
  return view ?? undefined;
}

/**
 * Nest hands a parameter decorator a copy of a WebSocket call's arguments (`[client, data, …,
 * pattern]`), not the array the guards judged: the views of a socket's recent calls, found again by
 * their elements. Bounded per socket; released with the socket.
 */
const socketCalls = new WeakMap<object, { readonly args: readonly unknown[]; readonly view: HttpRequestLike }[]>();
/** Calls of one socket whose views a handler's parameters can still find (in flight at once). */
const RECENT_SOCKET_CALLS = 16;

function rememberSocketCall(args: unknown[], view: HttpRequestLike): void {
  const client = args[0];
  if (typeof client !== 'object' || client === null) return;
  let recent = socketCalls.get(client);
  if (!recent) socketCalls.set(client, (recent = []));
  recent.push({ args, view });
  if (recent.length > RECENT_SOCKET_CALLS) recent.shift();
}

function sameElements(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

/**
 * The request a handler's parameter (`@CurrentUser()`) reads: the one the guards judged the call on.
 * For a WebSocket message, the view of the socket's most recent call with the same elements (one
 * that authenticated first: identical messages in flight share the socket's handshake credentials).
 * Never creates a view the guards would then share.
 * @internal
 */
export function judgedRequestOf(context: ExecutionContext): HttpRequestLike | undefined {
  if (context.getType<string>() !== 'ws') return requestOf(context);
  const args = context.getArgs();
  const known = views.get(args);
  if (known !== undefined) return known ?? undefined;
  const client = args[0];
  const recent = typeof client === 'object' && client !== null ? socketCalls.get(client) : undefined;
  let match: HttpRequestLike | undefined;
  for (let i = (recent?.length ?? 0) - 1; i >= 0; i--) {
    const call = recent?.[i];
    if (!call || !sameElements(call.args, args)) continue;
    if (call.view.user !== undefined) return call.view;
    match ??= call.view;
  }
  return match ?? requestOf(context);
}

/** The HTTP response of a call whose headers Palisade may write (HTTP routes only). @internal */
export function responseOf(context: ExecutionContext): object | undefined {
  return context.getType<string>() === 'http' ? getResponse(context) : undefined;
}

/**
 * Turns Palisade's HTTP exceptions into the error each transport speaks: a GraphQL error with
 * `extensions.code` (`UNAUTHENTICATED`, `FORBIDDEN`, `TOO_MANY_REQUESTS`…), or a `WsException`
 * the client receives as an `exception` event. Other errors pass unchanged.
 * @internal
 */
export function translateError(transport: Transport, error: unknown): unknown {
  if (transport === 'http' || !(error instanceof HttpException)) return error;
  return transport === 'graphql' ? toGraphQLError(error) : toSocketError(error);
}

/**
 * Runs a guard's check for a non-HTTP call and translates what it throws (synchronously or not).
 * @internal
 */
export function judgeCall(transport: Transport, check: () => boolean | Promise<boolean>): boolean | Promise<boolean> {
  let result: boolean | Promise<boolean>;
  try {
    result = check();
  } catch (error) {
    throw translateError(transport, error);
  }
  return result instanceof Promise
    ? result.catch((error: unknown) => {
        throw translateError(transport, error);
      })
    : result;
}
