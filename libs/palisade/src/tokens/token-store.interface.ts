import type { PrincipalInit } from '../auth/principal.interface.js';

/** A stored refresh token: what a refresh may issue again. */
export interface RefreshTokenRecord {
  /** The principal the family was issued to. */
  readonly principal: PrincipalInit;
  /** When the family expires (epoch ms). */
  readonly familyExpiresAt: number;
}

/** Outcome of presenting a refresh token. */
export type ConsumeResult = { readonly status: 'ok'; readonly record: RefreshTokenRecord } | { readonly status: 'reused' | 'revoked' | 'missing' };

/**
 * Storage of refresh-token families and of revoked access tokens. Every operation is atomic; a
 * Redis implementation makes them hold across instances.
 */
export interface TokenStore {
  /**
   * Saves a fresh refresh token (by digest) in its family and notes the family's access token.
   * Resolves `false`, saving nothing, when the family was revoked meanwhile (a refresh racing a
   * reuse detection on another instance must not leave a live pair in a revoked family).
   */
  saveRefreshToken(familyId: string, digest: string, record: RefreshTokenRecord, accessJti: string, accessExpiresAt: number): Promise<boolean>;
  /**
   * Uses a refresh token once. A second use marks the family revoked and returns `reused`; the
   * family's access tokens are then revoked by the caller through `revokedAccessTokens`.
   */
  consumeRefreshToken(familyId: string, digest: string): Promise<ConsumeResult>;
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
