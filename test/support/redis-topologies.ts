import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { TestContext } from 'vitest';
import { RedisThrottleStore, RedisTokenStore } from '@palisade/nest';
import { mustRun } from './command.js';
import { freePorts, RedisServer, retryOnPortClash, skipOrFail } from './redis.js';

/**
 * Real multi-server Redis topologies for the Cluster and Sentinel suites: a 3-primary/3-replica
 * Redis Cluster and a Sentinel group (one primary, one replica, three sentinels). Every process
 * is a {@link RedisServer} on a free port (never 6379) with its files in a fresh temp dir, is
 * started here, is the only one ever signalled here, and is killed (and the dir removed) by
 * `stop()`. Both topologies can lose a primary (`kill`), get it back as a replica (`heal`), and
 * hold replication back (`waitForReplicas`, `cutReplication`) to pin what a failover keeps.
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

/** Resolves once `client` (a Cluster or a Sentinel-backed client) is ready; rejects after 10 s. */
export async function whenReady(client: Redis | Cluster): Promise<void> {
  if (client.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the client is still ${client.status} after 10 s`)), 10_000);
    client.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * A topology's setup failed at one step: the message names the step and carries the real error
 * (also kept as `cause`), so a failure in, say, the script warm-up is not mistaken for a missing
 * Redis.
 */
export class TopologySetupError extends Error {
  constructor(
    /** What the setup was doing, e.g. `create the cluster (redis-cli --cluster create)`. */
    readonly step: string,
    cause: unknown,
  ) {
    super(`setup step "${step}" failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'TopologySetupError';
  }
}

/** Runs one setup step; an error is rethrown as a {@link TopologySetupError} naming the step. */
async function step<T>(name: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw new TopologySetupError(name, error);
  }
}

/**
 * The program that could not be run when `error` (or its `cause`) is a spawn failure for a missing
 * executable (`ENOENT`, e.g. no `redis-server` or `redis-cli` on the PATH); otherwise `undefined`.
 */
function missingProgram(error: unknown): string | undefined {
  for (let current = error; current instanceof Error; current = current.cause) {
    const { code, syscall, path } = current as NodeJS.ErrnoException;
    if (code === 'ENOENT' && syscall?.startsWith('spawn')) return path ?? syscall.slice('spawn '.length);
  }
  return undefined;
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

/**
 * The command timeout of the clients a topology's setup uses (warming the scripts), in
 * milliseconds: setup only has to succeed, so it is generous — a loaded machine stretches a round
 * trip far beyond the few hundred milliseconds the tests give the apps' clients.
 */
export const SETUP_COMMAND_TIMEOUT_MS = 10_000;

/**
 * How long a revocation written during setup waits for its replica's acknowledgement (`WAIT`), in
 * milliseconds. Without it the store would wait 100 ms (no command timeout on the client) and a
 * replica slowed down by a loaded machine would fail the setup; the tests that assert the
 * acknowledgement use the apps' own clients and their own wait.
 */
export const SETUP_REPLICATION_WAIT_MS = 5_000;

/**
 * Runs every Lua script of Palisade's Redis stores once on every primary behind `client` (64
 * random hash tags: each primary gets some), so Redis has them cached. A fresh private server
 * would otherwise answer the first call of each script with NOSCRIPT and a second round trip,
 * which on a loaded machine can exceed the stores' 250 ms command timeout and turn a test's first
 * request into an outage. Keys live under a throwaway prefix and expire within a second. The
 * family revocation waits for a replica's acknowledgement up to {@link SETUP_REPLICATION_WAIT_MS}.
 * Takes over `client` (created with a setup command timeout) and disconnects it at the end.
 */
export async function warmScripts(client: Redis | Cluster): Promise<void> {
  client.on('error', () => undefined);
  try {
    await whenReady(client);
    const throttle = new RedisThrottleStore(client);
    const tokens = new RedisTokenStore(client, 'warm:', undefined, SETUP_REPLICATION_WAIT_MS);
    const record = { principal: { id: 'warm' }, familyExpiresAt: Date.now() + 1_000 };
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        const tag = randomBytes(8).toString('hex');
        await throttle.incrementMany([{ key: `warm:{${tag}}`, ttlMs: 1_000, limit: 1, blockMs: 0 }]);
        await throttle.blockedFor(`warm:{${tag}}`);
        await tokens.saveRefreshToken(tag, 'd1', record, 'j1', Date.now() + 1_000);
        await tokens.findRefreshToken(tag, 'd1');
        await tokens.rotateRefreshToken(tag, 'd1', { digest: 'd2', record, accessJti: 'j2', accessExpiresAt: Date.now() + 1_000, sealedPair: '', graceMs: 0 });
        await tokens.revokeFamily(tag);
      }),
    );
  } finally {
    client.disconnect();
  }
}

