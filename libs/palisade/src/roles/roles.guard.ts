import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { Authenticator } from '../auth/authenticator.service.js';
import type { Principal } from '../auth/principal.interface.js';
import type { HttpRequestLike } from '../common/http-context.js';
import { judgeCall, requestOf, responseOf, transportOf } from '../transport/invocation.js';
import { AUTH_OPTIONS } from '../auth/auth.constants.js';
import type { NormalizedAuthOptions } from '../auth/auth-options.normalizer.js';
import { AccessDeniedException } from './access-denied.exception.js';
import { SecurityEvents } from '../events/security-events.service.js';
import { AuthorizationRequirementsResolver, type ResolvedAuthorization } from './authorization-requirements.resolver.js';
import type { PolicyContext } from './policy.interface.js';

/** True when one of `roles` is in `group` (a plain loop: no closure per request). */
function holdsAny(roles: readonly string[], group: ReadonlySet<string>): boolean {
  for (let i = 0; i < roles.length; i++) if (group.has(roles[i] as string)) return true;
  return false;
}

/** Which requirement denied a call. */
export type DenialReason = 'role' | 'scope' | 'policy';

/**
 * Enforces `@Roles` (any-of, with the hierarchy), `@Scopes` (all-of) and `@Policy` (all must
 * allow), accumulated over the controller and the handler. Nobody authenticated → 401 (never
 * 403); an authenticated caller who may not → 403.
 *
 * Order-independent: when it runs before `AuthGuard` (or without it), it authenticates the request
 * itself through the `Authenticator`, so it never judges a request nobody authenticated.
 *
 * @example
 * \@UseGuards(AuthGuard, RolesGuard) \@Roles('admin') \@Controller('admin') class AdminController {}
 */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(
    private readonly authenticator: Authenticator,
    private readonly requirements: AuthorizationRequirementsResolver,
    private readonly adapterHost: HttpAdapterHost,
    // The realm of the `WWW-Authenticate` challenge of a 403 (RFC 6750 §3.1).
    @Inject(AUTH_OPTIONS) private readonly auth: NormalizedAuthOptions,
    private readonly events: SecurityEvents,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const transport = transportOf(context);
    if (transport === 'http') return this.check(context);
    if (transport === undefined) return this.authenticator.refuseUnsupported(context);
    return judgeCall(transport, () => this.check(context));
  }

  private check(context: ExecutionContext): boolean | Promise<boolean> {
    const authorization = this.requirements.resolve(context.getHandler() as never, context.getClass());
    if (authorization.empty) return true;
    const requirement = this.authenticator.requirementOf(context);
    if (requirement.isPublic) return true;
    const principal = this.authenticator.authenticateContext(context);
    // Synchronous when the caller is already known (the usual case after AuthGuard) and no policy runs.
    if (principal instanceof Promise) return principal.then((p) => this.judge(p, authorization, context));
    return this.judge(principal, authorization, context);
  }

  private judge(principal: Principal | undefined, authorization: ResolvedAuthorization, context: ExecutionContext): boolean | Promise<boolean> {
    if (!principal) this.authenticator.rejectAnonymous(context);
    this.checkRolesAndScopes(principal, authorization, context);
    if (authorization.policies.length === 0) return true;
    return this.authorize(principal, authorization, context).then(() => true);
  }

  private checkRolesAndScopes(principal: Principal, authorization: ResolvedAuthorization, context: ExecutionContext): void {
    for (const group of authorization.roleGroups) {
      if (!holdsAny(principal.roles, group)) this.onDenied(context, 'role', authorization, principal);
    }
    for (const scope of authorization.scopes) {
      if (!principal.scopes.includes(scope)) this.onDenied(context, 'scope', authorization, principal);
    }
  }

  /**
   * Runs the policies in order (roles and scopes were checked before); throws the 403 of the first
   * that refuses. Override to add checks.
   */
  protected async authorize(principal: Principal, authorization: ResolvedAuthorization, context: ExecutionContext): Promise<void> {
    if (authorization.policies.length === 0) return;
    const policyContext: PolicyContext = { principal, request: requestOf(context) as HttpRequestLike, execution: context };
    for (const policy of authorization.policies) {
      // Policies run in order and stop at the first refusal (a later one may assume earlier ones held).
      // oxlint-disable-next-line no-await-in-loop
      if ((await policy(policyContext)) !== true) this.onDenied(context, 'policy', authorization, principal);
    }
  }

  /** Throws the 403. A missing scope also gets an RFC 6750 `insufficient_scope` challenge for bearer tokens. */
  protected onDenied(context: ExecutionContext, reason: DenialReason, authorization: ResolvedAuthorization, principal: Principal): never {
    this.events.emit({ type: 'access.denied', reason }, requestOf(context));
    const response = responseOf(context);
    if (reason === 'scope' && principal.scheme === 'jwt' && response) {
      const realm = this.auth.realm;
      this.adapterHost.httpAdapter.setHeader(
        response,
        'WWW-Authenticate',
        `Bearer realm="${realm}", error="insufficient_scope", error_description="The access token lacks a required scope", scope="${authorization.scopeChallenge}"`,
      );
    }
    throw new AccessDeniedException(reason === 'role' ? 'Insufficient role' : reason === 'scope' ? 'Insufficient scope' : 'Access denied');
  }
}
