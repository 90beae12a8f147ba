import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, SignJWT, type JWK, type JWTPayload } from 'jose';
import { Controller, Get } from '@nestjs/common';
import { Roles, Scopes } from '@palisade/nest';
import { vi } from 'vitest';

/** A JWK Set document. */
export interface JwkSet {
  keys: JWK[];
}

/**
 * How the server answers: `ok` (the published set), `fail` (HTTP 500), `hang` (accepts the request
 * and never answers), `empty` (a set without keys), `invalid` (a body that is not JSON).
 */
export type JwksServerMode = 'ok' | 'fail' | 'hang' | 'empty' | 'invalid';

/**
 * A JWK Set server on loopback (`127.0.0.1:0`) that the test controls: it serves whatever set was
 * last {@link JwksServer.publish published} on every path — or fails the way an identity provider
 * does during an outage ({@link JwksServer.mode}) — and counts requests per path, so a test can
 * prove how often keys were fetched, or that a server was never contacted at all.
 */
export class JwksServer {
  private readonly counts = new Map<string, number>();
  private document: JwkSet = { keys: [] };
  /** How the next requests are answered; change it at any time. */
  mode: JwksServerMode = 'ok';
  private readonly server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    this.counts.set(path, (this.counts.get(path) ?? 0) + 1);
    switch (this.mode) {
      case 'hang':
        return; // closeAllConnections() ends it
      case 'fail':
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('identity provider unavailable');
        return;
      case 'invalid':
        res.writeHead(200, { 'content-type': 'application/jwk-set+json' });
        res.end('<html>maintenance</html>');
        return;
      default:
        res.writeHead(200, { 'content-type': 'application/jwk-set+json', 'cache-control': 'no-store' });
        res.end(JSON.stringify(this.mode === 'empty' ? { keys: [] } : this.document));
    }
  });

  private constructor() {}

  /** Starts a server on an ephemeral loopback port. */
  static async start(): Promise<JwksServer> {
    const self = new JwksServer();
    self.server.listen(0, '127.0.0.1');
    await once(self.server, 'listening');
    return self;
  }

  /** The port the server listens on. */
  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** `http://127.0.0.1:<port><path>`. */
  url(path = '/jwks.json'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** Replaces the served set (a key rotation at the identity provider). */
  publish(...keys: readonly TestSigningKey[]): void {
    this.document = { keys: keys.map((key) => key.jwk) };
  }

  /** Requests received for `path`. */
  requests(path = '/jwks.json'): number {
    return this.counts.get(path) ?? 0;
  }

  /** Requests received on any path. */
  get total(): number {
    return [...this.counts.values()].reduce((sum, n) => sum + n, 0);
  }

  /** Stops the server (open keep-alive connections included). */
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** JWS algorithms of the keys the JWKS tests publish (`Ed25519`: RFC 9864's name for EdDSA on Ed25519). */
export type TestKeyAlgorithm = 'RS256' | 'PS256' | 'ES256' | 'EdDSA' | 'Ed25519';

/** A signing key: the private half, and the public JWK as an identity provider would publish it. */
export interface TestSigningKey {
  readonly alg: TestKeyAlgorithm;
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** Public JWK with `kid`, `alg` and `use: 'sig'` set. */
  readonly jwk: JWK;
}

let serial = 0;

/** Generates a key pair for `alg` and its public JWK (with `kid` and `alg` set). */
export async function signingKey(alg: TestKeyAlgorithm, kid = `${alg.toLowerCase()}-${++serial}-${Date.now().toString(36)}`): Promise<TestSigningKey> {
  const pair =
    alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : alg === 'EdDSA' || alg === 'Ed25519'
        ? generateKeyPairSync('ed25519')
        : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...(await exportJWK(pair.publicKey)), kid, alg, use: 'sig' };
  return { alg, kid, privateKey: pair.privateKey, publicKey: pair.publicKey, jwk };
}

/** Options of {@link signWith}. */
export interface SignWithOptions {
  /** JWS algorithm written in the header and used to sign; default the key's own. */
  alg?: string;
  /** Extra protected-header parameters (`jku`, `x5u`, a different `kid`…). */
  header?: Record<string, unknown>;
  /** Seconds from now until `exp` (negative: already expired). Default 300. */
  expiresIn?: number;
}

/** Signs a JWT with `key` (header `kid` = the key's kid unless overridden). */
export function signWith(key: TestSigningKey, claims: JWTPayload, options: SignWithOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const alg = options.alg ?? key.alg;
  return new SignJWT({ iat: now, exp: now + (options.expiresIn ?? 300), ...claims })
    .setProtectedHeader({ alg, kid: key.kid, typ: 'JWT', ...options.header })
    .sign(key.privateKey);
}

/**
 * The wall clock as the JWKS cache and the claim checks read it (`Date.now`), standing still at
 * the real time of creation and moved forward only by `advance(ms)`, so deadlines are exact on a
 * slow machine. `restore()` (or `vi.restoreAllMocks()`) puts the real clock back. Timers are
 * untouched: HTTP and fetch timeouts run in real time.
 */
export class WallClock {
  private now = Date.now();
  private readonly spy = vi.spyOn(Date, 'now').mockImplementation(() => this.now);

  /** Moves the clock `ms` milliseconds forward. */
  advance(ms: number): void {
    this.now += ms;
  }

  /** The real clock again. */
  restore(): void {
    this.spy.mockRestore();
  }
}

/** `GET /admin`: role `admin` — a JWKS token's roles claim at work. */
@Controller('admin')
export class JwksAdminController {
  @Get() @Roles('admin') admin() {
    return { area: 'admin' };
  }
}

/** `GET /reports`: scope `reports:read` — a JWKS token's scopes claim at work. */
@Controller('reports')
export class JwksReportsController {
  @Get() @Scopes('reports:read') reports() {
    return { reports: [] };
  }
}
