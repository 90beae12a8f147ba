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
  const [port] = await freePorts(1);
  return port as number;
}

/**
 * `count` distinct TCP ports free on 127.0.0.1 at the time of the call (all held open until every
 * one is drawn, so none is handed out twice).
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer());
  try {
    return await Promise.all(
      servers.map(async (server) => {
        server.listen(0, '127.0.0.1');
        await once(server, 'listening');
        const address = server.address();
        return typeof address === 'object' && address !== null ? address.port : 0;
      }),
    );
  } finally {
    await Promise.all(
      servers.map(async (server) => {
        if (!server.listening) return;
        server.close();
        await once(server, 'close');
      }),
    );
  }
}

/**
 * Runs `launch` (which draws its own free ports) again, up to `attempts` times in all, when it
 * fails because another process took one of its ports between the draw and the bind.
 */
export async function retryOnPortClash<T>(launch: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      // oxlint-disable-next-line no-await-in-loop -- a retry only after the previous attempt failed
      return await launch();
    } catch (error) {
      if (attempt >= attempts || !(error instanceof Error) || !error.message.includes('Address already in use')) throw error;
    }
  }
}

/**
 * One private `redis-server` process on its own port — a data server (no persistence, bound to
 * 127.0.0.1) or a sentinel — which a test may kill, pause and start again on the same port. This is
 * the one place the e2e suites start Redis processes (single servers here, Cluster and Sentinel
 * topologies in `redis-topologies.ts`); only processes started here are ever signalled.
 */
export class RedisServer {
  private process: ChildProcess | undefined;
  /** The process's latest output (the last 4 000 characters), for error messages. */
  private output = '';

  private constructor(
    /** The port it listens on. */
    readonly port: number,
    private readonly args: readonly string[],
    private readonly readyLine: string,
  ) {}

  /**
   * A data server on `port`, not started yet: `--port`, `--bind 127.0.0.1`, no RDB/AOF, then
   * `extraArgs` (e.g. `--cluster-enabled yes`, `--rename-command`).
   */
  static define(port: number, extraArgs: readonly string[] = []): RedisServer {
    return new RedisServer(
      port,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extraArgs],
      'Ready to accept connections',
    );
  }

  /** A sentinel on `port` reading `configFile` (which must say `port <port>`), not started yet. */
  static sentinel(port: number, configFile: string): RedisServer {
    return new RedisServer(port, [configFile, '--sentinel'], 'Sentinel ID is');
  }

  /**
   * Starts a data server on a free port (with `extraArgs` after the defaults, see {@link define};
   * another port when the drawn one is taken meanwhile); rejects when `redis-server` is missing or
   * does not start.
   */
  static launch(extraArgs: readonly string[] = []): Promise<RedisServer> {
    return retryOnPortClash(async () => {
      const server = RedisServer.define(await freePort(), extraArgs);
      await server.start();
      return server;
    });
  }

  /** `redis://127.0.0.1:<port>`. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** The keys under `prefix` in this server, or [] while it is unreachable. */
  async keysUnder(prefix: string): Promise<string[]> {
    const client = redisClient(this.url);
    try {
      await client.connect();
      return await keysUnder(client, prefix);
    } catch {
      return [];
    } finally {
      client.disconnect();
    }
  }

  /** True while the process started here is running. */
  get running(): boolean {
    return this.process !== undefined && this.process.exitCode === null && this.process.signalCode === null;
  }

  /**
   * Starts (again) on the same port and resolves once it is ready (10 s at most); `extraArgs` are
   * added for this start only (e.g. `--replicaof` when a killed primary comes back as a replica).
   */
  async start(extraArgs: readonly string[] = []): Promise<void> {
    if (this.running) return;
    const child = spawn('redis-server', [...this.args, ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.process = child;
    this.output = '';
    const keep = (chunk: Buffer): void => {
      this.output = (this.output + chunk.toString('utf8')).slice(-4_000);
    };
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`redis-server on port ${this.port} did not become ready: ${this.output.slice(-500)}`)), 10_000);
      const done = (error?: Error): void => {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        if (error) reject(error);
        else resolve();
      };
      const onData = (chunk: Buffer): void => {
        keep(chunk);
        if (this.output.includes(this.readyLine)) done();
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', keep);
      child.once('error', (error) => done(error));
      child.once('exit', (code, signal) => done(new Error(`redis-server on port ${this.port} exited (${code ?? signal}): ${this.output.slice(-500)}`)));
    });
    // Keep draining its output so the pipe never fills.
    child.stdout?.on('data', keep);
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
