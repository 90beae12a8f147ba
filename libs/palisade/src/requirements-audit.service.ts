import { GUARDS_METADATA } from '@nestjs/common/constants.js';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { ApplicationConfig, DiscoveryService, MetadataScanner, ModuleRef, Reflector } from '@nestjs/core';
import { AuthMetadata } from './auth/auth.decorator.js';
import { AuthGuard } from './auth/auth.guard.js';
import { AuthRequirementsResolver } from './auth/auth-requirements.resolver.js';
import { THROTTLE_OPTIONS } from './throttle/throttle.constants.js';
import type { NormalizedThrottleOptions } from './throttle/throttle-options.normalizer.js';
import { allHandlers, HANDLER_KIND_LABEL, routeName, type Handler, type HandlerEntry } from './common/routes.js';
import { AuthorizationRequirementsResolver } from './roles/authorization-requirements.resolver.js';
import { RolesGuard } from './roles/roles.guard.js';
import { declaresThrottle } from './throttle/throttle-plan.resolver.js';
import { ThrottlerGuard } from './throttle/throttler.guard.js';
import { loadWebSocketSupport, readsHandshakes } from './transport/websocket.transport.js';
import { loadRpcSupport } from './transport/rpc.transport.js';

/** Which of Palisade's guards run on a handler (bit flags). */
const AUTH = 1;
const ROLES = 2;
const THROTTLE = 4;

function flagOf(guard: unknown): number {
  const type = (typeof guard === 'function' ? guard : (guard as { constructor?: unknown } | null | undefined)?.constructor) as
    { prototype?: unknown } | undefined;
  if (typeof type !== 'function') return 0;
  const is = (base: abstract new (...args: never[]) => unknown): boolean => type === base || type.prototype instanceof base;
  return is(AuthGuard) ? AUTH : is(RolesGuard) ? ROLES : is(ThrottlerGuard) ? THROTTLE : 0;
}

function flagsOf(guards: readonly unknown[] | undefined): number {
  let flags = 0;
  for (const guard of guards ?? []) flags |= flagOf(guard);
  return flags;
}

/** Which of Palisade's guards run on a handler. @internal */
export interface EnforcingGuards {
  readonly auth: boolean;
  readonly roles: boolean;
  readonly throttle: boolean;
}

// The GraphQL module's options token (GRAPHQL_MODULE_OPTIONS of @nestjs/graphql, an optional peer).
const GRAPHQL_MODULE_OPTIONS = 'GqlModuleOptions';

/**
 * Makes "a declared requirement is never ignored" a property checked at startup, on every transport.
 * For each handler (HTTP route, GraphQL resolver, WebSocket message handler, microservice handler)
 * it works out which of Palisade's guards will run (global, or `@UseGuards` on the handler or its
 * class) and stops the application when:
 * - a handler declares `@Auth`, `@Roles`/`@Scopes`/`@Policy` or `@Throttle` that no Palisade guard
 *   would enforce (or `@Throttle` while throttling is not configured);
 * - a microservice handler declares any requirement (Palisade cannot judge its calls);
 * - a GraphQL subscription would need a caller (Palisade does not authenticate `connection_init`);
 * - a GraphQL field resolver needs a caller while GraphQLModule runs no guards on field resolvers;
 * - a WebSocket handler needs a caller while the WebSocket adapter's handshakes cannot be read.
 * Handlers that will refuse every call (a microservice handler under a Palisade guard, not
 * `@Public()`) are listed in one warning.
 * @internal
 */
