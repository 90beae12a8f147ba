import { Controller, Get } from '@nestjs/common';
import { reportsBody } from './bench.constants.js';

/** The route under test with nothing on it (bare Nest and the floor stacks). */
@Controller('reports')
export class ReportsController {
  @Get()
  list(): ReturnType<typeof reportsBody> {
    return reportsBody();
  }
}
