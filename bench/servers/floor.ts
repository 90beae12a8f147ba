// Stack (e), diagnostic: the floor under any stack that sends Palisade's default headers through
// Nest guards. Bare Nest plus (1) the exact response headers Palisade's memory stack sends on the
// route under test — read from Palisade itself at startup, written where Palisade writes them by
// default (on Express by the first Express middleware, on Fastify from a root `onRequest` hook, one
// `setHeader` each on the Node.js response), a fresh UUID as X-Request-Id, the rate-limit
// headers as the throttler writes them — and (2) three global guards that only read the `Authorization` header. No
// authentication, roles or counting happen: what separates this stack from bare Nest is the cost of
// the headers and of the guard mechanism, and what separates Palisade from it is Palisade's own work.
// BENCH_FLOOR_GUARDS=0 drops the guards (`floor-headers`), BENCH_FLOOR_HEADERS=off the headers
// (`floor-guards`), to tell the two apart. Like Palisade by default (`stableRequestShapes` off), it
// declares none of Express's per-request fields ahead of Express: that opt-in alone speeds Express
// up (the `bare-shaped` stack shows by how much) and would make this the floor of something else.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Injectable, Module, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { SecurityHeadersService } from '@palisade/nest';
import { BENCH_THROTTLE_LIMIT, BENCH_THROTTLE_TTL_MS } from './bench.constants.js';
import { PalisadeBenchModule, palisadeBenchOptions } from './palisade.app.js';
import { ReportsController } from './reports.controller.js';
import { adapterFromArgs, runServer, startBenchServer } from './server.bootstrap.js';

/** A guard that does nothing but what every guard does: get called, read the request, answer. */
@Injectable()
class NoOpGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return context.getArgByIndex<IncomingMessage>(0).headers.authorization !== undefined;
  }
}

const GUARDS = process.env.BENCH_FLOOR_GUARDS === '0' ? 0 : 3;
const HEADERS = process.env.BENCH_FLOOR_HEADERS !== 'off';

@Module({
  controllers: [ReportsController],
  providers: Array.from({ length: GUARDS }, () => ({ provide: APP_GUARD, useClass: NoOpGuard })),
})
class FloorModule {}

/**
 * The headers Palisade's memory stack writes on an authenticated request, in its order: asks a
 * Palisade app (never listening) to write its defaults onto a recording response, then adds the
 * rate-limit headers of the bench's one tier (a fresh window: `r` = limit − 1).
 */
async function palisadeHeaders(): Promise<[string, string][]> {
  const app = await NestFactory.create(PalisadeBenchModule.register(palisadeBenchOptions('memory')), { logger: false });
  await app.init();
  const written: [string, string][] = [];
  const recorder = { setHeader: (name: string, value: string) => written.push([name, value]), removeHeader: () => undefined, headersSent: false };
  const request = { headers: { authorization: 'Bearer x' }, url: '/reports', socket: { remoteAddress: '127.0.0.1' } } as unknown as IncomingMessage;
  app.get(SecurityHeadersService).applyDefaults(request, recorder);
  await app.close();
  const windowS = Math.ceil(BENCH_THROTTLE_TTL_MS / 1000);
  written.push(['RateLimit-Policy', `"default";q=${BENCH_THROTTLE_LIMIT};w=${windowS}`], ['RateLimit', `"default";r=${BENCH_THROTTLE_LIMIT - 1};t=${windowS}`]);
  return written;
}

runServer(async () => {
  const headers = HEADERS ? await palisadeHeaders() : [];
  const write = (_request: IncomingMessage, response: ServerResponse): void => {
    for (const [name, value] of headers) response.setHeader(name, name === 'X-Request-Id' ? randomUUID() : value);
  };
  // As Palisade does on Express: the first middleware of the Express app, ahead of Nest's routes.
  const onExpress = (app: NestExpressApplication): void => {
    // Palisade's default `removeXPoweredBy`: the same header set on the wire.
    app.disable('x-powered-by');
    app.use((request: IncomingMessage, response: ServerResponse, next: () => void) => {
      write(request, response);
      next();
    });
  };
  // As Palisade does on Fastify: from a root onRequest hook, on the Node.js response (reply.raw).
  const onFastify = (app: NestFastifyApplication): void => {
    app
      .getHttpAdapter()
      .getInstance()
      .addHook('onRequest', (_request, reply, done) => {
        for (const [name, value] of headers) reply.raw.setHeader(name, name === 'X-Request-Id' ? randomUUID() : value);
        done();
      });
  };
  await startBenchServer('floor', FloorModule, adapterFromArgs(), { express: onExpress, fastify: onFastify });
});
