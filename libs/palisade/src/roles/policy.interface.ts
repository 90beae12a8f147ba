import type { ExecutionContext, Type } from '@nestjs/common';
import type { Principal } from '../auth/principal.interface.js';
import type { AuthRequest } from '../auth/auth-options.interface.js';

/** What a policy sees: the authenticated caller, the request and Nest's execution context. */
export interface PolicyContext {
  /** The authenticated caller. */
  readonly principal: Principal;
  /**
   * The HTTP request (Express or Fastify), with `params`, `query` and `body`. Under a GraphQL
   * resolver: a view of the HTTP request (its headers and principal); on a WebSocket: a view of the
   * handshake. Read resolver arguments or message data from `execution` (`execution.getArgs()`).
   */
  readonly request: AuthRequest & { params?: Record<string, string>; query?: unknown; body?: unknown };
  /** Nest's execution context of the call (handler, controller class). */
  readonly execution: ExecutionContext;
}

/**
 * A policy class, resolved through dependency injection (it may inject repositories or services).
 * `can` returns `true` to allow; `false` is a 403; a thrown `HttpException` keeps its status.
 *
 * @example
 * \@Injectable()
 * class OwnsOrder implements PolicyHandler {
 *   constructor(private readonly orders: OrdersService) {}
 *   async can({ principal, request }: PolicyContext) {
 *     return (await this.orders.find(request.params?.id))?.ownerId === principal.id;
 *   }
 * }
 */
export interface PolicyHandler {
  can(context: PolicyContext): boolean | Promise<boolean>;
}

/** A policy function: `true` allows, `false` is a 403. */
export type PolicyFunction = (context: PolicyContext) => boolean | Promise<boolean>;

/** What `@Policy(...)` accepts: a policy class (resolved through DI) or a function. */
export type Policy = Type<PolicyHandler> | PolicyFunction;
