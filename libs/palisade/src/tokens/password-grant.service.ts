import { ForbiddenException, Inject, Injectable } from '@nestjs/common';
import type { HttpRequestLike } from '../common/http-context.js';
import { TOKENS_OPTIONS } from './tokens.constants.js';
import type { NormalizedTokensOptions } from './tokens-options.normalizer.js';
import type { PrincipalInit } from '../auth/principal.interface.js';
import { AuthFailureLimiter } from '../throttle/auth-failure.limiter.js';
import { isCrossOriginRequest } from '../transport/cross-origin.js';
import { OAuthErrorException } from './oauth-error.exception.js';
import { TokenService } from './token.service.js';

/** The successful answer of a token endpoint (RFC 6749 §5.1). */
export interface TokenEndpointResponse {
  access_token: string;
  token_type: 'Bearer';
  /** Lifetime of the access token in seconds. */
  expires_in: number;
  /** Present when `tokens` is configured (refresh with rotation). */
  refresh_token?: string;
  /** The granted scopes, space-separated, when any. */
  scope?: string;
}

/** Checks a username and password; returns the principal, or `null` for wrong credentials. */
export type PasswordVerifier = (username: string, password: string, request: HttpRequestLike) => PrincipalInit | null | Promise<PrincipalInit | null>;

/** One request to the token endpoint, as the controller receives it. */
export interface PasswordGrantRequest {
  /** The HTTP request (`@Req()`). */
  request: HttpRequestLike;
  /** The response (`@Res({ passthrough: true })`), for `Retry-After` on a 429 or 503. */
  response: object;
  /**
   * The request body: a `Buffer` or string of `application/x-www-form-urlencoded` (Nest's raw body
   * parser), or the object of a urlencoded parser.
   */
  body: unknown;
}

/** Options of {@link PasswordGrant.exchange}. */
export interface PasswordGrantOptions {
  /**
   * Origins (`https://app.example.com`) whose pages may post to the endpoint from a browser
   * although they are cross-origin. Default: none — a form on another site is refused (403).
   */
  trustedOrigins?: readonly string[];
}

const FORM = /^application\/x-www-form-urlencoded\s*(;|$)/i;
const LIMITS: Readonly<Record<string, number>> = { grant_type: 64, username: 128, password: 1024, scope: 1024 };
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

function invalidRequest(description: string): OAuthErrorException {
  return new OAuthErrorException('invalid_request', description);
}

/** The form's parameters; each at most once (RFC 6749 §3.2), each a bounded string. */
function formParameters(request: HttpRequestLike, body: unknown): Map<string, string> {
  const type = request.headers['content-type'];
  if (typeof type !== 'string' || !FORM.test(type)) throw invalidRequest('The request body must be application/x-www-form-urlencoded');
  const parameters = new Map<string, string>();
  const add = (name: string, value: unknown): void => {
    if (typeof value !== 'string') throw invalidRequest(`The parameter ${name} must be a string`);
    if (parameters.has(name)) throw invalidRequest(`The parameter ${name} is repeated`);
    parameters.set(name, value);
  };
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    for (const [name, value] of new URLSearchParams(typeof body === 'string' ? body : body.toString('utf8'))) add(name, value);
  } else if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
    // A parser that collects a repeated parameter into an array (Fastify's form parser does).
    for (const [name, value] of Object.entries(body)) {
      if (Array.isArray(value)) throw invalidRequest(`The parameter ${name} is repeated`);
      add(name, value);
    }
  } else {
    throw invalidRequest('The request body must be application/x-www-form-urlencoded');
  }
  for (const [name, limit] of Object.entries(LIMITS)) {
    const value = parameters.get(name);
    if (value !== undefined && value.length > limit) throw invalidRequest(`The parameter ${name} is longer than ${limit} characters`);
  }
  return parameters;
}

function required(parameters: Map<string, string>, name: string): string {
  const value = parameters.get(name);
  if (value === undefined || value.length === 0) throw invalidRequest(`The parameter ${name} is missing`);
  return value;
}

