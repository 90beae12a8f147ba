import type { PrincipalInit } from '../auth/principal.interface.js';

/** A stored refresh token: what a refresh may issue again. */
export interface RefreshTokenRecord {
  /** The principal the family was issued to. */
  readonly principal: PrincipalInit;
  /** When the family expires (epoch ms). */
  readonly familyExpiresAt: number;
}

/** Outcome of looking a refresh token up (nothing changes). */
export type RefreshTokenLookup = { readonly status: 'ok'; readonly record: RefreshTokenRecord } | { readonly status: 'revoked' | 'missing' };

/** What rotating a refresh token saves: its successor, and the pair a retry within the grace period gets back. */
export interface RefreshRotation {
  /** Digest of the successor refresh token. */
  readonly digest: string;
  /** The successor's record. */
  readonly record: RefreshTokenRecord;
  /** `jti` of the access token issued with the successor, noted in the family. */
  readonly accessJti: string;
  /** Expiry of that access token (epoch ms). */
  readonly accessExpiresAt: number;
  /**
   * The new pair, encrypted with a key derived from the presented refresh token (which the store
   * never sees: it keys tokens by digest). Kept for `graceMs` only.
   */
  readonly sealedPair: string;
  /** How long (ms) a retry of the presented token gets `sealedPair` back; `0` disables the grace period. */
  readonly graceMs: number;
}

/** Outcome of {@link TokenStore.rotateRefreshToken}. */
export type RefreshRotationResult =
  { readonly status: 'rotated' } | { readonly status: 'grace'; readonly sealedPair: string } | { readonly status: 'reused' | 'revoked' | 'missing' };

/**
 * Storage of refresh-token families and of revoked access tokens. Every operation is atomic; a
 * Redis implementation makes them hold across instances.
 */
export interface TokenStore {
  /**
   * Saves the first refresh token (by digest) of a new family and notes the family's access token.
   * Resolves `false`, saving nothing, when the family was revoked meanwhile.
   */
  saveRefreshToken(familyId: string, digest: string, record: RefreshTokenRecord, accessJti: string, accessExpiresAt: number): Promise<boolean>;
  /** Looks a refresh token up without using it (`ok` also for a used one: only rotation judges reuse). */
  findRefreshToken(familyId: string, digest: string): Promise<RefreshTokenLookup>;
  /**
   * Uses a refresh token once, atomically: the first use saves `rotation`'s successor and answers
   * `rotated`. A later use answers `grace` with the first use's sealed pair while its grace period
   * runs and the successor is still unused; any other later use marks the family revoked and
   * answers `reused` (the family's access tokens are then revoked by the caller).
   */
  rotateRefreshToken(familyId: string, digest: string, rotation: RefreshRotation): Promise<RefreshRotationResult>;
  /** Revokes a family; returns its access tokens (`jti` → expiry, epoch ms) so they can be revoked too. */
  revokeFamily(familyId: string): Promise<Map<string, number>>;
  /** Denies an access token until `expiresAt` (epoch ms), after which it would fail anyway. */
  revokeAccessToken(jti: string, expiresAt: number): Promise<void>;
  /** True when the access token was revoked. One round trip. */
  isAccessTokenRevoked(jti: string): Promise<boolean>;
  /**
   * The same answer without waiting, when the store has it at hand (in memory, or mirrored);
   * `undefined` sends the check to `isAccessTokenRevoked`. Lets a guard answer synchronously.
   */
  isAccessTokenRevokedSync?(jti: string): boolean | undefined;
}
