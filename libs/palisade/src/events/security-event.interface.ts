import type { AuthScheme } from '../auth/principal.interface.js';
import type { JwksFetchCause } from '../auth/remote-key-set.js';

/** Fields every security event carries. Never a secret: credentials appear only as fingerprints. */
export interface SecurityEventBase {
  /** ISO 8601 time of the event. */
  readonly time: string;
  /** Severity for routing alerts: `info`, `warning` or `critical`. */
  readonly severity: 'info' | 'warning' | 'critical';
  /** The request id (also echoed in `X-Request-Id`), when the event belongs to a request. */
  readonly requestId?: string;
  /** Client IP through the trusted-proxy model, when the event belongs to a request. */
  readonly clientIp?: string;
  /** The authenticated principal's id, when known. */
  readonly principalId?: string;
  /** `METHOD /route/:pattern` of the request, when the event belongs to a request. */
  readonly route?: string;
}

/** Why an authentication failed. */
export type AuthFailureReason = 'missing' | 'malformed' | 'invalid' | 'expired' | 'blocked';

/** A request presented no valid credential for the route's schemes. */
export interface AuthenticationFailedEvent extends SecurityEventBase {
  readonly type: 'authentication.failed';
  /** Scheme of the rejected credential (the first one when several failed); absent when none was presented. */
  readonly scheme?: AuthScheme;
  readonly reason: AuthFailureReason;
  /** Short keyed fingerprint of the presented credential (never the credential), to group attempts. */
  readonly credentialFingerprint?: string;
  /** Keyed fingerprint of the user id tried (Basic, or a login reported by the application). */
  readonly usernameFingerprint?: string;
}

/** An authenticated caller was refused by a role, scope or policy. */
export interface AccessDeniedEvent extends SecurityEventBase {
  readonly type: 'access.denied';
  readonly reason: 'role' | 'scope' | 'policy';
}

/** A request was refused with 429. */
export interface RateLimitedEvent extends SecurityEventBase {
  readonly type: 'rate.limited';
  /** The tier that refused it, or `auth-failures` for brute-force blocks. */
  readonly tier: string;
}

/** The detector saw an attack pattern. */
export interface AttackDetectedEvent extends SecurityEventBase {
  readonly type: 'attack.detected';
  /** `brute-force`: many failures from one client or network; `credential-stuffing`: many usernames from one client. */
  readonly pattern: 'brute-force' | 'credential-stuffing' | 'refresh-token-reuse';
  /** What was counted in the window (failures, distinct usernames, …). */
  readonly count: number;
  /** The window, in milliseconds. */
  readonly windowMs: number;
}

/** A refresh token was presented twice; its family was revoked. */
export interface RefreshTokenReusedEvent extends SecurityEventBase {
  readonly type: 'refresh-token.reused';
  /** Fingerprint of the family id. */
  readonly familyFingerprint: string;
}

/** An access token or a refresh-token family was revoked (logout, reuse). */
export interface TokenRevokedEvent extends SecurityEventBase {
  readonly type: 'token.revoked';
  /** What was revoked. */
  readonly what: 'access-token' | 'family';
}

/** A shared store (Redis) stopped or resumed answering. */
export interface StoreUnavailableEvent extends SecurityEventBase {
  readonly type: 'store.unavailable' | 'store.recovered';
  readonly store: 'throttle' | 'tokens';
  /** The policy applied while it is down. */
  readonly policy?: 'fail-open' | 'fail-closed';
}

/**
 * Fetching an identity provider's JWK Set failed: `warning`, or `critical` when no usable key is
 * left (its tokens are refused until a fetch succeeds).
 */
export interface JwksFetchFailedEvent extends SecurityEventBase {
  readonly type: 'jwks.fetch.failed';
  /** The JWK Set URL. */
  readonly uri: string;
  /** An HTTP `status` other than 200, a `timeout`, a `network` error, an `invalid-body`, an `empty-set`. */
  readonly cause: JwksFetchCause;
  /** The HTTP status, when `cause` is `status`. */
  readonly status?: number;
  /** Failed fetches in a row, this one included. */
  readonly consecutiveFailures: number;
  /** Whether cached keys (fresh, or stale within `staleIfError`) still verify tokens. */
  readonly keysUsable: boolean;
  /** Milliseconds until the next fetch may be attempted. */
  readonly retryInMs: number;
}

/** A JWK Set fetch succeeded after failures (`info`). */
export interface JwksFetchRecoveredEvent extends SecurityEventBase {
  readonly type: 'jwks.fetch.recovered';
  /** The JWK Set URL. */
  readonly uri: string;
  /** Failed fetches in a row before this success. */
  readonly consecutiveFailures: number;
  /** Milliseconds since the first of those failures. */
  readonly downMs: number;
}

/** An insecure but allowed configuration, reported at startup. */
export interface InsecureConfigurationEvent extends SecurityEventBase {
  readonly type: 'configuration.insecure';
  /** The option concerned. */
  readonly option: string;
  readonly message: string;
}

/**
 * A security header could not be written on a response (`critical`): the request is answered with
 * a 500 instead of going out without it (or, for an answer Node.js would write itself, the
 * connection is closed).
 */
export interface HeaderWriteFailedEvent extends SecurityEventBase {
  readonly type: 'headers.write-failed';
  /** The header that could not be written (`Content-Security-Policy`, …). */
  readonly header: string;
  /** Why, as Node.js or the framework reported it (never a header value). */
  readonly reason: string;
}

/** Every security event Palisade emits. Narrow on `type`. */
export type SecurityEvent =
  | AuthenticationFailedEvent
  | AccessDeniedEvent
  | RateLimitedEvent
  | AttackDetectedEvent
  | RefreshTokenReusedEvent
  | TokenRevokedEvent
  | StoreUnavailableEvent
  | JwksFetchFailedEvent
  | JwksFetchRecoveredEvent
  | InsecureConfigurationEvent
  | HeaderWriteFailedEvent;

/** The event types, for filters. */
export type SecurityEventType = SecurityEvent['type'];

/**
 * A destination for security events (a log, a SIEM, an alerting hook). Register a provider class
 * decorated with `@SecurityEventSink()`; it is found through dependency injection. `handle` must
 * not throw (errors are caught and reported once) and should not block: queue slow work.
 *
 * @example
 * \@SecurityEventSink()
 * \@Injectable()
 * export class PagerSink implements SecurityEventHandler {
 *   handle(event: SecurityEvent) { if (event.type === 'attack.detected') this.pager.alert(event); }
 * }
 */
export interface SecurityEventHandler {
  handle(event: SecurityEvent): void | Promise<void>;
}

/** Event fields the emitter fills in (time, request data) — what a producer provides. */
export type SecurityEventInput = SecurityEvent extends infer E
  ? E extends SecurityEvent
    ? Omit<E, keyof SecurityEventBase> & Partial<Pick<E, 'severity' | 'principalId'>>
    : never
  : never;
