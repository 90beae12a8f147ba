import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { connect as connectTls } from 'node:tls';
import type { INestApplication } from '@nestjs/common';

/** A response read off the socket, for requests supertest cannot express. */
export interface RawResponse {
  status: number;
  /** Header values by lower-cased name (repeated headers joined with `, `). */
  headers: Record<string, string>;
  body: string;
  /** The body parsed as JSON, or `undefined` when it is not JSON. */
  json: unknown;
}

function decodeChunked(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = body.indexOf('\r\n', offset);
    if (lineEnd < 0) break;
    const size = Number.parseInt(body.subarray(offset, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

function parseResponse(raw: Buffer): RawResponse {
  const headEnd = raw.indexOf('\r\n\r\n');
  const head = raw.subarray(0, headEnd < 0 ? raw.length : headEnd).toString('latin1');
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? Number.NaN);
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  let payload = headEnd < 0 ? Buffer.alloc(0) : raw.subarray(headEnd + 4);
  if (headers['transfer-encoding']?.toLowerCase() === 'chunked') payload = decodeChunked(payload);
  const body = payload.toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  return { status, headers, body, json };
}

/**
 * Sends a GET with exactly the header lines given, byte for byte (`latin1`), over a plain socket:
 * repeated headers stay repeated and non-ASCII bytes are sent as is.
 */
export function rawGet(app: INestApplication, path: string, headerLines: readonly string[]): Promise<RawResponse> {
  const { port } = (app.getHttpServer() as { address(): AddressInfo }).address();
  const head = [`GET ${path} HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'Connection: close', ...headerLines, '', ''].join('\r\n');
  return new Promise<RawResponse>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => resolve(parseResponse(Buffer.concat(chunks))));
    socket.on('error', reject);
    socket.end(Buffer.from(head, 'latin1'));
  });
}

/** A raw exchange's response, with everything the server wrote, as read (`latin1`). */
export interface RawExchange extends RawResponse {
  text: string;
}

/**
 * Sends `bytes` exactly as given (no Host or Connection line is added) over a plain socket, or TLS
 * with `tls: true` (the test certificate is not checked), and reads until the server closes. A
 * reset after the response arrived (the server closing on a request it did not read to the end)
 * still resolves with what was read.
 */
export function rawExchange(port: number, bytes: string, options: { tls?: boolean } = {}): Promise<RawExchange> {
  return new Promise<RawExchange>((resolve, reject) => {
    const socket = options.tls ? connectTls({ port, host: '127.0.0.1', rejectUnauthorized: false }) : connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const done = (): void => {
      const raw = Buffer.concat(chunks);
      resolve({ ...parseResponse(raw), text: raw.toString('latin1') });
    };
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('close', done);
    socket.on('error', (error) => {
      if (chunks.length === 0) reject(error);
    });
    socket.write(Buffer.from(bytes, 'latin1'));
  });
}

/** A plain connection a test writes to in steps (a request's head now, its body later, or never). */
export interface RawConnection {
  /** Writes `bytes` (`latin1` when a string), resolving once they are handed to the socket. */
  write(bytes: string | Buffer): Promise<void>;
  /**
   * The first response, once it has fully arrived (its head and `Content-Length` bytes of body) or
   * the server closed the connection; `undefined` when neither happened within `ms` milliseconds.
   */
  responseWithin(ms: number): Promise<RawExchange | undefined>;
  /** Whether the server closes the connection within `ms` milliseconds (or already has). */
  closedWithin(ms: number): Promise<boolean>;
  /** Ends the test's side (the connection is destroyed). */
  destroy(): void;
}

/** The length of the first complete response in `raw` (head and `Content-Length` body), or `undefined`. */
function completeLength(raw: Buffer): number | undefined {
  const headEnd = raw.indexOf('\r\n\r\n');
  if (headEnd < 0) return undefined;
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(raw.subarray(0, headEnd).toString('latin1'))?.[1];
  const total = headEnd + 4 + Number(length ?? 0);
  return raw.length >= total ? total : undefined;
}

/** Opens a plain connection to `port` on the loopback interface. */
export function rawConnection(port: number): Promise<RawConnection> {
  return new Promise<RawConnection>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let raw = Buffer.alloc(0);
    let closed = false;
    const waiters = new Set<() => void>();
    const notify = (): void => {
      for (const waiter of waiters) waiter();
    };
    socket.on('data', (chunk: Buffer) => {
      raw = Buffer.concat([raw, chunk]);
      notify();
    });
    socket.on('close', () => {
      closed = true;
      notify();
    });
    // A reset after the server answered (it closes on a body it will not read) is not a failure.
    socket.on('error', () => undefined);
    const waitFor = <T>(ms: number, ready: () => T | undefined): Promise<T | undefined> =>
      new Promise<T | undefined>((settle) => {
        const check = (): void => {
          const value = ready();
          if (value === undefined) return;
          waiters.delete(check);
          clearTimeout(timer);
          settle(value);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          settle(ready());
        }, ms);
        waiters.add(check);
        check();
      });
    socket.once('connect', () =>
      resolve({
        write: (bytes) => new Promise<void>((done) => socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes, () => done())),
        responseWithin: (ms) =>
          waitFor(ms, () => {
            const length = completeLength(raw);
            if (length === undefined && !closed) return undefined;
            const response = raw.subarray(0, length ?? raw.length);
            return { ...parseResponse(response), text: response.toString('latin1') };
          }),
        closedWithin: async (ms) => (await waitFor(ms, () => (closed ? true : undefined))) ?? false,
        destroy: () => socket.destroy(),
      }),
    );
    socket.once('error', reject);
  });
}
