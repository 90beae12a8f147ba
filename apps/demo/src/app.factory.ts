import { Logger, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { bodyLimit, installEarlyResponses, strictCors } from '@palisade/nest';
import { ApiDocument } from './api-document.js';
import { AppModule } from './app.module.js';
import type { DemoConfig } from './config.js';

/** Largest accepted request body; larger ones get 413. */
const BODY_LIMIT = 64 * 1024;

/** CORS_ORIGINS: only these origins may read the API from a browser (none when unset). */
function enableCors(app: INestApplication, config: DemoConfig): void {
  if (config.corsOrigins.length > 0) app.enableCors(strictCors({ origins: config.corsOrigins }));
}

/** Creates (without listening) the demo app on the configured adapter. */
export async function createDemoApp(config: DemoConfig, options: { logger?: false } = {}): Promise<INestApplication> {
  const logger = options.logger === false ? false : undefined;
  if (config.jwtSecretIsDefault) {
    new Logger('Demo').warn('JWT_SECRET is not set: using the documented development secret. Never do this in production.');
  }
  let app: INestApplication;
  if (config.adapter === 'fastify') {
    const fastify = await NestFactory.create<NestFastifyApplication>(
      AppModule.register(config),
      new FastifyAdapter({ bodyLimit: BODY_LIMIT }),
      // Fastify's own parsers (JSON, text), and form bodies kept raw (a Buffer): only the token
      // endpoint reads them, and it refuses cross-site posts. No route takes a form as an object,
      // which a cross-site HTML form could post without a preflight.
      { bodyParser: false, ...(logger === undefined ? {} : { logger }) },
    );
    fastify.useBodyParser('application/x-www-form-urlencoded', { bodyLimit: BODY_LIMIT }, async (_request: unknown, body: Buffer) => body);
    enableCors(fastify, config);
    app = fastify;
  } else {
    const express = await NestFactory.create<NestExpressApplication>(AppModule.register(config), new ExpressAdapter(), {
      bodyParser: false,
      ...(logger === undefined ? {} : { logger }),
    });
    express.disable('x-powered-by');
    // CORS first: Express middleware runs in order, and a body the parser refuses (400, 413, 415)
    // must still carry the CORS headers, or the browser hides the error from the page.
    enableCors(express, config);
    // A declared body over the limit is answered 413 at once (the parser would read it all first).
    express.use(bodyLimit({ limit: BODY_LIMIT }));
    express.useBodyParser('json', { limit: BODY_LIMIT });
    // Form bodies kept raw (a Buffer), as on Fastify: only the token endpoint reads them.
    express.useBodyParser('raw', { type: 'application/x-www-form-urlencoded', limit: BODY_LIMIT });
    app = express;
  }
  // The contract's 431 / 400 / 408 / 417 that Node.js answers before any framework code: JSON, with
  // the security headers.
  installEarlyResponses(app);
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  app.get(ApiDocument).setup(app);
  await app.init();
  if (config.adapter === 'fastify') await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  return app;
}
