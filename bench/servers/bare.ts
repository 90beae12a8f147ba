// Stack (a): bare Nest. The same route and answer as the other stacks, with no security at all —
// the baseline every ratio is measured against. With BENCH_SHAPES=1 (`bare-shaped`, Express only):
// bare Nest plus only what Palisade's `stableRequestShapes` does, Express's per-request fields
// declared before Express re-parents the request, to tell that effect from Palisade's security work.
// With BENCH_NEST_HEADERS=1 (`nest-headers`): bare Nest plus Nest's own `app.useSecurityHeaders()`
// (helmet's header set through the framework's security hook), the yardstick of header delivery.
import { Module } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { ExpressObjectShapes } from '@palisade/nest';
import { ReportsController } from './reports.controller.js';
import { adapterFromArgs, runServer, startBenchServer } from './server.bootstrap.js';

@Module({ controllers: [ReportsController] })
class BareModule {}

const shaped = process.env.BENCH_SHAPES === '1';
const nestHeaders = process.env.BENCH_NEST_HEADERS === '1';

runServer(() =>
  startBenchServer(nestHeaders ? 'nest-headers' : shaped ? 'bare-shaped' : 'bare', BareModule, adapterFromArgs(), {
    express: (app: NestExpressApplication): void => {
      if (nestHeaders) app.useSecurityHeaders();
      if (shaped) {
        const shapes = new ExpressObjectShapes();
        app.getHttpServer().prependListener('request', (request, response) => shapes.declare(request, response));
      }
    },
    fastify: nestHeaders
      ? (app): void => {
          app.useSecurityHeaders();
        }
      : undefined,
  }),
);
