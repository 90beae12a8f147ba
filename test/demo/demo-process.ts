import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { REPO_ROOT } from '../support/dist-lock.js';

/** The built demo's entry point (`npm run build` produces it). */
export const DEMO_MAIN = join(REPO_ROOT, 'apps', 'demo', 'dist', 'main.js');

/** The line the demo prints once it listens, e.g. `Palisade demo on http://127.0.0.1:3000 (fastify)`. */
const READY_LINE = /Palisade demo on (http:\/\/127\.0\.0\.1:(\d+)) \((\w+)\)/;

/** Every variable of the demo's contract: cleared from the inherited environment so each test sets its own. */
const DEMO_VARIABLES = [
  'PORT',
  'HTTP_ADAPTER',
  'JWT_SECRET',
  'JWT_ISSUER',
  'JWT_AUDIENCE',
  'REDIS_URL',
  'REDIS_CLUSTER_NODES',
  'REDIS_SENTINELS',
  'REDIS_SENTINEL_NAME',
  'TRUST_PROXY',
  'DEMO_API_KEY',
  'THROTTLE_LIMIT',
  'THROTTLE_TTL',
  'CORS_ORIGINS',
  'HTTPS_ENFORCE',
  'HTTPS_HOSTS',
  'HTTPS_PORT',
  'JWKS_URI',
] as const;

/** How a demo process ended. */
export interface DemoExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A demo started as a real process (`node apps/demo/dist/main.js`). */
export class DemoProcess {
  private out = '';
  private err = '';
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<DemoExit>;
  private exit: DemoExit | undefined;

  private constructor(private readonly child: ChildProcessByStdio<null, Readable, Readable>) {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (this.out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (this.err += chunk));
    this.exited = new Promise((resolve) => {
      child.on('close', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
      // A process that could not be spawned at all still "exits", so nothing waits forever.
      child.on('error', (error) => {
        this.err += `\n[test] spawn failed: ${error.message}\n`;
        this.exit ??= { code: null, signal: null };
        resolve(this.exit);
      });
    });
  }

  /** Spawns the demo with exactly the given contract variables (NODE_ENV defaults to unset). */
  static spawn(env: Record<string, string>): DemoProcess {
    const base: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
    for (const name of DEMO_VARIABLES) delete base[name];
    delete base.NODE_ENV;
    delete base.NODE_OPTIONS;
    const child = spawn(process.execPath, [DEMO_MAIN], { cwd: REPO_ROOT, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    return new DemoProcess(child);
  }

  get stdout(): string {
    return this.out;
  }

  get stderr(): string {
    return this.err;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** The exit code once exited (`null` when a signal ended it); `undefined` while running. */
  get exitCode(): number | null | undefined {
    return this.exit?.code;
  }

  /** The process's output so far, for assertion messages. */
  describe(): string {
    const state = this.exit === undefined ? 'running' : `exited (code ${this.exit.code}, signal ${this.exit.signal})`;
    return `demo pid ${this.child.pid ?? '?'}, ${state}\n--- stdout ---\n${this.out.trim()}\n--- stderr ---\n${this.err.trim()}`;
  }

  /**
   * Waits for the startup line and returns the base URL it names; rejects with the output when the
   * process exits first or prints nothing within `timeoutMs`.
   */
  ready(timeoutMs = 20_000): Promise<{ url: string; port: number; adapter: string }> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const match = READY_LINE.exec(this.out);
        if (!match) return false;
        finish();
        resolve({ url: match[1]!, port: Number(match[2]), adapter: match[3]! });
        return true;
      };
      const onData = (): void => void check();
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`The demo printed no startup line within ${timeoutMs} ms.\n${this.describe()}`));
      }, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        this.child.stdout.off('data', onData);
      };
      if (check()) return;
      this.child.stdout.on('data', onData);
      void this.exited.then(() => {
        if (check()) return;
        finish();
        reject(new Error(`The demo exited before listening.\n${this.describe()}`));
      });
    });
  }

  /** Sends a signal (no-op once the process is gone). */
  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /** Resolves with the exit, or with `'timeout'` if the process is still running after `timeoutMs`. */
  async exitWithin(timeoutMs: number): Promise<DemoExit | 'timeout'> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops the process for good: SIGKILL, then waits for it to be reaped. */
  async kill(): Promise<void> {
    this.signal('SIGKILL');
    await this.exited;
  }
}
