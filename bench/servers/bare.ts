// Stack (a): bare Nest. The same route and answer as the other stacks, with no security at all —
// the baseline every ratio is measured against.
import { Controller, Get, Module } from '@nestjs/common';
import { reportsBody } from './bench.constants.js';
import { adapterFromArgs, runServer, startBenchServer } from './server.bootstrap.js';

@Controller('reports')
class ReportsController {
  @Get()
  list(): ReturnType<typeof reportsBody> {
    return reportsBody();
  }
}

@Module({ controllers: [ReportsController] })
class BareModule {}

runServer(() => startBenchServer('bare', BareModule, adapterFromArgs()));
