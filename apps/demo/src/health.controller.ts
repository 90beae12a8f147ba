import { Controller, Get } from '@nestjs/common';
import { Public, SkipThrottle } from '@palisade/nest';

/** Liveness: anyone, never throttled, credentials ignored. */
@Controller('health')
@Public()
@SkipThrottle()
export class HealthController {
  @Get()
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }
}
