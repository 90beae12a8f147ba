import { describe, expect, it } from 'vitest';
import { MemoryTokenStore } from './memory-token.store.js';
import type { RefreshTokenRecord } from './token-store.interface.js';

/** A clock the test moves by hand (the store must read time only through it). */
function manualClock(start = 1_700_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

const DAY = 24 * 3600_000;
const MINUTE = 60_000;

function record(familyExpiresAt: number, id = 'alice'): RefreshTokenRecord {
  return { principal: { id, roles: ['user'], scopes: ['orders:read'] }, familyExpiresAt };
}

describe('MemoryTokenStore', () => {
  describe('refresh-token rotation states', () => {
    it('a saved token is consumed once (ok, with its record); a second use is reuse and revokes the family', async () => {
      const clock = manualClock();
      const store = new MemoryTokenStore(1_000, clock.now);
      const rec = record(clock.now() + DAY);
      await store.saveRefreshToken('fam-1', 'digest-1', rec, 'jti-1', clock.now() + 15 * MINUTE);
      expect(await store.consumeRefreshToken('fam-1', 'digest-1')).toEqual({ status: 'ok', record: rec });
      // The rotation saves the next token of the family.
      await store.saveRefreshToken('fam-1', 'digest-2', rec, 'jti-2', clock.now() + 15 * MINUTE);
      // The first token presented again: reuse.
      expect(await store.consumeRefreshToken('fam-1', 'digest-1')).toEqual({ status: 'reused' });
      // The family is revoked: the newest token no longer works, nor does the reused one.
      expect(await store.consumeRefreshToken('fam-1', 'digest-2')).toEqual({ status: 'revoked' });
      expect(await store.consumeRefreshToken('fam-1', 'digest-1')).toEqual({ status: 'revoked' });
    });

    it('walks a chain of rotations: every token ok exactly once, in order', async () => {
      const clock = manualClock();
      const store = new MemoryTokenStore(1_000, clock.now);
      const rec = record(clock.now() + DAY);
      await store.saveRefreshToken('fam', 'd0', rec, 'j0', clock.now() + MINUTE);
      for (let i = 1; i <= 5; i++) {
        expect(await store.consumeRefreshToken('fam', `d${i - 1}`)).toMatchObject({ status: 'ok' });
        await store.saveRefreshToken('fam', `d${i}`, rec, `j${i}`, clock.now() + MINUTE);
      }
      expect(await store.consumeRefreshToken('fam', 'd5')).toMatchObject({ status: 'ok' });
    });

    it('an unknown family or an unknown digest in a known family is missing, and does not revoke the family', async () => {
      const clock = manualClock();
      const store = new MemoryTokenStore(1_000, clock.now);
      await store.saveRefreshToken('fam', 'good', record(clock.now() + DAY), 'j', clock.now() + MINUTE);
      expect(await store.consumeRefreshToken('nope', 'good')).toEqual({ status: 'missing' });
      expect(await store.consumeRefreshToken('fam', 'guessed')).toEqual({ status: 'missing' });
      expect(await store.consumeRefreshToken('fam', 'good')).toMatchObject({ status: 'ok' });
    });

    it('families are independent: reuse in one does not touch another', async () => {
      const clock = manualClock();
      const store = new MemoryTokenStore(1_000, clock.now);
      await store.saveRefreshToken('a', 'da', record(clock.now() + DAY), 'ja', clock.now() + MINUTE);
      await store.saveRefreshToken('b', 'db', record(clock.now() + DAY), 'jb', clock.now() + MINUTE);
      await store.consumeRefreshToken('a', 'da');
      expect(await store.consumeRefreshToken('a', 'da')).toEqual({ status: 'reused' });
      expect(await store.consumeRefreshToken('b', 'db')).toMatchObject({ status: 'ok' });
    });

    it('a family ends at familyExpiresAt (injected clock): its tokens are then missing', async () => {
      const clock = manualClock();
      const store = new MemoryTokenStore(1_000, clock.now);
      await store.saveRefreshToken('fam', 'd', record(clock.now() + 10 * MINUTE), 'j', clock.now() + MINUTE);
      clock.advance(10 * MINUTE - 1);
      await store.saveRefreshToken('other', 'd', record(clock.now() + DAY), 'j2', clock.now() + MINUTE);
      clock.advance(2);
      expect(await store.consumeRefreshToken('fam', 'd')).toEqual({ status: 'missing' });
      expect(await store.consumeRefreshToken('other', 'd')).toMatchObject({ status: 'ok' });
    });
  });

  describe('revokeFamily', () => {
    it('marks the family revoked and returns its access tokens (jti → expiry, epoch ms)', async () => {
      const clock = manualClock();
      const store = new MemoryTokenStore(1_000, clock.now);
      const rec = record(clock.now() + DAY);
      await store.saveRefreshToken('fam', 'd1', rec, 'jti-1', clock.now() + 15 * MINUTE);
      await store.consumeRefreshToken('fam', 'd1');
      await store.saveRefreshToken('fam', 'd2', rec, 'jti-2', clock.now() + 16 * MINUTE);
      const tokens = await store.revokeFamily('fam');
      expect(tokens).toEqual(
        new Map([
          ['jti-1', clock.now() + 15 * MINUTE],
          ['jti-2', clock.now() + 16 * MINUTE],
        ]),
      );
      expect(await store.consumeRefreshToken('fam', 'd2')).toEqual({ status: 'revoked' });
    });

    it('returns an empty map for an unknown family', async () => {
      const store = new MemoryTokenStore(1_000, manualClock().now);
      expect(await store.revokeFamily('nope')).toEqual(new Map());
    });

    it('returns a copy: later saves do not change a result already handed out', async () => {
      const clock = manualClock();
      const store = new MemoryTokenStore(1_000, clock.now);
      await store.saveRefreshToken('fam', 'd1', record(clock.now() + DAY), 'jti-1', clock.now() + MINUTE);
      const tokens = await store.revokeFamily('fam');
      await store.saveRefreshToken('fam', 'd2', record(clock.now() + DAY), 'jti-2', clock.now() + MINUTE);
      expect([...tokens.keys()]).toEqual(['jti-1']);
    });
  });

  describe('access-token revocation (injected clock)', () => {
    it('denies a jti until expiresAt, then forgets it, even when the injected clock moves within one real millisecond (lru-cache caches now() for ttlResolution)', async () => {
      const clock = manualClock();
      const store = new MemoryTokenStore(1_000, clock.now);
      await store.revokeAccessToken('jti', clock.now() + 5_000);
      expect(await store.isAccessTokenRevoked('jti')).toBe(true);
      expect(await store.isAccessTokenRevoked('other')).toBe(false);
      clock.advance(4_999);
      expect(await store.isAccessTokenRevoked('jti')).toBe(true);
      clock.advance(2);
      // Past its expiry the token fails verification anyway; the entry must be gone.
      expect(await store.isAccessTokenRevoked('jti')).toBe(false);
    });

    it('an already expired token is not stored at all', async () => {
      const clock = manualClock();
      const store = new MemoryTokenStore(1_000, clock.now);
      await store.revokeAccessToken('past', clock.now() - 1);
      await store.revokeAccessToken('now', clock.now());
      expect(await store.isAccessTokenRevoked('past')).toBe(false);
      expect(await store.isAccessTokenRevoked('now')).toBe(false);
    });

    it('reads time only through the injected clock (a clock far from Date.now still works)', async () => {
      // A clock a year behind the real one: if the store mixed in Date.now, entries would be
      // expired at once (or live a year too long).
      const clock = manualClock(Date.now() - 365 * DAY);
      const store = new MemoryTokenStore(1_000, clock.now);
      await store.revokeAccessToken('jti', clock.now() + 1_000);
      expect(await store.isAccessTokenRevoked('jti')).toBe(true);
      clock.advance(1_001);
      expect(await store.isAccessTokenRevoked('jti')).toBe(false);
    });
  });

  describe('bounded size', () => {
    it('keeps at most maxEntries families: the least recently used are dropped first', async () => {
      const clock = manualClock();
      const store = new MemoryTokenStore(100, clock.now);
      for (let i = 0; i < 150; i++) {
        await store.saveRefreshToken(`fam-${i}`, 'd', record(clock.now() + DAY), `j-${i}`, clock.now() + MINUTE);
      }
      const outcomes = await Promise.all(Array.from({ length: 150 }, (_, i) => store.consumeRefreshToken(`fam-${i}`, 'd')));
      const statuses = outcomes.map((o) => o.status);
      expect(statuses.slice(0, 50).every((s) => s === 'missing')).toBe(true);
      expect(statuses.slice(50).every((s) => s === 'ok')).toBe(true);
    });

    it('keeps at most maxEntries revoked access tokens', async () => {
      const clock = manualClock();
      const store = new MemoryTokenStore(100, clock.now);
      for (let i = 0; i < 250; i++) {
        await store.revokeAccessToken(`jti-${i}`, clock.now() + DAY);
      }
      const revoked = await Promise.all(Array.from({ length: 250 }, (_, i) => store.isAccessTokenRevoked(`jti-${i}`)));
      expect(revoked.filter(Boolean)).toHaveLength(100);
      expect(revoked.slice(150).every(Boolean)).toBe(true);
    });
  });
});
