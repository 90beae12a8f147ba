import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { TestContext } from 'vitest';
import { mustRun } from './command.js';
import { freePort, skipOrFail } from './redis.js';

/**
 * Real multi-server Redis topologies for the Cluster and Sentinel suites: a 3-primary/3-replica
 * Redis Cluster and a Sentinel group (one primary, one replica, three sentinels). Every process
 * runs on a free port (never 6379) with its files in a fresh temp dir, is started here, is the only
 * one ever signalled here, and is killed (and the dir removed) by `stop()`.
 */

/** Options of the clients a test hands to Palisade: fail fast, bounded by `commandTimeoutMs`. */
export function failFastRedisOptions(commandTimeoutMs: number): RedisOptions {
  return {
    commandTimeout: commandTimeoutMs,
    connectTimeout: Math.max(1000, commandTimeoutMs * 4),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt) => Math.min(100 * 2 ** Math.min(attempt, 5), 2000),
  };
}

/** One `redis-server` process started by this file. */
export class RedisProcess {
  private child: ChildProcess | undefined;
  output = '';

  constructor(
    readonly port: number,
    private readonly args: readonly string[],
    private readonly readyLine = 'Ready to accept connections',
  ) {}

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<void> {
    if (this.running) return;
    const child = spawn('redis-server', [...this.args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`redis-server on port ${this.port} did not become ready: ${this.output.slice(-500)}`)), 10_000);
      const done = (error?: Error): void => {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        if (error) reject(error);
        else resolve();
      };
      const onData = (chunk: Buffer): void => {
        this.output += chunk.toString('utf8');
        if (this.output.includes(this.readyLine)) done();
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
      child.once('error', (error) => done(error));
      child.once('exit', (code, signal) => done(new Error(`redis-server on port ${this.port} exited (${code ?? signal}): ${this.output.slice(-500)}`)));
    });
    // Keep draining its output so the pipe never fills (kept short for error messages).
    child.stdout?.on('data', (chunk: Buffer) => (this.output = (this.output + chunk.toString('utf8')).slice(-4000)));
  }

  /** SIGSTOP: the connections stay open but nothing is answered (a frozen or partitioned node). */
  pause(): void {
    if (this.running) this.child?.kill('SIGSTOP');
  }

  /** SIGCONT: thaws a paused node. */
  resume(): void {
    if (this.running) this.child?.kill('SIGCONT');
  }

  /** SIGKILL: an outage, not a shutdown. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }
}

/** Polls `probe` every `intervalMs` until it returns true; throws `describe()` after `timeoutMs`. */
export async function until(probe: () => Promise<boolean>, timeoutMs: number, describe: () => string, intervalMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // oxlint-disable-next-line no-await-in-loop -- polling: one probe at a time, bounded by the deadline
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${describe()}`);
    // oxlint-disable-next-line no-await-in-loop -- polling interval
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A short-lived admin connection to one node (no retries), closed after `use`. */
async function withNode<T>(port: number, use: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    connectTimeout: 1000,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await use(client);
  } finally {
    client.disconnect();
  }
}

/** One node as CLUSTER NODES reports it. */
export interface ClusterNodeInfo {
  id: string;
  port: number;
  role: 'master' | 'slave';
  /** The primary a replica follows (`'-'` for a primary). */
  masterId: string;
  failed: boolean;
  /** Slot ranges `[from, to]` this primary serves. */
  slots: [number, number][];
}

function parseClusterNodes(text: string): ClusterNodeInfo[] {
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [id = '', address = '', flags = '', masterId = '-', , , , , ...slotSpecs] = line.split(' ');
      const port = Number(address.split('@')[0]?.split(':')[1]);
      const slots = slotSpecs
        .filter((spec) => !spec.startsWith('['))
        .map((spec): [number, number] => {
          const [from, to] = spec.split('-').map(Number);
          return [from as number, (to ?? from) as number];
        });
      return { id, port, role: flags.includes('master') ? 'master' : 'slave', masterId, failed: /fail|noaddr/.test(flags), slots } as ClusterNodeInfo;
    });
}

/**
 * A 3-primary/3-replica Redis Cluster (`cluster-node-timeout` short, so a killed primary's replica
 * takes over within ~2 s).
 */
export class RedisClusterTopology {
  private constructor(
    private readonly dir: string,
    private readonly nodes: RedisProcess[],
  ) {}

  /** `cluster-node-timeout` in milliseconds: how long a silent primary takes to be failed over. */
  static readonly NODE_TIMEOUT_MS = 1000;

  /** Starts six nodes, creates the cluster and waits for `cluster_state:ok` on every node. */
  static async launch(): Promise<RedisClusterTopology> {
    const dir = await mkdtemp(join(tmpdir(), 'palisade-cluster-'));
    const nodes: RedisProcess[] = [];
    const topology = new RedisClusterTopology(dir, nodes);
    try {
      for (let i = 0; i < 6; i++) {
        // oxlint-disable-next-line no-await-in-loop -- distinct free ports, one at a time
        const port = await freePort();
        nodes.push(
          new RedisProcess(port, [
            '--port',
            String(port),
            '--bind',
            '127.0.0.1',
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            `nodes-${port}.conf`,
            '--cluster-node-timeout',
            String(RedisClusterTopology.NODE_TIMEOUT_MS),
            '--dir',
            dir,
            '--save',
            '',
            '--appendonly',
            'no',
            // Replicas sync at once (not after the default 5 s delay) and may always be promoted.
            '--repl-diskless-sync-delay',
            '0',
            '--cluster-replica-validity-factor',
            '0',
          ]),
        );
      }
      await Promise.all(nodes.map((node) => node.start()));
      await mustRun('redis-cli', ['--cluster', 'create', ...nodes.map((node) => `127.0.0.1:${node.port}`), '--cluster-replicas', '1', '--cluster-yes'], {
        cwd: dir,
        timeoutMs: 30_000,
      });
      await topology.waitUntilOk(20_000);
      // Every replica holds its primary's data before a test may kill a primary.
      await until(
        async () => {
          const replicas = (await topology.clusterNodes()).filter((node) => node.role === 'slave');
          if (replicas.length !== 3) return false;
          const links = await Promise.all(replicas.map((r) => withNode(r.port, (c) => c.info('replication'))));
          return links.every((info) => info.includes('master_link_status:up'));
        },
        15_000,
        () => 'the replicas did not sync with their primaries',
        100,
      );
      return topology;
    } catch (error) {
      await topology.stop();
      throw error;
    }
  }

  /** The running nodes, to hand to `new Cluster(...)`. */
  get startupNodes(): { host: string; port: number }[] {
    return this.nodes.filter((node) => node.running).map((node) => ({ host: '127.0.0.1', port: node.port }));
  }

  /**
   * An ioredis Cluster client as an application should configure one for Palisade: no offline
   * queue, `commandTimeoutMs` per command, and `slotsRefreshInterval` — ioredis refreshes its slot
   * map on a closed connection or a redirection, not on a timed-out command, so without the
   * periodic refresh a client whose commands to a dead primary time out never learns of the
   * promoted replica.
   */
  client(commandTimeoutMs = 250, options: ClusterOptions = {}): Cluster {
    const cluster = new Cluster(this.startupNodes, {
      enableOfflineQueue: false,
      slotsRefreshTimeout: 1000,
      slotsRefreshInterval: 1000,
      retryDelayOnFailover: 50,
      retryDelayOnClusterDown: 50,
      ...options,
      redisOptions: { ...failFastRedisOptions(commandTimeoutMs), ...options.redisOptions },
    });
    cluster.on('error', () => undefined);
    return cluster;
  }

  /** CLUSTER NODES as seen by the first node that answers. */
  async clusterNodes(): Promise<ClusterNodeInfo[]> {
    for (const node of this.nodes) {
      if (!node.running) continue;
      try {
        // oxlint-disable-next-line no-await-in-loop -- first live node wins
        return parseClusterNodes((await withNode(node.port, (c) => c.call('CLUSTER', 'NODES'))) as string);
      } catch {
        // try the next node
      }
    }
    throw new Error('no cluster node answers');
  }

  /** The port of the primary serving `slot`. */
  async primaryOf(slot: number): Promise<ClusterNodeInfo> {
    const nodes = await this.clusterNodes();
    const owner = nodes.find((node) => node.role === 'master' && !node.failed && node.slots.some(([from, to]) => slot >= from && slot <= to));
    if (!owner) throw new Error(`no primary serves slot ${slot}`);
    return owner;
  }

  /** Number of live replicas following the primary `id`. */
  async replicasOf(id: string): Promise<number> {
    return (await this.clusterNodes()).filter((node) => node.role === 'slave' && !node.failed && node.masterId === id).length;
  }

  /** Waits until every running node reports `cluster_state:ok` and agrees on 3 live primaries. */
  async waitUntilOk(timeoutMs: number): Promise<void> {
    await until(
      async () => {
        const states = await Promise.all(
          this.nodes.filter((node) => node.running).map((node) => withNode(node.port, (c) => c.call('CLUSTER', 'INFO')) as Promise<string>),
        );
        if (!states.every((info) => info.includes('cluster_state:ok'))) return false;
        const primaries = (await this.clusterNodes()).filter((node) => node.role === 'master' && !node.failed && node.slots.length > 0);
        return primaries.length === 3;
      },
      timeoutMs,
      () => 'the cluster did not reach cluster_state:ok with three primaries',
      100,
    );
  }

  /** Kills (SIGKILL) the node listening on `port`. */
  async kill(port: number): Promise<void> {
    await this.nodes.find((node) => node.port === port)?.kill();
  }

  /**
   * After killing the primary on `port`: waits until another node serves each of its slots and
   * the cluster is `ok` again; resolves with how long that took after the call, in milliseconds.
   */
  async waitForFailover(port: number, slots: readonly [number, number][], timeoutMs: number): Promise<number> {
    const started = Date.now();
    await until(
      async () => {
        for (const [from] of slots) if ((await this.primaryOf(from)).port === port) return false;
        return true;
      },
      timeoutMs,
      () => `no replica took over the slots of the primary on port ${port}`,
      50,
    );
    await this.waitUntilOk(timeoutMs);
    return Date.now() - started;
  }

  /**
   * Moves `slot` from its primary to `toPort`'s node with the documented protocol (SETSLOT
   * IMPORTING/MIGRATING, MIGRATE of its keys in batches, SETSLOT NODE), calling `between` once
   * the slot is half-migrated (keys split over both nodes, so clients meet `ASK` redirections).
   */
  async migrateSlot(slot: number, toPort: number, between: () => Promise<void> = async () => undefined): Promise<void> {
    const nodes = await this.clusterNodes();
    const source = await this.primaryOf(slot);
    const target = nodes.find((node) => node.port === toPort);
    if (!target || target.role !== 'master') throw new Error(`port ${toPort} is not a primary`);
    if (target.id === source.id) throw new Error(`slot ${slot} already lives on port ${toPort}`);
    await withNode(target.port, (c) => c.call('CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', source.id));
    await withNode(source.port, (c) => c.call('CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', target.id));
    const moveBatch = (): Promise<number> =>
      withNode(source.port, async (c) => {
        const keys = (await c.call('CLUSTER', 'GETKEYSINSLOT', String(slot), '10')) as string[];
        if (keys.length > 0) await c.call('MIGRATE', '127.0.0.1', String(target.port), '', '0', '5000', 'KEYS', ...keys);
        return keys.length;
      });
    await moveBatch();
    await between();
    for (let round = 0; round < 1000 && (await moveBatch()) > 0; round++) {
      // keep moving until the slot is empty on the source (bounded)
    }
    await Promise.all(
      nodes.filter((n) => n.role === 'master' && !n.failed).map((n) => withNode(n.port, (c) => c.call('CLUSTER', 'SETSLOT', String(slot), 'NODE', target.id))),
    );
  }

  /** Kills every node and removes the temp dir. */
  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.kill()));
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** The master name the Sentinel group monitors. */
export const SENTINEL_MASTER = 'palisade';

/**
 * A Sentinel group: one primary, one replica, three sentinels (quorum 2, `down-after` short so a
 * killed primary is replaced within a few seconds).
 */
export class RedisSentinelTopology {
  private constructor(
    private readonly dir: string,
    readonly primary: RedisProcess,
    readonly replica: RedisProcess,
    private readonly sentinels: RedisProcess[],
  ) {}

  /** `down-after-milliseconds` of the sentinels. */
  static readonly DOWN_AFTER_MS = 1000;

  static async launch(): Promise<RedisSentinelTopology> {
    const dir = await mkdtemp(join(tmpdir(), 'palisade-sentinel-'));
    const [primaryPort, replicaPort, ...sentinelPorts] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
    const data = (port: number): string[] => [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
      '--repl-diskless-sync-delay',
      '0',
    ];
    const primary = new RedisProcess(primaryPort as number, data(primaryPort as number));
    const replica = new RedisProcess(replicaPort as number, [...data(replicaPort as number), '--replicaof', '127.0.0.1', String(primaryPort)]);
    const sentinels: RedisProcess[] = [];
    const topology = new RedisSentinelTopology(dir, primary, replica, sentinels);
    try {
      await primary.start();
      await replica.start();
      await until(
        () => withNode(replica.port, async (c) => ((await c.info('replication')) as string).includes('master_link_status:up')),
        10_000,
        () => 'the replica did not sync with the primary',
      );
      for (const port of sentinelPorts as number[]) {
        const conf = join(dir, `sentinel-${port}.conf`);
        // oxlint-disable-next-line no-await-in-loop -- one config file each
        await writeFile(
          conf,
          [
            `port ${port}`,
            'bind 127.0.0.1',
            `dir ${dir}`,
            `sentinel monitor ${SENTINEL_MASTER} 127.0.0.1 ${primaryPort} 2`,
            `sentinel down-after-milliseconds ${SENTINEL_MASTER} ${RedisSentinelTopology.DOWN_AFTER_MS}`,
            `sentinel failover-timeout ${SENTINEL_MASTER} 5000`,
            `sentinel parallel-syncs ${SENTINEL_MASTER} 1`,
            '',
          ].join('\n'),
        );
        sentinels.push(new RedisProcess(port, [conf, '--sentinel'], 'Sentinel ID is'));
      }
      await Promise.all(sentinels.map((sentinel) => sentinel.start()));
      // Every sentinel knows the replica and the other sentinels before a test may kill the primary.
      await until(
        async () => {
          const views = await Promise.all(sentinels.map((s) => withNode(s.port, (c) => c.call('SENTINEL', 'MASTER', SENTINEL_MASTER)) as Promise<string[]>));
          return views.every((flat) => {
            const fields = new Map<string, string>();
            for (let i = 0; i + 1 < flat.length; i += 2) fields.set(flat[i] as string, flat[i + 1] as string);
            return fields.get('num-slaves') === '1' && fields.get('num-other-sentinels') === '2' && fields.get('flags') === 'master';
          });
        },
        15_000,
        () => 'the sentinels did not discover the replica and each other',
        100,
      );
      return topology;
    } catch (error) {
      await topology.stop();
      throw error;
    }
  }

  /** The sentinels to hand to ioredis. */
  get sentinelNodes(): { host: string; port: number }[] {
    return this.sentinels.map((s) => ({ host: '127.0.0.1', port: s.port }));
  }

  /** A Sentinel-backed ioredis client (it asks the sentinels for the primary, and again after a failover). */
  client(commandTimeoutMs = 250, options: RedisOptions = {}): Redis {
    const client = new Redis({
      ...failFastRedisOptions(commandTimeoutMs),
      sentinels: this.sentinelNodes,
      name: SENTINEL_MASTER,
      sentinelRetryStrategy: (attempt) => Math.min(100 * attempt, 1000),
      ...options,
    });
    client.on('error', () => undefined);
    return client;
  }

  /** The primary's port according to the sentinels (the first that answers). */
  async primaryPort(): Promise<number> {
    for (const sentinel of this.sentinels) {
      try {
        // oxlint-disable-next-line no-await-in-loop -- first sentinel that answers
        const [, port] = (await withNode(sentinel.port, (c) => c.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', SENTINEL_MASTER))) as string[];
        return Number(port);
      } catch {
        // next sentinel
      }
    }
    throw new Error('no sentinel answers');
  }

  /** Kills (SIGKILL) the data node on `port` (the primary or the replica). */
  async kill(port: number): Promise<void> {
    await [this.primary, this.replica].find((node) => node.port === port)?.kill();
  }

  async stop(): Promise<void> {
    await Promise.all(
      [...this.sentinels, this.primary, this.replica].map((node) => {
        node.resume();
        return node.kill();
      }),
    );
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** In a test needing a topology launched in `beforeAll`: returns it, or fails under CI / skips. */
export function requireTopology<T extends object>(ctx: TestContext, launched: T | Error | undefined, name: string): T {
  if (launched !== undefined && !(launched instanceof Error)) return launched;
  return skipOrFail(ctx, `cannot start a private ${name} (${launched?.message ?? 'not launched'})`);
}