/** A primary's replication state: its offset and the ports of its online replicas (INFO replication). */
async function replicationOf(primaryPort: number): Promise<{ offset: number; replicas: number[] }> {
  const info = await withNode(primaryPort, (c) => c.info('replication'));
  if (!info.includes('role:master')) throw new Error(`the node on port ${primaryPort} is not a primary`);
  const offset = Number(/^master_repl_offset:(\d+)/m.exec(info)?.[1]);
  const replicas = [...info.matchAll(/^slave\d+:.*\bport=(\d+),state=online\b/gm)].map((match) => Number(match[1]));
  return { offset, replicas };
}

/**
 * Waits until every online replica of the primary on `primaryPort` has applied all of the
 * primary's writes made before the call (each replica's own `slave_repl_offset` reaches the
 * primary's `master_repl_offset` read now). Throws when the primary has no replica.
 */
async function waitForReplicas(primaryPort: number, timeoutMs: number): Promise<void> {
  const { offset, replicas } = await replicationOf(primaryPort);
  if (replicas.length === 0) throw new Error(`the primary on port ${primaryPort} has no online replica`);
  await until(
    async () => {
      const infos = await Promise.all(replicas.map((port) => withNode(port, (c) => c.info('replication'))));
      return infos.every((info) => Number(/^slave_repl_offset:(\d+)/m.exec(info)?.[1] ?? -1) >= offset);
    },
    timeoutMs,
    () => `the replicas of the primary on port ${primaryPort} did not reach offset ${offset}`,
    20,
  );
}

/**
 * Polls until the primary on `primaryPort` has at least one replica, every one of them `online`
 * in its INFO replication, with its link `up` and every write the primary had made applied (its
 * `slave_repl_offset` reaches the primary's `master_repl_offset`): a `WAIT` from then on needs
 * nothing but the new write to be acknowledged. Unlike {@link waitForReplicas}, a replica still
 * coming online is waited for, not an error.
 */
async function waitUntilReplicasInSync(primaryPort: number, timeoutMs: number): Promise<void> {
  let state = 'no answer yet';
  await until(
    async () => {
      const info = await withNode(primaryPort, (c) => c.info('replication'));
      const offset = Number(/^master_repl_offset:(\d+)/m.exec(info)?.[1]);
      const links = [...info.matchAll(/^slave\d+:.*\bport=(\d+),state=(\w+)/gm)].map((match) => ({ port: Number(match[1]), state: match[2] }));
      state = `primary offset ${offset}, replicas ${links.map((link) => `${link.port} ${link.state}`).join(', ') || 'none'}`;
      if (!info.includes('role:master') || links.length === 0 || links.some((link) => link.state !== 'online')) return false;
      const replicas = await Promise.all(links.map(({ port }) => withNode(port, (c) => c.info('replication'))));
      state += `; replica offsets ${replicas.map((r) => /^slave_repl_offset:(\d+)/m.exec(r)?.[1] ?? '?').join(', ')}`;
      return replicas.every((r) => r.includes('master_link_status:up') && Number(/^slave_repl_offset:(\d+)/m.exec(r)?.[1] ?? -1) >= offset);
    },
    timeoutMs,
    () => `the replicas of the primary on port ${primaryPort} are not in sync with it (${state})`,
    20,
  );
}

/**
 * Cuts the replication of the primary on `primaryPort` for as long as that process lives: its
 * replicas' links are closed (`CLIENT KILL TYPE replica`) and their resync refused (the primary's
 * `default` user loses PSYNC and SYNC; clients keep every other command). Every write from now on
 * is acknowledged to its client yet reaches no replica — what asynchronous replication loses when
 * a primary dies, held open long enough to be deterministic. The replicas stay up and answer
 * their sentinels and the cluster bus, so a failover goes as it would.
 */
