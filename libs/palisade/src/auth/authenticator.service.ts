import { Inject, Injectable, Optional, ServiceUnavailableException, type ExecutionContext } from '@nestjs/common';
import { AUTH_ATTEMPT_GATE, type AuthAttemptGate } from './auth-attempt-gate.interface.js';
import { SecurityEvents } from '../events/security-events.service.js';
import { decodeBasicCredential } from './basic.strategy.js';
import { cachedCredentials } from './credentials.js';
import { VerifiedTokenCache } from './verified-token.cache.js';
import { TOKEN_REVOCATION_CHECK, type TokenRevocationCheck } from './token-revocation.interface.js';
import { HttpAdapterHost } from '@nestjs/core';
import type { HttpRequestLike } from '../common/http-context.js';
import { requestOf, responseOf } from '../transport/invocation.js';
import { UnsupportedCallException } from './unsupported-call.exception.js';
import { toRpcError } from '../transport/rpc.transport.js';
import { authorizationCountOf, requestStateOf, type RequestState } from '../common/request-state.js';
import { AUTH_OPTIONS } from './auth.constants.js';
import type { NormalizedAuthOptions, SchemeChallenges } from './auth-options.normalizer.js';
import { AuthRequirementsResolver, type ResolvedAuthRequirement } from './auth-requirements.resolver.js';
import { AuthenticationFailedException } from './authentication.exception.js';
import { CredentialRejectedError, type RejectionReason } from './credential-rejected.error.js';
import { authorizationPresence, Presence, presentedCredentials, type PresentedCredentials } from './credentials.js';
import { jwtFailureReason } from './jwt.strategy.js';
import { createPrincipal } from './principal.factory.js';
import type { AuthScheme, Principal } from './principal.interface.js';
import { runStrategy } from './strategy.runner.js';
import { StrategyRegistry } from './strategy.registry.js';
import { JwksKeys } from './jwks-keys.service.js';

/** What happened to one scheme's credential on a request that failed authentication. */
export interface SchemeFailure {
  /** The scheme whose credential was rejected. */
  readonly scheme: AuthScheme;
  /** Why: unparseable (`malformed`), expired, or otherwise `invalid`. */
  readonly reason: RejectionReason;
  /**
   * Whether brute-force protection counts it: `false` for a genuine credential that is not usable
   * now (an expired or revoked token, a token whose signing key could not be fetched).
   */
  readonly guess: boolean;
}

/**
 * A rejection is a guess unless the credential is known genuine: an expired token (its signature
 * was verified before its expiry was checked), or a strategy's `CredentialRejectedError` marked so.
 */
function isGuess(reason: RejectionReason, info: unknown): boolean {
  if (reason === 'expired') return false;
  return !(info instanceof CredentialRejectedError && !info.guess);
}

/** A principal found in the verified-token cache, with the `Authorization` value that keys it. */
interface VerifiedToken {
  readonly header: string;
  readonly principal: Principal;
}

/** A brute-force slot held by one attempt. */
type AuthAttempt = Awaited<ReturnType<AuthAttemptGate['reserve']>>;

/** What one scheme's credential gave. */
type SchemeResult = { readonly principal: Principal } | { readonly failure: SchemeFailure } | { readonly error: unknown };

/** What the schemes of one request gave: the first principal, every rejection, the first unexpected error. */
interface Verdict {
  principal?: Principal;
  failures?: SchemeFailure[];
  unexpected?: unknown;
}

function record(verdict: Verdict, result: SchemeResult): void {
  if ('principal' in result) verdict.principal ??= result.principal;
  else if ('failure' in result) (verdict.failures ??= []).push(result.failure);
  else verdict.unexpected ??= result.error;
}

