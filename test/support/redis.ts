import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, type TestContext } from 'vitest';

/**
 * Redis for the throttling suites.
 *
 * The shared server (`REDIS_URL`, default `redis://127.0.0.1:6379`) is used read/write but never
 * flushed: every test namespaces its keys with {@link redisPrefix}. Suites that stop Redis start
 * their own `redis-server` ({@link RedisServer}) on a free port and never touch the shared one.
 *
 * When Redis (or the `redis-server` binary) is missing, a test that needs it FAILS under
 * `CI=true` and is skipped with a message elsewhere, so a laptop without Redis still runs the rest.
 */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const inCi = (): boolean => process.env.CI === 'true';

/** A client that fails fast instead of queueing or retrying while the server is away. */
export function redisClient(url: string = REDIS_URL): Redis {
  const client = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, connectTimeout: 2_000, retryStrategy: () => null });
  client.on('error', () => undefined);
  return client;
}

let reachable: Promise<string | undefined> | undefined;

/** Pings the shared Redis once per test file; resolves with the reason when it is not reachable. */
export function redisProblem(): Promise<string | undefined> {
  reachable ??= (async () => {
    const client = redisClient();
    let cause: unknown;
    client.on('error', (error) => (cause ??= error));
    try {
      await client.connect();
      const pong = await client.ping();
      return pong === 'PONG' ? undefined : `PING answered ${pong}`;
    } catch (error) {
      const reason = cause ?? error;
      return reason instanceof Error ? reason.message : String(reason);
    } finally {
      client.disconnect();
    }
  })();
  return reachable;
}

/** Skips the test with `message`, or fails it when running in CI. */
export function skipOrFail(ctx: TestContext, message: string): never {
  if (inCi()) throw new Error(`${message} (CI=true: Redis is required in CI, so this fails instead of skipping)`);
  return ctx.skip(`${message}; start one (redis-server) or set REDIS_URL to run this test`);
}

/**
 * In a test that needs the shared Redis: resolves with a connected client (closed when the test
 * finishes); otherwise fails under CI or skips with a clear message.
 *
 * @example
 * it('counts in Redis', async (ctx) => { const redis = await requireRedis(ctx); … });
 */
export async function requireRedis(ctx: TestContext): Promise<Redis> {
  const problem = await redisProblem();
  if (problem !== undefined) skipOrFail(ctx, `Redis is not reachable at ${REDIS_URL} (${problem})`);
  const client = redisClient();
  await client.connect();
  ctx.onTestFinished(() => {
    client.disconnect();
  });
  return client;
}

/** A fresh key prefix, so tests sharing one Redis never see each other's counters. */
export function redisPrefix(): string {
  return `t-${randomUUID()}:`;
}

/** Keys under `prefix` (SCAN, never KEYS on a shared server). */
export async function keysUnder(client: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  const stream = client.scanStream({ match: `${prefix}*`, count: 1_000 });
  for await (const batch of stream) keys.push(...(batch as string[]));
  return keys;
}

/** Deletes the keys under `prefix` (the test's own namespace only). */
export async function deleteKeysUnder(client: Redis, prefix: string): Promise<void> {
  const keys = await keysUnder(client, prefix);
  if (keys.length > 0) await client.del(...keys);
}

/** A TCP port free on 127.0.0.1 at the time of the call. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  server.close();
  await once(server, 'close');
  return port;
}

/**
 * A private `redis-server` (no persistence) on its own port, which a test may kill, pause and
 * start again on the same port. Only processes started here are ever signalled.
 */
export class RedisServer {
  private process: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly extraArgs: readonly string[] = [],
  ) {}

  /** `redis://127.0.0.1:<port>`. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /**
   * Starts a server on a free port (with `extraArgs` after the defaults, e.g. `--rename-command`);
   * rejects when `redis-server` is missing or does not start.
   */
  static async launch(extraArgs: readonly string[] = []): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), extraArgs);
    await server.start();
    return server;
  }

  /** True while the process started here is running. */
  get running(): boolean {
    return this.process !== undefined && this.process.exitCode === null && this.process.signalCode === null;
  }

  /** Starts (again) on the same port and resolves once it accepts connections. */
  async start(): Promise<void> {
    if (this.running) return;
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...this.extraArgs], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.process = child;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server on port ${this.port} did not become ready: ${output.slice(-500)}`)), 10_000);
      const done = (error?: Error): void => {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        if (error) reject(error);
        else resolve();
      };
      const onData = (chunk: Buffer): void => {
        output += chunk.toString('utf8');
        if (output.includes('Ready to accept connections')) done();
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
      child.once('error', (error) => done(error));
      child.once('exit', (code, signal) => done(new Error(`redis-server on port ${this.port} exited (${code ?? signal}): ${output.slice(-500)}`)));
    });
    // Keep draining its output so the pipe never fills.
    child.stdout?.resume();
    child.stderr?.resume();
  }

  /** Kills the server (SIGKILL: an outage, not a shutdown) and waits for it to exit. */
  async kill(): Promise<void> {
    const child = this.process;
    if (!child || !this.running) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }

  /** Freezes the server (SIGSTOP): connections stay open but nothing is answered. */
  pause(): void {
    if (this.running) this.process?.kill('SIGSTOP');
  }

  /** Thaws a paused server (SIGCONT). */
  resume(): void {
    if (this.running) this.process?.kill('SIGCONT');
  }

  /** Kills the server if it still runs (for `afterAll`). */
  async stop(): Promise<void> {
    this.resume();
    await this.kill();
  }
}

/**
 * In a test that needs its own `redis-server`: returns the server launched in `beforeAll`, or
 * fails under CI / skips with the launch error.
 */
export function requireRedisServer(ctx: TestContext, launched: RedisServer | Error | undefined): RedisServer {
  if (launched instanceof RedisServer) return launched;
  return skipOrFail(ctx, `cannot start a private redis-server (${launched?.message ?? 'not launched'})`);
}

/**
 * Launches a private `redis-server` before the enclosing `describe`'s tests and stops it after them.
 * Returns a function that gives, inside a test, the running server — or fails under CI / skips with
 * the launch error (see {@link requireRedisServer}).
 */
export function usePrivateRedisServer(extraArgs: readonly string[] = []): (ctx: TestContext) => RedisServer {
  let launched: RedisServer | Error | undefined;
  beforeAll(async () => {
    launched = await RedisServer.launch(extraArgs).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
  });
  afterAll(async () => {
    if (launched instanceof RedisServer) await launched.stop();
  });
  return (ctx) => requireRedisServer(ctx, launched);
}
