import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AuthAttempt } from '../auth/auth-attempt-gate.interface.js';
import { PalisadeModule } from '../palisade.module.js';
import { AuthFailureLimiter } from './auth-failure.limiter.js';
import { ThrottledException } from './throttled.exception.js';

const BLOCKED = 'Too many failed authentication attempts; retry later';
const BUSY = 'Too many authentication attempts at once; retry shortly';

/** A request from `address`, as Node hands it over. */
const from = (address: string) => ({ headers: {}, socket: { remoteAddress: address } });

/** What a promise settled with: the value, or the 429's message and Retry-After seconds. */
async function outcome<T>(promise: Promise<T>): Promise<T | { refused: string; retryAfterSeconds: number | undefined }> {
  try {
    return await promise;
  } catch (error) {
    if (!(error instanceof ThrottledException)) throw error;
    return { refused: error.message, retryAfterSeconds: error.retryAfterSeconds };
  }
}

/**
 * The limiter of a real Nest app with the in-memory attempt store, on a faked `Date` clock (the
 * store reads `Date.now`): windows and blocks are crossed by moving the clock, never by waiting.
 */
describe('AuthFailureLimiter (3 guesses a minute, blocked 5 minutes)', () => {
  let app: INestApplication;
  let limiter: AuthFailureLimiter;

  beforeEach(async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-01-01T00:00:00Z'));
    const moduleRef = await Test.createTestingModule({
      imports: [
        PalisadeModule.forRoot({
          throttle: { throttlers: [{ name: 'default', limit: 1_000, ttl: '1m' }], authFailures: { limit: 3, ttl: '1m', blockDuration: '5m' } },
        }),
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    limiter = app.get(AuthFailureLimiter);
  });

  afterEach(async () => {
    vi.useRealTimers();
    await app.close();
  });

  const alice = from('203.0.113.7');
  const fail = async (request = alice) => (await limiter.reserve(request)).failed();

  it('blocks the address at the third failure, for five minutes, then lets it try again', async () => {
    await fail();
    await fail();
    await fail();
    expect(await outcome(limiter.reserve(alice))).toEqual({ refused: BLOCKED, retryAfterSeconds: 300 });
    vi.advanceTimersByTime(4 * 60_000);
    expect(await outcome(limiter.reserve(alice))).toEqual({ refused: BLOCKED, retryAfterSeconds: 60 });
    await expect(limiter.assertAllowed(alice)).rejects.toThrow(ThrottledException);
    vi.advanceTimersByTime(60_000);
    await expect(limiter.assertAllowed(alice)).resolves.toBeUndefined();
    await expect(limiter.reserve(alice)).resolves.toBeDefined();
  });

  it('counts failures per address: a blocked address does not block another', async () => {
    await fail();
    await fail();
    await fail();
    await expect(limiter.reserve(from('198.51.100.9'))).resolves.toBeDefined();
  });

  it('forgets failures once they leave the sliding window', async () => {
    await fail();
    await fail();
    vi.advanceTimersByTime(2 * 60_000);
    await fail();
    await fail();
    await expect(limiter.reserve(alice)).resolves.toBeDefined();
  });

  it('gives the slot back for a success or an attempt that was no guess', async () => {
    for (let i = 0; i < 5; i++) {
      /* oxlint-disable no-await-in-loop -- one attempt after another */
      (await limiter.reserve(alice)).succeeded();
      await (await limiter.reserve(alice)).release();
      /* oxlint-enable no-await-in-loop */
    }
    await fail();
    await fail();
    await expect(limiter.reserve(alice)).resolves.toBeDefined();
  });

  it('refuses a fourth attempt while three are being verified (busy, not blocked), and takes it once one settles', async () => {
    const held = await Promise.all([limiter.reserve(alice), limiter.reserve(alice), limiter.reserve(alice)]);
    expect(await outcome(limiter.reserve(alice))).toEqual({ refused: BUSY, retryAfterSeconds: 1 });
    await held[0]!.release();
    await expect(limiter.reserve(alice)).resolves.toBeDefined();
  });

  it('settles an attempt once: a second settlement changes nothing', async () => {
    const attempt = await limiter.reserve(alice);
    await attempt.failed();
    await attempt.failed();
    await attempt.failed();
    await fail();
    await expect(limiter.reserve(alice)).resolves.toBeDefined();
  });

  it('counts a failure recorded without a reservation, and refuses the one that reaches the limit', async () => {
    await limiter.recordFailure(alice);
    await limiter.recordFailure(alice);
    expect(await outcome(limiter.recordFailure(alice))).toEqual({ refused: BLOCKED, retryAfterSeconds: 300 });
  });

  describe('identical credentials from one address', () => {
    it('wait for the attempt being verified and, once it succeeded, take no slot (so a burst with one valid key is not refused)', async () => {
      // Two other attempts hold two of the three slots; the first of the burst takes the last one.
      await limiter.reserve(alice, undefined, 'Bearer other-1');
      await limiter.reserve(alice, undefined, 'Bearer other-2');
      const first = await limiter.reserve(alice, undefined, 'Bearer good');
      const others = [limiter.reserve(alice, undefined, 'Bearer good'), limiter.reserve(alice, undefined, 'Bearer good')];
      first.succeeded();
      const proven = await Promise.all(others);
      expect(proven).toHaveLength(2);
      // The slot the first gave back is taken again: every slot is held now.
      await limiter.reserve(alice, undefined, 'Bearer other-3');
      expect(await outcome(limiter.reserve(alice, undefined, 'Bearer other-4'))).toEqual({ refused: BUSY, retryAfterSeconds: 1 });
      // Proven: a later identical attempt passes all the same.
      await expect(limiter.reserve(alice, undefined, 'Bearer good')).resolves.toBeDefined();
    });

    it('reserve a slot of their own when the first one failed', async () => {
      const first = await limiter.reserve(alice, undefined, 'Bearer wrong');
      const second = limiter.reserve(alice, undefined, 'Bearer wrong');
      await first.failed();
      await (await second).failed();
      await fail();
      expect(await outcome(limiter.reserve(alice))).toEqual({ refused: BLOCKED, retryAfterSeconds: 300 });
    });

    it('count a failure of credentials proven before (a key revoked since) and lose the proof', async () => {
      (await limiter.reserve(alice, undefined, 'ApiKey k')).succeeded();
      const proven: AuthAttempt = await limiter.reserve(alice, undefined, 'ApiKey k');
      await proven.failed();
      await fail();
      const again = await limiter.reserve(alice, undefined, 'ApiKey k');
      await again.failed();
      expect(await outcome(limiter.reserve(alice))).toEqual({ refused: BLOCKED, retryAfterSeconds: 300 });
    });
  });
});

describe('AuthFailureLimiter without throttle.authFailures', () => {
  it('is disabled and counts nothing', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [PalisadeModule.forRoot({ throttle: { throttlers: [{ name: 'default', limit: 10, ttl: '1m' }], authFailures: false } })],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    const limiter = app.get(AuthFailureLimiter);
    expect(limiter.enabled).toBe(false);
    for (let i = 0; i < 10; i++) await (await limiter.reserve(from('203.0.113.7'))).failed(); // oxlint-disable-line no-await-in-loop
    await expect(limiter.assertAllowed(from('203.0.113.7'))).resolves.toBeUndefined();
    await app.close();
  });
});
