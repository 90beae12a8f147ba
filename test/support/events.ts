import 'reflect-metadata';
import { Injectable, type INestApplication, type LoggerService, type ModuleMetadata } from '@nestjs/common';
import request from 'supertest';
import { expect, vi } from 'vitest';
import {
  PalisadeModule,
  SecurityEventSink,
  type EventsOptions,
  type PalisadeModuleOptions,
  type SecurityEvent,
  type SecurityEventHandler,
  type SecurityEventType,
} from '@palisade/nest';
import { palisadeOptions } from '../../apps/demo/src/app.module.js';
import { AuthController } from '../../apps/demo/src/auth.controller.js';
import { loadConfig } from '../../apps/demo/src/config.js';
import { MeController } from '../../apps/demo/src/me.controller.js';
import { UsersModule } from '../../apps/demo/src/users.module.js';
import { UsersService } from '../../apps/demo/src/users.service.js';
import { bootApp, type AdapterName } from './app.js';

/** The event of `type`, narrowed. */
export type EventOf<T extends SecurityEventType> = Extract<SecurityEvent, { type: T }>;

/**
 * A security event sink as an application registers one: an injectable provider marked
 * `@SecurityEventSink()`, found by Palisade through dependency injection. It keeps every event.
 */
@SecurityEventSink()
@Injectable()
export class CollectingSink implements SecurityEventHandler {
  readonly events: SecurityEvent[] = [];

  handle(event: SecurityEvent): void {
    this.events.push(event);
  }

  /** Forgets what was collected (before each request whose events a test counts). */
  clear(): void {
    this.events.length = 0;
  }

  /** The collected events of `type`. */
  ofType<T extends SecurityEventType>(type: T): EventOf<T>[] {
    return this.events.filter((event): event is EventOf<T> => event.type === type);
  }
}

import { render } from './recording-logger.js';

export { RecordingLogger, render, type LogLine } from './recording-logger.js';

/** What {@link captureProcessOutput} saw written. */
export interface CapturedOutput {
  /** Every chunk written to stdout/stderr and every console call, rendered. */
  readonly text: () => string[];
  /** Removes the spies. */
  readonly restore: () => void;
}

const CONSOLE_METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace', 'dir'] as const;

/**
 * Spies on `process.stdout.write`, `process.stderr.write` and the `console` methods (calls go
 * through unchanged), so a test can scan everything the process printed.
 */
export function captureProcessOutput(): CapturedOutput {
  const streams = [vi.spyOn(process.stdout, 'write'), vi.spyOn(process.stderr, 'write')];
  const consoles = CONSOLE_METHODS.map((method) => vi.spyOn(console, method));
  return {
    text: () => [...streams, ...consoles].flatMap((spy) => spy.mock.calls.map((call) => (call as unknown[]).map(render).join(' '))),
    restore: () => {
      for (const spy of [...streams, ...consoles]) spy.mockRestore();
    },
  };
}

/**
 * Boots a Nest app like `bootApp` (ephemeral loopback port, supertest agent), with `logger` as
 * the application logger from compilation on, so every line Nest or Palisade logs is recorded.
 */
export function bootWithLogger(
  adapter: AdapterName,
  metadata: ModuleMetadata,
  logger: LoggerService,
): Promise<{ app: INestApplication; http: ReturnType<typeof request> }> {
  return bootApp(adapter, metadata, logger);
}

/** A v4 UUID, as Palisade generates request ids. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Asserts `time` is an ISO 8601 timestamp (the exact `toISOString()` form) within `[from, to]`. */
export function expectIsoTimeBetween(time: string, from: number, to: number): void {
  expect(new Date(time).toISOString()).toBe(time);
  const at = Date.parse(time);
  expect(at).toBeGreaterThanOrEqual(from);
  expect(at).toBeLessThanOrEqual(to);
}

/**
 * The demo's login/refresh/logout and /me routes (its `AuthController`, which reports failed logins
 * through `AuthFailureLimiter.recordLoginFailure`) with the demo's own Palisade options built from
 * `env`, plus the `events` options under test, brute-force blocking raised to `authFailuresLimit`
 * (so a flood is not cut short) and a {@link CollectingSink}. `AppModule.register` takes no events
 * options, hence this composition of the demo's parts.
 */
export function demoEventsModule(env: NodeJS.ProcessEnv, events: EventsOptions, authFailuresLimit = 1_000): ModuleMetadata {
  const config = loadConfig(env);
  return {
    imports: [
      UsersModule,
      PalisadeModule.forRootAsync({
        imports: [UsersModule],
        inject: [UsersService],
        useFactory: (users: UsersService): PalisadeModuleOptions => {
          const demo = palisadeOptions(config, users);
          return { ...demo, throttle: { ...demo.throttle!, authFailures: { limit: authFailuresLimit, ttl: '1m' } }, events };
        },
        global: true,
      }),
    ],
    controllers: [AuthController, MeController],
    providers: [CollectingSink],
  };
}
