// Stack (a): bare Nest. The same route and answer as the other stacks, with no security at all —
// the baseline every ratio is measured against. With BENCH_SHAPES=1 (`bare-shaped`, Express only):
// bare Nest plus only what Palisade's `stableRequestShapes` does, Express's per-request fields
// declared before Express re-parents the request, to tell that effect from Palisade's security work.
import { Module } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { ExpressObjectShapes } from '@palisade/nest';
import { ReportsController } from './reports.controller.js';
import { adapterFromArgs, runServer, startBenchServer } from './server.bootstrap.js';

@Module({ controllers: [ReportsController] })
class BareModule {}

const shaped = process.env.BENCH_SHAPES === '1';

runServer(() =>
  startBenchServer('bare', BareModule, adapterFromArgs(), {
    express: shaped
      ? (app: NestExpressApplication): void => {
          const shapes = new ExpressObjectShapes();
          app.getHttpServer().prependListener('request', (request, response) => shapes.declare(request, response));
        }
      : undefined,
  }),
);
