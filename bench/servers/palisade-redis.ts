// Stack (c): the Palisade stack with its Redis stores (throttle counters and token revocations),
// configured with a URL as the demo does with REDIS_URL, under a random key prefix. With
// BENCH_REDIS_CLUSTER (`palisade-cluster`: the seed nodes, comma-separated, of the private Redis
// Cluster the harness starts), the same stores on that Cluster through `storage.redis`'s Cluster
// form, `{ cluster: [...] }`, as an application configures one.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { PalisadeBenchModule, palisadeBenchOptions } from './palisade.app.js';
import { adapterFromArgs, runServer, startBenchServer } from './server.bootstrap.js';

const url = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const clusterNodes = (process.env.BENCH_REDIS_CLUSTER ?? '')
  .split(',')
  .map((node) => node.trim())
  .filter((node) => node.length > 0);
const prefix = `palisade-bench-${randomUUID()}:`;

// Counts what every ioredis client of this process (Palisade opens its own from the URL) sends:
// commands (pipelines and scripts go through `sendCommand` too) and writes to the Redis socket —
// one per command, or one per pipeline (auto-pipelining included): the round trips. A Cluster
// client talks to each node through a `Redis` of its own, so its commands and writes are counted
// here too, on every node's socket.
let commandsSent = 0;
let socketWrites = 0;
/**
 * Commands no request sends: the client's own upkeep (connection setup, the Cluster's slot map and
 * READONLY, the revocation mirror's tracking and PING). They and the writes made while sending them
 * are counted apart, so the harness charges requests only with their own; the per-name counts
 * still show them.
 */
const UPKEEP = new Set(['ping', 'cluster', 'client', 'readonly', 'info', 'hello', 'auth', 'select', 'command', 'subscribe']);
let upkeepCommands = 0;
let upkeepWrites = 0;
let sendingUpkeep = 0;
const commandsByName = new Map<string, number>();
const countedStreams = new WeakSet<object>();
const sendCommand = Redis.prototype.sendCommand;
Redis.prototype.sendCommand = function countedSendCommand(this: Redis, ...args: Parameters<Redis['sendCommand']>): ReturnType<Redis['sendCommand']> {
  commandsSent++;
  const name = args[0].name.toLowerCase();
  const upkeep = UPKEEP.has(name);
  if (upkeep) upkeepCommands++;
  commandsByName.set(name, (commandsByName.get(name) ?? 0) + 1);
  const stream = this.stream as (typeof this.stream & { write: (...chunks: unknown[]) => boolean }) | undefined;
  if (stream && !countedStreams.has(stream)) {
    countedStreams.add(stream);
    const write = stream.write;
    stream.write = function countedWrite(this: unknown, ...chunks: unknown[]): boolean {
      socketWrites++;
      if (sendingUpkeep > 0) upkeepWrites++;
      return write.apply(this, chunks);
    };
  }
  if (!upkeep) return sendCommand.apply(this, args);
  // A connected client writes the command before sendCommand returns: that write is upkeep.
  sendingUpkeep++;
  try {
    return sendCommand.apply(this, args);
  } finally {
    sendingUpkeep--;
  }
};

/** `redisCommands`, `redisWrites`, `redisUpkeepCommands`, `redisUpkeepWrites` and one `redis:<command>` counter per command name. */
function redisCounters(): Record<string, number> {
  const counters: Record<string, number> = {
    redisCommands: commandsSent,
    redisWrites: socketWrites,
    redisUpkeepCommands: upkeepCommands,
    redisUpkeepWrites: upkeepWrites,
  };
  for (const [name, count] of commandsByName) counters[`redis:${name}`] = count;
  return counters;
}

/** Deletes this run's keys (its own prefix only, with SCAN: never KEYS or FLUSH on a shared server). */
async function deleteOwnKeys(): Promise<void> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 2_000, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    for await (const keys of client.scanStream({ match: `${prefix}*`, count: 1_000 })) {
      if ((keys as string[]).length > 0) await client.unlink(...(keys as string[]));
    }
  } finally {
    client.disconnect();
  }
}

runServer(() =>
  clusterNodes.length > 0
    ? // A private Cluster, discarded with its keys when the harness stops it: nothing to clean up.
      startBenchServer(
        'palisade-cluster',
        PalisadeBenchModule.register(palisadeBenchOptions({ redis: { cluster: clusterNodes }, prefix })),
        adapterFromArgs(),
        {
          stats: redisCounters,
          countRequests: true,
        },
      )
    : startBenchServer('palisade-redis', PalisadeBenchModule.register(palisadeBenchOptions({ redis: url, prefix })), adapterFromArgs(), {
        stats: redisCounters,
        countRequests: true,
        cleanup: deleteOwnKeys,
      }),
);