/**
 * Does the authentication work for `AuthGuard` and for any guard that needs the caller
 * (`RolesGuard`): tries the schemes the route accepts (`@Auth(...)`, else `auth.defaultSchemes`),
 * each whose credential is present, in order. The first success attaches the {@link Principal} to
 * `request.user` — provided every credential presented for the route's schemes is right: one that
 * is rejected or malformed fails the request (a guess cannot ride along a valid credential, and
 * the answer does not tell which was right). Never a 500. Idempotent per request: the second call
 * returns the first result.
 *
 * Failure: 401 with `{ statusCode, error, message }` and one `WWW-Authenticate` challenge per
 * accepted scheme (RFC 6750 `error="invalid_token"` where a token was rejected).
 *
 * Extend it through its protected methods and provide the subclass in place of `Authenticator`.
 */
@Injectable()
export class Authenticator {
  constructor(
    private readonly requirements: AuthRequirementsResolver,
    private readonly strategies: StrategyRegistry,
    private readonly adapterHost: HttpAdapterHost,
    @Inject(AUTH_OPTIONS) private readonly auth: NormalizedAuthOptions,
    private readonly events: SecurityEvents,
    @Optional() @Inject(AUTH_ATTEMPT_GATE) private readonly gate?: AuthAttemptGate,
    // Null when the token lifecycle is not configured: nothing is revoked.
    @Optional() @Inject(TOKEN_REVOCATION_CHECK) revocation?: TokenRevocationCheck | null,
    @Optional() jwksKeys?: JwksKeys,
  ) {
    const jwt = auth.jwt;
    this.tokenCache = jwt?.cache ? new VerifiedTokenCache(jwt.cache.maxEntries, jwt.cache.maxAgeMs, jwt.clockToleranceSeconds * 1000) : undefined;
    // A JWKS key removed or revoked: tokens it verified must not outlive it in the cache.
    jwksKeys?.onKeysRemoved(() => this.tokenCache?.clear());
    this.revocation = revocation ?? undefined;
  }

  private readonly tokenCache: VerifiedTokenCache | undefined;
  private readonly revocation: TokenRevocationCheck | undefined;

  /** The route's resolved authentication requirement (cached per handler). */
  requirementOf(context: ExecutionContext): ResolvedAuthRequirement {
    return this.requirements.resolve(context.getHandler() as never, context.getClass());
  }

  /**
   * Authenticates the request of `context` once: resolves with the principal, with `undefined` on
   * a public route or for an anonymous caller on an optional route, or throws the 401.
   */
  authenticateContext(context: ExecutionContext): Principal | undefined | Promise<Principal | undefined> {
    const requirement = this.requirementOf(context);
    if (requirement.isPublic) return undefined;
    const request = requestOf(context);
    // A GraphQL call whose context carries no HTTP request (a subscription over a socket): nothing to judge.
    if (request === undefined) throw new UnsupportedCallException();
    // Already authenticated: what Palisade attached, not whatever `request.user` holds now (and
    // `request.user` gets it back, so the handler sees the principal the guards judged).
    const state = requestStateOf(request);
    // Under GraphQL one request serves several fields, each with its own requirement: a principal
    // (or an anonymous pass) of one field counts for another only if that one accepts it too.
    const known = state.principal as Principal | undefined;
    if (known !== undefined && requirement.schemes.includes(known.scheme)) {
      if (request.user !== known) request.user = known;
      return known;
    }
    if (state.anonymous && requirement.optional) return undefined;
    const fast = this.fromCacheSync(request, state, requirement);
    if (fast) return this.attach(request, state, fast);
    return this.authenticate(request, requirement, context).then(
      (principal) => this.attach(request, state, principal),
      (error: unknown) => {
        // A store that cannot answer (the token store under failOpen: false, or a callback's own
        // 503) is temporary: tell the client when to come back, as the throttler does.
        const response = responseOf(context);
        if (error instanceof ServiceUnavailableException && response) this.adapterHost.httpAdapter.setHeader(response, 'Retry-After', '1');
        throw error;
      },
    );
  }

  private attach(request: HttpRequestLike, state: RequestState, principal: Principal | undefined): Principal | undefined {
    if (principal) {
      state.principal = principal;
      request.user = principal;
    } else {
      state.anonymous = true;
    }
    return principal;
  }

