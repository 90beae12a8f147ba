/**
 * WebSocket message handlers behind the global guards: each message is judged on the socket's
 * handshake (socket.io's headers and `auth: { token }`; `ws` through PalisadeWsAdapter), again at
 * every message, and a refused message never reaches its handler — on socket.io and `ws`, each on
 * Express and Fastify.
 */
import { randomUUID } from 'node:crypto';
import type { INestApplication, ModuleMetadata } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import { SubscribeMessage, WebSocketGateway, type WsResponse } from '@nestjs/websockets';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CurrentUser, PalisadeModule, Public, Roles, Throttle, TokenService, type Principal } from '@palisade/nest';
import { ADAPTERS, bootApp, type AdapterName } from '../support/app.js';
import { startupError } from '../support/authorization.js';
import { SOCKET_LIBS, SocketClients, socketAdapter, type SocketClient, type SocketEvent, type SocketLib } from '../support/sockets.js';
import { TOKEN_AUDIENCE, TOKEN_ISSUER, TokenLifecycleController, logout } from '../support/token-app.js';
import { signToken, TEST_SECRET } from '../support/tokens.js';

const PING_LIMIT = { default: { limit: 2, ttl: 60_000 } };

@WebSocketGateway()
class ReportsGateway {
  /** How many times each handler ran. */
  readonly calls: Record<string, number> = {};

  private ran(name: string): void {
    this.calls[name] = (this.calls[name] ?? 0) + 1;
  }

  @SubscribeMessage('secret') @Roles('admin') secret(): WsResponse<string> {
    this.ran('secret');
    return { event: 'secret', data: 'the secret' };
  }

  @SubscribeMessage('hello') @Public() hello(): WsResponse<string> {
    this.ran('hello');
    return { event: 'hello', data: 'hello' };
  }

  @SubscribeMessage('me') me(@CurrentUser() user: Principal | undefined): WsResponse<unknown> {
    this.ran('me');
    return { event: 'me', data: user ? { id: user.id, scheme: user.scheme, roles: user.roles } : null };
  }

  @SubscribeMessage('ping') @Throttle(PING_LIMIT) ping(): WsResponse<string> {
    this.ran('ping');
    return { event: 'ping', data: 'pong' };
  }

  @SubscribeMessage('open-ping') @Public() @Throttle(PING_LIMIT) openPing(): WsResponse<string> {
    this.ran('open-ping');
    return { event: 'open-ping', data: 'pong' };
  }
}

function palisade(): ModuleMetadata['imports'] {
  return [
    PalisadeModule.forRoot({
      auth: { jwt: { secret: TEST_SECRET, issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE } },
      tokens: {},
      throttle: { throttlers: [{ name: 'default', limit: 100, ttl: '1m' }] },
      // The test clients connect over loopback: X-Forwarded-For of the handshake names the client.
      trustProxy: 'loopback',
      global: true,
    }),
  ];
}

/** A JWT the app accepts (its issuer and audience, a jti since revocation is on). */
function accessToken(claims: Record<string, unknown>): string {
  return signToken({ iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE, jti: randomUUID(), ...claims });
}

/** The `exception` event of a refused message. */
function refused(statusCode: number, error: string, message: string, code: string): SocketEvent {
  return { event: 'exception', data: { status: 'error', statusCode, error, message, code } };
}

const UNAUTHENTICATED = refused(401, 'Unauthorized', 'Authentication required', 'UNAUTHENTICATED');
const INVALID = refused(401, 'Unauthorized', 'Invalid credentials', 'UNAUTHENTICATED');
const EXPIRED = refused(401, 'Unauthorized', 'The access token expired', 'UNAUTHENTICATED');
const FORBIDDEN_ROLE = refused(403, 'Forbidden', 'Insufficient role', 'FORBIDDEN');
const THROTTLED = {
  event: 'exception',
  data: {
    status: 'error',
    statusCode: 429,
    error: 'Too Many Requests',
    message: 'Too many requests; retry later',
    code: 'TOO_MANY_REQUESTS',
    retryAfter: expect.any(Number) as unknown,
  },
};

const SECRET = { event: 'secret', data: 'the secret' };
const PONG = { event: 'ping', data: 'pong' };
const OPEN_PONG = { event: 'open-ping', data: 'pong' };

/** The `retryAfter` of a TOO_MANY_REQUESTS event. */
function retryAfterOf(reply: SocketEvent): number {
  return (reply.data as { retryAfter: number }).retryAfter;
}

const COMBINATIONS = SOCKET_LIBS.flatMap((lib) => ADAPTERS.map((adapter) => [lib, adapter] as [SocketLib, AdapterName]));

/** The gateway app of one combination, booted for the enclosing `describe`; its sockets closed after each test. */
interface GatewayApp {
  app: INestApplication;
  gateway: ReportsGateway;
  clients: SocketClients;
}

