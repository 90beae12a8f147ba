import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { infoField, nodeCounters, redisCommand, type NodeCounters } from './redis-info.js';

const run = promisify(execFile);

/** A port the OS had free a moment ago (listen on 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** One `redis-server --cluster-enabled yes` process of a {@link BenchRedisCluster}. */
interface ClusterNode {
  port: number;
  child: ChildProcess;
  output: string;
}

/** Waits until `child` prints Redis's ready line; rejects with its output if it exits or stays silent for 10 s. */
function untilReady(node: ClusterNode): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (error?: Error): void => {
      clearTimeout(timer);
      node.child.off('exit', onExit);
      node.child.stdout?.off('data', onData);
      if (error) reject(error);
      else resolve();
    };
    const timer = setTimeout(() => done(new Error(`redis-server on port ${node.port} did not become ready within 10 s: ${node.output.slice(-500)}`)), 10_000);
    const onData = (): void => {
      if (node.output.includes('Ready to accept connections')) done();
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void =>
      done(new Error(`redis-server on port ${node.port} exited (${code ?? signal}): ${node.output.slice(-500)}`));
    node.child.stdout?.on('data', onData);
    node.child.once('exit', onExit);
    onData();
  });
}

/** Polls `probe` every 100 ms until it is true; throws `what` after `timeoutMs`. */
async function until(probe: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // oxlint-disable-next-line no-await-in-loop -- polling: one probe at a time, bounded by the deadline
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`the bench's Redis Cluster: ${what} within ${timeoutMs} ms`);
    // oxlint-disable-next-line no-await-in-loop -- polling interval
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * A private Redis Cluster for the `palisade-cluster` stack: six `redis-server --cluster-enabled yes`
 * processes on free ports of 127.0.0.1 (never 6379), their files in a fresh temp dir, joined by
 * `redis-cli --cluster create --cluster-replicas 1` into three primaries with one replica each.
 * Only these processes are ever signalled; {@link stop} (or {@link stopNow} in an exit handler)
 * kills them and removes the dir.
 */
export class BenchRedisCluster {
  private stopped = false;

  private constructor(
    private readonly dir: string,
    private readonly servers: ClusterNode[],
  ) {}

  /** `cluster-node-timeout` in ms: long, so a node slowed down by the load is never failed over mid-run. */
  static readonly NODE_TIMEOUT_MS = 15_000;

  /** Every node as `127.0.0.1:<port>` (the seed list handed to Palisade). */
  get nodes(): string[] {
    return this.servers.map((server) => `127.0.0.1:${server.port}`);
  }

  /** The processes' ids (to check they are gone after {@link stop}). */
  get pids(): number[] {
    return this.servers.map((server) => server.child.pid ?? 0);
  }

  /** The temp dir holding the nodes' files. */
  get directory(): string {
    return this.dir;
  }

  /**
   * Starts six nodes, creates the cluster, and resolves once every node reports `cluster_state:ok`
   * and every replica is in sync with its primary.
   */
  static async start(): Promise<BenchRedisCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'palisade-bench-cluster-'));
    const cluster = new BenchRedisCluster(dir, []);
    try {
      for (let i = 0; i < 6; i++) {
        // oxlint-disable-next-line no-await-in-loop -- each port is taken before the next is drawn
        const [port, busPort] = [await freePort(), await freePort()];
        const args = [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--cluster-enabled',
          'yes',
          // The bus port is chosen too: port + 10000 may be out of range or taken.
          '--cluster-port',
          String(busPort),
          '--cluster-config-file',
          join(dir, `nodes-${port}.conf`),
          '--cluster-node-timeout',
          String(BenchRedisCluster.NODE_TIMEOUT_MS),
          '--dir',
          dir,
          '--save',
          '',
          '--appendonly',
          'no',
        ];
        const node: ClusterNode = { port, child: spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] }), output: '' };
        const keep = (chunk: Buffer): void => void (node.output = (node.output + chunk.toString('utf8')).slice(-4_000));
        node.child.stdout?.on('data', keep);
        node.child.stderr?.on('data', keep);
        node.child.once('error', (error) => (node.output += `\nspawn failed: ${error.message}`));
        cluster.servers.push(node);
        // oxlint-disable-next-line no-await-in-loop -- one node at a time keeps a loaded machine responsive
        await untilReady(node);
      }
      await run('redis-cli', ['--cluster', 'create', ...cluster.nodes, '--cluster-replicas', '1', '--cluster-yes'], { timeout: 60_000 });
      await until(
        async () => {
          const infos = await Promise.all(cluster.nodes.map((node) => redisCommand(`redis://${node}`, ['CLUSTER', 'INFO'])));
          return infos.every((info) => infoField(info, 'cluster_state') === 'ok');
        },
        30_000,
        'not every node reported cluster_state:ok',
      );
      await until(
        async () => {
          const roles = await Promise.all(cluster.nodes.map((node) => redisCommand(`redis://${node}`, ['INFO', 'replication'])));
          const replicas = roles.filter((info) => infoField(info, 'role') === 'slave');
          return replicas.length === 3 && replicas.every((info) => infoField(info, 'master_link_status') === 'up');
        },
        30_000,
        'the three replicas were not in sync',
      );
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  /** Every node's counters, read at once (one `INFO` each). */
  counters(): Promise<NodeCounters[]> {
    return Promise.all(this.nodes.map((node) => nodeCounters(node)));
  }

  /** SIGTERM to every node, SIGKILL after 5 s, then removes the temp dir. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all(
      this.servers.map(async (server) => {
        const { child } = server;
        if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }),
    );
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Immediate SIGKILL of every node and removal of the dir (for `exit` handlers, which cannot wait). */
  stopNow(): void {
    this.stopped = true;
    for (const { child } of this.servers) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
