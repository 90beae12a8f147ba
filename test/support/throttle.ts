import { request as httpRequest, type Agent, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication, ModuleMetadata } from '@nestjs/common';
import { afterEach, beforeEach, expect } from 'vitest';
import { bootApp, type AdapterName } from './app.js';
import type { BootedApp } from './auth.js';

/** Palisade's 429 body from the throttler guard. */
export const TOO_MANY_REQUESTS = { statusCode: 429, error: 'Too Many Requests', message: 'Too many requests; retry later' } as const;

/** Palisade's 503 body while the throttle store cannot answer (`failOpen: false`). */
export const THROTTLE_UNAVAILABLE = {
  statusCode: 503,
  error: 'Service Unavailable',
  message: 'Rate limiting is temporarily unavailable; retry shortly',
} as const;

/** Palisade's 429 body once a client is blocked for failed authentications. */
export const TOO_MANY_FAILURES = { statusCode: 429, error: 'Too Many Requests', message: 'Too many failed authentication attempts; retry later' } as const;

/**
 * Boots a fresh app before each test of the enclosing `describe` and closes it after, so every
 * test starts with empty in-memory counters.
 */
export function useFreshApp(adapter: AdapterName, metadata: () => ModuleMetadata): BootedApp {
  const booted = {} as BootedApp;
  beforeEach(async () => {
    Object.assign(booted, await bootApp(adapter, metadata()));
  });
  afterEach(async () => {
    await booted.app?.close();
  });
  return booted;
}

/**
 * Runs `send` `count` times, one after the other (order matters: each request sees the counter
 * the previous one left), and returns the responses.
 */
export async function inSequence<T>(count: number, send: (index: number) => PromiseLike<T>): Promise<T[]> {
  const results: T[] = [];
  for (let i = 0; i < count; i++) {
    // oxlint-disable-next-line no-await-in-loop -- sequential on purpose: each hit depends on the last
    results.push(await send(i));
  }
  return results;
}

/** The statuses of `responses`. */
export const statusesOf = (responses: readonly { status: number }[]): number[] => responses.map((r) => r.status);

/** `n` copies of `status`, to compare a sequence of statuses with. */
export const times = (n: number, status: number): number[] => Array.from({ length: n }, () => status);

/** Asserts a `Retry-After` value: one integer number of seconds, more than 0 and at most `max`. */
export function expectRetryAfter(value: unknown, max: number): number {
  expect(value).toMatch(/^[1-9]\d*$/);
  const seconds = Number(value);
  expect(seconds).toBeLessThanOrEqual(max);
  return seconds;
}

let nextAddress = 0;

/**
 * A client address never handed out before in this test file (`10.x.y.z`), for tests that tell
 * clients apart through a trusted proxy's `X-Forwarded-For`.
 */
export function uniqueIp(): string {
  nextAddress += 1;
  const n = nextAddress;
  return `10.${(n >> 16) & 0xff}.${(n >> 8) & 0xff}.${n & 0xff}`;
}

/** The `http://127.0.0.1:<port>` base URL of a listening app. */
export function baseUrl(app: INestApplication): string {
  const { port } = (app.getHttpServer() as { address(): AddressInfo }).address();
  return `http://127.0.0.1:${port}`;
}

/** A response of {@link get}: the raw header list is kept, so repeated headers can be counted. */
export interface PlainResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** Header names and values as sent, in order. */
  rawHeaders: string[];
  body: unknown;
}

/** Thrown by {@link get} when no answer arrives within its timeout. */
export class RequestTimeout extends Error {
  constructor(url: string, ms: number) {
    super(`GET ${url} got no answer within ${ms} ms`);
  }
}

/**
 * A plain `GET` with node's HTTP client, for what supertest does not give: a client timeout, a
 * choice of connection (`agent: false` opens a new connection per request) and the raw header list.
 */
export function get(url: string, options: { headers?: Record<string, string>; timeoutMs?: number; agent?: Agent | false } = {}): Promise<PlainResponse> {
  const { headers = {}, timeoutMs = 10_000, agent = false } = options;
  return new Promise<PlainResponse>((resolve, reject) => {
    const req = httpRequest(url, { method: 'GET', headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON: keep the text
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body });
      });
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new RequestTimeout(url, timeoutMs));
    }, timeoutMs);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end();
  });
}

/** Values of header `name` (case-insensitive) in a raw header list, one entry per occurrence. */
export function headerValues(rawHeaders: readonly string[], name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]?.toLowerCase() === name.toLowerCase()) values.push(rawHeaders[i + 1] as string);
  }
  return values;
}

/** Names (lower-cased) of the headers in a raw header list. */
export function headerNames(rawHeaders: readonly string[]): string[] {
  return rawHeaders.filter((_, i) => i % 2 === 0).map((name) => name.toLowerCase());
}
