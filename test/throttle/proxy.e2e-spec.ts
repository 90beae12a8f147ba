import { Controller, Get } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { PalisadeModule, Public, type TrustProxySetting } from '@palisade/nest';
import { ADAPTERS } from '../support/app.js';
import type { BootedApp } from '../support/auth.js';
import { inSequence, statusesOf, times, useFreshApp } from '../support/throttle.js';

const LIMIT = 2;

@Controller()
class PingController {
  @Get('ping') @Public() ping() {
    return { pong: true };
  }
}

function proxyApp(trustProxy?: TrustProxySetting) {
  return () => ({
    imports: [
      PalisadeModule.forRoot({
        throttle: { throttlers: [{ name: 'default', limit: LIMIT, ttl: '1m' }] },
        ...(trustProxy === undefined ? {} : { trustProxy }),
        global: true,
      }),
    ],
    controllers: [PingController],
  });
}

/** Sends LIMIT + 1 requests with the given X-Forwarded-For values (cycled) and returns the statuses. */
async function burst(ctx: BootedApp, forwardedFor: readonly string[], count = LIMIT + 1): Promise<number[]> {
  const responses = await inSequence(count, (i) => ctx.http.get('/ping').set('X-Forwarded-For', forwardedFor[i % forwardedFor.length] as string));
  return statusesOf(responses);
}

/** LIMIT allowed requests then a 429: one budget. */
const ONE_BUDGET = [...times(LIMIT, 200), 429];

describe.each(ADAPTERS)('client IP through proxies on %s', (adapter) => {
  describe('no trusted proxy (default)', () => {
    const ctx = useFreshApp(adapter, proxyApp());

    it('does not buy a fresh budget with a varying X-Forwarded-For (spoofing)', async () => {
      expect(await burst(ctx, ['198.51.100.1', '198.51.100.2', '198.51.100.3'])).toEqual(ONE_BUDGET);
    });

    it('counts requests with and without X-Forwarded-For against the same peer address', async () => {
      expect((await ctx.http.get('/ping')).status).toBe(200);
      expect(await burst(ctx, ['203.0.113.9'], LIMIT)).toEqual([200, 429]);
    });
  });

  describe("trustProxy: 'loopback'", () => {
    const ctx = useFreshApp(adapter, proxyApp('loopback'));

    it('gives distinct forwarded client addresses separate budgets', async () => {
      expect(await burst(ctx, ['198.51.100.10'])).toEqual(ONE_BUDGET);
      expect(await burst(ctx, ['198.51.100.11'])).toEqual(ONE_BUDGET);
    });

    it('counts the proxy itself (no X-Forwarded-For) apart from the clients it forwards', async () => {
      expect(await burst(ctx, ['198.51.100.12'])).toEqual(ONE_BUDGET);
      const direct = await inSequence(LIMIT + 1, () => ctx.http.get('/ping'));
      expect(statusesOf(direct)).toEqual(ONE_BUDGET);
    });

    it('uses the rightmost untrusted address: "spoofed, real" counts against "real"', async () => {
      expect(await burst(ctx, ['1.1.1.1, 198.51.100.20', '2.2.2.2, 198.51.100.20', '3.3.3.3, 198.51.100.20'])).toEqual(ONE_BUDGET);
      expect(await burst(ctx, ['1.1.1.1, 198.51.100.21'])).toEqual(ONE_BUDGET);
    });

    it('skips trusted hops in X-Forwarded-For: "client, 127.0.0.1" counts against "client"', async () => {
      expect(await burst(ctx, ['198.51.100.30, 127.0.0.1', '198.51.100.30'])).toEqual(ONE_BUDGET);
    });

    it('drops a port a load balancer appended: "198.51.100.30:5001" and "198.51.100.30:5002" are one client, as are "[2001:db8::7]:1" and "2001:db8::7"', async () => {
      expect(await burst(ctx, ['198.51.100.30:5001', '198.51.100.30:5002', '198.51.100.30'])).toEqual(ONE_BUDGET);
      expect(await burst(ctx, ['[2001:db8::7]:1', '[2001:db8::7]:2', '2001:db8::7'])).toEqual(ONE_BUDGET);
    });

    it('does not take junk for a client: varying non-addresses count against the proxy that sent them', async () => {
      expect(await burst(ctx, ['not-an-ip', 'garbage', '999.999.999.999'])).toEqual(ONE_BUDGET);
      // The proxy's own budget (no X-Forwarded-For) is that same one, now spent.
      expect((await ctx.http.get('/ping')).status).toBe(429);
    });

    it('treats an IPv4-mapped IPv6 address as the IPv4 client', async () => {
      expect(await burst(ctx, ['::ffff:198.51.100.40', '198.51.100.40'])).toEqual(ONE_BUDGET);
    });

    it('shares one budget among IPv6 clients of the same /64', async () => {
      expect(await burst(ctx, ['2001:db8:1:2::1', '2001:db8:1:2:ffff:ffff:ffff:fffe', '2001:0DB8:0001:0002:0:0:0:abcd'])).toEqual(ONE_BUDGET);
    });

    it('gives IPv6 clients of different /64s separate budgets', async () => {
      expect(await burst(ctx, ['2001:db8:1:10::1'])).toEqual(ONE_BUDGET);
      expect(await burst(ctx, ['2001:db8:1:11::1'])).toEqual(ONE_BUDGET);
      expect(await burst(ctx, ['2001:db9:1:10::1'])).toEqual(ONE_BUDGET);
    });
  });

  describe('trustProxy: 1 (one hop)', () => {
    const ctx = useFreshApp(adapter, proxyApp(1));

    it('gives distinct forwarded client addresses separate budgets', async () => {
      expect(await burst(ctx, ['198.51.100.50'])).toEqual(ONE_BUDGET);
      expect(await burst(ctx, ['198.51.100.51'])).toEqual(ONE_BUDGET);
    });

    it('uses the rightmost address: a client prepending "spoofed" entries buys nothing', async () => {
      expect(await burst(ctx, ['10.0.0.1, 198.51.100.60', '10.0.0.2, 198.51.100.60', '198.51.100.60'])).toEqual(ONE_BUDGET);
    });

    it('does not trust a second hop: "client, proxy2" counts against "proxy2"', async () => {
      expect(await burst(ctx, ['198.51.100.70, 198.51.100.99', '198.51.100.71, 198.51.100.99', '198.51.100.72, 198.51.100.99'])).toEqual(ONE_BUDGET);
    });
  });

  describe("trustProxy: ['10.0.0.0/8'] (a proxy network the test client is not in)", () => {
    const ctx = useFreshApp(adapter, proxyApp(['10.0.0.0/8']));

    it('ignores X-Forwarded-For from an untrusted peer', async () => {
      expect(await burst(ctx, ['198.51.100.80', '198.51.100.81', '198.51.100.82'])).toEqual(ONE_BUDGET);
    });
  });
});
