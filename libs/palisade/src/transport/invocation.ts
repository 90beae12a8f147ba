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
  }
  return view ?? undefined;
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
