import { connect, type Socket } from 'node:net';

/** One request of a flood: the raw bytes of an HTTP/1.1 request (keep-alive). */
export type FloodRequest = (index: number) => string;

/** Builds a keep-alive `POST` with a JSON body, byte for byte. */
export function rawJsonPost(port: number, path: string, body: unknown, headers: Readonly<Record<string, string>> = {}): string {
  const payload = JSON.stringify(body);
  const lines = [`POST ${path} HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'Content-Type: application/json', `Content-Length: ${Buffer.byteLength(payload)}`];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  return `${lines.join('\r\n')}\r\n\r\n${payload}`;
}

/**
 * Reads complete responses off `buffer` (status line, headers, a `Content-Length` body) and returns
 * their statuses and the bytes left over. A response without `Content-Length` is an error: every
 * answer of the routes flooded here has one.
 */
function parseResponses(buffer: Buffer): { statuses: number[]; rest: Buffer } {
  const statuses: number[] = [];
  let offset = 0;
  for (;;) {
    const headEnd = buffer.indexOf('\r\n\r\n', offset);
    if (headEnd < 0) break;
    const head = buffer.subarray(offset, headEnd).toString('latin1');
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1];
    if (length === undefined) throw new Error(`flood: a response without Content-Length: ${head.slice(0, 200)}`);
    const end = headEnd + 4 + Number(length);
    if (end > buffer.length) break;
    statuses.push(Number(head.slice(9, 12)));
    offset = end;
  }
  return { statuses, rest: buffer.subarray(offset) };
}

/**
 * Sends `count` requests over `connections` keep-alive sockets, `depth` requests in flight per
 * socket (HTTP/1.1 pipelining: each server answers them in order), and counts the statuses. Real
 * HTTP through the app's listening server, only much cheaper per request than supertest.
 */
export async function flood(
  port: number,
  count: number,
  request: FloodRequest,
  options: { connections?: number; depth?: number } = {},
): Promise<Map<number, number>> {
  const { connections = 8, depth = 32 } = options;
  const counts = new Map<number, number>();
  let next = 0;
  const worker = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const socket: Socket = connect(port, '127.0.0.1');
      let buffer: Buffer = Buffer.alloc(0);
      let inFlight = 0;
      const send = (): void => {
        let batch = '';
        while (inFlight < depth && next < count) {
          batch += request(next);
          next += 1;
          inFlight += 1;
        }
        if (batch.length > 0) socket.write(batch, 'latin1');
        else if (inFlight === 0) {
          socket.end();
          resolve();
        }
      };
      socket.on('connect', send);
      socket.on('data', (chunk: Buffer) => {
        buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
        let parsed: ReturnType<typeof parseResponses>;
        try {
          parsed = parseResponses(buffer);
        } catch (error) {
          socket.destroy();
          reject(error as Error);
          return;
        }
        buffer = parsed.rest;
        for (const status of parsed.statuses) counts.set(status, (counts.get(status) ?? 0) + 1);
        inFlight -= parsed.statuses.length;
        if (inFlight <= depth / 2) send();
      });
      socket.on('error', reject);
      socket.on('close', () => {
        if (inFlight > 0 || next < count) reject(new Error(`flood: the server closed a connection with ${inFlight} requests unanswered`));
      });
    });
  await Promise.all(Array.from({ length: connections }, worker));
  return counts;
}
