import { describe, expect, it } from 'vitest';
import { MemoryTokenStore } from './memory-token.store.js';
import type { RefreshRotation, RefreshTokenRecord } from './token-store.interface.js';

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

/** The rotation of a test: successor `next` with access token `jti`, no grace period unless given. */
function rotation(next: string, rec: RefreshTokenRecord, jti: string, accessExpiresAt: number, graceMs = 0, sealedPair = ''): RefreshRotation {
  return { digest: next, record: rec, accessJti: jti, accessExpiresAt, sealedPair, graceMs };
}

describe('MemoryTokenStore', () => {
  describe('refresh-token rotation states', () => {
    it('a saved token rotates once (and is found, with its record); a second use is reuse and revokes the family', async () => {
      const clock = manualClock();
      const store = new MemoryTokenStore(1_000, clock.now);
      const rec = record(clock.now() + DAY);
      await store.saveRefreshToken('fam-1', 'digest-1', rec, 'jti-1', clock.now() + 15 * MINUTE);
      expect(await store.findRefreshToken('fam-1', 'digest-1')).toEqual({ status: 'ok', record: rec });
      expect(await store.rotateRefreshToken('fam-1', 'digest-1', rotation('digest-2', rec, 'jti-2', clock.now() + 15 * MINUTE))).toEqual({ status: 'rotated' });
      // The first token presented again (no grace period): reuse.
      expect(await store.rotateRefreshToken('fam-1', 'digest-1', rotation('digest-x', rec, 'jti-x', clock.now()))).toEqual({ status: 'reused' });
      // The family is revoked: the newest token no longer works, nor does the reused one.
      expect(await store.rotateRefreshToken('fam-1', 'digest-2', rotation('digest-3', rec, 'jti-3', clock.now()))).toEqual({ status: 'revoked' });
      expect(await store.findRefreshToken('fam-1', 'digest-2')).toEqual({ status: 'revoked' });
      expect(await store.rotateRefreshToken('fam-1', 'digest-1', rotation('digest-y', rec, 'jti-y', clock.now()))).toEqual({ status: 'revoked' });
    });

    it('walks a chain of rotations: every token rotates exactly once, in order', async () => {
      const clock = manualClock();
      const store = new MemoryTokenStore(1_000, clock.now);
      const rec = record(clock.now() + DAY);
      await store.saveRefreshToken('fam', 'd0', rec, 'j0', clock.now() + MINUTE);
      for (let i = 1; i <= 5; i++) {
        expect(await store.rotateRefreshToken('fam', `d${i - 1}`, rotation(`d${i}`, rec, `j${i}`, clock.now() + MINUTE))).toEqual({ status: 'rotated' });
      }
      expect(await store.findRefreshToken('fam', 'd5')).toEqual({ status: 'ok', record: rec });
    });

    it('an unknown family or an unknown digest in a known family is missing, and does not revoke the family', async () => {
      const clock = manualClock();
      const store = new MemoryTokenStore(1_000, clock.now);
      const rec = record(clock.now() + DAY);
      await store.saveRefreshToken('fam', 'good', rec, 'j', clock.now() + MINUTE);
      expect(await store.findRefreshToken('nope', 'good')).toEqual({ status: 'missing' });
      expect(await store.findRefreshToken('fam', 'guessed')).toEqual({ status: 'missing' });
      expect(await store.rotateRefreshToken('nope', 'good', rotation('n', rec, 'jn', clock.now()))).toEqual({ status: 'missing' });
      expect(await store.rotateRefreshToken('fam', 'guessed', rotation('n', rec, 'jn', clock.now()))).toEqual({ status: 'missing' });
      expect(await store.rotateRefreshToken('fam', 'good', rotation('n', rec, 'jn', clock.now()))).toEqual({ status: 'rotated' });
    });

    it('families are independent: reuse in one does not touch another', async () => {
      const clock = manualClock();
      const store = new MemoryTokenStore(1_000, clock.now);
      const rec = record(clock.now() + DAY);
      await store.saveRefreshToken('a', 'da', rec, 'ja', clock.now() + MINUTE);
      await store.saveRefreshToken('b', 'db', rec, 'jb', clock.now() + MINUTE);
      await store.rotateRefreshToken('a', 'da', rotation('da2', rec, 'ja2', clock.now()));
      expect(await store.rotateRefreshToken('a', 'da', rotation('da3', rec, 'ja3', clock.now()))).toEqual({ status: 'reused' });
      expect(await store.rotateRefreshToken('b', 'db', rotation('db2', rec, 'jb2', clock.now()))).toEqual({ status: 'rotated' });
    });

    it('a family ends at familyExpiresAt (injected clock): its tokens are then missing', async () => {
      const clock = manualClock();
      const store = new MemoryTokenStore(1_000, clock.now);
      await store.saveRefreshToken('fam', 'd', record(clock.now() + 10 * MINUTE), 'j', clock.now() + MINUTE);
      clock.advance(10 * MINUTE - 1);
      await store.saveRefreshToken('other', 'd', record(clock.now() + DAY), 'j2', clock.now() + MINUTE);
      clock.advance(2);
      expect(await store.findRefreshToken('fam', 'd')).toEqual({ status: 'missing' });
      expect(await store.findRefreshToken('other', 'd')).toMatchObject({ status: 'ok' });
    });
  });

  describe('reuse grace period', () => {
    it('a retry within the period gets the sealed pair of the first use, as often as it comes; the family stays live', async () => {
      const clock = manualClock();
      const store = new MemoryTokenStore(1_000, clock.now);
      const rec = record(clock.now() + DAY);
      await store.saveRefreshToken('fam', 'd0', rec, 'j0', clock.now() + MINUTE);
      expect(await store.rotateRefreshToken('fam', 'd0', rotation('d1', rec, 'j1', clock.now() + MINUTE, 5_000, 'sealed-1'))).toEqual({ status: 'rotated' });
      clock.advance(4_999);
      for (let i = 0; i < 3; i++) {
        expect(await store.rotateRefreshToken('fam', 'd0', rotation(`lost-${i}`, rec, `lost-j${i}`, clock.now() + MINUTE, 5_000, 'other'))).toEqual({
          status: 'grace',
          sealedPair: 'sealed-1',
        });
      }
      // The retries saved nothing: only the first use's successor and access token are in the family.
      expect(await store.findRefreshToken('fam', 'lost-0')).toEqual({ status: 'missing' });
      expect(await store.rotateRefreshToken('fam', 'd1', rotation('d2', rec, 'j2', clock.now() + MINUTE))).toEqual({ status: 'rotated' });
      expect([...(await store.revokeFamily('fam')).keys()]).toEqual(['j0', 'j1', 'j2']);
    });

    it('after the period a retry is reuse: the family is revoked', async () => {
      const clock = manualClock();
      const store = new MemoryTokenStore(1_000, clock.now);
      const rec = record(clock.now() + DAY);
      await store.saveRefreshToken('fam', 'd0', rec, 'j0', clock.now() + MINUTE);
      await store.rotateRefreshToken('fam', 'd0', rotation('d1', rec, 'j1', clock.now() + MINUTE, 5_000, 'sealed-1'));
      clock.advance(5_000);
      expect(await store.rotateRefreshToken('fam', 'd0', rotation('x', rec, 'jx', clock.now() + MINUTE, 5_000, 'x'))).toEqual({ status: 'reused' });
      expect(await store.findRefreshToken('fam', 'd1')).toEqual({ status: 'revoked' });
    });

    it('once the successor was used, a retry of its predecessor is reuse even within the period (a thief cannot follow the chain)', async () => {
      const clock = manualClock();
      const store = new MemoryTokenStore(1_000, clock.now);
      const rec = record(clock.now() + DAY);
      await store.saveRefreshToken('fam', 'd0', rec, 'j0', clock.now() + MINUTE);
      await store.rotateRefreshToken('fam', 'd0', rotation('d1', rec, 'j1', clock.now() + MINUTE, 5_000, 'sealed-1'));
      await store.rotateRefreshToken('fam', 'd1', rotation('d2', rec, 'j2', clock.now() + MINUTE, 5_000, 'sealed-2'));
      clock.advance(100);
      expect(await store.rotateRefreshToken('fam', 'd0', rotation('x', rec, 'jx', clock.now() + MINUTE, 5_000, 'x'))).toEqual({ status: 'reused' });
      expect(await store.rotateRefreshToken('fam', 'd2', rotation('d3', rec, 'j3', clock.now() + MINUTE))).toEqual({ status: 'revoked' });
    });

    it('a revoked family answers revoked, never the grace pair', async () => {
      const clock = manualClock();
      const store = new MemoryTokenStore(1_000, clock.now);
      const rec = record(clock.now() + DAY);
      await store.saveRefreshToken('fam', 'd0', rec, 'j0', clock.now() + MINUTE);
      await store.rotateRefreshToken('fam', 'd0', rotation('d1', rec, 'j1', clock.now() + MINUTE, 5_000, 'sealed-1'));
      await store.revokeFamily('fam');
      expect(await store.rotateRefreshToken('fam', 'd0', rotation('x', rec, 'jx', clock.now() + MINUTE, 5_000, 'x'))).toEqual({ status: 'revoked' });
    });
  });

  describe('revokeFamily', () => {
    it('marks the family revoked and returns its access tokens (jti → expiry, epoch ms)', async () => {
      const clock = manualClock();
      const store = new MemoryTokenStore(1_000, clock.now);
      const rec = record(clock.now() + DAY);
      await store.saveRefreshToken('fam', 'd1', rec, 'jti-1', clock.now() + 15 * MINUTE);
      await store.rotateRefreshToken('fam', 'd1', rotation('d2', rec, 'jti-2', clock.now() + 16 * MINUTE));
      const tokens = await store.revokeFamily('fam');
      expect(tokens).toEqual(
        new Map([
          ['jti-1', clock.now() + 15 * MINUTE],
          ['jti-2', clock.now() + 16 * MINUTE],
        ]),
      );
      expect(await store.findRefreshToken('fam', 'd2')).toEqual({ status: 'revoked' });
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
      const outcomes = await Promise.all(Array.from({ length: 150 }, (_, i) => store.findRefreshToken(`fam-${i}`, 'd')));
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
