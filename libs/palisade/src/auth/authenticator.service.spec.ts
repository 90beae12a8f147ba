import 'reflect-metadata';
import { createHash } from 'node:crypto';
import { Controller, Get, type INestApplication } from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { Test } from '@nestjs/testing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { signToken, TEST_SECRET } from '../../../../test/support/tokens.js';
import type { PalisadeModuleOptions } from '../palisade-options.interface.js';
import { PalisadeModule } from '../palisade.module.js';
import { ThrottledException } from '../throttle/throttled.exception.js';
import { Auth } from './auth.decorator.js';
import { AuthenticationFailedException } from './authentication.exception.js';
import { Authenticator } from './authenticator.service.js';
import type { Principal } from './principal.interface.js';

const GOOD_KEY = 'good-api-key-0123456789';
const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');

@Controller()
class Routes {
  @Get('jwt') @Auth('jwt') jwt(): void {}
  @Get('both') @Auth('jwt', 'api-key') both(): void {}
  @Get('key-first') @Auth('api-key', 'jwt') keyFirst(): void {}
  @Get('optional') @Auth({ schemes: ['jwt'], optional: true }) optional(): void {}
}

type Route = 'jwt' | 'both' | 'keyFirst' | 'optional';

/** A request as Node hands it over: parsed headers, raw headers and the peer address. */
function request(
  headers: Record<string, string>,
  address = '203.0.113.7',
): { headers: Record<string, string>; rawHeaders: string[]; socket: object; user?: unknown } {
  return { headers, rawHeaders: Object.entries(headers).flat(), socket: { remoteAddress: address } };
}

/** The execution context of a call to a route of {@link Routes}. */
const contextOf = (route: Route, req: object) => new ExecutionContextHost([req, undefined], Routes, Routes.prototype[route]);

/** A request with a valid bearer token of `sub`, signed now. */
const bearerOf = (sub: string) => request({ authorization: `Bearer ${signToken({ sub })}` });

/**
 * The Authenticator of a real Nest app (its real strategies, token cache and brute-force limiter
 * with the in-memory store), called with the execution context of a route of {@link Routes}.
 */
