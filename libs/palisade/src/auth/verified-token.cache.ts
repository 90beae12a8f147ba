import { LRUCache } from 'lru-cache';
import type { Principal } from './principal.interface.js';

/**
 * A bounded cache of verified bearer tokens → their principal, so a token seen again skips
 * signature verification and claim parsing. A hit still checks expiry (with the clock
 * tolerance) and, through the caller, revocation. Entries live at most `maxAgeMs` (so a key removed
 * from a JWKS stops being honoured within that time) and never past the token's `exp`; the cache
 * holds at most `maxEntries` tokens and `maxBytes` of token text.
 * @internal
 */
export class VerifiedTokenCache {
  private readonly entries: LRUCache<string, { principal: Principal; expiresAtMs: number }>;

  constructor(
    maxEntries: number,
    private readonly maxAgeMs: number,
    private readonly toleranceMs: number,
    private readonly now: () => number = Date.now,
  ) {
    // No TTL in the LRU itself: each entry carries its own deadline, checked on every hit, so a
    // hit costs one clock read instead of the LRU's TTL bookkeeping as well. An entry past its
    // deadline is deleted when read, or evicted as the least recently used.
    this.entries = new LRUCache({ max: maxEntries, maxSize: 32 * 1024 * 1024, sizeCalculation: (_value, key) => key.length + 64 });
  }

  /** The cached principal of `token` if it is still within its deadline (`exp`, at most `maxAgeMs` after caching). */
  get(token: string): Principal | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    if (this.now() >= entry.expiresAtMs) {
      this.entries.delete(token);
      return undefined;
    }
    return entry.principal;
  }

  /** Remembers a principal the JWT scheme just verified, until its `exp` (with the tolerance) or `maxAgeMs` from now. */
  set(token: string, principal: Principal): void {
    const exp = principal.claims.exp;
    if (typeof exp !== 'number') return;
    const now = this.now();
    const expiresAtMs = Math.min(exp * 1000 + this.toleranceMs, now + this.maxAgeMs);
    if (expiresAtMs > now) this.entries.set(token, { principal, expiresAtMs });
  }

  delete(token: string): void {
    this.entries.delete(token);
  }

  /** Forgets every token (a signing key was removed or revoked). */
  clear(): void {
    this.entries.clear();
  }
}