  /**
   * The fast path of a bearer token verified moments ago: when JWT is the route's first scheme,
   * the exact `Authorization` value is in the verified-token cache (so it parsed strictly before),
   * it is the only `Authorization` header, and the revocation list can answer synchronously (in
   * memory). Anything else takes the full path.
   *
   * The brute-force gate is not consulted for such a token: the gate stops *guessing*, and a token
   * this instance already verified (unexpired, unrevoked) is not a guess. Every credential that was
   * not verified before still meets the gate.
   */
  private fromCacheSync(request: HttpRequestLike, state: RequestState, requirement: ResolvedAuthRequirement): Principal | undefined {
    const token = this.cacheAnswersAlone(request, requirement) ? this.verifiedToken(request, state) : undefined;
    if (!token) return undefined;
    const jti = token.principal.claims.jti;
    if (this.revocation && typeof jti === 'string' && this.revocation.isRevokedSync?.(jti) !== false) return undefined;
    return token.principal;
  }

  /** Throws the 401 for a route that needs a caller when none authenticated (an optional route). */
  rejectAnonymous(context: ExecutionContext): never {
    this.onDenied(context, this.requirementOf(context), []);
  }

  /**
   * A call of a kind Palisade cannot judge (a microservice message, a transport added later): allowed
   * only when the handler is `@Public()`, refused otherwise. Never a silent pass.
   */
  refuseUnsupported(context: ExecutionContext): true {
    if (this.requirementOf(context).isPublic) return true;
    throw this.unsupportedCall(context);
  }

  /** The refusal of a call Palisade cannot judge, in its transport's error (an RpcException for microservices). */
  unsupportedCall(context: ExecutionContext): Error {
    const refusal = new UnsupportedCallException();
    return context.getType<string>() === 'rpc' ? toRpcError(refusal) : refusal;
  }

  /**
   * Tries the route's schemes; resolves with the principal, with `undefined` for an anonymous
   * caller on an optional route, or throws the 401.
   *
   * Brute force: an attempt that presents a credential first reserves a slot of the client's
   * brute-force budget (429 when it has none), so parallel guesses cannot all be verified before
   * the first failure is counted; a wrong guess keeps the slot, a success or a rejection that is no
   * guess (expired, revoked, signing key unavailable) gives it back. Every credential presented
   * for a scheme the route accepts is verified: one that is wrong fails the request (401, counted)
   * even when another scheme's credential is right, so a guess cannot ride along unseen.
   */
  protected async authenticate(request: HttpRequestLike, requirement: ResolvedAuthRequirement, context: ExecutionContext): Promise<Principal | undefined> {
    const state = requestStateOf(request);
    const credentials = this.credentialsOf(request, state);
    const token = this.verifiedToken(request, state);
    const alone = token !== undefined && this.cacheAnswersAlone(request, requirement);
    if (alone) {
      // A token verified before (not a guess: see fromCacheSync) skips the gate and the verification.
      const cached = await this.unrevoked(token);
      if (cached) return cached;
    }
    // Reserved before any credential is checked: a blocked client gets 429, valid credentials included.
    const attempt = this.presentsAny(credentials) && this.gate ? await this.gate.reserve(request, responseOf(context), this.credentialId(request)) : undefined;
    // A token that could answer alone was revoked (and dropped from the cache): the strategy verifies it again.
    const verdict = await this.verifySchemes(request, requirement, credentials, alone ? undefined : token);
    return this.settle(verdict, attempt, requirement, context);
  }

  private credentialsOf(request: HttpRequestLike, state: RequestState): PresentedCredentials {
    const { apiKey } = this.auth;
    return presentedCredentials(request, apiKey?.header, apiKey?.maxKeyLength ?? 0, state);
  }

  private presentsAny(credentials: PresentedCredentials): boolean {
    return credentials.authScheme !== undefined || credentials.authMalformed || credentials.apiKey !== undefined || credentials.apiKeyMalformed;
  }

