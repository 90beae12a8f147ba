import { Body, Controller, Post, Req, Res } from '@nestjs/common';
import { PasswordGrant, Throttle, ThrottleBy, TokenEndpoint, type AuthRequest, type TokenEndpointResponse } from '@palisade/nest';
import { LOGIN_LIMIT_PER_ADDRESS, LOGIN_LIMIT_PER_USERNAME } from './auth.controller.js';
import { UsersService } from './users.service.js';

/** The username of a form body (raw `Buffer`, as the demo parses forms), for the per-username tier. */
function formUsername(request: AuthRequest): string {
  const body = request.body;
  const text = Buffer.isBuffer(body) ? body.toString('utf8') : typeof body === 'string' ? body : '';
  return new URLSearchParams(text).get('username') ?? '';
}

/**
 * `POST /auth/token`: the OAuth2 password grant (RFC 6749 §4.3), with the same limits as login (10
 * attempts a minute per client IP and username, 30 per client IP; failures count against the IP). Palisade's
 * `PasswordGrant` does the protocol, the brute-force accounting and the cross-site refusal; the
 * demo writes only the password check.
 */
@Controller('auth')
export class TokenController {
  constructor(
    private readonly grant: PasswordGrant,
    private readonly users: UsersService,
  ) {}

  @Post('token')
  @TokenEndpoint()
  @Throttle({ default: { limit: LOGIN_LIMIT_PER_USERNAME, ttl: 60_000 } })
  @ThrottleBy(formUsername, { perCaller: { limit: LOGIN_LIMIT_PER_ADDRESS, ttl: 60_000 } })
  token(@Req() request: AuthRequest, @Res({ passthrough: true }) response: object, @Body() body: unknown): Promise<TokenEndpointResponse> {
    return this.grant.exchange({ request, response, body }, (username, password) => this.users.verify(username, password));
  }
}
