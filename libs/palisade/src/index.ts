/**
 * `@palisade/nest`: authentication, authorization, throttling and security headers for NestJS,
 * declared per route the way FastAPI's `Depends`/`Security` are.
 * @packageDocumentation
 */
export { PalisadeModule } from './palisade.module.js';
export type { PalisadeModuleExtras, PalisadeModuleOptions } from './palisade-options.interface.js';
export type { PalisadeOptionsFactory } from './palisade.module-definition.js';
export type { Duration, DurationUnit } from './common/duration.js';
export { parseDuration } from './common/duration.js';
export { ExpressObjectShapes } from './common/request-shapes.js';
export type { TrustProxySetting } from './common/trusted-proxy.js';
export type {
  RedisClusterConnection,
  RedisConnection,
  RedisConnectionSecurity,
  RedisNodeAddress,
  RedisSentinelConnection,
  RedisUrlConnection,
} from './common/redis-connection.interface.js';
export { StoreUnavailableException } from './common/store-unavailable.exception.js';

export { AuthGuard } from './auth/auth.guard.js';
export { Authenticator, type SchemeFailure } from './auth/authenticator.service.js';
export { Auth, Public, type AuthRequirement } from './auth/auth.decorator.js';
export { CurrentUser } from './auth/current-user.decorator.js';
export { AuthenticationFailedException } from './auth/authentication.exception.js';
export type { RejectionReason } from './auth/credential-rejected.error.js';
export { JwksKeys, type JwksRefreshResult } from './auth/jwks-keys.service.js';
export type { JwksFetchCause } from './auth/remote-key-set.js';
export type { ResolvedAuthRequirement } from './auth/auth-requirements.resolver.js';
export { AUTH_SCHEMES, type AuthScheme, type Principal, type PrincipalInit } from './auth/principal.interface.js';
export type {
  ApiKeyAuthOptions,
  AuthOptions,
  AuthRequest,
  BasicAuthOptions,
  ClaimPath,
  HashedApiKey,
  JwksAlgorithm,
  JwksIssuerOptions,
  JwtAlgorithm,
  JwtAuthOptions,
} from './auth/auth-options.interface.js';

export { RolesGuard, type DenialReason } from './roles/roles.guard.js';
export { Roles } from './roles/roles.decorator.js';
export { Scopes } from './roles/scopes.decorator.js';
export { Policy } from './roles/policy.decorator.js';
export { Secure, type SecureOptions, type ThrottleRequirement } from './roles/secure.decorator.js';
export { AccessDeniedException } from './roles/access-denied.exception.js';
export type { Policy as PolicyType, PolicyContext, PolicyFunction, PolicyHandler } from './roles/policy.interface.js';
export type { RolesOptions } from './roles/roles-options.interface.js';

export { ThrottlerGuard } from './throttle/throttler.guard.js';
export { Throttle, SkipThrottle, type ThrottleTierOverride, type ThrottleValue } from './throttle/throttle.decorator.js';
export { ThrottleBy, type ThrottleByOptions, type ThrottleDiscriminator } from './throttle/throttle-by.decorator.js';
export { ThrottledException } from './throttle/throttled.exception.js';
export { ThrottleStoreUnavailableException } from './throttle/resilient-throttle.store.js';
export { AuthFailureLimiter } from './throttle/auth-failure.limiter.js';
export type { AuthAttempt } from './auth/auth-attempt-gate.interface.js';
export { MemoryThrottleStore } from './throttle/memory-throttle.store.js';
export { RedisThrottleStore } from './throttle/redis-throttle.store.js';
export type { ThrottleHit, ThrottleStore, ThrottlerStorageRecord } from './throttle/throttle-store.interface.js';
export type { CustomThrottleStorage, RedisThrottleStorage, ThrottleOptions, ThrottlerTier } from './throttle/throttle-options.interface.js';
export { InjectThrottleStore } from './throttle/throttle-store.decorator.js';

export { SecurityEvents } from './events/security-events.service.js';
export { SecurityEventSink } from './events/security-event-sink.decorator.js';
export type { EventsOptions } from './events/events-options.interface.js';
export type {
  AccessDeniedEvent,
  AttackDetectedEvent,
  AuthFailureReason,
  AuthenticationFailedEvent,
  InsecureConfigurationEvent,
  HeaderWriteFailedEvent,
  JwksFetchFailedEvent,
  JwksFetchRecoveredEvent,
  RateLimitedEvent,
  RefreshTokenReusedEvent,
  SecurityEvent,
  SecurityEventBase,
  SecurityEventHandler,
  SecurityEventInput,
  SecurityEventType,
  StoreUnavailableEvent,
  TokenRevokedEvent,
} from './events/security-event.interface.js';

export {
  TokenService,
  TokenNotRevocableException,
  TokenStoreUnavailableException,
  type IssuedAccessToken,
  type IssuedTokenPair,
  type IssueAccessTokenOptions,
  type RevocableClaims,
} from './tokens/token.service.js';
export type { CustomTokenStorage, RedisTokenStorage, TokensOptions } from './tokens/tokens-options.interface.js';
export { InjectTokenStore } from './tokens/token-store.decorator.js';
export type { RefreshRotation, RefreshRotationResult, RefreshTokenLookup, RefreshTokenRecord, TokenStore } from './tokens/token-store.interface.js';
export { MemoryTokenStore } from './tokens/memory-token.store.js';
export {
  PasswordGrant,
  type PasswordGrantOptions,
  type PasswordGrantRequest,
  type PasswordVerifier,
  type TokenEndpointResponse,
} from './tokens/password-grant.service.js';
export { TokenEndpoint } from './tokens/token-endpoint.decorator.js';
export { OAuthErrorException, type OAuthErrorCode } from './tokens/oauth-error.exception.js';
export { RedisTokenStore } from './tokens/redis-token.store.js';

// Security headers, HTTPS enforcement and CORS (headers/, transport/).
export { SecurityHeadersInterceptor } from './headers/security-headers.interceptor.js';
export { HeaderWriteError, SecurityHeadersService } from './headers/security-headers.service.js';
export { installEarlyResponses } from './headers/early-responses.js';
export { SecurityHeaders } from './headers/security-headers.decorator.js';
export { CspNonce } from './headers/csp-nonce.decorator.js';
export { PROTECTIVE_HEADERS } from './headers/headers-options.normalizer.js';
export {
  CSP_NONCE,
  CSP_PRESETS,
  type CspDirectiveName,
  type CspDirectives,
  type CspPresetName,
  type CspSandboxToken,
  type CspSource,
  type CspSourceList,
} from './headers/content-security-policy.js';
export type {
  ContentSecurityPolicyOptions,
  HeadersOptions,
  PermissionsPolicyAllowlist,
  PermissionsPolicyOptions,
  ProtectiveHeader,
  ReferrerPolicyToken,
  SecurityHeadersOverride,
  StrictTransportSecurityOptions,
} from './headers/headers-options.interface.js';
export { HttpsRequiredException } from './transport/https-required.exception.js';
export type { HttpsOptions } from './transport/https-options.interface.js';
export { strictCors } from './transport/strict-cors.js';
export type { StrictCors, StrictCorsOptions, StrictCorsOrigin, StrictCorsSettings } from './transport/cors-options.interface.js';
export { bodyLimit, type BodyLimitMiddleware } from './transport/body-limit.middleware.js';
export type { BodyLimitOptions } from './transport/body-limit-options.interface.js';
