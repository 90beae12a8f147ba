import { applyDecorators, Header, HttpCode } from '@nestjs/common';
import { Public } from '../auth/auth.decorator.js';

/**
 * Marks a token endpoint (a login, a refresh, an OAuth2 password grant): public, `200` on success,
 * and never stored by a cache (`Cache-Control: no-store`, `Pragma: no-cache`, RFC 6749 §5.1).
 *
 * @example
 * \@Post('token') \@TokenEndpoint() \@Throttle({ default: { limit: 10, ttl: '1m' } })
 * token(\@Req() request: AuthRequest, \@Res({ passthrough: true }) response: object, \@Body() body: unknown) {
 *   return this.grant.exchange({ request, response, body }, (username, password) => this.users.verify(username, password));
 * }
 */
export function TokenEndpoint(): MethodDecorator {
  return applyDecorators(Public(), HttpCode(200), Header('Cache-Control', 'no-store'), Header('Pragma', 'no-cache'));
}
