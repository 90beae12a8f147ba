import { Controller, Get, Injectable, Param } from '@nestjs/common';
import { Policy, type PolicyContext, type PolicyHandler } from '@palisade/nest';

/** A user may read only their own profile; administrators may read any. */
@Injectable()
export class OwnProfilePolicy implements PolicyHandler {
  can({ principal, request }: PolicyContext): boolean {
    return principal.roles.includes('admin') || request.params?.id === principal.id;
  }
}

/** Profiles: an ownership policy in action. */
@Controller('users')
export class ProfilesController {
  @Get(':id/profile')
  @Policy(OwnProfilePolicy)
  profile(@Param('id') id: string): { id: string; profile: string } {
    return { id, profile: `Profile of ${id}` };
  }
}
