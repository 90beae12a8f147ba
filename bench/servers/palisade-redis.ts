// Stack (c): the Palisade stack with its Redis stores (throttle counters and token revocations),
// configured with a URL as the demo does with REDIS_URL, under a random key prefix.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { PalisadeBenchModule, palisadeBenchOptions } from './palisade.app.js';
import { adapterFromArgs, runServer, startBenchServer } from './server.bootstrap.js';

const url = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `palisade-bench-${randomUUID()}:`;

// Counts what every ioredis client of this process (Palisade opens its own from the URL) sends:
// commands (pipelines and scripts go through `sendCommand` too) and writes to the Redis socket —
// one per command, or one per pipeline (auto-pipelining included): the round trips.
let commandsSent = 0;
let socketWrites = 0;
const commandsByName = new Map<string, number>();
const countedStreams = new WeakSet<object>();
const sendCommand = Redis.prototype.sendCommand;
Redis.prototype.sendCommand = function countedSendCommand(this: Redis, ...args: Parameters<Redis['sendCommand']>): ReturnType<Redis['sendCommand']> {
  commandsSent++;
  const name = args[0].name.toLowerCase();
  commandsByName.set(name, (commandsByName.get(name) ?? 0) + 1);
  const stream = this.stream as (typeof this.stream & { write: (...chunks: unknown[]) => boolean }) | undefined;
  if (stream && !countedStreams.has(stream)) {
    countedStreams.add(stream);
    const write = stream.write;
    stream.write = function countedWrite(this: unknown, ...chunks: unknown[]): boolean {
      socketWrites++;
      return write.apply(this, chunks);
    };
  }
  return sendCommand.apply(this, args);
};

/** `redisCommands`, `redisWrites` and one `redis:<command>` counter per command name. */
function redisCounters(): Record<string, number> {
  const counters: Record<string, number> = { redisCommands: commandsSent, redisWrites: socketWrites };
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
  startBenchServer('palisade-redis', PalisadeBenchModule.register(palisadeBenchOptions({ redis: url, prefix })), adapterFromArgs(), {
    stats: redisCounters,
    countRequests: true,
    cleanup: deleteOwnKeys,
  }),
);
