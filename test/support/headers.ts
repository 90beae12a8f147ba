import 'reflect-metadata';
import type { Duplex } from 'node:stream';
import type { INestApplication, ModuleMetadata } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { afterAll, beforeAll } from 'vitest';
import type { AdapterName } from './app.js';
import { TEST_TLS } from './tls.js';

/** How {@link bootHeadersApp} builds the app. */
export interface BootOptions {
  /** Serve over TLS with the test certificate. */
  tls?: boolean;
  /** Fastify options the suites need (its `clientErrorHandler`); Express ignores them. */
  fastify?: { clientErrorHandler?: (error: Error, socket: Duplex) => void };
  /** Runs on the app before `init()` (e.g. `app.enableCors(...)`). */
  configure?: (app: INestApplication) => void;
}

/** A booted app with a supertest agent; `baseUrl` is `http(s)://127.0.0.1:<port>`. */
export interface HeadersApp {
  app: INestApplication;
  http: ReturnType<typeof request>;
  port: number;
  baseUrl: string;
}

/**
 * Boots a real Nest app on `adapter`, listening on an ephemeral loopback port. Unlike `bootApp`,
 * it leaves Express's `x-powered-by` setting alone: removing the header is Palisade's job.
 */
export async function bootHeadersApp(adapter: AdapterName, metadata: ModuleMetadata, options: BootOptions = {}): Promise<HeadersApp> {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  const httpsOptions = options.tls ? { key: TEST_TLS.key, cert: TEST_TLS.cert } : undefined;
  const app: INestApplication =
    adapter === 'fastify'
      ? moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter({ ...options.fastify, ...(httpsOptions ? { https: httpsOptions } : {}) }), {
          logger: false,
        })
      : moduleRef.createNestApplication<NestExpressApplication>(new ExpressAdapter(), { logger: false, ...(httpsOptions ? { httpsOptions } : {}) });
  options.configure?.(app);
  await app.init();
  if (adapter === 'fastify') await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return { app, http: request(app.getHttpServer()), port, baseUrl: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}` };
}

/** Boots before the enclosing `describe`'s tests, closes after them. Read the fields inside tests. */
export function useHeadersApp(adapter: AdapterName, metadata: () => ModuleMetadata, options: BootOptions = {}): HeadersApp {
  const booted = {} as HeadersApp;
  beforeAll(async () => {
    Object.assign(booted, await bootHeadersApp(adapter, metadata(), options));
  });
  afterAll(async () => {
    await booted.app?.close();
  });
  return booted;
}

/** Response headers that are about the message, not about security: left out of the comparisons. */
const MESSAGE_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'content-length',
  'content-type',
  'date',
  'etag',
  'keep-alive',
  'transfer-encoding',
  'www-authenticate',
  'retry-after',
  'location',
  'vary',
  'x-request-id',
]);

/** Every header of a response except {@link MESSAGE_HEADERS}: what the exact-set assertions compare. */
export function securityHeadersOf(headers: Record<string, unknown>): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!MESSAGE_HEADERS.has(name.toLowerCase())) picked[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return picked;
}

/** The default `Permissions-Policy`. */
export const DEFAULT_PERMISSIONS_POLICY =
  'accelerometer=(), autoplay=(), camera=(), display-capture=(), encrypted-media=(), fullscreen=(), geolocation=(), gyroscope=(), magnetometer=(), ' +
  'microphone=(), midi=(), payment=(), picture-in-picture=(), publickey-credentials-get=(), screen-wake-lock=(), sync-xhr=(), usb=(), xr-spatial-tracking=()';

/** The default `Content-Security-Policy` (the `api` preset). */
export const API_CSP = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Palisade's default header set on a plain-HTTP response to an anonymous request. */
export const DEFAULT_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': API_CSP,
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'permissions-policy': DEFAULT_PERMISSIONS_POLICY,
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'DENY',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
});

/** The default set on a response to a request that carries credentials. */
export const AUTHENTICATED_HEADERS: Readonly<Record<string, string>> = Object.freeze({ ...DEFAULT_HEADERS, 'cache-control': 'no-store' });

/** The default `Strict-Transport-Security`. */
export const DEFAULT_HSTS = 'max-age=31536000; includeSubDomains';
