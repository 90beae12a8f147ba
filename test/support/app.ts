import 'reflect-metadata';
import type { INestApplication, LoggerService, ModuleMetadata } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';

/** The two HTTP adapters every e2e suite runs on. */
export const ADAPTERS = ['express', 'fastify'] as const;
export type AdapterName = (typeof ADAPTERS)[number];

/** Configures an app between its creation and `init()` (e.g. `app.useWebSocketAdapter(...)`, which must precede `init()`). */
export type BeforeInit = (app: INestApplication) => void | Promise<void>;

/**
 * Boots a real Nest app from `metadata` on the given adapter, listening on an ephemeral loopback
 * port, and returns it with a supertest agent bound to it. Silent unless a `logger` is given (it
 * then records everything, from compilation on). `beforeInit` runs on the app before `init()` (a WebSocket adapter, `app.useGlobalGuards(...)`,
 * `app.connectMicroservice(...)`).
 */
export async function bootApp(
  adapter: AdapterName,
  metadata: ModuleMetadata,
  logger: LoggerService | false = false,
  beforeInit?: BeforeInit,
): Promise<{ app: INestApplication; http: ReturnType<typeof request> }> {
  const builder = Test.createTestingModule(metadata);
  const moduleRef = await (logger === false ? builder : builder.setLogger(logger)).compile();
  let app: INestApplication;
  if (adapter === 'fastify') {
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger });
  } else {
    const express = moduleRef.createNestApplication<NestExpressApplication>(new ExpressAdapter(), { logger });
    express.disable('x-powered-by');
    app = express;
  }
  await beforeInit?.(app);
  await app.init();
  if (adapter === 'fastify') await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  await app.listen(0, '127.0.0.1');
  return { app, http: request(app.getHttpServer()) };
}
