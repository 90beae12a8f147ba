import { BadRequestException, Body, Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import { AuthenticationFailedException, AuthFailureLimiter, Public, Throttle, ThrottleBy, TokenService, type AuthRequest } from '@palisade/nest';
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

/** Login: exchanges a seeded user's password for an access token. */
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
  async login(
    @Body() body: unknown,
    @Req() request: AuthRequest,
    @Res({ passthrough: true }) response: object,
  ): Promise<{ access_token: string; token_type: 'Bearer'; expires_in: number }> {
    const { username, password } = parseLogin(body);
    await this.failures.assertAllowed(request, response);
    const principal = await this.users.verify(username, password);
    if (!principal) {
      await this.failures.recordFailure(request, response);
      throw new AuthenticationFailedException('Invalid username or password');
    }
    const issued = this.tokens.issueAccessToken(principal);
    return { access_token: issued.accessToken, token_type: issued.tokenType, expires_in: issued.expiresIn };
  }
}
