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
