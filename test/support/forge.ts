import { createHmac, type BinaryLike, type KeyObject } from 'node:crypto';
import { b64url } from './tokens.js';
import { TEST_SECRET } from './tokens.js';

/** Seconds since the epoch, as JWT `iat`/`exp`/`nbf` claims use. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/**
 * Hand-builds an HMAC-signed JWT from exactly the header and payload given (no defaults added),
 * for tokens `jsonwebtoken.sign` refuses to produce: no `exp`, a numeric `sub`, a `crit` header,
 * an HS256 token keyed with a public-key PEM…
 */
export function forgeHmacToken(
  payload: unknown,
  options: { header?: Record<string, unknown>; secret?: BinaryLike | KeyObject; hash?: 'sha256' | 'sha384' | 'sha512' } = {},
): string {
  const { header = { alg: 'HS256', typ: 'JWT' }, secret = TEST_SECRET, hash = 'sha256' } = options;
  const signingInput = `${b64url(header)}.${b64url(payload)}`;
  const signature = createHmac(hash, secret).update(signingInput).digest('base64url');
  return `${signingInput}.${signature}`;
}

/** An unsigned token (`alg: none`, empty signature), RFC 7519 §6. */
export function unsignedToken(payload: unknown): string {
  return `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(payload)}.`;
}
