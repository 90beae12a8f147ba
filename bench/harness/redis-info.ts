import { connect } from 'node:net';

/**
 * Sends one command to Redis over a raw connection and returns the reply of a bulk-string or
 * simple-string command (enough for PING and INFO; no client library needed).
 */
export function redisCommand(url: string, args: readonly string[], timeoutMs = 2_000): Promise<string> {
  const { hostname, port } = new URL(url);
  const payload = `*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('')}`;
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname || '127.0.0.1', port: Number(port || 6379) });
    let data = Buffer.alloc(0);
    const done = (error: Error | undefined, reply?: string): void => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(reply ?? '');
    };
    const timer = setTimeout(() => done(new Error(`no answer from ${url} within ${timeoutMs} ms`)), timeoutMs);
    socket.on('connect', () => socket.write(payload));
    socket.on('error', (error) => done(error));
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      const lineEnd = data.indexOf('\r\n');
      if (lineEnd < 0) return;
      const kind = String.fromCharCode(data[0]!);
      const head = data.subarray(1, lineEnd).toString('utf8');
      if (kind === '+') return done(undefined, head);
      if (kind === '-') return done(new Error(`Redis: ${head}`));
      if (kind === '$') {
        const length = Number(head);
        if (length < 0) return done(undefined, '');
        if (data.length >= lineEnd + 2 + length) return done(undefined, data.subarray(lineEnd + 2, lineEnd + 2 + length).toString('utf8'));
        return;
      }
      return done(new Error(`unexpected Redis reply: ${data.subarray(0, 80).toString('utf8')}`));
    });
  });
}

/** One field of an INFO section (`INFO server` → `redis_version`), or undefined. */
export function infoField(info: string, field: string): string | undefined {
  const match = new RegExp(`^${field}:(.*)$`, 'm').exec(info);
  return match?.[1]?.trim();
}

/** Commands processed by the whole Redis server so far (`INFO stats` total_commands_processed). */
export async function totalCommandsProcessed(url: string): Promise<number> {
  return Number(infoField(await redisCommand(url, ['INFO', 'stats']), 'total_commands_processed'));
}

/** Why Redis at `url` cannot be used, or undefined when it answers PING. */
export async function redisProblem(url: string): Promise<string | undefined> {
  try {
    const pong = await redisCommand(url, ['PING']);
    return pong === 'PONG' ? undefined : `PING answered ${JSON.stringify(pong)}`;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** The commands that run a server-side script: only a client sends them (a script cannot call one). */
const SCRIPT_COMMANDS = new Set(['eval', 'evalsha', 'eval_ro', 'evalsha_ro', 'fcall', 'fcall_ro']);

/** Calls of script-running commands in an `INFO commandstats` reply (`cmdstat_evalsha:calls=…`). */
export function scriptCalls(info: string): number {
  let calls = 0;
  for (const match of info.matchAll(/^cmdstat_([a-z_|]+):calls=(\d+)/gm)) if (SCRIPT_COMMANDS.has(match[1]!)) calls += Number(match[2]);
  return calls;
}

/** One Redis node's counters, read with one `INFO replication stats commandstats`. */
export interface NodeCounters {
  /** `host:port`. */
  node: string;
  role: 'master' | 'slave';
  /** total_commands_processed: every command executed, those run inside scripts and the replicas' copies of writes included. */
  commands: number;
  /** Calls of EVAL/EVALSHA/FCALL (and their _RO forms): scripts clients asked for. */
  scripts: number;
}

/** Reads one node's counters (the INFO doing it is counted by the node's next reading, not this one). */
export async function nodeCounters(node: string): Promise<NodeCounters> {
  const info = await redisCommand(`redis://${node}`, ['INFO', 'replication', 'stats', 'commandstats']);
  return {
    node,
    role: infoField(info, 'role') === 'slave' ? 'slave' : 'master',
    commands: Number(infoField(info, 'total_commands_processed')),
    scripts: scriptCalls(info),
  };
}

/** What a set of nodes executed between two readings, summed over every node. */
export interface ClusterDelta {
  /** Commands executed on all nodes, the INFO of the first reading taken out (one per node). */
  commands: number;
  /** Of which on the primaries. */
  primaryCommands: number;
  /** Of which on the replicas (their copies of the primaries' writes, mostly). */
  replicaCommands: number;
  /** Scripts run on all nodes (EVAL/EVALSHA/FCALL calls). */
  scripts: number;
}

/**
 * Sums what every node executed between `before` and `after` (matched by node). Each node counts
 * the INFO of the first reading by the time of the second: one command per node is taken out.
 * A node missing from either reading makes the sum NaN rather than an undercount.
 */
export function clusterDelta(before: readonly NodeCounters[], after: readonly NodeCounters[]): ClusterDelta {
  const delta: ClusterDelta = { commands: 0, primaryCommands: 0, replicaCommands: 0, scripts: 0 };
  if (before.length === 0 || before.length !== after.length)
    return { commands: Number.NaN, primaryCommands: Number.NaN, replicaCommands: Number.NaN, scripts: Number.NaN };
  for (const end of after) {
    const start = before.find((node) => node.node === end.node);
    if (start === undefined) return { commands: Number.NaN, primaryCommands: Number.NaN, replicaCommands: Number.NaN, scripts: Number.NaN };
    const commands = end.commands - start.commands - 1;
    delta.commands += commands;
    if (end.role === 'slave') delta.replicaCommands += commands;
    else delta.primaryCommands += commands;
    delta.scripts += end.scripts - start.scripts;
  }
  return delta;
}
