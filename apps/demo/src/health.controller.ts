import { Controller, Get } from '@nestjs/common';
import { Public } from '@palisade/nest';

/** Liveness: anyone, credentials ignored. */
@Controller('health')
@Public()
export class HealthController {
  @Get()
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }
}
