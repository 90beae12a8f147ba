import type { INestApplication, ModuleMetadata } from '@nestjs/common';
import type { Response } from 'supertest';
import { afterAll, beforeAll, expect } from 'vitest';
import { bootApp, type AdapterName } from './app.js';
import type { RawResponse } from './raw-http.js';

/** `WWW-Authenticate` challenges Palisade sends with the default realm `api`. */
export const CHALLENGE = {
  bearer: 'Bearer realm="api"',
  bearerInvalid: 'Bearer realm="api", error="invalid_token", error_description="The access token is invalid"',
  bearerExpired: 'Bearer realm="api", error="invalid_token", error_description="The access token expired"',
  bearerMalformed: 'Bearer realm="api", error="invalid_request", error_description="The Authorization header is malformed"',
  apiKey: 'ApiKey realm="api", header="x-api-key"',
  basic: 'Basic realm="api", charset="UTF-8"',
} as const;

/** Messages of Palisade's 401 bodies. */
export const MESSAGE = {
  required: 'Authentication required',
  invalid: 'Invalid credentials',
  expired: 'The access token expired',
} as const;

/** A booted app, filled in by `beforeAll`. */
export interface BootedApp {
  app: INestApplication;
  http: Awaited<ReturnType<typeof bootApp>>['http'];
}

/**
 * Boots an app before the enclosing `describe`'s tests and closes it after them. Read `app`/`http`
 * from the returned object inside tests (they are set once `beforeAll` has run).
 */
export function useApp(adapter: AdapterName, metadata: () => ModuleMetadata): BootedApp {
  const booted = {} as BootedApp;
  beforeAll(async () => {
    Object.assign(booted, await bootApp(adapter, metadata()));
  });
  afterAll(async () => {
    await booted.app?.close();
  });
  return booted;
}

/** The parts of a response an authentication test asserts on, from supertest or a raw socket. */
export interface Outcome {
  status: number;
  body: unknown;
  challenge: string | string[] | undefined;
}

/** Status, JSON body and `WWW-Authenticate` value of a response, to compare with {@link unauthorized}. */
export function outcome(res: Pick<Response, 'status' | 'body' | 'headers'> | RawResponse): Outcome {
  return { status: res.status, body: 'json' in res ? res.json : (res.body as unknown), challenge: res.headers['www-authenticate'] };
}

/** Palisade's 401: the exact JSON body `{ statusCode, error, message }` and the exact challenge. */
export function unauthorized(message: string, challenge: string): Outcome {
  return { status: 401, body: { statusCode: 401, error: 'Unauthorized', message }, challenge };
}

/** Asserts Palisade's 401: status, the exact JSON body and the exact `WWW-Authenticate` value. */
export function expectUnauthorized(res: Pick<Response, 'status' | 'body' | 'headers'> | RawResponse, message: string, challenge: string): void {
  expect(outcome(res)).toEqual(unauthorized(message, challenge));
}
