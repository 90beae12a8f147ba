import type { Response } from 'supertest';
import { expect } from 'vitest';
import type { DemoProcess } from './demo-process.js';

/** Longest slice of the demo's output quoted in a failure message. */
const LOG_TAIL = 4000;

interface DemoMatchers<R> {
  /** The response has this status; on failure the message shows the response and the demo's output. */
  toHaveStatus(status: number, demo: DemoProcess): R;
  /** A rejection per the contract: this status, a JSON body carrying it (so never an HTML page, never a 5xx). */
  toBeJsonError(status: number, demo: DemoProcess): R;
  /** The (exited) demo refused to start: a non-zero exit code, `variable` named on stderr, no startup line. */
  toHaveRefusedToStart(variable: string): R;
  /** Awaited: the demo exits within `timeoutMs`, with code 0 or by the signal it was sent. */
  toExitWithin(timeoutMs: number, signal: NodeJS.Signals): Promise<R>;
}

declare module 'vitest' {
  interface Matchers<T> extends DemoMatchers<T> {}
}

function tail(demo: DemoProcess): string {
  const log = demo.describe();
  return log.length > LOG_TAIL ? `…${log.slice(-LOG_TAIL)}` : log;
}

function showResponse(res: Response): string {
  return `HTTP ${res.status}\n${Object.entries(res.headers as Record<string, unknown>)
    .map(([name, value]) => `${name}: ${String(value)}`)
    .join('\n')}\n\n${res.text}`;
}

/** Registers the demo suite's matchers (call once at the top of a spec file). */
export function useDemoMatchers(): void {
  expect.extend({
    toHaveStatus(res: Response, status: number, demo: DemoProcess) {
      return {
        pass: res.status === status,
        message: () => `expected HTTP ${this.isNot ? 'not ' : ''}${status}, got:\n${showResponse(res)}\n\n${tail(demo)}`,
      };
    },

    toBeJsonError(res: Response, status: number, demo: DemoProcess) {
      const contentType = String(res.headers['content-type'] ?? '');
      const body = res.body as { statusCode?: unknown } | undefined;
      const problems = [
        res.status === status ? undefined : `status ${res.status}, expected ${status}`,
        contentType.startsWith('application/json') ? undefined : `content-type ${JSON.stringify(contentType)}, expected application/json`,
        typeof body === 'object' && body !== null && body.statusCode === status ? undefined : `body.statusCode is not ${status}`,
      ].filter((problem) => problem !== undefined);
      return {
        pass: problems.length === 0,
        message: () =>
          this.isNot
            ? `expected anything but a JSON ${status}, got:\n${showResponse(res)}`
            : `expected a JSON ${status}: ${problems.join('; ')}\n${showResponse(res)}\n\n${tail(demo)}`,
      };
    },

    toHaveRefusedToStart(demo: DemoProcess, variable: string) {
      const problems = [
        demo.running ? 'it is still running' : undefined,
        demo.exitCode === 0 ? 'it exited with code 0' : undefined,
        demo.exitCode === null && !demo.running ? 'it was ended by a signal, not by a failed start' : undefined,
        demo.stderr.includes(variable) ? undefined : `stderr does not name ${variable}`,
        demo.stdout.includes('Palisade demo on') ? 'it printed the startup line' : undefined,
      ].filter((problem) => problem !== undefined);
      return {
        pass: problems.length === 0,
        message: () =>
          this.isNot
            ? `expected the demo not to refuse to start over ${variable}`
            : `expected the demo to refuse to start: ${problems.join('; ')}\n${demo.describe()}`,
      };
    },

    async toExitWithin(demo: DemoProcess, timeoutMs: number, signal: NodeJS.Signals) {
      const exit = await demo.exitWithin(timeoutMs);
      const clean = exit !== 'timeout' && (exit.code === 0 || exit.signal === signal);
      const outcome = exit === 'timeout' ? `is still running after ${timeoutMs} ms` : `exited with code ${exit.code}, signal ${exit.signal}`;
      return {
        pass: clean,
        message: () =>
          this.isNot
            ? `expected the demo not to exit cleanly within ${timeoutMs} ms; it ${outcome}`
            : `expected the demo to exit within ${timeoutMs} ms with code 0 or ${signal}; it ${outcome}\n${demo.describe()}`,
      };
    },
  });
}
