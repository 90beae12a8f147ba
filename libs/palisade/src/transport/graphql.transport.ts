import type { IncomingMessage } from 'node:http';
import type { HttpException } from '@nestjs/common';
import { nodeRequestOf, type HttpRequestLike } from '../common/http-context.js';
import { callErrorOf } from './call-error.js';

/** The part of GraphQL's `info` argument Palisade reads (no import of `graphql`, an optional peer). */
interface ResolveInfoLike {
  readonly fieldName?: string;
  readonly parentType?: { readonly name?: string };
  readonly operation?: { readonly operation?: string; readonly name?: { readonly value?: string } };
}

/**
 * The request a GraphQL resolver call is judged on: the HTTP request under the GraphQL context
 * (`context.req`, as `@nestjs/apollo` and `@nestjs/mercurius` set it), seen with the call's own
 * label (`query Query.reports`), so that security events name the operation and the field rather
 * than `POST /graphql`. The principal is attached to the HTTP request, once for every field of it.
 * @internal
 */
class GraphQLCallRequest implements HttpRequestLike {
  [key: PropertyKey]: unknown;
  readonly headers: HttpRequestLike['headers'];
  readonly raw: IncomingMessage;
  /** The operation type (`query`, `mutation`), in the place of the HTTP method. */
  readonly method: string;
  /** `Parent.field (OperationName)`, in the place of the path. */
  readonly url: string;

  constructor(
    private readonly http: HttpRequestLike,
    info: ResolveInfoLike | undefined,
  ) {
    this.headers = http.headers;
    this.raw = nodeRequestOf(http);
    this.method = info?.operation?.operation ?? 'graphql';
    const name = info?.operation?.name?.value;
    this.url = `${info?.parentType?.name ?? 'graphql'}.${info?.fieldName ?? '?'}${name ? ` (${name})` : ''}`;
  }

  get user(): unknown {
    return this.http.user;
  }

  set user(principal: unknown) {
    this.http.user = principal;
  }
}

/** The request of a GraphQL call (`[root, args, context, info]`), when its context carries one. @internal */
export function graphQLRequestOf(args: readonly unknown[]): HttpRequestLike | undefined {
  const context = args[2] as { req?: unknown } | undefined;
  const http = context?.req as HttpRequestLike | undefined;
  if (typeof http !== 'object' || http === null || typeof http.headers !== 'object' || http.headers === null) return undefined;
  return new GraphQLCallRequest(http, args[3] as ResolveInfoLike | undefined);
}

/**
 * A refused GraphQL call: graphql-js keeps its `extensions` when it locates the error, so the client
 * gets `{ message, extensions: { code, retryAfter? } }` on Apollo and Mercurius alike. It carries no
 * stack: Apollo copies an error's stack into `extensions.stacktrace` outside production, and a
 * refusal is the caller's doing, not the server's.
 */
export class GraphQLCallRefusedError extends Error {
  /** `code` (`UNAUTHENTICATED`, `FORBIDDEN`, `TOO_MANY_REQUESTS`…) and `retryAfter` in seconds when known. */
  readonly extensions: Readonly<Record<string, unknown>>;

  constructor(message: string, extensions: Readonly<Record<string, unknown>>) {
    super(message);
    this.name = 'GraphQLCallRefusedError';
    this.extensions = extensions;
    Object.defineProperty(this, 'stack', { value: `${this.name}: ${message}`, configurable: true, writable: true });
  }
}

/** The GraphQL error of a refused call. @internal */
export function toGraphQLError(exception: HttpException): GraphQLCallRefusedError {
  const { message, code, retryAfter } = callErrorOf(exception);
  return new GraphQLCallRefusedError(message, retryAfter === undefined ? { code } : { code, retryAfter });
}
