import { Controller, Get } from '@nestjs/common';
import { Auth, CurrentUser, type Principal } from '@palisade/nest';

/** Who am I: any scheme. */
@Controller('me')
@Auth('jwt', 'api-key', 'basic')
export class MeController {
  @Get()
  me(@CurrentUser() user: Principal): { id: string; scheme: string; roles: readonly string[]; scopes: readonly string[] } {
    return { id: user.id, scheme: user.scheme, roles: user.roles, scopes: user.scopes };
  }
}
