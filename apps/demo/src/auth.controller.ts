import { BadRequestException, Body, Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
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
} from '@palisade/nest';
import { UsersService } from './users.service.js';

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

/** Login, refresh and logout. */
@Controller('auth')
export class AuthController {
  constructor(
    private readonly users: UsersService,
    private readonly tokens: TokenService,
    private readonly failures: AuthFailureLimiter,
  ) {}

  /** At most 10 attempts a minute per client IP and username; failures also count against the IP. */
  @Post('login')
  @Public()
  @HttpCode(200)
  @Throttle({ default: { limit: 10, ttl: 60_000 } })
  @ThrottleBy((request) => {
    const body = request.body as { username?: unknown } | undefined;
    return typeof body?.username === 'string' ? body.username : '';
  })
  async login(@Body() body: unknown, @Req() request: AuthRequest, @Res({ passthrough: true }) response: object): Promise<TokenResponse> {
    const { username, password } = parseLogin(body);
    await this.failures.assertAllowed(request, response);
    const principal = await this.users.verify(username, password);
    if (!principal) {
      await this.failures.recordLoginFailure(request, response, username);
      throw new AuthenticationFailedException('Invalid username or password');
    }
    return tokenResponse(await this.tokens.issueTokens(principal));
  }

  /** Rotates a refresh token; a reused one revokes its family. */
  @Post('refresh')
  @Public()
  @HttpCode(200)
  async refresh(@Body() body: unknown, @Req() request: AuthRequest): Promise<TokenResponse> {
    return tokenResponse(await this.tokens.refresh(parseRefresh(body), { request }));
  }

  /** Ends the presented access token (and its refresh-token family) on every instance. */
  @Post('logout')
  @HttpCode(204)
  async logout(@CurrentUser() user: Principal, @Req() request: AuthRequest): Promise<void> {
    await this.tokens.revoke(user.claims, request);
  }
}
