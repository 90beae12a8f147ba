import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort, RedisServer } from './redis.js';

const run = promisify(execFile);

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