async function cutReplication(primaryPort: number): Promise<void> {
  await withNode(primaryPort, async (c) => {
    await c.call('ACL', 'SETUSER', 'default', '-psync', '-sync');
    await c.call('CLIENT', 'KILL', 'TYPE', 'replica');
  });
  await until(
    async () => (await withNode(primaryPort, (c) => c.info('replication'))).includes('connected_slaves:0'),
    5_000,
    () => `the primary on port ${primaryPort} still has a replica attached`,
    20,
  );
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
    .map((line): ClusterNodeInfo => {
      const [id = '', address = '', flags = '', masterId = '-', , , , , ...slotSpecs] = line.split(' ');
      const port = Number(address.split('@')[0]?.split(':')[1]);
      const slots = slotSpecs
        .filter((spec) => !spec.startsWith('['))
        .map((spec): [number, number] => {
          const [from, to] = spec.split('-').map(Number);
          return [from as number, (to ?? from) as number];
        });
      return { id, port, role: flags.includes('master') ? 'master' : 'slave', masterId, failed: /fail|noaddr/.test(flags), slots };
    });
}

/**
 * A 3-primary/3-replica Redis Cluster (`cluster-node-timeout` short, so a killed primary's replica
 * takes over within ~2 s).
 */
export class RedisClusterTopology {
  private constructor(
    private readonly dir: string,
    private readonly nodes: RedisServer[],
  ) {}

  /** `cluster-node-timeout` in milliseconds: how long a silent primary takes to be failed over. */
  static readonly NODE_TIMEOUT_MS = 1000;

  /**
   * Starts six nodes, creates the cluster, waits for `cluster_state:ok` on every node and a synced
   * replica (link up, offset caught up) behind every primary, and caches Palisade's scripts on the
   * primaries. Rejects with a {@link TopologySetupError} naming the step that failed.
   */
  static launch(): Promise<RedisClusterTopology> {
    return retryOnPortClash(() => RedisClusterTopology.launchOnce());
  }

  private static async launchOnce(): Promise<RedisClusterTopology> {
    const dir = await mkdtemp(join(tmpdir(), 'palisade-cluster-'));
    const nodes: RedisServer[] = [];
    const topology = new RedisClusterTopology(dir, nodes);
    try {
      // Each node's bus port is drawn too: the default (port + 10000) is out of range above 55535.
      const ports = await freePorts(12);
      for (let i = 0; i < 6; i++) {
        const [port, busPort] = [ports[i] as number, ports[i + 6] as number];
        nodes.push(
          RedisServer.define(port, [
            '--cluster-enabled',
            'yes',
            '--cluster-port',
            String(busPort),
            '--cluster-config-file',
            `nodes-${port}.conf`,
            '--cluster-node-timeout',
            String(RedisClusterTopology.NODE_TIMEOUT_MS),
            '--dir',
            dir,
            // Replicas sync at once (not after the default 5 s delay) and may always be promoted.
            '--repl-diskless-sync-delay',
            '0',
            '--cluster-replica-validity-factor',
            '0',
          ]),
        );
      }
      await step('start six redis-server nodes', () => Promise.all(nodes.map((node) => node.start())));
      await step('create the cluster (redis-cli --cluster create)', () =>
        mustRun('redis-cli', ['--cluster', 'create', ...topology.addresses, '--cluster-replicas', '1', '--cluster-yes'], {
          cwd: dir,
          timeoutMs: 30_000,
        }),
      );
      await step('wait for cluster_state:ok on every node', () => topology.waitUntilOk(20_000));
      await step('wait for a replica linked to every primary', () => topology.waitUntilReplicated(15_000));
      // Every replica holds all its primary's writes before the first one that waits for it.
      await step('wait for every replica to catch up with its primary', () => topology.waitUntilInSync(10_000));
      await step("warm Palisade's scripts on the primaries", () =>
        warmScripts(new Cluster(topology.startupNodes, { redisOptions: { commandTimeout: SETUP_COMMAND_TIMEOUT_MS } })),
      );
      // The tests start from replicas holding every write, the warm-up's included.
      await step('wait for every replica to apply the warm-up', () => topology.waitUntilInSync(10_000));
      return topology;
    } catch (error) {
      await topology.stop();
      throw error;
    }
  }

