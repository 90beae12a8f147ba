import type { IncomingMessage } from 'node:http';
import { WsAdapter } from '@nestjs/platform-ws';
import { RECORDS_HANDSHAKES, recordUpgradeRequest } from '../transport/websocket.transport.js';

/**
 * The `ws` WebSocket adapter of `@nestjs/platform-ws`, with what Palisade needs to protect its
 * gateways: it remembers each socket's upgrade request (the `ws` library keeps none), so every
 * message is judged on the handshake's `Authorization` header and client address (trusted proxies
 * honoured). socket.io (the default `IoAdapter`) needs no such adapter. Without it, an application
 * whose `ws` gateways require a caller does not start.
 *
 * @example
 * import { PalisadeWsAdapter } from '@palisade/nest/ws';
 * const app = await NestFactory.create(AppModule);
 * app.useWebSocketAdapter(new PalisadeWsAdapter(app));
 */
export class PalisadeWsAdapter extends WsAdapter {
  readonly [RECORDS_HANDSHAKES] = true;

  /** Records each socket's upgrade request before Nest's connection handler runs. */
  override bindClientConnect(
    server: { on(event: 'connection', listener: (client: object, request: IncomingMessage) => void): unknown },
    callback: (...args: unknown[]) => void,
  ): void {
    server.on('connection', (client, request) => recordUpgradeRequest(client, request));
    super.bindClientConnect(server, callback);
  }
}
