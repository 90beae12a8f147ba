/**
 * A Nest logger that records instead of printing, for tests that check what was logged. Standalone
 * (no app imports), so unit specs can use it too.
 */
import { inspect } from 'node:util';
import type { LoggerService } from '@nestjs/common';

/** One call to a logger method, its arguments rendered as strings. */
export interface LogLine {
  level: 'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal';
  /** The first argument (the message). */
  message: string;
  /** The last string argument when there is more than one (Nest passes the context last). */
  context: string | undefined;
  /** Every argument, rendered. */
  args: string[];
}

/** Renders anything a logger or a stream may receive as text (errors with their stack). */
export function render(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  if (value instanceof Error) return `${value.name}: ${value.message}\n${value.stack ?? ''}`;
  try {
    const json = JSON.stringify(value);
    if (typeof json === 'string') return json;
  } catch {
    // circular or otherwise not JSON: fall through
  }
  return inspect(value, { depth: 8 });
}

/** A Nest `LoggerService` that records every call (all levels) instead of printing it. */
export class RecordingLogger implements LoggerService {
  readonly lines: LogLine[] = [];

  log(message: unknown, ...rest: unknown[]): void {
    this.record('log', message, rest);
  }

  error(message: unknown, ...rest: unknown[]): void {
    this.record('error', message, rest);
  }

  warn(message: unknown, ...rest: unknown[]): void {
    this.record('warn', message, rest);
  }

  debug(message: unknown, ...rest: unknown[]): void {
    this.record('debug', message, rest);
  }

  verbose(message: unknown, ...rest: unknown[]): void {
    this.record('verbose', message, rest);
  }

  fatal(message: unknown, ...rest: unknown[]): void {
    this.record('fatal', message, rest);
  }

  /** Lines logged with `context` (e.g. `PalisadeSecurity`). */
  linesOf(context: string): LogLine[] {
    return this.lines.filter((line) => line.context === context);
  }

  private record(level: LogLine['level'], message: unknown, rest: unknown[]): void {
    const last = rest.at(-1);
    this.lines.push({ level, message: render(message), context: typeof last === 'string' ? last : undefined, args: [message, ...rest].map(render) });
  }
}
