import { request as httpRequest } from 'node:http';
import { createServer } from 'node:https';
import { connect, createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { TEST_TLS } from './tls.js';

/** Connection-level headers a proxy answers for itself instead of relaying (RFC 9110 §7.6.1). */
const HOP_BY_HOP: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection']);

/** A TLS-terminating reverse proxy in front of an app served over plain HTTP: see {@link startTlsProxy}. */
export interface TlsProxy {
  /** The port it listens on, on 127.0.0.1, over TLS with the test certificate ({@link TEST_TLS}). */
  readonly port: number;
  /** Where requests go from now on: `http://127.0.0.1:<port>`. Until set, every request gets a 502. */
  forwardTo(port: number): void;
  close(): Promise<void>;
}

/**
 * Starts what a deployment puts in front of the app (a load balancer, nginx): it terminates TLS on
 * an ephemeral loopback port and forwards each request to the app over plain HTTP, adding
 * `X-Forwarded-Proto: https` and `X-Forwarded-For` (believed by an app with `trustProxy:
 * 'loopback'`). The answer is relayed as the app wrote it: status, every header in its order and
 * case (duplicates kept) except the connection-level ones, and the body.
 */
export async function startTlsProxy(): Promise<TlsProxy> {
  let target: number | undefined;
  const server = createServer({ key: TEST_TLS.key, cert: TEST_TLS.cert }, (req, res) => {
    if (target === undefined) {
      res.writeHead(502).end();
      return;
    }
    const headers = { ...req.headers, 'x-forwarded-proto': 'https', 'x-forwarded-for': req.socket.remoteAddress ?? '127.0.0.1' };
    const upstream = httpRequest({ host: '127.0.0.1', port: target, method: req.method, path: req.url, headers }, (answer) => {
      const relayed: string[] = [];
      for (let i = 0; i + 1 < answer.rawHeaders.length; i += 2) {
        const name = answer.rawHeaders[i] as string;
        if (!HOP_BY_HOP.has(name.toLowerCase())) relayed.push(name, answer.rawHeaders[i + 1] as string);
      }
      res.writeHead(answer.statusCode ?? 502, relayed);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    forwardTo(port: number) {
      target = port;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** One port for plain HTTP and HTTPS: see {@link startSharedPort}. */
export interface SharedPort {
  /** The port it listens on, on 127.0.0.1. */
  readonly port: number;
  /** Where plain-HTTP connections go from now on (127.0.0.1); until set, they are closed. */
  forwardPlainTo(port: number): void;
  close(): Promise<void>;
}

/** First byte of a TLS connection: a handshake record (RFC 8446 §5.1). */
const TLS_HANDSHAKE = 0x16;

async function listenOnLoopback(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

/**
 * Serves plain HTTP and HTTPS on one loopback port, as `http://host:port/` and `https://host:port/`
 * would reach two listeners: each connection is relayed byte for byte, by its first byte, to the
 * TLS port (a TLS handshake) or to the plain-HTTP port (anything else).
 */
export async function startSharedPort(tlsPort: number): Promise<SharedPort> {
  let plainPort: number | undefined;
  const open = new Set<Socket>();
  const server = createTcpServer((socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.once('data', (first) => {
      const target = first[0] === TLS_HANDSHAKE ? tlsPort : plainPort;
      if (target === undefined) {
        socket.destroy();
        return;
      }
      const upstream = connect(target, '127.0.0.1', () => {
        upstream.write(first);
        socket.pipe(upstream);
        upstream.pipe(socket);
      });
      upstream.on('error', () => socket.destroy());
      socket.on('error', () => upstream.destroy());
      socket.on('close', () => upstream.destroy());
      upstream.on('close', () => socket.destroy());
    });
  });
  const port = await listenOnLoopback(server);
  return {
    port,
    forwardPlainTo(target: number) {
      plainPort = target;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
