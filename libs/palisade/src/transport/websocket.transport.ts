import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { HttpException } from '@nestjs/common';
import type { HttpRequestLike } from '../common/http-context.js';
import { callErrorOf } from './call-error.js';

/** What Palisade keeps of a socket's handshake: computed once per socket. */
interface Handshake {
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: readonly string[] | undefined;
  readonly socket: { readonly remoteAddress: string | undefined; readonly encrypted: boolean };
}

/** socket.io's `socket.handshake`, as far as Palisade reads it. */
interface SocketIoHandshake {
  readonly headers?: IncomingHttpHeaders;
  readonly address?: string;
  readonly secure?: boolean;
  readonly auth?: { readonly token?: unknown };
}

const handshakes = new WeakMap<object, Handshake | null>();
/** Upgrade requests of `ws` sockets, recorded by `PalisadeWsAdapter`. */
const upgrades = new WeakMap<object, IncomingMessage>();

/**
 * Records the upgrade request of a `ws` socket (the `ws` library keeps none), so that its messages
 * are judged on the handshake's credentials and address. Called by `PalisadeWsAdapter`.
 * @internal
 */
export function recordUpgradeRequest(client: object, request: IncomingMessage): void {
  upgrades.set(client, request);
}

/** Marks a WebSocket adapter that records its sockets' upgrade requests (`PalisadeWsAdapter`). @internal */
export const RECORDS_HANDSHAKES = Symbol('palisade.recordsHandshakes');

/** True when `adapter` records the upgrade requests of its sockets. @internal */
export function readsHandshakes(adapter: object): boolean {
  return (adapter as { [RECORDS_HANDSHAKES]?: unknown })[RECORDS_HANDSHAKES] === true;
}

const BEARER = /^bearer /i;

function fromSocketIo(handshake: SocketIoHandshake, request: IncomingMessage | undefined): Handshake {
  const headers: IncomingHttpHeaders = { ...handshake.headers };
  const rawHeaders = request?.rawHeaders ? [...request.rawHeaders] : undefined;
  // Browsers cannot set headers on a WebSocket: socket.io's `auth: { token }` stands for a bearer
  // token. It joins the raw headers too, where the credential parser counts Authorization headers:
  // alone it is the one header; sent beside an Authorization header, it is a second one (refused as
  // ambiguous).
  const token = handshake.auth?.token;
  if (typeof token === 'string') {
    const value = BEARER.test(token) ? token : `Bearer ${token}`;
    if (headers.authorization === undefined) headers.authorization = value;
    rawHeaders?.push('authorization', value);
  }
  return { headers, rawHeaders, socket: { remoteAddress: handshake.address ?? request?.socket?.remoteAddress, encrypted: handshake.secure === true } };
}

function fromUpgrade(request: IncomingMessage): Handshake {
  const encrypted = (request.socket as { encrypted?: boolean } | undefined)?.encrypted === true;
  return { headers: request.headers, rawHeaders: request.rawHeaders, socket: { remoteAddress: request.socket?.remoteAddress, encrypted } };
}

function handshakeOf(client: unknown): Handshake | undefined {
  if (typeof client !== 'object' || client === null) return undefined;
  let handshake = handshakes.get(client);
  if (handshake === undefined) {
    const io = (client as { handshake?: SocketIoHandshake }).handshake;
    const upgrade = upgrades.get(client);
    handshake =
      typeof io === 'object' && io !== null ? fromSocketIo(io, (client as { request?: IncomingMessage }).request) : upgrade ? fromUpgrade(upgrade) : null;
    handshakes.set(client, handshake);
  }
  return handshake ?? undefined;
}

/**
 * The request one WebSocket message is judged on: the socket's handshake (headers, address), with a
 * state of its own, so that every message is authenticated again (an expired or revoked token stops
 * working at the next message) while the verified-token cache keeps that cheap.
 * @internal
 */
class SocketCallRequest implements HttpRequestLike {
  [key: PropertyKey]: unknown;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: string[] | undefined;
  readonly socket: Handshake['socket'];
  readonly method = 'WS';
  readonly url: string;
  user: unknown = undefined;

  constructor(handshake: Handshake, pattern: string) {
    this.headers = handshake.headers;
    this.rawHeaders = handshake.rawHeaders as string[] | undefined;
    this.socket = handshake.socket;
    this.url = pattern;
  }
}

const NO_HANDSHAKE: Handshake = Object.freeze({
  headers: Object.freeze({}),
  rawHeaders: undefined,
  socket: Object.freeze({ remoteAddress: undefined, encrypted: false }),
});

/**
 * The request of a WebSocket message call (`[client, data, …, pattern]`). A socket whose handshake
 * Palisade cannot read (a `ws` socket without `PalisadeWsAdapter`) is judged as presenting nothing.
 * @internal
 */
export function socketRequestOf(args: readonly unknown[]): HttpRequestLike {
  const pattern = args.length > 1 ? args[args.length - 1] : undefined;
  return new SocketCallRequest(handshakeOf(args[0]) ?? NO_HANDSHAKE, typeof pattern === 'string' ? pattern : 'message');
}

type WsExceptionClass = new (error: object) => Error;
let wsException: WsExceptionClass | undefined;

/**
 * Loads `@nestjs/websockets`' `WsException` (an optional peer), so refusals reach the client as an
 * `exception` event. Called at bootstrap when the application has gateways.
 * @internal
 */
export async function loadWebSocketSupport(): Promise<void> {
  if (wsException) return;
  const websockets = (await import('@nestjs/websockets')) as { WsException: WsExceptionClass };
  wsException = websockets.WsException;
}

/**
 * The error a refused message sends: a `WsException` whose payload is `{ status: 'error',
 * statusCode, error, message, code, retryAfter? }` (Nest's exception filter emits it as the
 * `exception` event).
 * @internal
 */
export function toSocketError(exception: HttpException): Error {
  if (!wsException) return exception;
  return new wsException({ status: 'error', ...callErrorOf(exception) });
}
