import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import { RedisThrottleStore, RedisTokenStore } from '@palisade/nest';
import { freePort, RedisServer } from './redis.js';

const run = promisify(execFile);

/**
 * Runs every Lua script of Palisade's Redis stores once on every primary behind `client` (64
 * random hash tags: each primary gets some), so Redis has them cached. A fresh private server
 * would otherwise answer the first call of each script with NOSCRIPT and a second round trip,
 * which on a loaded machine can exceed the stores' 250 ms command timeout and turn a test's first
 * request into an outage. Keys live under a throwaway prefix and expire within a second.
 */
export async function warmScripts(client: Redis | Cluster): Promise<void> {
  const throttle = new RedisThrottleStore(client);
  const tokens = new RedisTokenStore(client, 'warm:');
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
}

/**
 * A private Redis Cluster for a test file: six `redis-server --cluster-enabled yes` processes
 * (three primaries, one replica each) on free ports, their state in a temp dir, joined with
 * `redis-cli --cluster create`. Never touches the shared server; {@link stop} kills only these
 * processes and removes the dir.
 */
export class RedisClusterServers {
  private constructor(
    private readonly servers: readonly RedisServer[],
    private readonly dir: string,
  ) {}

  /** The seed nodes as `host:port` (all six). */
  get nodes(): string[] {
    return this.servers.map((server) => `127.0.0.1:${server.port}`);
  }

  /** Starts six nodes, creates the cluster and waits until every node reports `cluster_state:ok`. */
  static async launch(): Promise<RedisClusterServers> {
    const dir = await mkdtemp(join(tmpdir(), 'palisade-cluster-'));
    const servers: RedisServer[] = [];
    const cluster = new RedisClusterServers(servers, dir);
    try {
      for (let i = 0; i < 6; i++) {
        // The bus port is chosen too: port + 10000 may be out of range or taken.
        // oxlint-disable-next-line no-await-in-loop -- each free port must be taken before the next is drawn
        const busPort = await freePort();
        // oxlint-disable-next-line no-await-in-loop
        const server = await RedisServer.launch([
          '--cluster-enabled',
          'yes',
          '--cluster-port',
          String(busPort),
          '--cluster-config-file',
          join(dir, `nodes-${i}.conf`),
          '--dir',
          dir,
          '--cluster-node-timeout',
          '2000',
        ]);
        servers.push(server);
      }
      await run('redis-cli', ['--cluster', 'create', ...cluster.nodes, '--cluster-replicas', '1', '--cluster-yes'], { timeout: 30_000 });
      await cluster.untilOk();
      const client = new Cluster([{ host: '127.0.0.1', port: servers[0]?.port ?? 0 }]);
      try {
        await warmScripts(client);
      } finally {
        client.disconnect();
      }
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  private async untilOk(): Promise<void> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      // oxlint-disable-next-line no-await-in-loop -- polling
      const states = await Promise.all(
        this.servers.map(async (server) => {
          const client = new Redis(server.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
          client.on('error', () => undefined);
          try {
            await client.connect();
            return /cluster_state:ok/.test(await client.cluster('INFO'));
          } catch {
            return false;
          } finally {
            client.disconnect();
          }
        }),
      );
      if (states.every(Boolean)) return;
      if (Date.now() > deadline) throw new Error('the private Redis Cluster did not reach cluster_state:ok within 20 s');
      // oxlint-disable-next-line no-await-in-loop -- polling
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** Empties this private cluster (FLUSHALL on its primaries; replicas follow). */
  async flush(): Promise<void> {
    await Promise.all(
      this.servers.map(async (server) => {
        const client = new Redis(server.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
        client.on('error', () => undefined);
        try {
          await client.connect();
          if (/role:master/.test(await client.info('replication'))) await client.flushall();
        } finally {
          client.disconnect();
        }
      }),
    );
  }

  /** Kills the six processes and removes their state. */
  async stop(): Promise<void> {
    await Promise.all(this.servers.map((server) => server.stop()));
    await rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * A private primary watched by one Redis Sentinel (quorum 1), both on free ports, the sentinel's
 * config in a temp dir. Never touches the shared server; {@link stop} kills only these two.
 */
export class RedisSentinelServers {
  private constructor(
    /** The monitored primary. */
    readonly primary: RedisServer,
    private readonly sentinel: ChildProcess,
    /** The sentinel's port. */
    readonly sentinelPort: number,
    private readonly dir: string,
  ) {}

  /** The name the sentinel knows the primary by. */
  static readonly NAME = 'palisade-primary';

  /** Starts the primary, then the sentinel, and resolves once the sentinel monitors the primary. */
  static async launch(): Promise<RedisSentinelServers> {
    const primary = await RedisServer.launch();
    const dir = await mkdtemp(join(tmpdir(), 'palisade-sentinel-'));
    const port = await freePort();
    const config = join(dir, 'sentinel.conf');
    await writeFile(
      config,
      [`port ${port}`, 'bind 127.0.0.1', `dir ${dir}`, `sentinel monitor ${RedisSentinelServers.NAME} 127.0.0.1 ${primary.port} 1`, ''].join('\n'),
    );
    const child = spawn('redis-server', [config, '--sentinel'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const servers = new RedisSentinelServers(primary, child, port, dir);
    let output = '';
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`redis sentinel on port ${port} did not start: ${output.slice(-500)}`)), 10_000);
        child.stdout?.on('data', (chunk: Buffer) => {
          output += chunk.toString('utf8');
          if (output.includes('+monitor master')) {
            clearTimeout(timer);
            resolve();
          }
        });
        child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
        child.once('error', (error) => {
          clearTimeout(timer);
          reject(error);
        });
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`redis sentinel exited (${code}): ${output.slice(-500)}`));
        });
      });
      const client = new Redis(primary.port, '127.0.0.1');
      try {
        await warmScripts(client);
      } finally {
        client.disconnect();
      }
    } catch (error) {
      await servers.stop();
      throw error;
    }
    return servers;
  }

  /** Kills the sentinel and the primary and removes the config dir. */
  async stop(): Promise<void> {
    if (this.sentinel.exitCode === null && this.sentinel.signalCode === null) {
      const exited = once(this.sentinel, 'exit');
      this.sentinel.kill('SIGKILL');
      await exited;
    }
    await this.primary.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}
