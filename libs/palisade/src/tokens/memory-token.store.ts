import { LRUCache } from 'lru-cache';
import type { RefreshRotation, RefreshRotationResult, RefreshTokenLookup, RefreshTokenRecord, TokenStore } from './token-store.interface.js';

/** The pair a retry of a used token gets back, until `until` (epoch ms), while `successor` is unused. */
interface Grace {
  successor: string;
  sealedPair: string;
  until: number;
}

interface StoredRefreshToken {
  record: RefreshTokenRecord;
  used: boolean;
  grace?: Grace | undefined;
}

interface Family {
  revoked: boolean;
  expiresAt: number;
  /** Digest of the family's newest refresh token (the only unused one). */
  head: string;
  /** The token holding the family's one grace pair, dropped at the next rotation. */
  graceHolder?: StoredRefreshToken | undefined;
  tokens: Map<string, StoredRefreshToken>;
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
      family = { revoked: false, expiresAt: record.familyExpiresAt, head: digest, tokens: new Map(), accessTokens: new Map() };
      this.families.set(familyId, family, { ttl });
    }
    if (family.revoked) return false;
    family.tokens.set(digest, { record, used: false });
    family.head = digest;
    family.accessTokens.set(accessJti, accessExpiresAt);
    return true;
  }

  async findRefreshToken(familyId: string, digest: string): Promise<RefreshTokenLookup> {
    const family = this.families.get(familyId);
    if (!family) return { status: 'missing' };
    if (family.revoked) return { status: 'revoked' };
    const token = family.tokens.get(digest);
    return token ? { status: 'ok', record: token.record } : { status: 'missing' };
  }

  async rotateRefreshToken(familyId: string, digest: string, rotation: RefreshRotation): Promise<RefreshRotationResult> {
    const family = this.families.get(familyId);
    if (!family) return { status: 'missing' };
    if (family.revoked) return { status: 'revoked' };
    const token = family.tokens.get(digest);
    if (!token) return { status: 'missing' };
    const now = this.now();
    if (token.used) {
      const grace = token.grace;
      if (grace !== undefined && grace.until > now && family.head === grace.successor) return { status: 'grace', sealedPair: grace.sealedPair };
      token.grace = undefined;
      family.revoked = true;
      return { status: 'reused' };
    }
    token.used = true;
    family.tokens.set(rotation.digest, { record: rotation.record, used: false });
    family.head = rotation.digest;
    family.accessTokens.set(rotation.accessJti, rotation.accessExpiresAt);
    // One grace pair per family: the previous one is void now that its successor was used.
    if (family.graceHolder) family.graceHolder.grace = undefined;
    family.graceHolder = undefined;
    if (rotation.graceMs > 0) {
      token.grace = { successor: rotation.digest, sealedPair: rotation.sealedPair, until: now + rotation.graceMs };
      family.graceHolder = token;
    }
    return { status: 'rotated' };
  }

  async revokeFamily(familyId: string): Promise<Map<string, number>> {
    const family = this.families.get(familyId);
    if (!family) return new Map();
    family.revoked = true;
    if (family.graceHolder) family.graceHolder.grace = undefined;
    family.graceHolder = undefined;
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
