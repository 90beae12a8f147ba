import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { io, type Socket } from 'socket.io-client';
import { WebSocket, type RawData } from 'ws';
import { PalisadeWsAdapter } from '@palisade/nest/ws';
import type { BeforeInit } from './app.js';

/** The two WebSocket libraries Palisade judges gateways on. */
export const SOCKET_LIBS = ['socket.io', 'ws'] as const;
export type SocketLib = (typeof SOCKET_LIBS)[number];

/** Sets the WebSocket adapter of `lib` on an app before `init()`: socket.io's `IoAdapter`, or Palisade's `ws` adapter. */
export function socketAdapter(lib: SocketLib): BeforeInit {
  return (app) => {
    app.useWebSocketAdapter(lib === 'socket.io' ? new IoAdapter(app) : new PalisadeWsAdapter(app));
  };
}

/** One event a client received: its name and payload. */
export interface SocketEvent {
  event: string;
  data: unknown;
}

/** What the handshake carries: an `Authorization` header, socket.io's `auth: { token }`, other headers. */
export interface Handshake {
  authorization?: string;
  token?: string;
  headers?: Record<string, string>;
}

/** A connected test client that sends one message at a time and reads the next event it receives. */
export interface SocketClient {
  /** Sends `event` with `data` and resolves with the next event received (a reply or `exception`). */
  request(event: string, data?: unknown): Promise<SocketEvent>;
  /** Sends `event` `count` times without waiting, then resolves with the next `count` events received. */
  burst(event: string, count: number): Promise<SocketEvent[]>;
  close(): Promise<void>;
}

const REPLY_TIMEOUT_MS = 3_000;

/** Opens sockets to an app's gateways and closes them all at the end of each test. */
export class SocketClients {
  private readonly open = new Set<SocketClient>();

  constructor(private readonly lib: SocketLib) {}

  /** Connects to the gateways of `app` (on its HTTP server) with `handshake`; resolves once connected. */
  async connect(app: INestApplication, handshake: Handshake = {}): Promise<SocketClient> {
    const { port } = (app.getHttpServer() as { address(): AddressInfo }).address();
    const headers: Record<string, string> = { ...handshake.headers };
    if (handshake.authorization !== undefined) headers.authorization = handshake.authorization;
    const client = this.lib === 'socket.io' ? await connectIo(port, headers, handshake.token) : await connectWs(port, headers, handshake.token);
    this.open.add(client);
    return client;
  }

  async closeAll(): Promise<void> {
    const clients = [...this.open];
    this.open.clear();
    await Promise.all(clients.map((c) => c.close()));
  }
}

/** A queue of received events, read in order with a timeout. */
class Inbox {
  private readonly events: SocketEvent[] = [];
  private waiter: ((event: SocketEvent) => void) | undefined;

  push(event: SocketEvent): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    if (waiter) waiter(event);
    else this.events.push(event);
  }

  next(what: string): Promise<SocketEvent> {
    const queued = this.events.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error(`no event received within ${REPLY_TIMEOUT_MS} ms after sending ${what}`));
      }, REPLY_TIMEOUT_MS);
      this.waiter = (event) => {
        clearTimeout(timer);
        resolve(event);
      };
    });
  }
}

function connectIo(port: number, headers: Record<string, string>, token: string | undefined): Promise<SocketClient> {
  const socket: Socket = io(`http://127.0.0.1:${port}`, {
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
    extraHeaders: headers,
    ...(token === undefined ? {} : { auth: { token } }),
  });
  const inbox = new Inbox();
  socket.onAny((event: string, data: unknown) => inbox.push({ event, data }));
  const client: SocketClient = {
    request(event, data) {
      socket.emit(event, data);
      return inbox.next(event);
    },
    async burst(event, count) {
      for (let i = 0; i < count; i++) socket.emit(event);
      const events: SocketEvent[] = [];
      // oxlint-disable-next-line no-await-in-loop -- the events arrive in order, one at a time
      for (let i = 0; i < count; i++) events.push(await inbox.next(event));
      return events;
    },
    close() {
      socket.disconnect();
      return Promise.resolve();
    },
  };
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(client));
    socket.once('connect_error', (error) => {
      socket.disconnect();
      reject(error);
    });
  });
}

function connectWs(port: number, headers: Record<string, string>, token: string | undefined): Promise<SocketClient> {
  if (token !== undefined) throw new Error('the ws client has no auth payload; send the token in the Authorization header');
  const socket = new WebSocket(`ws://127.0.0.1:${port}/`, { headers });
  const inbox = new Inbox();
  socket.on('message', (raw: RawData) => inbox.push(JSON.parse(raw.toString()) as SocketEvent));
  const client: SocketClient = {
    request(event, data) {
      socket.send(JSON.stringify({ event, data }));
      return inbox.next(event);
    },
    async burst(event, count) {
      for (let i = 0; i < count; i++) socket.send(JSON.stringify({ event }));
      const events: SocketEvent[] = [];
      // oxlint-disable-next-line no-await-in-loop -- the events arrive in order, one at a time
      for (let i = 0; i < count; i++) events.push(await inbox.next(event));
      return events;
    },
    close() {
      if (socket.readyState === WebSocket.CLOSED) return Promise.resolve();
      return new Promise((resolve) => {
        socket.once('close', () => resolve());
        socket.close();
      });
    },
  };
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(client));
    socket.once('error', reject);
  });
}
