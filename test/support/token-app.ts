import { randomBytes } from 'node:crypto';
import { Body, Controller, Get, HttpCode, Post, type INestApplication, type ModuleMetadata } from '@nestjs/common';
import request, { type Response, type Test } from 'supertest';
import { expect } from 'vitest';
import { CurrentUser, PalisadeModule, Public, TokenService, type IssuedTokenPair, type Principal, type TokensOptions } from '@palisade/nest';
import { CHALLENGE, MESSAGE, expectUnauthorized } from './auth.js';
import { TEST_SECRET } from './tokens.js';

/** Issuer and audience of the token-lifecycle test apps. */
export const TOKEN_ISSUER = 'https://palisade.test';
export const TOKEN_AUDIENCE = 'palisade-tokens-api';

/** The body the test app's login takes: who to issue tokens for. */
export interface IssueBody {
  id: string;
  roles?: string[];
  scopes?: string[];
}

/** The token response of the test app's login and refresh (RFC 6749 §5.1), as the demo shapes it. */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
  refresh_expires_in: number;
}

function tokenResponse(pair: IssuedTokenPair): TokenResponse {
  return {
    access_token: pair.accessToken,
    token_type: pair.tokenType,
    expires_in: pair.expiresIn,
    refresh_token: pair.refreshToken,
    refresh_expires_in: pair.refreshExpiresIn,
  };
}

/**
 * A thin controller over `TokenService`, the way an application would write one: login issues a
 * pair (no password: the tests are about tokens), refresh hands the body's `refresh_token` to the
 * service unchecked (so malformed values reach the library), logout revokes the caller's token.
 */
@Controller('auth')
export class TokenLifecycleController {
  constructor(private readonly tokens: TokenService) {}

  @Post('login') @Public() @HttpCode(200) async login(@Body() body: IssueBody): Promise<TokenResponse> {
    return tokenResponse(await this.tokens.issueTokens({ id: body.id, roles: body.roles ?? [], scopes: body.scopes ?? [] }));
  }

  @Post('refresh') @Public() @HttpCode(200) async refresh(@Body() body: unknown): Promise<TokenResponse> {
    const token = typeof body === 'object' && body !== null ? (body as Record<string, unknown>).refresh_token : undefined;
    return tokenResponse(await this.tokens.refresh(token));
  }

  @Post('logout') @HttpCode(204) async logout(@CurrentUser() user: Principal): Promise<void> {
    await this.tokens.revoke(user.claims);
  }
}

/** A protected route answering who the caller is. */
@Controller('me')
export class WhoAmIController {
  @Get() me(@CurrentUser() user: Principal) {
    return { id: user.id, scheme: user.scheme, roles: user.roles, scopes: user.scopes };
  }
}

/** A route without authentication (a probe that never touches the token store). */
@Controller('open')
export class OpenController {
  @Get() @Public() open() {
    return { open: true };
  }
}

/** An app with the JWT scheme (HS256 test secret, issuer, audience) and the token lifecycle. */
export function tokenAppModule(tokens: TokensOptions = {}): ModuleMetadata {
  return {
    imports: [
      PalisadeModule.forRoot({
        auth: { jwt: { secret: TEST_SECRET, issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE } },
        tokens,
        global: true,
      }),
    ],
    controllers: [TokenLifecycleController, WhoAmIController, OpenController],
  };
}

/** A supertest agent for a booted app (each call a new request on the app's listening server). */
export function httpOf(app: INestApplication): ReturnType<typeof request> {
  return request(app.getHttpServer());
}

/** POST /auth/login for `principal`; asserts 200 and returns the token response. */
export async function login(app: INestApplication, principal: IssueBody = { id: 'alice', roles: ['admin'], scopes: ['reports:read'] }): Promise<TokenResponse> {
  const res = await httpOf(app).post('/auth/login').send(principal);
  expect({ status: res.status, body: res.body as unknown }).toMatchObject({ status: 200 });
  return res.body as TokenResponse;
}

/** POST /auth/refresh with `{ refresh_token }` (any JSON value). */
export function refresh(app: INestApplication, refreshToken: unknown): Test {
  return httpOf(app).post('/auth/refresh').send({ refresh_token: refreshToken });
}

/** POST /auth/refresh expecting a new pair. */
export async function rotate(app: INestApplication, refreshToken: string): Promise<TokenResponse> {
  const res = await refresh(app, refreshToken);
  expect({ status: res.status, body: res.body as unknown }).toMatchObject({ status: 200 });
  return res.body as TokenResponse;
}

/** GET `path` (default `/me`) with a bearer token. */
export function getWith(app: INestApplication, token: string, path = '/me'): Test {
  return httpOf(app).get(path).set('Authorization', `Bearer ${token}`);
}

/** POST /auth/logout with a bearer token. */
export function logout(app: INestApplication, token: string): Test {
  return httpOf(app).post('/auth/logout').set('Authorization', `Bearer ${token}`);
}

/** The 401 body every refused refresh gets from `TokenService.refresh`. */
export const INVALID_REFRESH = { statusCode: 401, error: 'Unauthorized', message: 'Invalid refresh token' } as const;

/** Asserts the bearer token is refused as revoked or otherwise invalid (RFC 6750 `invalid_token`). */
export function expectInvalidToken(res: Response): void {
  expectUnauthorized(res, MESSAGE.invalid, CHALLENGE.bearerInvalid);
}

/** Asserts a refused refresh: 401 with the stable body. */
export function expectRefreshRefused(res: Response): void {
  expect({ status: res.status, body: res.body as unknown }).toEqual({ status: 401, body: INVALID_REFRESH });
}

/** Palisade's 503 while the token store cannot answer. */
export const TOKEN_STORE_UNAVAILABLE = {
  statusCode: 503,
  error: 'Service Unavailable',
  message: 'Token verification is temporarily unavailable; retry shortly',
} as const;

/**
 * Polls POST /auth/login until it is not a 503 (at most `timeoutMs`). A safety net for suites
 * about something else: Palisade waits for Redis at startup, which the lifecycle suite's
 * "freshly booted instance" regression test checks on its own.
 */
export async function untilTokenStoreAnswers(app: INestApplication, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await httpOf(app).post('/auth/login').send({ id: 'readiness-probe' });
    if (res.status !== 503) return;
    if (Date.now() > deadline) throw new Error(`the token store still answers 503 after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A well-formed refresh token (`<22 base64url>.<43 base64url>`) of a family no store knows. */
export function unknownRefreshToken(): string {
  return `${randomBytes(16).toString('base64url')}.${randomBytes(32).toString('base64url')}`;
}
