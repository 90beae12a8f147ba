import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import type { INestApplication } from '@nestjs/common';

/** A request line and header lines sent byte for byte, for targets and Host values supertest cannot express. */
export interface RawRequestSpec {
  method?: string;
  /** The request target as written on the request line (`/path`, `http://host/path`). */
  target: string;
  /** The `Host` header value; `null` sends none (as HTTP/1.0). Default: the app's address. */
  host?: string | null;
  headers?: readonly string[];
}

/** A response read off the socket. */
export interface RawReply {
  status: number;
  /** Header values by lower-cased name. */
  headers: Record<string, string>;
  body: string;
}

function parse(raw: Buffer): RawReply {
  const headEnd = raw.indexOf('\r\n\r\n');
  const head = raw.subarray(0, headEnd < 0 ? raw.length : headEnd).toString('latin1');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? Number.NaN);
  return { status, headers, body: headEnd < 0 ? '' : raw.subarray(headEnd + 4).toString('utf8') };
}

/** Sends one request over a plain socket and parses the answer. */
export function rawRequest(app: INestApplication, spec: RawRequestSpec): Promise<RawReply> {
  const { port } = (app.getHttpServer() as { address(): AddressInfo }).address();
  const version = spec.host === null ? 'HTTP/1.0' : 'HTTP/1.1';
  const hostLine = spec.host === null ? [] : [`Host: ${spec.host ?? `127.0.0.1:${port}`}`];
  const head = [`${spec.method ?? 'GET'} ${spec.target} ${version}`, ...hostLine, 'Connection: close', ...(spec.headers ?? []), '', ''].join('\r\n');
  return new Promise<RawReply>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => resolve(parse(Buffer.concat(chunks))));
    socket.on('error', reject);
    socket.end(Buffer.from(head, 'latin1'));
  });
}

/** The entries of a comma-separated header, trimmed (the adapters differ in spacing). */
export function headerList(value: unknown): string[] {
  return typeof value === 'string'
    ? value
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item.length > 0)
    : [];
}
