import { Controller, Get } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { Auth, CurrentUser, PalisadeModule, Public, type Principal, type TrustProxySetting } from '@palisade/nest';
import { ADAPTERS } from '../support/app.js';
import { inSequence, statusesOf, times, TOO_MANY_REQUESTS, useFreshApp } from '../support/throttle.js';
import { signToken, TEST_SECRET } from '../support/tokens.js';

const LIMIT = 3;

@Controller()
class KeysController {
  /** Needs a caller: counted per principal. */
  @Get('me') me(@CurrentUser() user: Principal) {
    return { id: user.id };
  }

  /** Anonymous: counted per client IP; credentials are not read. */
  @Get('open') @Public() open() {
    return { open: true };
  }

  /** Anonymous or authenticated: per IP for the former, per principal for the latter. */
  @Get('maybe') @Auth({ optional: true }) maybe(@CurrentUser() user: Principal | undefined) {
    return { id: user?.id ?? null };
  }
}

function keysApp(trustProxy?: TrustProxySetting) {
  return () => ({
    imports: [
      PalisadeModule.forRoot({
        auth: { jwt: { secret: TEST_SECRET } },
        throttle: { throttlers: [{ name: 'default', limit: LIMIT, ttl: '1m' }], authFailures: false },
        ...(trustProxy === undefined ? {} : { trustProxy }),
        global: true,
      }),
    ],
    controllers: [KeysController],
  });
}

const bearer = (sub: string) => `Bearer ${signToken({ sub })}`;

describe.each(ADAPTERS)('throttling keys (principal vs client IP) on %s', (adapter) => {
  describe('without a trusted proxy', () => {
    const ctx = useFreshApp(adapter, keysApp());

    it('gives two users with tokens a budget each, from the same IP', async () => {
      const alice = await inSequence(LIMIT + 1, () => ctx.http.get('/me').set('Authorization', bearer('alice')));
      expect(statusesOf(alice)).toEqual([...times(LIMIT, 200), 429]);
      expect(alice.at(-1)?.body).toEqual(TOO_MANY_REQUESTS);

      const bob = await inSequence(LIMIT + 1, () => ctx.http.get('/me').set('Authorization', bearer('bob')));
      expect(statusesOf(bob)).toEqual([...times(LIMIT, 200), 429]);
      expect(bob[0]?.body).toEqual({ id: 'bob' });
    });

    it('counts a user across fresh tokens of the same subject', async () => {
      const responses = await inSequence(LIMIT + 1, () => ctx.http.get('/me').set('Authorization', bearer('carol')));
      expect(statusesOf(responses)).toEqual([...times(LIMIT, 200), 429]);
    });

    it('counts anonymous requests to a @Public route per client IP', async () => {
      const responses = await inSequence(LIMIT + 2, () => ctx.http.get('/open'));
      expect(statusesOf(responses)).toEqual([...times(LIMIT, 200), 429, 429]);
      expect(responses[LIMIT]?.body).toEqual(TOO_MANY_REQUESTS);
    });

    it('ignores credentials on a @Public route: different tokens from one IP share the IP budget', async () => {
      const responses = await inSequence(LIMIT + 1, (i) => ctx.http.get('/open').set('Authorization', bearer(`user-${i}`)));
      expect(statusesOf(responses)).toEqual([...times(LIMIT, 200), 429]);
    });

    it("does not share a principal's budget with anonymous traffic from the same IP (anonymous first)", async () => {
      const anonymous = await inSequence(LIMIT + 1, () => ctx.http.get('/maybe'));
      expect(statusesOf(anonymous)).toEqual([...times(LIMIT, 200), 429]);

      const dave = await inSequence(LIMIT + 1, () => ctx.http.get('/maybe').set('Authorization', bearer('dave')));
      expect(statusesOf(dave)).toEqual([...times(LIMIT, 200), 429]);
      expect(dave[0]?.body).toEqual({ id: 'dave' });
    });

    it("does not share a principal's budget with anonymous traffic from the same IP (principal first)", async () => {
      const erin = await inSequence(LIMIT + 1, () => ctx.http.get('/maybe').set('Authorization', bearer('erin')));
      expect(statusesOf(erin)).toEqual([...times(LIMIT, 200), 429]);

      const anonymous = await inSequence(LIMIT + 1, () => ctx.http.get('/maybe'));
      expect(statusesOf(anonymous)).toEqual([...times(LIMIT, 200), 429]);
      expect(anonymous[0]?.body).toEqual({ id: null });
    });

    it("keeps a route's budget separate from another route's", async () => {
      const open = await inSequence(LIMIT + 1, () => ctx.http.get('/open'));
      expect(statusesOf(open)).toEqual([...times(LIMIT, 200), 429]);
      expect((await ctx.http.get('/maybe')).status).toBe(200);
    });

    it('does not count a request that failed authentication against the principal it claimed', async () => {
      const forged = `Bearer ${signToken({ sub: 'frank' }, { secret: 'another-secret-0123456789abcdef-0123456789' })}`;
      const rejected = await inSequence(LIMIT + 1, () => ctx.http.get('/me').set('Authorization', forged));
      expect(statusesOf(rejected)).toEqual(times(LIMIT + 1, 401));

      const frank = await inSequence(LIMIT, () => ctx.http.get('/me').set('Authorization', bearer('frank')));
      expect(statusesOf(frank)).toEqual(times(LIMIT, 200));
    });
  });

  describe('behind a trusted proxy', () => {
    const ctx = useFreshApp(adapter, keysApp('loopback'));

    it("keys a principal's budget by the principal, not by the address it comes from", async () => {
      const responses = await inSequence(LIMIT + 1, (i) =>
        ctx.http
          .get('/me')
          .set('Authorization', bearer('grace'))
          .set('X-Forwarded-For', `203.0.113.${i + 1}`),
      );
      expect(statusesOf(responses)).toEqual([...times(LIMIT, 200), 429]);
    });

    it('keys anonymous traffic by the client address the proxy reports', async () => {
      const first = await inSequence(LIMIT + 1, () => ctx.http.get('/open').set('X-Forwarded-For', '203.0.113.50'));
      expect(statusesOf(first)).toEqual([...times(LIMIT, 200), 429]);
      expect((await ctx.http.get('/open').set('X-Forwarded-For', '203.0.113.51')).status).toBe(200);
    });
  });
});