function useGatewayApp(lib: SocketLib, adapter: AdapterName): GatewayApp {
  const state = { clients: new SocketClients(lib) } as GatewayApp;
  beforeAll(async () => {
    ({ app: state.app } = await bootApp(
      adapter,
      { imports: palisade(), providers: [ReportsGateway], controllers: [TokenLifecycleController] },
      false,
      socketAdapter(lib),
    ));
    state.gateway = state.app.get(ReportsGateway);
  });
  afterEach(() => state.clients.closeAll());
  afterAll(() => state.app.close());
  return state;
}

describe.each(COMBINATIONS)('WebSocket gateways behind the global guards (%s on %s)', (lib, adapter) => {
  const booted = useGatewayApp(lib, adapter);
  let app: INestApplication;
  let gateway: ReportsGateway;
  let clients: SocketClients;
  beforeAll(() => {
    ({ app, gateway, clients } = booted);
  });

  /** Connects with the token in the handshake's Authorization header. */
  function withBearer(token: string): Promise<SocketClient> {
    return clients.connect(app, { authorization: `Bearer ${token}` });
  }

  it('an anonymous socket is refused a @Roles handler (UNAUTHENTICATED), which never runs; a @Public() handler answers', async () => {
    const before = gateway.calls.secret ?? 0;
    const socket = await clients.connect(app);
    expect(await socket.request('secret')).toEqual(UNAUTHENTICATED);
    expect(await socket.request('me')).toEqual(UNAUTHENTICATED);
    expect(gateway.calls.secret ?? 0).toBe(before);
    // The socket stays usable: a refusal answers the message, it does not close the connection.
    expect(await socket.request('hello')).toEqual({ event: 'hello', data: 'hello' });
  });

  it('a bearer token in the handshake Authorization header: a user is FORBIDDEN a @Roles("admin") handler, an admin passes', async () => {
    const before = gateway.calls.secret ?? 0;
    const user = await withBearer(accessToken({ sub: 'ursula', roles: ['user'] }));
    expect(await user.request('secret')).toEqual(FORBIDDEN_ROLE);
    expect(gateway.calls.secret ?? 0).toBe(before);
    const admin = await withBearer(accessToken({ sub: 'ada', roles: ['admin'] }));
    expect(await admin.request('secret')).toEqual(SECRET);
    expect(gateway.calls.secret).toBe(before + 1);
  });

  it('@CurrentUser() in a message handler returns the principal of the handshake', async () => {
    const socket = await withBearer(accessToken({ sub: 'alice', roles: ['user'] }));
    expect(await socket.request('me')).toEqual({ event: 'me', data: { id: 'alice', scheme: 'jwt', roles: ['user'] } });
  });

  it('@CurrentUser() returns the principal to each of several identical messages in flight at once', async () => {
    const socket = await withBearer(accessToken({ sub: 'bob', roles: ['user'] }));
    const me = { event: 'me', data: { id: 'bob', scheme: 'jwt', roles: ['user'] } };
    expect(await socket.burst('me', 20)).toEqual(Array.from({ length: 20 }, () => me));
  });

  it('a bad token in the handshake is UNAUTHENTICATED with the fixed message, and the handler never runs', async () => {
    const before = gateway.calls.me ?? 0;
    const socket = await clients.connect(app, { authorization: 'Bearer not.a.token' });
    expect(await socket.request('me')).toEqual(INVALID);
    expect(gateway.calls.me ?? 0).toBe(before);
  });

  it('a token that expires while the socket is open stops working at the next message', async () => {
    const exp = Math.floor(Date.now() / 1000) + 2;
    const socket = await withBearer(accessToken({ sub: 'eve', roles: ['user'], exp }));
    expect(await socket.request('me')).toEqual({ event: 'me', data: { id: 'eve', scheme: 'jwt', roles: ['user'] } });
    const before = gateway.calls.me ?? 0;
    // Real time, not fake timers: the verified-token cache and the JWT library read the real clock.
    await new Promise((resolve) => setTimeout(resolve, exp * 1000 - Date.now() + 50));
    expect(await socket.request('me')).toEqual(EXPIRED);
    expect(gateway.calls.me).toBe(before);
  });

  it('a token revoked (logout over HTTP) while the socket is open stops working at the next message', async () => {
    const { accessToken: token } = await app.get(TokenService).issueTokens({ id: 'leo', roles: ['admin'], scopes: [] });
    const socket = await withBearer(token);
    expect(await socket.request('secret')).toEqual(SECRET);
    expect((await logout(app, token)).status).toBe(204);
    const before = gateway.calls.secret ?? 0;
    expect(await socket.request('secret')).toEqual(INVALID);
    expect(await socket.request('me')).toEqual(INVALID);
    expect(gateway.calls.secret).toBe(before);
  });

  it('a throttled handler refuses the third message (TOO_MANY_REQUESTS, retryAfter), keyed by principal across sockets', async () => {
    const token = accessToken({ sub: 'pat', roles: ['user'] });
    const socket = await withBearer(token);
    expect(await socket.request('ping')).toEqual(PONG);
    expect(await socket.request('ping')).toEqual(PONG);
    const before = gateway.calls.ping;
    const third = await socket.request('ping');
    expect(third).toEqual(THROTTLED);
    expect(retryAfterOf(third)).toBeGreaterThan(0);
    // The sliding window frees a slot at most one window after the hits, rounded up to the next second.
    expect(retryAfterOf(third)).toBeLessThanOrEqual(61);
    expect(gateway.calls.ping).toBe(before);
    // The same principal on a new socket is still over its limit; another principal is not.
    expect(await (await withBearer(token)).request('ping')).toEqual(THROTTLED);
    expect(await (await withBearer(accessToken({ sub: 'quinn', roles: ['user'] }))).request('ping')).toEqual(PONG);
  });

  it('anonymous sockets on a @Public() throttled handler are keyed by the handshake client address (X-Forwarded-For from a trusted proxy)', async () => {
    const first = await clients.connect(app, { headers: { 'x-forwarded-for': '203.0.113.7' } });
    expect(await first.request('open-ping')).toEqual(OPEN_PONG);
    expect(await first.request('open-ping')).toEqual(OPEN_PONG);
    // Another socket from the same address shares the budget…
    const again = await clients.connect(app, { headers: { 'x-forwarded-for': '203.0.113.7' } });
    const refusedReply = await again.request('open-ping');
    expect(refusedReply).toEqual(THROTTLED);
    expect(retryAfterOf(refusedReply)).toBeGreaterThan(0);
    // …another address has its own.
    const other = await clients.connect(app, { headers: { 'x-forwarded-for': '203.0.113.8' } });
    expect(await other.request('open-ping')).toEqual(OPEN_PONG);
  });
});

