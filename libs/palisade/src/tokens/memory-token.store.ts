import { LRUCache } from 'lru-cache';
import type { ConsumeResult, RefreshTokenRecord, TokenStore } from './token-store.interface.js';

interface Family {
  revoked: boolean;
  expiresAt: number;
  tokens: Map<string, { record: RefreshTokenRecord; used: boolean }>;
  accessTokens: Map<string, number>;
}

/**
 * Per-instance token store: bounded LRU maps whose entries expire with the family or the revoked
 * token; no timer per entry.
 */
export class MemoryTokenStore implements TokenStore {
  private readonly families: LRUCache<string, Family>;
  private readonly revoked: LRUCache<string, true>;

  constructor(
    maxEntries = 100_000,
    private readonly now: () => number = Date.now,
  ) {
    this.families = new LRUCache({ max: maxEntries, ttlResolution: 0, perf: { now } });
    this.revoked = new LRUCache({ max: maxEntries, ttlResolution: 0, perf: { now } });
  }

  async saveRefreshToken(familyId: string, digest: string, record: RefreshTokenRecord, accessJti: string, accessExpiresAt: number): Promise<boolean> {
    const ttl = Math.max(1, record.familyExpiresAt - this.now());
    let family = this.families.get(familyId);
    if (!family) {
      family = { revoked: false, expiresAt: record.familyExpiresAt, tokens: new Map(), accessTokens: new Map() };
      this.families.set(familyId, family, { ttl });
    }
    if (family.revoked) return false;
    family.tokens.set(digest, { record, used: false });
    family.accessTokens.set(accessJti, accessExpiresAt);
    return true;
  }

  async consumeRefreshToken(familyId: string, digest: string): Promise<ConsumeResult> {
    const family = this.families.get(familyId);
    if (!family) return { status: 'missing' };
    if (family.revoked) return { status: 'revoked' };
    const token = family.tokens.get(digest);
    if (!token) return { status: 'missing' };
    if (token.used) {
      family.revoked = true;
      return { status: 'reused' };
    }
    token.used = true;
    return { status: 'ok', record: token.record };
  }

  async revokeFamily(familyId: string): Promise<Map<string, number>> {
    const family = this.families.get(familyId);
    if (!family) return new Map();
    family.revoked = true;
    return new Map(family.accessTokens);
  }

  async revokeAccessToken(jti: string, expiresAt: number): Promise<void> {
    const ttl = expiresAt - this.now();
    if (ttl > 0) this.revoked.set(jti, true, { ttl });
  }

  async isAccessTokenRevoked(jti: string): Promise<boolean> {
    return this.isAccessTokenRevokedSync(jti);
  }

  /** `isAccessTokenRevoked`, synchronously. */
  isAccessTokenRevokedSync(jti: string): boolean {
    return this.revoked.get(jti) === true;
  }
}
