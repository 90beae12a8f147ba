import { BadRequestException, Body, Controller, Header, HttpCode, Post, Req, Res } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import {
  AuthenticationFailedException,
  AuthFailureLimiter,
  CurrentUser,
  Public,
  Throttle,
  ThrottleBy,
  TokenService,
  type AuthRequest,
  type IssuedTokenPair,
  type Principal,
  type PrincipalInit,
} from '@palisade/nest';
import { DEMO_REALM } from './config.js';
import { UsersService } from './users.service.js';

/** Login attempts a minute per client IP and username. */
export const LOGIN_LIMIT_PER_USERNAME = 10;
/** Login attempts a minute per client IP, whatever the username (a fresh one per request buys nothing). */
export const LOGIN_LIMIT_PER_ADDRESS = 30;

/** The body of `POST /auth/login`. */
interface LoginBody {
  username: string;
  password: string;
}

function parseLogin(body: unknown): LoginBody {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequestException('Expected a JSON object { "username": string, "password": string }');
  }
  const { username, password } = body as Record<string, unknown>;
  if (typeof username !== 'string' || username.length === 0 || username.length > 128) {
    throw new BadRequestException('username must be a string of 1 to 128 characters');
  }
  if (typeof password !== 'string' || password.length === 0 || password.length > 1024) {
    throw new BadRequestException('password must be a string of 1 to 1024 characters');
  }
  return { username, password };
}

/** The token response of login and refresh (RFC 6749 §5.1). */
interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
}

function tokenResponse(pair: IssuedTokenPair): TokenResponse {
  return { access_token: pair.accessToken, token_type: pair.tokenType, expires_in: pair.expiresIn, refresh_token: pair.refreshToken };
}

function parseRefresh(body: unknown): string {
  const token = typeof body === 'object' && body !== null ? (body as Record<string, unknown>).refresh_token : undefined;
  if (typeof token !== 'string' || token.length === 0 || token.length > 512) {
    throw new BadRequestException('Expected a JSON object { "refresh_token": string }');
  }
  return token;
}

/**
 * The challenge of a 401 from login or refresh (RFC 9110 §11.6.1: every 401 carries one): the
 * credential they hand out is a bearer token.
 */
const TOKEN_ENDPOINT_CHALLENGE = `Bearer realm="${DEMO_REALM}"`;

/**
 * Login, refresh and logout. Token responses are never stored by a cache (RFC 6749 §5.1:
 * `Cache-Control: no-store`, and `Pragma: no-cache` for HTTP/1.0 caches).
 */
@Controller('auth')
export class AuthController {
  constructor(
    private readonly users: UsersService,
    private readonly tokens: TokenService,
    private readonly failures: AuthFailureLimiter,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  /** Runs a token endpoint's work; its 401 gets the challenge. */
  private async challengeOn401<T>(response: object, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof AuthenticationFailedException) this.adapterHost.httpAdapter.setHeader(response, 'WWW-Authenticate', TOKEN_ENDPOINT_CHALLENGE);
      throw error;
    }
  }

  /**
   * At most 10 attempts a minute per client IP and username, and 30 per client IP whatever the
   * username. Each attempt reserves a brute-force slot of the IP before the password is checked (429
   * once the IP is blocked, or while its remaining slots are all being verified); a wrong password
   * keeps the slot, so the 10th failure within a minute blocks the IP for 5 minutes.
   */
  @Post('login')
  @Public()
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  @Throttle({ default: { limit: LOGIN_LIMIT_PER_USERNAME, ttl: 60_000 } })
  @ThrottleBy(
    (request) => {
      const body = request.body as { username?: unknown } | undefined;
      return typeof body?.username === 'string' ? body.username : '';
    },
    { perCaller: { limit: LOGIN_LIMIT_PER_ADDRESS, ttl: 60_000 } },
  )
  async login(@Body() body: unknown, @Req() request: AuthRequest, @Res({ passthrough: true }) response: object): Promise<TokenResponse> {
    const { username, password } = parseLogin(body);
    const attempt = await this.failures.reserve(request, response);
    return this.challengeOn401(response, async () => {
      let principal: PrincipalInit | null;
      try {
        principal = await this.users.verify(username, password);
      } catch (error) {
        await attempt.release();
        throw error;
      }
      if (!principal) {
        await this.failures.recordLoginFailure(request, response, username, attempt);
        throw new AuthenticationFailedException('Invalid username or password');
      }
      attempt.succeeded();
      return tokenResponse(await this.tokens.issueTokens(principal, { request, response }));
    });
  }

  /**
   * Rotates a refresh token; a retry within the grace period gets the same pair, a reused one
   * revokes its family. A token-store outage is a 503 with `Retry-After` (the response is passed on).
   */
  @Post('refresh')
  @Public()
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  async refresh(@Body() body: unknown, @Req() request: AuthRequest, @Res({ passthrough: true }) response: object): Promise<TokenResponse> {
    const token = parseRefresh(body);
    return this.challengeOn401(response, async () => tokenResponse(await this.tokens.refresh(token, { request, response })));
  }

  /** Ends the presented access token (and its refresh-token family) on every instance. */
  @Post('logout')
  @HttpCode(204)
  async logout(@CurrentUser() user: Principal, @Req() request: AuthRequest, @Res({ passthrough: true }) response: object): Promise<void> {
    await this.tokens.revoke(user.claims, request, response);
  }
}