describe.each(ADAPTERS)("socket.io's auth payload (%s)", (adapter) => {
  const booted = useGatewayApp('socket.io', adapter);
  let app: INestApplication;
  let gateway: ReportsGateway;
  let clients: SocketClients;
  beforeAll(() => {
    ({ app, gateway, clients } = booted);
  });

  it("socket.io's auth: { token } stands for a bearer token (browsers cannot set headers)", async () => {
    const user = await clients.connect(app, { token: accessToken({ sub: 'ulla', roles: ['user'] }) });
    expect(await user.request('secret')).toEqual(FORBIDDEN_ROLE);
    expect(await user.request('me')).toEqual({ event: 'me', data: { id: 'ulla', scheme: 'jwt', roles: ['user'] } });
    const admin = await clients.connect(app, { token: accessToken({ sub: 'adele', roles: ['admin'] }) });
    expect(await admin.request('secret')).toEqual(SECRET);
  });

  it('auth: { token } beside an Authorization header counts as a second Authorization header: refused as malformed', async () => {
    const before = gateway.calls.me ?? 0;
    const token = accessToken({ sub: 'twice', roles: ['admin'] });
    const socket = await clients.connect(app, { authorization: `Bearer ${token}`, token });
    expect(await socket.request('me')).toEqual(INVALID);
    expect(gateway.calls.me ?? 0).toBe(before);
  });
});

@WebSocketGateway()
class PlainWsGateway {
  @SubscribeMessage('open') @Public() open(): WsResponse<string> {
    return { event: 'open', data: 'open' };
  }

  @SubscribeMessage('secret') @Roles('admin') secret(): WsResponse<string> {
    return { event: 'secret', data: 'the secret' };
  }
}

@WebSocketGateway()
class PublicWsGateway {
  @SubscribeMessage('open') @Public() open(): WsResponse<string> {
    return { event: 'open', data: 'open' };
  }
}

/** @nestjs/platform-ws's own adapter, which keeps no upgrade request. */
function plainWs(app: INestApplication): void {
  app.useWebSocketAdapter(new WsAdapter(app));
}

describe.each(ADAPTERS)('WebSocket startup checks (%s)', (adapter) => {
  it("a handler that needs a caller on @nestjs/platform-ws's plain WsAdapter (handshakes unreadable) stops the app", async () => {
    const error = await startupError(adapter, { imports: palisade(), providers: [PlainWsGateway] }, plainWs);
    expect(error.message).toBe(
      "PalisadeModule: PlainWsGateway.secret (WebSocket message handler) needs a caller, but its socket handshakes cannot be read through WsAdapter; use socket.io (IoAdapter) or the ws adapter from '@palisade/nest/ws' (app.useWebSocketAdapter(new PalisadeWsAdapter(app))).",
    );
  });

  it('the plain WsAdapter is fine when every handler is @Public()', async () => {
    const { app } = await bootApp(adapter, { imports: palisade(), providers: [PublicWsGateway] }, false, plainWs);
    const clients = new SocketClients('ws');
    try {
      const socket = await clients.connect(app);
      expect(await socket.request('open')).toEqual({ event: 'open', data: 'open' });
    } finally {
      await clients.closeAll();
      await app.close();
    }
  });
});