describe('Authenticator', () => {
  let app: INestApplication;
  let authenticator: Authenticator;

  async function boot(options: Partial<PalisadeModuleOptions> = {}): Promise<void> {
    const moduleRef = await Test.createTestingModule({
      imports: [
        PalisadeModule.forRoot({
          auth: { jwt: { secret: TEST_SECRET }, apiKey: { header: 'x-api-key', keys: [{ sha256: sha256(GOOD_KEY), principal: { id: 'svc' } }] } },
          global: true,
          ...options,
        }),
      ],
      controllers: [Routes],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    authenticator = app.get(Authenticator);
  }

  const authenticate = (route: Route, req: object) => authenticator.authenticateContext(contextOf(route, req));
  const guess = () => authenticate('jwt', request({ authorization: 'Bearer not.a.token' }));

  afterEach(async () => {
    vi.useRealTimers();
    await app?.close();
  });

  describe('without brute-force protection', () => {
    beforeEach(() => boot());

    it('attaches the principal of a valid bearer token to request.user, and a second call returns it without verifying again', async () => {
      const req = request({ authorization: `Bearer ${signToken({ sub: 'alice' })}` });
      const principal = (await authenticate('jwt', req)) as Principal;
      expect(principal).toMatchObject({ id: 'alice', scheme: 'jwt' });
      expect(req.user).toBe(principal);
      expect(authenticate('jwt', req)).toBe(principal);
    });

    it('answers a token it verified before from the cache, synchronously, on a new request', async () => {
      const header = `Bearer ${signToken({ sub: 'bob' })}`;
      const first = authenticate('jwt', request({ authorization: header }));
      expect(first).toBeInstanceOf(Promise);
      const verified = (await first) as Principal;
      const second = authenticate('jwt', request({ authorization: header }));
      expect(second).not.toBeInstanceOf(Promise);
      expect(second).toEqual(verified);
    });

    it('verifies the API key presented beside a cached token: a wrong key fails the request', async () => {
      const header = `Bearer ${signToken({ sub: 'carol' })}`;
      await authenticate('both', request({ authorization: header }));
      const withWrongKey = request({ authorization: header, 'x-api-key': 'wrong-key-0123456789' });
      await expect(authenticate('both', withWrongKey)).rejects.toThrow(new AuthenticationFailedException('Invalid credentials'));
      expect(withWrongKey.user).toBeUndefined();
    });

    it('uses a cached token for a route that tries the API key first, when no key is presented', async () => {
      const header = `Bearer ${signToken({ sub: 'dan' })}`;
      await authenticate('jwt', request({ authorization: header }));
      await expect(authenticate('keyFirst', request({ authorization: header }))).resolves.toMatchObject({ id: 'dan', scheme: 'jwt' });
    });

    it('keeps the first scheme that succeeds when both credentials are right', async () => {
      const req = request({ authorization: `Bearer ${signToken({ sub: 'erin' })}`, 'x-api-key': GOOD_KEY });
      await expect(authenticate('keyFirst', req)).resolves.toMatchObject({ id: 'svc', scheme: 'api-key' });
    });

    it('answers 401 "Authentication required" without a credential, and lets an anonymous caller through an optional route', async () => {
      await expect(authenticate('jwt', request({}))).rejects.toThrow(new AuthenticationFailedException('Authentication required'));
      const anonymous = request({});
      await expect(authenticate('optional', anonymous)).resolves.toBeUndefined();
      expect(authenticate('optional', anonymous)).toBeUndefined();
    });

    it('refuses a bad credential on an optional route', async () => {
      await expect(authenticate('optional', request({ authorization: 'Bearer not.a.token' }))).rejects.toThrow(AuthenticationFailedException);
    });

    it('says an expired token expired', async () => {
      const now = Math.floor(Date.now() / 1000);
      const expired = request({ authorization: `Bearer ${signToken({ iat: now - 600, exp: now - 10 })}` });
      await expect(authenticate('jwt', expired)).rejects.toThrow(new AuthenticationFailedException('The access token expired'));
    });
  });

  describe('with brute-force protection (2 guesses a minute, blocked 5 minutes), on a fake clock', () => {
    beforeEach(async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(new Date('2026-01-01T00:00:00Z'));
      await boot({ throttle: { throttlers: [{ name: 'default', limit: 1_000, ttl: '1m' }], authFailures: { limit: 2, ttl: '1m', blockDuration: '5m' } } });
    });

    it('blocks the address after the limit of wrong guesses, a fresh valid token included, until the block ends', async () => {
      await expect(guess()).rejects.toThrow(AuthenticationFailedException);
      await expect(guess()).rejects.toThrow(AuthenticationFailedException);
      await expect(authenticate('jwt', bearerOf('frank'))).rejects.toThrow(ThrottledException);
      vi.advanceTimersByTime(5 * 60_000 + 1_000);
      await expect(authenticate('jwt', bearerOf('frank'))).resolves.toMatchObject({ id: 'frank' });
    });

    it('lets a token it verified before through a blocked address: it is no guess', async () => {
      const header = `Bearer ${signToken({ sub: 'grace' })}`;
      await authenticate('jwt', request({ authorization: header }));
      await expect(guess()).rejects.toThrow(AuthenticationFailedException);
      await expect(guess()).rejects.toThrow(AuthenticationFailedException);
      await expect(authenticate('jwt', request({ authorization: 'Bearer still.not.atoken' }))).rejects.toThrow(ThrottledException);
      expect(authenticate('jwt', request({ authorization: header }))).toMatchObject({ id: 'grace' });
    });

    it('does not count an expired token as a guess', async () => {
      const now = Math.floor(Date.now() / 1000);
      const expired = () => request({ authorization: `Bearer ${signToken({ iat: now - 600, exp: now - 10 })}` });
      for (let i = 0; i < 3; i++) {
        // oxlint-disable-next-line no-await-in-loop
        await expect(authenticate('jwt', expired())).rejects.toThrow(new AuthenticationFailedException('The access token expired'));
      }
      await expect(authenticate('jwt', request({ authorization: `Bearer ${signToken({ sub: 'heidi' })}` }))).resolves.toMatchObject({ id: 'heidi' });
    });

    it('counts guesses per address: another address is not blocked', async () => {
      await expect(guess()).rejects.toThrow(AuthenticationFailedException);
      await expect(guess()).rejects.toThrow(AuthenticationFailedException);
      const elsewhere = request({ authorization: `Bearer ${signToken({ sub: 'ivan' })}` }, '198.51.100.9');
      await expect(authenticate('jwt', elsewhere)).resolves.toMatchObject({ id: 'ivan' });
    });
  });
});
