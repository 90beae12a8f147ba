import { countRawHeader, type HttpRequestLike } from '../common/http-context.js';
import { authorizationCountOf, requestStateOf, type RequestState } from '../common/request-state.js';

/** How a scheme's credential appears in a request. @internal */
export const enum Presence {
  Absent = 0,
  Present = 1,
  Malformed = 2,
}

/** @internal The credentials of one request, parsed once and shared by the strategies. */
export interface PresentedCredentials {
  /** Lower-cased auth-scheme of a well-formed `Authorization` header. */
  readonly authScheme: string | undefined;
  /** The token68 credential of a well-formed `Authorization` header. */
  readonly authCredential: string | undefined;
  /** True when an `Authorization` header is present but unusable (repeated, junk, bad syntax). */
  readonly authMalformed: boolean;
  /**
   * The lower-cased scheme a single malformed `Authorization` header names (`Basic ====` → `basic`):
   * only that scheme's credential is malformed. `undefined` when none can be told (a repeated header,
   * junk): the malformation is every scheme's.
   */
  readonly authMalformedScheme: string | undefined;
  /** The API key header's value, when present exactly once and well-formed. */
  readonly apiKey: string | undefined;
  /** True when the API key header is present but unusable. */
  readonly apiKeyMalformed: boolean;
}

const MAX_AUTHORIZATION_LENGTH = 65_536;
/** An auth-scheme: an HTTP token (RFC 9110 §5.6.2). */
const SCHEME = "([!#$%&'*+.^_`|~0-9A-Za-z-]+)";
/** `credentials = auth-scheme 1*SP token68` (RFC 9110 §11.4, RFC 6750 §2.1): exactly one credential. */
const AUTHORIZATION = new RegExp(`^${SCHEME} +([A-Za-z0-9\\-._~+/]+=*)$`);
/** The auth-scheme a malformed header still names: a scheme, then a space or the end. */
const AUTH_SCHEME = new RegExp(`^${SCHEME}(?: |$)`);
/** Visible ASCII only: a key with spaces, controls or non-ASCII bytes is never valid. */
const API_KEY = /^[\x21-\x7e]+$/;

function parse(request: HttpRequestLike, state: RequestState, apiKeyHeader: string | undefined, maxApiKeyLength: number): PresentedCredentials {
  let authScheme: string | undefined;
  let authCredential: string | undefined;
  let authMalformed = false;
  let authMalformedScheme: string | undefined;
  const authorization = request.headers.authorization;
  if (authorization !== undefined) {
    const single = typeof authorization === 'string' && authorization.length <= MAX_AUTHORIZATION_LENGTH && authorizationCountOf(request, state) === 1;
    const match = single ? AUTHORIZATION.exec(authorization) : null;
    if (match) {
      authScheme = (match[1] as string).toLowerCase();
      authCredential = match[2] as string;
    } else {
      authMalformed = true;
      if (single) authMalformedScheme = AUTH_SCHEME.exec(authorization)?.[1]?.toLowerCase();
    }
  }
  let apiKey: string | undefined;
  let apiKeyMalformed = false;
  if (apiKeyHeader !== undefined) {
    const value = request.headers[apiKeyHeader];
    if (value !== undefined) {
      if (typeof value === 'string' && value.length <= maxApiKeyLength && API_KEY.test(value) && countRawHeader(request, apiKeyHeader) === 1) {
        apiKey = value;
      } else {
        apiKeyMalformed = true;
      }
    }
  }
  return { authScheme, authCredential, authMalformed, authMalformedScheme, apiKey, apiKeyMalformed };
}

/**
 * Parses the request's credentials once (strict RFC 9110 / RFC 6750 syntax, a repeated header
 * refused) and caches the result on the request.
 * @internal
 */
export function presentedCredentials(
  request: HttpRequestLike,
  apiKeyHeader: string | undefined,
  maxApiKeyLength: number,
  state: RequestState = requestStateOf(request),
): PresentedCredentials {
  const cached = state.credentials as PresentedCredentials | undefined;
  if (cached) return cached;
  const parsed = parse(request, state, apiKeyHeader, maxApiKeyLength);
  state.credentials = parsed;
  return parsed;
}

/** @internal Cached credentials; only valid after `presentedCredentials` ran for this request. */
export function cachedCredentials(request: HttpRequestLike): PresentedCredentials | undefined {
  return requestStateOf(request).credentials as PresentedCredentials | undefined;
}

/** @internal */
export function authorizationPresence(credentials: PresentedCredentials, scheme: 'bearer' | 'basic'): Presence {
  if (credentials.authScheme === scheme) return Presence.Present;
  if (credentials.authMalformed && (credentials.authMalformedScheme === undefined || credentials.authMalformedScheme === scheme)) return Presence.Malformed;
  return Presence.Absent;
}
