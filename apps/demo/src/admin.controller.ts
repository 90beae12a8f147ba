import { Controller, Get } from '@nestjs/common';
import { CurrentUser, Roles, type Principal } from '@palisade/nest';

/** Administrators only. */
@Controller('admin')
@Roles('admin')
export class AdminController {
  @Get()
  dashboard(@CurrentUser() user: Principal): { area: 'admin'; user: string } {
    return { area: 'admin', user: user.id };
  }
}