  /** The running nodes as `host:port`, for the `{ cluster: [...] }` option and `REDIS_CLUSTER_NODES`. */
  get addresses(): string[] {
    return this.startupNodes.map(({ host, port }) => `${host}:${port}`);
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

  /**
   * Waits until every running node reports `cluster_state:ok` and every node's own view names the
   * same three live primaries (a node just started again may still hold its old view).
   */
  async waitUntilOk(timeoutMs: number): Promise<void> {
    await until(
      async () => {
        const running = this.nodes.filter((node) => node.running);
        const states = await Promise.all(running.map((node) => withNode(node.port, (c) => c.call('CLUSTER', 'INFO')) as Promise<string>));
        if (!states.every((info) => info.includes('cluster_state:ok'))) return false;
        const views = await Promise.all(running.map((node) => withNode(node.port, (c) => c.call('CLUSTER', 'NODES')) as Promise<string>));
        const primaries = views.map((view) =>
          parseClusterNodes(view)
            .filter((node) => node.role === 'master' && !node.failed && node.slots.length > 0)
            .map((node) => node.port)
            .sort((a, b) => a - b)
            .join(','),
        );
        return primaries.every((ports) => ports === primaries[0]) && primaries[0]?.split(',').length === 3;
      },
      timeoutMs,
      () => 'the cluster did not reach cluster_state:ok with three primaries every node agrees on',
      100,
    );
  }

  /**
   * Waits until, by every running node's own INFO replication, there are three primaries, each
   * with one online replica, and every replica's link is up.
   */
  private async waitUntilReplicated(timeoutMs: number): Promise<void> {
    await until(
      async () => {
        const infos = await Promise.all(this.nodes.filter((node) => node.running).map((node) => withNode(node.port, (c) => c.info('replication'))));
        const primaries = infos.filter((info) => info.includes('role:master'));
        const replicas = infos.filter((info) => info.includes('role:slave'));
        return (
          primaries.length === 3 &&
          primaries.every((info) => info.includes('connected_slaves:1') && /state=online/.test(info)) &&
          replicas.every((info) => info.includes('master_link_status:up'))
        );
      },
      timeoutMs,
      () => 'the replicas did not sync with their primaries',
      100,
    );
  }

  /**
   * Waits until every primary (by CLUSTER NODES) has its replicas online, linked and holding all
   * its writes (see {@link waitUntilReplicasInSync}).
   */
  private async waitUntilInSync(timeoutMs: number): Promise<void> {
    const primaries = (await this.clusterNodes()).filter((node) => node.role === 'master' && !node.failed && node.slots.length > 0);
    await Promise.all(primaries.map((node) => waitUntilReplicasInSync(node.port, timeoutMs)));
  }

  /**
   * Starts every killed node again (same port, same cluster config): a primary that was failed
   * over comes back as the replica of the node that took its slots. Resolves once the cluster is
   * `ok` with a synced replica behind each of its three primaries.
   */
  async heal(timeoutMs = 30_000): Promise<void> {
    await Promise.all(this.nodes.filter((node) => !node.running).map((node) => node.start()));
    await this.waitUntilOk(timeoutMs);
    await this.waitUntilReplicated(timeoutMs);
  }

  /** Waits until the replica of the primary on `port` has applied every write made so far on it. */
  waitForReplicas(port: number, timeoutMs = 5_000): Promise<void> {
    return waitForReplicas(port, timeoutMs);
  }

  /**
   * Cuts the replication of the primary on `port` until it restarts (its replica's link closed,
   * resync refused): the writes from now on live on that primary only.
   */
  cutReplication(port: number): Promise<void> {
    return cutReplication(port);
  }

  /** Empties this private cluster (FLUSHALL on its primaries; replicas follow). */
  async flush(): Promise<void> {
    const primaries = (await this.clusterNodes()).filter((node) => node.role === 'master' && !node.failed);
    await Promise.all(primaries.map((node) => withNode(node.port, (c) => c.flushall())));
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
    await Promise.all(this.nodes.map((node) => node.stop()));
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
    /** The data node launched as the primary (a failover makes the other one primary). */
    readonly primary: RedisServer,
    /** The data node launched as the replica. */
    readonly replica: RedisServer,
    private readonly sentinels: RedisServer[],
  ) {}

  /** `down-after-milliseconds` of the sentinels. */
  static readonly DOWN_AFTER_MS = 1000;

  /**
   * Starts the primary, its replica (synced: link up, offset caught up) and three sentinels that
   * know both and each other, and caches Palisade's scripts on the primary. Rejects with a
   * {@link TopologySetupError} naming the step that failed.
   */
  static launch(): Promise<RedisSentinelTopology> {
    return retryOnPortClash(() => RedisSentinelTopology.launchOnce());
  }

  private static async launchOnce(): Promise<RedisSentinelTopology> {
    const dir = await mkdtemp(join(tmpdir(), 'palisade-sentinel-'));
    const [primaryPort, replicaPort, ...sentinelPorts] = await freePorts(5);
    const data = (port: number): RedisServer => RedisServer.define(port, ['--dir', dir, '--repl-diskless-sync-delay', '0']);
    const primary = data(primaryPort as number);
    const replica = data(replicaPort as number);
    const sentinels: RedisServer[] = [];
    const topology = new RedisSentinelTopology(dir, primary, replica, sentinels);
    try {
      await step('start the primary', () => primary.start());
      await step('start the replica', () => replica.start(['--replicaof', '127.0.0.1', String(primaryPort)]));
      await step('wait for the replica to link to the primary', () =>
        until(
          () => withNode(replica.port, async (c) => (await c.info('replication')).includes('master_link_status:up')),
          10_000,
          () => 'the replica did not sync with the primary',
        ),
      );
      await step('wait for the replica to catch up with the primary', () => waitUntilReplicasInSync(primary.port, 10_000));
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
        sentinels.push(RedisServer.sentinel(port, conf));
      }
      await step('start three sentinels', () => Promise.all(sentinels.map((sentinel) => sentinel.start())));
      // Every sentinel knows the replica and the other sentinels before a test may kill the primary.
      await step('wait for the sentinels to discover the replica and each other', () =>
        until(
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
        ),
      );
      await step("warm Palisade's scripts on the primary", () =>
        warmScripts(new Redis(primary.port, '127.0.0.1', { commandTimeout: SETUP_COMMAND_TIMEOUT_MS })),
      );
      // The tests start from a replica holding every write, the warm-up's included.
      await step('wait for the replica to apply the warm-up', () => waitUntilReplicasInSync(primary.port, 10_000));
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

  /** The sentinels as `host:port`, for the `{ sentinels, name }` option and `REDIS_SENTINELS`. */
  get sentinelAddresses(): string[] {
    return this.sentinelNodes.map(({ host, port }) => `${host}:${port}`);
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

  /**
   * Starts a killed data node again as the replica of the primary the sentinels name, and
   * resolves once it is synced and every sentinel sees it as a healthy replica (so a later kill of
   * the primary has a replica to promote).
   */
  async heal(timeoutMs = 20_000): Promise<void> {
    const dead = [this.primary, this.replica].filter((node) => !node.running);
    if (dead.length === 0) return;
    const primaryPort = await this.primaryPort();
    await Promise.all(dead.map((node) => node.start(['--replicaof', '127.0.0.1', String(primaryPort)])));
    await until(
      async () => {
        const links = await Promise.all(dead.map((node) => withNode(node.port, (c) => c.info('replication'))));
        if (!links.every((info) => info.includes('master_link_status:up'))) return false;
        const views = await Promise.all(
          this.sentinels.map((s) => withNode(s.port, (c) => c.call('SENTINEL', 'REPLICAS', SENTINEL_MASTER)) as Promise<string[][]>),
        );
        return views.every((replicas) =>
          dead.every((node) =>
            replicas.some((flat) => {
              const fields = new Map<string, string>();
              for (let i = 0; i + 1 < flat.length; i += 2) fields.set(flat[i] as string, flat[i + 1] as string);
              return fields.get('port') === String(node.port) && fields.get('flags') === 'slave';
            }),
          ),
        );
      },
      timeoutMs,
      () => 'the restarted node did not become a replica every sentinel sees',
      100,
    );
  }

  /** Waits until the replica has applied every write made so far on the primary on `port`. */
  waitForReplicas(port: number, timeoutMs = 5_000): Promise<void> {
    return waitForReplicas(port, timeoutMs);
  }

  /**
   * Cuts the replication of the primary on `port` until it restarts (its replica's link closed,
   * resync refused): the writes from now on live on that primary only.
   */
  cutReplication(port: number): Promise<void> {
    return cutReplication(port);
  }

  /** Empties the primary the sentinels name (FLUSHALL; the replica follows). */
  async flush(): Promise<void> {
    await withNode(await this.primaryPort(), (c) => c.flushall());
  }

  /** Kills every process and removes the temp dir. */
  async stop(): Promise<void> {
    await Promise.all([...this.sentinels, this.primary, this.replica].map((node) => node.stop()));
    await rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * In a test needing a topology launched in `beforeAll`: returns it. When `redis-server` or
 * `redis-cli` is missing, fails under CI and skips elsewhere; any other launch error is a real
 * failure and is thrown as it is (the setup step that failed and its error), since Redis is there.
 */
export function requireTopology<T extends object>(ctx: TestContext, launched: T | Error | undefined, name: string): T {
  if (launched !== undefined && !(launched instanceof Error)) return launched;
  if (launched === undefined) throw new Error(`the private ${name} was not launched (its beforeAll did not get that far)`);
  const missing = missingProgram(launched);
  if (missing !== undefined) return skipOrFail(ctx, `cannot start a private ${name}: ${missing} is not installed (${launched.message})`);
  throw new Error(`the private ${name} could not be set up: ${launched.message}`, { cause: launched });
}
