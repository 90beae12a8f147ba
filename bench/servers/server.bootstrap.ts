import 'reflect-metadata';
import type { DynamicModule, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';

/** The HTTP adapters every stack runs on. */
export type BenchAdapter = 'express' | 'fastify';

/** What a stack adds to the plain Nest bootstrap. */
export interface StackHooks {
  /** Called on the Express app before it listens (e.g. `app.use(helmet())`). */
  express?: (app: NestExpressApplication) => void | Promise<void>;
  /** Called on the Fastify app before it listens (e.g. `await app.register(helmet)`). */
  fastify?: (app: NestFastifyApplication) => void | Promise<void>;
  /** Extra counters reported to the harness with the CPU usage (e.g. Redis commands sent). */
  stats?: () => Record<string, number> | Promise<Record<string, number>>;
  /**
   * Count the requests the HTTP server received (`requestsHandled` in the stats), for counters that
   * must be divided by what the server did rather than by the responses the load generator saw.
   */
  countRequests?: boolean;
  /** Runs after the app is closed (e.g. deleting the stack's Redis keys). */
  cleanup?: () => Promise<void>;
}

/** A request of the harness over the IPC channel. */
interface StatsRequest {
  type: 'stats';
  id: number;
}

/** The line a bench server prints once it listens; the harness parses it. */
export const READY_PREFIX = 'BENCH_READY ';

/** The adapter named by `--adapter <name>` or `BENCH_ADAPTER` (default `express`). */
export function adapterFromArgs(argv: readonly string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): BenchAdapter {
  const flag = argv.indexOf('--adapter');
  const value = flag >= 0 ? argv[flag + 1] : env.BENCH_ADAPTER;
  const adapter = value ?? 'express';
  if (adapter !== 'express' && adapter !== 'fastify') throw new Error(`bench server: adapter is ${JSON.stringify(adapter)}; expected express or fastify.`);
  return adapter;
}

/**
 * Boots `module` on `adapter` the way the Nest docs do (`NestFactory.create` with the default
 * options of each adapter), listens on 127.0.0.1 on a free port, prints `BENCH_READY {"port":…}`,
 * answers the harness's `stats` requests over IPC (CPU time, memory, the stack's own counters) and
 * exits on SIGTERM or when the harness goes away.
 */
export async function startBenchServer(name: string, module: Type | DynamicModule, adapter: BenchAdapter, hooks: StackHooks = {}): Promise<void> {
  const logger = ['error', 'warn'] as ('error' | 'warn')[];
  let app: NestExpressApplication | NestFastifyApplication;
  if (adapter === 'fastify') {
    const fastify = await NestFactory.create<NestFastifyApplication>(module, new FastifyAdapter(), { logger });
    await hooks.fastify?.(fastify);
    app = fastify;
  } else {
    const express = await NestFactory.create<NestExpressApplication>(module, new ExpressAdapter(), { logger });
    await hooks.express?.(express);
    app = express;
  }
  let requestsHandled = 0;
  if (hooks.countRequests) app.getHttpServer().on('request', () => requestsHandled++);
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;

  let closing = false;
  const shutdown = async (code: number): Promise<void> => {
    if (closing) return;
    closing = true;
    const timer = setTimeout(() => process.exit(code), 5_000);
    timer.unref();
    try {
      await app.close();
      await hooks.cleanup?.();
    } finally {
      process.exit(code);
    }
  };
  process.once('SIGTERM', () => void shutdown(0));
  process.once('SIGINT', () => void shutdown(0));
  // The harness died or closed the channel: never outlive it.
  process.once('disconnect', () => void shutdown(0));
  process.on('message', (message: StatsRequest) => {
    if (message?.type !== 'stats') return;
    void (async () => {
      const cpu = process.cpuUsage();
      const memory = process.memoryUsage();
      const extra = { ...(await hooks.stats?.()), ...(hooks.countRequests ? { requestsHandled } : {}) };
      process.send?.({
        type: 'stats',
        id: message.id,
        cpuUserUs: cpu.user,
        cpuSystemUs: cpu.system,
        rssBytes: memory.rss,
        heapUsedBytes: memory.heapUsed,
        extra,
      });
    })();
  });
  process.stdout.write(`${READY_PREFIX}${JSON.stringify({ stack: name, adapter, port, pid: process.pid })}\n`);
}

/** Runs a server's `main`, printing a failure and exiting 1 instead of leaving a half-started process. */
export function runServer(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
