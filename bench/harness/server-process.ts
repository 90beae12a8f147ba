import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { BenchAdapter } from '../servers/server.bootstrap.js';

/** The line a bench server prints once it listens (see `servers/server.bootstrap.ts`). */
const READY_LINE = /^BENCH_READY (\{.*\})$/m;

/** What a server reports over IPC. */
export interface ServerStats {
  cpuUserUs: number;
  cpuSystemUs: number;
  rssBytes: number;
  heapUsedBytes: number;
  extra: Record<string, number>;
}

let clockTicks: number | undefined;

/** Clock ticks per second of /proc/<pid>/stat (`getconf CLK_TCK`, 100 on every common Linux). */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** User + system CPU time of `pid` in µs from /proc (works while the process is stopped); undefined off Linux. */
export function procCpuUs(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Fields after the command name (which may hold spaces), starting with field 3 (state).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return ((utime + stime) * 1_000_000) / ticksPerSecond();
}

/** One stack on one adapter, running as its own Node process on 127.0.0.1. */
export class ServerProcess {
  private out = '';
  private err = '';
  private nextId = 1;
  private readonly pending = new Map<number, (stats: ServerStats) => void>();
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exited: Promise<void>;
  private paused = false;
  port = 0;

  private constructor(
    readonly stack: string,
    readonly adapter: BenchAdapter,
    private readonly child: ChildProcess,
  ) {
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (this.out = (this.out + chunk).slice(-20_000)));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (this.err = (this.err + chunk).slice(-20_000)));
    child.on('message', (message: { type?: string; id?: number } & ServerStats) => {
      if (message?.type !== 'stats' || message.id === undefined) return;
      const resolve = this.pending.get(message.id);
      this.pending.delete(message.id);
      resolve?.(message);
    });
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve();
      });
      child.on('error', (error) => {
        this.err += `\n[bench] spawn failed: ${error.message}\n`;
        this.exitInfo ??= { code: null, signal: null };
        resolve();
      });
    });
  }

  /** Starts `node <entry> --adapter <adapter>` with `env` added to a clean environment. */
  static spawn(stack: string, adapter: BenchAdapter, entry: string, env: Record<string, string>): ServerProcess {
    const base: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'production', BENCH_ADAPTER: adapter };
    delete base.NODE_OPTIONS;
    const child = spawn(process.execPath, [entry, '--adapter', adapter], { env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    return new ServerProcess(stack, adapter, child);
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** The process's output, for error messages. */
  describe(): string {
    const state = this.exitInfo === undefined ? 'running' : `exited (code ${this.exitInfo.code}, signal ${this.exitInfo.signal})`;
    return `${this.stack}/${this.adapter} (pid ${this.pid}, ${state})\n--- stdout ---\n${this.out.trim()}\n--- stderr ---\n${this.err.trim()}`;
  }

  /** Resolves with the port once the server prints its ready line; rejects with its output otherwise. */
  async ready(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = READY_LINE.exec(this.out);
      if (match) {
        this.port = (JSON.parse(match[1]!) as { port: number }).port;
        return this.port;
      }
      if (!this.running) throw new Error(`The server exited before listening.\n${this.describe()}`);
      if (Date.now() > deadline) throw new Error(`The server printed no ready line within ${timeoutMs} ms.\n${this.describe()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** CPU time, memory and the stack's own counters, asked over IPC (resumes a paused server first). */
  stats(timeoutMs = 10_000): Promise<ServerStats> {
    this.resume();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`No stats from the server within ${timeoutMs} ms.\n${this.describe()}`));
      }, timeoutMs);
      this.pending.set(id, (stats) => {
        clearTimeout(timer);
        resolve(stats);
      });
      this.child.send({ type: 'stats', id });
    });
  }

  /** CPU time in µs: from /proc when possible (exact even while stopped), else over IPC. */
  async cpuUs(): Promise<number> {
    const fromProc = procCpuUs(this.pid);
    if (fromProc !== undefined) return fromProc;
    const stats = await this.stats();
    return stats.cpuUserUs + stats.cpuSystemUs;
  }

  /**
   * Freezes the server (SIGSTOP) while other stacks are measured, so its timers and background work
   * neither steal CPU from them nor escape its own measurement: what is due runs when it resumes.
   */
  pause(): void {
    if (this.running && !this.paused && process.platform !== 'win32') {
      this.child.kill('SIGSTOP');
      this.paused = true;
    }
  }

  /** Thaws a paused server (SIGCONT). */
  resume(): void {
    if (this.running && this.paused) {
      this.child.kill('SIGCONT');
      this.paused = false;
    }
  }

  /** SIGTERM (the server closes and cleans up), then SIGKILL if it is still there after `graceMs`. */
  async stop(graceMs = 5_000): Promise<void> {
    if (!this.running) return;
    this.resume();
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Immediate SIGKILL (exit handlers): works on a stopped process too. */
  killNow(): void {
    if (this.running) this.child.kill('SIGKILL');
  }
}