/**
 * The OAuth2 resource owner password grant (RFC 6749 §4.3) as a building block: your password check
 * is the only code to write. It
 * - refuses cross-site browser posts (403: a form on another site cannot log a victim in), with the
 *   rules of Nest's `enableCsrfProtection()`;
 * - parses the form (`grant_type=password&username=…&password=…[&scope=…]`), each parameter at
 *   most once, and answers RFC 6749 §5.2 errors (`invalid_request`, `unsupported_grant_type`,
 *   `invalid_grant`, `invalid_scope`: 400);
 * - counts failed passwords against the client (brute-force protection, `throttle.authFailures`),
 *   reserving the attempt before the password is checked: a blocked client gets 429 with
 *   `Retry-After`, and parallel guesses cannot outrun the count;
 * - issues the access token (and a refresh token when `tokens` is configured) with the granted
 *   scopes: those requested, all of which the principal must hold, else all the principal holds.
 *
 * Put it behind `@TokenEndpoint()` (public, `Cache-Control: no-store`) and a `@Throttle`.
 *
 * @example
 * \@Post('token') \@TokenEndpoint() \@Throttle({ default: { limit: 10, ttl: '1m' } })
 * token(\@Req() request: AuthRequest, \@Res({ passthrough: true }) response: object, \@Body() body: unknown) {
 *   return this.grant.exchange({ request, response, body }, (username, password) => this.users.verify(username, password));
 * }
 */
@Injectable()
export class PasswordGrant {
  private readonly trusted = new WeakMap<readonly string[], ReadonlySet<string>>();

  constructor(
    private readonly tokens: TokenService,
    private readonly limiter: AuthFailureLimiter,
    @Inject(TOKENS_OPTIONS) private readonly lifecycle: NormalizedTokensOptions | undefined,
  ) {}

  /** Serves one token request; resolves with the token response or throws the error response. */
  async exchange(
    { request, response, body }: PasswordGrantRequest,
    verify: PasswordVerifier,
    options: PasswordGrantOptions = {},
  ): Promise<TokenEndpointResponse> {
    const method = (request.method as string | undefined) ?? (request.raw?.method as string | undefined) ?? 'POST';
    if (isCrossOriginRequest(request, method, this.trustedOrigins(options.trustedOrigins))) {
      throw new ForbiddenException({ statusCode: 403, error: 'Forbidden', message: 'Cross-site requests to the token endpoint are refused' });
    }
    const parameters = formParameters(request, body);
    const grantType = required(parameters, 'grant_type');
    if (grantType !== 'password') throw new OAuthErrorException('unsupported_grant_type', 'Only grant_type=password is supported here');
    const username = required(parameters, 'username');
    const password = required(parameters, 'password');
    const requested = parameters
      .get('scope')
      ?.split(' ')
      .filter((s) => s.length > 0);
    if (requested?.some((scope) => !SCOPE_TOKEN.test(scope))) throw new OAuthErrorException('invalid_scope', 'The requested scope is malformed');

    // A brute-force slot is reserved before the password is checked (429 once the client is
    // blocked, or while its remaining slots are all being verified): parallel guesses cannot
    // outrun the count. A wrong password keeps the slot; a right one gives it back.
    const attempt = await this.limiter.reserve(request, response);
    let principal: PrincipalInit | null;
    try {
      principal = await verify(username, password, request);
    } catch (error) {
      await attempt.release();
      throw error;
    }
    if (!principal) {
      await this.limiter.recordLoginFailure(request, response, username, attempt);
      throw new OAuthErrorException('invalid_grant', 'Invalid username or password');
    }
    attempt.succeeded();
    const held = principal.scopes ?? [];
    if (requested?.some((scope) => !held.includes(scope)))
      throw new OAuthErrorException('invalid_scope', 'The requested scope exceeds what the user may be granted');
    const scopes = requested && requested.length > 0 ? [...new Set(requested)] : [...held];
    const granted: PrincipalInit = { ...principal, scopes };
    const scope = scopes.length > 0 ? { scope: scopes.join(' ') } : {};
    if (this.lifecycle) {
      const pair = await this.tokens.issueTokens(granted, { request, response });
      return { access_token: pair.accessToken, token_type: pair.tokenType, expires_in: pair.expiresIn, refresh_token: pair.refreshToken, ...scope };
    }
    const token = this.tokens.issueAccessToken(granted, { request });
    return { access_token: token.accessToken, token_type: token.tokenType, expires_in: token.expiresIn, ...scope };
  }

  /** The trusted origins as browsers serialise them, computed once per list. */
  private trustedOrigins(list: readonly string[] | undefined): ReadonlySet<string> {
    if (!list) return EMPTY;
    let set = this.trusted.get(list);
    if (!set) {
      set = new Set(
        list.map((origin) => {
          let url: URL;
          try {
            url = new URL(origin);
          } catch {
            throw new Error(`PasswordGrant: trustedOrigins contains ${JSON.stringify(origin)}; expected scheme://host[:port], e.g. 'https://app.example.com'.`);
          }
          return `${url.protocol}//${url.host}`;
        }),
      );
      this.trusted.set(list, set);
    }
    return set;
  }
}

const EMPTY: ReadonlySet<string> = new Set();