  /**
   * Tries each scheme of the route whose credential is present, in the route's order (the first
   * success is the principal), and collects the rejections. `cached` answers for the JWT scheme.
   */
  private async verifySchemes(
    request: HttpRequestLike,
    requirement: ResolvedAuthRequirement,
    credentials: PresentedCredentials,
    cached: VerifiedToken | undefined,
  ): Promise<Verdict> {
    const verdict: Verdict = {};
    for (const scheme of requirement.schemes) {
      const presence = this.presence(scheme, credentials);
      if (presence === Presence.Absent) continue;
      // Sequential on purpose: schemes are tried in the route's order and the first success wins.
      const result: SchemeResult | undefined =
        // oxlint-disable-next-line no-await-in-loop
        presence === Presence.Malformed ? { failure: { scheme, reason: 'malformed', guess: true } } : await this.verifyScheme(scheme, request, cached);
      if (result) record(verdict, result);
    }
    return verdict;
  }

  /** One scheme's present credential: a principal, a rejection, an unexpected error, or nothing (no strategy). */
  private async verifyScheme(scheme: AuthScheme, request: HttpRequestLike, cached: VerifiedToken | undefined): Promise<SchemeResult | undefined> {
    if (scheme === 'jwt' && cached) {
      const principal = await this.unrevoked(cached);
      if (principal) return { principal };
    }
    const strategy = this.strategies.get(scheme, request);
    if (!strategy) return undefined;
    const outcome = await runStrategy(strategy, request);
    if (outcome.kind === 'success') {
      const verified = this.resolvePrincipal(outcome.principal, scheme);
      // Keyed by the whole header value: a later identical header is known to parse strictly.
      if (scheme === 'jwt') this.tokenCache?.set(request.headers.authorization as string, verified);
      return { principal: verified };
    }
    if (outcome.kind === 'error') return { error: outcome.error };
    const reason = scheme === 'jwt' && outcome.reason === 'invalid' ? jwtFailureReason(outcome.info) : outcome.reason;
    return { failure: { scheme, reason, guess: isGuess(reason, outcome.info) } };
  }

  /**
   * Settles the brute-force slot and answers: an unexpected error is rethrown (slot given back), a
   * principal with no rejection succeeds, an anonymous caller passes an optional route, anything
   * else is the 401 (the slot kept when a rejection was a guess).
   */
  private async settle(
    verdict: Verdict,
    attempt: AuthAttempt | undefined,
    requirement: ResolvedAuthRequirement,
    context: ExecutionContext,
  ): Promise<Principal | undefined> {
    const { principal, failures, unexpected } = verdict;
    if (unexpected !== undefined) {
      // An error from an application callback (a database down, say) is not the caller's fault:
      // let the exception layer answer it (an HttpException keeps its status).
      await attempt?.release();
      throw unexpected;
    }
    if (failures === undefined && principal !== undefined) {
      attempt?.succeeded();
      return principal;
    }
    if (failures?.some((failure) => failure.guess)) await attempt?.failed();
    else await attempt?.release();
    if (failures === undefined && requirement.optional) return undefined;
    this.onDenied(context, requirement, failures ?? []);
  }

  /** The raw credential headers of a request, to tell identical attempts apart (never logged or stored). */
  private credentialId(request: HttpRequestLike): string {
    const keyHeader = this.auth.apiKey?.header;
    const key = keyHeader === undefined ? undefined : request.headers[keyHeader];
    return `${String(request.headers.authorization ?? '')}\n${String(key ?? '')}`;
  }

  /**
   * The one place the verified-token cache is read: the principal this instance verified for the
   * request's exact `Authorization` value (its only `Authorization` header), unless it expired.
   */
  private verifiedToken(request: HttpRequestLike, state: RequestState): VerifiedToken | undefined {
    const header = request.headers.authorization;
    if (!this.tokenCache || typeof header !== 'string') return undefined;
    const principal = this.tokenCache.get(header);
    if (!principal || authorizationCountOf(request, state) !== 1) return undefined;
    return { header, principal };
  }

