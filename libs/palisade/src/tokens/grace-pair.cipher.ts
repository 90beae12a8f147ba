import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

/** What a retry within the refresh grace period gets back: the pair, and when it was issued (epoch ms). */
export interface GracePair {
  readonly accessToken: string;
  readonly expiresIn: number;
  readonly jti: string;
  readonly refreshToken: string;
  readonly issuedAt: number;
}

const KEY_INFO = 'palisade:refresh-grace:v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * The key that seals a grace pair: HMAC-SHA-256 keyed with the presented refresh token. Stores key
 * refresh tokens by their SHA-256 digest, so what they hold cannot derive it: only a holder of the
 * presented token can open the pair it was rotated into.
 */
function keyOf(presentedToken: string): Buffer {
  return createHmac('sha256', presentedToken).update(KEY_INFO, 'utf8').digest();
}

/**
 * Seals `pair` with AES-256-GCM under a key derived from the presented refresh token, bound to its
 * family (additional authenticated data). Returns `iv.tag.ciphertext`, base64url.
 * @internal
 */
export function sealGracePair(presentedToken: string, familyId: string, pair: GracePair): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keyOf(presentedToken), iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(familyId, 'utf8'));
  const body = Buffer.concat([cipher.update(JSON.stringify(pair), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

/** Opens a sealed grace pair; `undefined` when it does not open with this token and family, or is malformed. @internal */
export function openGracePair(presentedToken: string, familyId: string, sealed: string): GracePair | undefined {
  try {
    const raw = Buffer.from(sealed, 'base64url');
    if (raw.length <= IV_BYTES + TAG_BYTES) return undefined;
    const decipher = createDecipheriv('aes-256-gcm', keyOf(presentedToken), raw.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(familyId, 'utf8'));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    const text = Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    const pair = JSON.parse(text) as Partial<GracePair>;
    const valid =
      typeof pair.accessToken === 'string' &&
      typeof pair.refreshToken === 'string' &&
      typeof pair.jti === 'string' &&
      typeof pair.expiresIn === 'number' &&
      typeof pair.issuedAt === 'number';
    return valid ? (pair as GracePair) : undefined;
  } catch {
    return undefined;
  }
}
