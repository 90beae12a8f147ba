import { BadRequestException, Body, Controller, HttpCode, Post } from '@nestjs/common';
import { AuthenticationFailedException, Public, TokenService } from '@palisade/nest';
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
  ) {}

  @Post('login')
  @Public()
  @HttpCode(200)
  async login(@Body() body: unknown): Promise<{ access_token: string; token_type: 'Bearer'; expires_in: number }> {
    const { username, password } = parseLogin(body);
    const principal = await this.users.verify(username, password);
    if (!principal) throw new AuthenticationFailedException('Invalid username or password');
    const issued = this.tokens.issueAccessToken(principal);
    return { access_token: issued.accessToken, token_type: issued.tokenType, expires_in: issued.expiresIn };
  }
}
