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
    this.entries = new LRUCache({
      max: maxEntries,
      maxSize: 32 * 1024 * 1024,
      sizeCalculation: (_value, key) => key.length + 64,
      ttlResolution: 0,
      perf: { now },
    });
  }

  /** The cached principal of `token` if it is still within its `exp`. */
  get(token: string): Principal | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    if (this.now() >= entry.expiresAtMs) {
      this.entries.delete(token);
      return undefined;
    }
    return entry.principal;
  }

  /** Remembers a principal the JWT scheme just verified. */
  set(token: string, principal: Principal): void {
    const exp = principal.claims.exp;
    if (typeof exp !== 'number') return;
    const expiresAtMs = exp * 1000 + this.toleranceMs;
    const ttl = Math.min(this.maxAgeMs, expiresAtMs - this.now());
    if (ttl > 0) this.entries.set(token, { principal, expiresAtMs }, { ttl });
  }

  delete(token: string): void {
    this.entries.delete(token);
  }
}
