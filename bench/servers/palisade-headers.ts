// Stack (h): Palisade's header delivery alone, as an application gets it with
// `PalisadeModule.forRoot({})`: every default security header on every response, through the same
// Express middleware / Fastify onRequest hook as the full stack, and no guard on the route (no
// authentication scheme configured, nothing declared). Compared with `nest-headers` (Nest's own
// `app.useSecurityHeaders()`), it prices Palisade's headers against the framework's.
import { Module } from '@nestjs/common';
import { PalisadeModule } from '@palisade/nest';
import { ReportsController } from './reports.controller.js';
import { adapterFromArgs, runServer, startBenchServer } from './server.bootstrap.js';

@Module({ imports: [PalisadeModule.forRoot({})], controllers: [ReportsController] })
class PalisadeHeadersModule {}

runServer(() => startBenchServer('palisade-headers', PalisadeHeadersModule, adapterFromArgs()));
