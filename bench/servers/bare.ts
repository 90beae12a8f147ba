// Stack (a): bare Nest. The same route and answer as the other stacks, with no security at all —
// the baseline every ratio is measured against.
import { Module } from '@nestjs/common';
import { ReportsController } from './reports.controller.js';
import { adapterFromArgs, runServer, startBenchServer } from './server.bootstrap.js';

@Module({ controllers: [ReportsController] })
class BareModule {}

runServer(() => startBenchServer('bare', BareModule, adapterFromArgs()));
