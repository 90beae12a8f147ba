import type { ResolvedAuthRequirement } from '../auth/auth-requirements.resolver.js';
import type { EnforcingGuards } from '../requirements-audit.service.js';
import type { ResolvedAuthorization } from '../roles/authorization-requirements.resolver.js';
import type { RoutePlan } from '../throttle/throttle-plan.resolver.js';
import type { NormalizedThrottleOptions } from '../throttle/throttle-options.normalizer.js';
import type { NormalizedTokensOptions } from '../tokens/tokens-options.normalizer.js';
import type { DocumentSchemes } from './security-schemes.js';

/** The capability options a route's documentation reads: whether stores can fail closed. @internal */
export interface DocumentedOptions {
  readonly throttle: NormalizedThrottleOptions | undefined;
  readonly tokens: NormalizedTokensOptions | undefined;
}

/** What the document says about one route, from what Palisade enforces on it. @internal */
export interface RouteDocumentation {
  /**
   * The operation's `security`: `[]` for a public route, one alternative per accepted scheme
   * (plus `{}` when optional); `undefined` when no Palisade guard authenticates the route.
   */
  readonly security: Record<string, string[]>[] | undefined;
  /** `WWW-Authenticate` of a 401 when no credential was sent; `undefined`: no 401. */
  readonly unauthorized: string | undefined;
  /** Whether a 403 can answer (roles, scopes or policies), with the scope challenge if any. */
  readonly forbidden: { readonly scopeChallenge: string | undefined } | undefined;
  /** Whether a 429 can answer, with the route's `RateLimit-Policy` when it has tiers. */
  readonly tooManyRequests:
    | {
        readonly tiers: boolean;
        readonly authFailures: boolean;
        /** `RateLimit-Policy` and `RateLimit` are sent (`throttle.headers` `'ietf'` or `'both'`). */
        readonly rateLimitHeaders: boolean;
        /** Tiers whose `X-RateLimit-*` headers are sent (`throttle.headers` `'legacy'` or `'both'`). */
        readonly legacyTiers: readonly string[];
        readonly policy: string | undefined;
      }
    | undefined;
  /** Why a 503 can answer (a store failing closed); empty: no 503. */
  readonly unavailable: readonly string[];
  readonly roles: readonly (readonly string[])[];
  readonly scopes: readonly string[];
  readonly policies: readonly string[];
}

/** Everything Palisade resolved about one route. @internal */
export interface RouteFacts {
  readonly auth: ResolvedAuthRequirement;
  readonly authorization: ResolvedAuthorization;
  readonly plan: RoutePlan;
  readonly guards: EnforcingGuards;
}

/** Works out what to document for a route; pure, so it can be compared across same-named routes. @internal */
export function documentRoute(facts: RouteFacts, options: DocumentedOptions, schemes: DocumentSchemes, oas31: boolean): RouteDocumentation {
  const { auth, authorization, plan, guards } = facts;
  // As the startup audit sees it: RolesGuard authenticates by itself when it has something to check.
  const authenticated = !auth.isPublic && (guards.auth || (!authorization.empty && guards.roles));
  let security: Record<string, string[]>[] | undefined;
  if (auth.isPublic) security = [];
  else if (authenticated) {
    security = [];
    for (const scheme of auth.schemes) {
      for (const documented of schemes.byScheme.get(scheme) ?? []) {
        const scoped = documented.scopes === 'always' || (documented.scopes === 'oas31' && oas31);
        security.push({ [documented.name]: scoped ? [...authorization.scopes] : [] });
      }
    }
    if (auth.optional) security.push({});
  }
  const throttle = options.throttle;
  const tiers = guards.throttle && plan.tiers.length > 0;
  const authFailures = authenticated && throttle?.authFailures !== undefined;
  const unavailable: string[] = [];
  if (throttle?.storage.kind === 'redis' && !throttle.failOpen && (tiers || authFailures)) {
    unavailable.push('the rate-limit store (Redis) cannot answer and throttling fails closed');
  }
  const tokens = options.tokens;
  if (authenticated && auth.schemes.includes('jwt') && tokens?.storage.kind === 'redis' && !tokens.failOpen) {
    unavailable.push('the token store (Redis) cannot answer and revocation checks fail closed');
  }
  return {
    security,
    unauthorized: authenticated ? auth.missingChallenge : undefined,
    forbidden:
      !auth.isPublic && guards.roles && !authorization.empty
        ? { scopeChallenge: authorization.scopes.length > 0 && auth.schemes.includes('jwt') ? authorization.scopeChallenge : undefined }
        : undefined,
    tooManyRequests:
      tiers || authFailures
        ? {
            tiers,
            authFailures,
            rateLimitHeaders: tiers && throttle?.ietfHeaders === true,
            legacyTiers: tiers && throttle?.legacyHeaders === true ? plan.tiers.map((tier) => tier.name) : [],
            policy: tiers ? plan.policyHeader : undefined,
          }
        : undefined,
    unavailable,
    roles: authorization.declaredRoles,
    scopes: authorization.scopes,
    policies: authorization.policyNames,
  };
}
