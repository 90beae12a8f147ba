import type { INestApplication, ModuleMetadata } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { Response } from 'supertest';
import { expect } from 'vitest';
import type { AdapterName, BeforeInit } from './app.js';
import { signToken } from './tokens.js';

/** Messages of Palisade's 403 bodies. */
export const DENIED = {
  role: 'Insufficient role',
  scope: 'Insufficient scope',
  policy: 'Access denied',
} as const;

/** The RFC 6750 `insufficient_scope` challenge Palisade sends (realm `api`) for the route's scopes. */
export function insufficientScope(scopes: string): string {
  return `Bearer realm="api", error="insufficient_scope", error_description="The access token lacks a required scope", scope="${scopes}"`;
}

/** `Authorization` header value carrying a test JWT with `claims`. */
export function bearer(claims: Record<string, unknown> = {}): string {
  return `Bearer ${signToken(claims)}`;
}

/** Asserts Palisade's 401: status, the exact JSON body and the exact `WWW-Authenticate` value. */
export function expectUnauthorized(res: Pick<Response, 'status' | 'body' | 'headers'>, message: string, challenge: string): void {
  expect({ status: res.status, body: res.body as unknown, challenge: res.headers['www-authenticate'] }).toEqual({
    status: 401,
    body: { statusCode: 401, error: 'Unauthorized', message },
    challenge,
  });
}

/**
 * Asserts Palisade's 403: status, the exact JSON body and the `WWW-Authenticate` value — absent
 * unless `challenge` is given.
 */
export function expectForbidden(res: Pick<Response, 'status' | 'body' | 'headers'>, message: string, challenge?: string): void {
  expect({ status: res.status, body: res.body as unknown, challenge: res.headers['www-authenticate'] }).toEqual({
    status: 403,
    body: { statusCode: 403, error: 'Forbidden', message },
    challenge,
  });
}

/**
 * Compiles and initialises an app that is expected not to start, and returns the error it refused
 * with (from option validation at compile time, or from route resolution at bootstrap). Fails the
 * test when the app starts. `beforeInit` configures the app before `init()` (a WebSocket adapter, global guards, a microservice).
 */
export async function startupError(adapter: AdapterName, metadata: ModuleMetadata, beforeInit?: BeforeInit): Promise<Error> {
  let app: INestApplication | undefined;
  try {
    const moduleRef = await Test.createTestingModule(metadata).compile();
    app = moduleRef.createNestApplication(adapter === 'fastify' ? new FastifyAdapter() : new ExpressAdapter(), { logger: false });
    await beforeInit?.(app);
    await app.init();
  } catch (error) {
    await app?.close().catch(() => undefined);
    if (error instanceof Error) return error;
    throw error;
  }
  await app.close();
  throw new Error('expected the application to refuse to start, but it started');
}