@Injectable()
export class RequirementsAudit implements OnApplicationBootstrap {
  private readonly logger = new Logger('PalisadeModule');

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly config: ApplicationConfig,
    private readonly moduleRef: ModuleRef,
    private readonly authentication: AuthRequirementsResolver,
    private readonly authorization: AuthorizationRequirementsResolver,
    @Inject(THROTTLE_OPTIONS) private readonly throttle: NormalizedThrottleOptions | undefined,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.authorization.prepare();
    const handlers = allHandlers(this.discovery, this.scanner);
    if (handlers.some((h) => h.kind === 'rpc')) await loadRpcSupport();
    const sockets = handlers.some((h) => h.kind === 'ws');
    if (sockets) await loadWebSocketSupport();
    const handshakesReadable = sockets && (await this.readsSocketHandshakes());
    const global = this.globalFlags();
    const problems: string[] = [];
    const refused: string[] = [];
    for (const entry of handlers) {
      const flags = this.flagsOf(entry.handler, entry.owner, global);
      const problem = this.check(entry, flags, handshakesReadable);
      if (problem === 'refused') refused.push(this.nameOf(entry));
      else if (problem !== undefined) problems.push(`PalisadeModule: ${this.nameOf(entry)} ${problem}`);
    }
    if (problems.length > 0) throw new Error(problems.join('\n'));
    if (refused.length > 0) {
      this.logger.warn(`These handlers cannot be protected on their transport and refuse every call unless marked @Public(): ${refused.join(', ')}.`);
    }
  }

  /**
   * Which of Palisade's guards run on a handler (global, or `@UseGuards` on it or its class), as
   * the startup audit sees them; for documentation (`@palisade/nest/openapi`).
   */
  guardsOn(handler: Handler, owner: object): EnforcingGuards {
    const flags = this.flagsOf(handler, owner, this.globalFlags());
    return { auth: (flags & AUTH) !== 0, roles: (flags & ROLES) !== 0, throttle: (flags & THROTTLE) !== 0 };
  }

  private flagsOf(handler: Handler, owner: object, global: number): number {
    return global | flagsOf(this.reflector.get<unknown[]>(GUARDS_METADATA, owner as never)) | flagsOf(this.reflector.get<unknown[]>(GUARDS_METADATA, handler));
  }

  private nameOf(entry: HandlerEntry): string {
    return `${routeName(entry.handler, entry.owner)} (${HANDLER_KIND_LABEL[entry.kind]})`;
  }

  private globalFlags(): number {
    let flags = flagsOf(this.config.getGlobalGuards());
    for (const wrapper of this.config.getGlobalRequestGuards()) flags |= flagOf(wrapper.instance ?? wrapper.metatype);
    return flags;
  }

  /** What is wrong with one handler: a sentence, `'refused'`, or nothing. */
  private check(entry: HandlerEntry, flags: number, handshakesReadable: boolean): string | 'refused' | undefined {
    const { handler, owner, kind } = entry;
    const auth = this.authentication.resolve(handler, owner);
    const authorization = this.authorization.resolve(handler, owner);
    const explicitAuth = !auth.isPublic && (this.reflector.get(AuthMetadata, handler) ?? this.reflector.get(AuthMetadata, owner as never)) !== undefined;
    const throttled = declaresThrottle(handler, owner);
    const declared = explicitAuth || !authorization.empty || throttled;
    if (kind === 'rpc') {
      if (declared) {
        return 'declares an authentication, authorization or throttling requirement, but Palisade cannot judge microservice calls, so every call would be refused. Remove the requirement and mark the handler @Public() (protect the transport itself, e.g. with mTLS), or serve it over HTTP.';
      }
      return !auth.isPublic && flags !== 0 ? 'refused' : undefined;
    }
    const guard = (flag: number, name: string, what: string): string | undefined =>
      flags & flag
        ? undefined
        : `declares ${what}, but no ${name} runs on it; add @UseGuards(${name}) to it or its class, or register Palisade's guards globally (PalisadeModule.forRoot({ global: true })).`;
    // RolesGuard authenticates by itself when it has something to check.
    const authenticated = (flags & AUTH) !== 0 || (!authorization.empty && (flags & ROLES) !== 0);
    const missing =
      (explicitAuth && !authenticated ? guard(AUTH, 'AuthGuard', '@Auth()') : undefined) ??
      (authorization.empty ? undefined : guard(ROLES, 'RolesGuard', '@Roles(), @Scopes() or @Policy()')) ??
      (throttled && !this.throttle
        ? 'declares @Throttle(), but throttling is not configured; add throttle to PalisadeModule.forRoot() or remove the decorator.'
        : throttled
          ? guard(THROTTLE, 'ThrottlerGuard', '@Throttle()')
          : undefined);
    if (missing) return missing;
    if (authenticated && !auth.isPublic && auth.schemes.length === 0) {
      return 'requires authentication but no scheme is configured; set auth.jwt, auth.apiKey or auth.basic, or mark it @Public().';
    }
    const needsCaller = declared || (!auth.isPublic && flags !== 0);
    if (!needsCaller) return undefined;
    if (kind === 'graphql-subscription') {
      return "needs a caller, but Palisade does not authenticate GraphQL subscriptions (graphql-ws connection_init); mark it @Public() and authenticate the connection in the driver's onConnect, or serve the data through a query.";
    }
    if (kind === 'graphql-field' && !this.fieldResolverGuards()) {
      return "needs a caller, but GraphQLModule runs no guards on field resolvers, so nothing would check it; add fieldResolverEnhancers: ['guards'] to GraphQLModule.forRoot(), or mark the field resolver @Public().";
    }
    if (kind === 'ws' && !handshakesReadable) {
      const adapter = (this.config.getIoAdapter() as object | undefined)?.constructor?.name ?? 'the WebSocket adapter';
      return `needs a caller, but its socket handshakes cannot be read through ${adapter}; use socket.io (IoAdapter) or the ws adapter from '@palisade/nest/ws' (app.useWebSocketAdapter(new PalisadeWsAdapter(app))).`;
    }
    return undefined;
  }

  private fieldGuards: boolean | undefined;

  /** True when GraphQLModule applies guards to field resolvers (`fieldResolverEnhancers`). */
  private fieldResolverGuards(): boolean {
    if (this.fieldGuards === undefined) {
      let options: { fieldResolverEnhancers?: readonly string[] } | undefined;
      try {
        options = this.moduleRef.get(GRAPHQL_MODULE_OPTIONS, { strict: false });
      } catch {
        options = undefined;
      }
      this.fieldGuards = options?.fieldResolverEnhancers?.includes('guards') === true;
    }
    return this.fieldGuards;
  }

  /** True when the application's WebSocket adapter is socket.io's, or Palisade's `ws` adapter. */
  private async readsSocketHandshakes(): Promise<boolean> {
    const adapter = this.config.getIoAdapter() as object | undefined;
    if (!adapter) return false;
    if (readsHandshakes(adapter)) return true;
    try {
      const { IoAdapter } = (await import('@nestjs/platform-socket.io')) as { IoAdapter: abstract new (...args: never[]) => unknown };
      return adapter instanceof IoAdapter;
    } catch {
      return false;
    }
  }
}
