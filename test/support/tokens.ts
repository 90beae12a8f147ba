import jwt from 'jsonwebtoken';

/** A 32-byte HS256 secret for tests. */
export const TEST_SECRET = 'test-secret-0123456789abcdef-0123456789abcdef';

/** Signs a token with the test secret; `claims` override the defaults (sub, exp in 5 minutes). */
export function signToken(claims: Record<string, unknown> = {}, options: jwt.SignOptions & { secret?: string } = {}): string {
  const { secret = TEST_SECRET, ...signOptions } = options;
  const now = Math.floor(Date.now() / 1000);
  return jwt.sign({ sub: 'user-1', iat: now, exp: now + 300, ...claims }, secret, { algorithm: 'HS256', ...signOptions });
}

/** Base64url of a JSON value, for hand-built tokens. */
export function b64url(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}
