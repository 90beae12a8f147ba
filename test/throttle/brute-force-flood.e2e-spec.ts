import type { AddressInfo } from 'node:net';
import { getStorageToken } from '@nestjs/throttler';
import { describe, expect, it } from 'vitest';
import { MemoryThrottleStore } from '@palisade/nest';
import { AppModule } from '../../apps/demo/src/app.module.js';
import { loadConfig } from '../../apps/demo/src/config.js';
import { ADAPTERS } from '../support/app.js';
import { useApp } from '../support/auth.js';
import { flood, rawJsonPost } from '../support/flood.js';
import { expectRetryAfter, inSequence, statusesOf, times, TOO_MANY_FAILURES, uniqueIp } from '../support/throttle.js';

/**
 * Finding (issue 16): the in-memory store was one LRU for everything, so 105 000 `POST /auth/login`
 * with fresh usernames from a blocked address (the login tier was keyed per address + username, so
 * never refused them) evicted the address's block and failure count, and the right password then
 * got 200. Security state now lives in a partition of its own that ordinary counters never evict.
 *
 * The flood is real HTTP on the demo's own route (keep-alive, pipelined: see `flood`), 150 000
 * requests on each adapter, past the rate-limit store's 100 000 keys so its LRU is forced to evict
 * (measured on two shared cores: about 40 s on Fastify, 75 s on Express).
 */
const FLOOD = 150_000;
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;

describe.each(ADAPTERS)('a blocked address flooding the demo login with fresh usernames on %s', (adapter) => {
  const ctx = useApp(adapter, () => ({ imports: [AppModule.register(loadConfig({ TRUST_PROXY: 'loopback' }))] }));

  it(
    `stays blocked after ${FLOOD.toLocaleString('en')} logins with fresh usernames, with the rate-limit store full and evicting`,
    { timeout: 300_000 },
    async () => {
      const ip = uniqueIp();
      const login = (username: string, password: string) =>
        ctx.http.post('/auth/login').set('X-Forwarded-For', ip).set('Content-Type', 'application/json').send({ username, password });
      const failures = await inSequence(10, () => login('alice', 'wrong-password'));
      expect(statusesOf(failures)).toEqual(times(10, 401));
      expect((await ctx.http.get('/me').set('X-Forwarded-For', ip).set('Authorization', basic('alice', 'alice-password'))).body).toEqual(TOO_MANY_FAILURES);

      const { port } = (ctx.app.getHttpServer() as { address(): AddressInfo }).address();
      const count = FLOOD;
      // The store's fullest moment, sampled during the flood: on a slow machine the flood outlasts
      // the login tier's minute, and the first counters have expired (and gone) before it ends.
      const counters = ctx.app.get<MemoryThrottleStore>(getStorageToken());
      let fullest = 0;
      const sampler = setInterval(() => (fullest = Math.max(fullest, counters.size)), 25);
      const statuses = await flood(port, count, (i) =>
        rawJsonPost(port, '/auth/login', { username: `flood-${i}`, password: 'x' }, { 'X-Forwarded-For': ip }),
      ).finally(() => clearInterval(sampler));
      fullest = Math.max(fullest, counters.size);
      expect(Object.fromEntries(statuses)).toEqual({ 429: count });

      // The flood filled the rate-limit counters to the brim (so their LRU evicted)...
      expect(counters.size).toBeLessThanOrEqual(100_000);
      expect(fullest).toBe(100_000);
      // ...and the block is still there: the right password is refused, on login and on any scheme.
      const right = await ctx.http.get('/me').set('X-Forwarded-For', ip).set('Authorization', basic('alice', 'alice-password'));
      expect(right.status).toBe(429);
      expect(right.body).toEqual(TOO_MANY_FAILURES);
      // The original five-minute block (how much of it is left depends on how long the flood took).
      expectRetryAfter(right.headers['retry-after'], 300);
      // Another address still signs in.
      const elsewhere = await ctx.http.post('/auth/login').set('X-Forwarded-For', uniqueIp()).send({ username: 'alice', password: 'alice-password' });
      expect(elsewhere.status).toBe(200);
    },
  );
});