  /**
   * Whether a cached token may answer for the whole request: JWT is the route's first scheme and no
   * API key is presented beside it (a wrong one must fail the request, so it must be verified).
   */
  private cacheAnswersAlone(request: HttpRequestLike, requirement: ResolvedAuthRequirement): boolean {
    if (requirement.schemes[0] !== 'jwt') return false;
    const keyHeader = this.auth.apiKey?.header;
    return keyHeader === undefined || request.headers[keyHeader] === undefined || !requirement.schemes.includes('api-key');
  }

  /** The cached principal, unless its token was revoked since (then it leaves the cache). */
  private async unrevoked(token: VerifiedToken): Promise<Principal | undefined> {
    const jti = token.principal.claims.jti;
    if (this.revocation && typeof jti === 'string' && (await this.revocation.isRevoked(jti))) {
      this.tokenCache?.delete(token.header);
      return undefined; // the strategy verifies again and rejects it as revoked
    }
    return token.principal;
  }

  /** Builds the principal attached to the request. Override to enrich it. */
  protected resolvePrincipal(init: Parameters<typeof createPrincipal>[0], scheme: AuthScheme): Principal {
    return createPrincipal(init, scheme);
  }

  /** Sets the challenges and throws the 401. Override to audit or to change the message. */
  protected onDenied(context: ExecutionContext, requirement: ResolvedAuthRequirement, failures: readonly SchemeFailure[]): never {
    this.report(requestOf(context) as HttpRequestLike, failures);
    const challenge = failures.length === 0 ? requirement.missingChallenge : this.challengeFor(requirement, failures);
    const response = responseOf(context);
    if (response) this.adapterHost.httpAdapter.setHeader(response, 'WWW-Authenticate', challenge);
    if (failures.length === 0) throw new AuthenticationFailedException('Authentication required');
    const expired = failures.every((f) => f.reason === 'expired');
    throw new AuthenticationFailedException(expired ? 'The access token expired' : 'Invalid credentials');
  }

  /** Emits the `authentication.failed` event, with fingerprints of what was presented, never the credential. */
  private report(request: HttpRequestLike, failures: readonly SchemeFailure[]): void {
    const [first] = failures;
    if (!first) {
      this.events.emit({ type: 'authentication.failed', reason: 'missing' }, request);
      return;
    }
    const credentials = cachedCredentials(request);
    const presented = first.scheme === 'api-key' ? credentials?.apiKey : credentials?.authCredential;
    const basicUser = first.scheme === 'basic' && credentials?.authCredential ? decodeBasicCredential(credentials.authCredential)?.userId : undefined;
    this.events.emit(
      {
        type: 'authentication.failed',
        scheme: first.scheme,
        reason: first.reason,
        ...(presented === undefined ? {} : { credentialFingerprint: this.events.fingerprint(presented) }),
        ...(basicUser === undefined ? {} : { usernameFingerprint: this.events.fingerprint(basicUser) }),
      },
      request,
    );
  }

  private challengeFor(requirement: ResolvedAuthRequirement, failures: readonly SchemeFailure[]): string {
    const parts: string[] = [];
    for (const scheme of requirement.schemes) {
      const challenges = this.auth.challenges.get(scheme) as SchemeChallenges;
      const failure = failures.find((f) => f.scheme === scheme);
      parts.push(failure === undefined ? challenges.missing : challenges[failure.reason]);
    }
    return parts.join(', ');
  }

  private presence(scheme: AuthScheme, credentials: PresentedCredentials): Presence {
    switch (scheme) {
      case 'jwt':
        return authorizationPresence(credentials, 'bearer');
      case 'basic':
        return authorizationPresence(credentials, 'basic');
      case 'api-key':
        if (credentials.apiKey !== undefined) return Presence.Present;
        return credentials.apiKeyMalformed ? Presence.Malformed : Presence.Absent;
    }
  }
}
