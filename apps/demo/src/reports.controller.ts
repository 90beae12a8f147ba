import { Controller, Get } from '@nestjs/common';
import { Scopes } from '@palisade/nest';

/** Reports: needs the `reports:read` scope. */
@Controller('reports')
export class ReportsController {
  @Get()
  @Scopes('reports:read')
  list(): { reports: { id: string; title: string }[] } {
    return { reports: [{ id: 'r-1', title: 'Quarterly access review' }] };
  }
}
