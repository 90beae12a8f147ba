import { createHmac, randomUUID } from 'node:crypto';
import { BENCH_JWT_AUDIENCE, BENCH_JWT_ISSUER, BENCH_JWT_SECRET, BENCH_ROLE } from '../servers/bench.constants.js';

const base64url = (input: string | Buffer): string => Buffer.from(input).toString('base64url');

/**
 * The bearer token every request of a run carries: HS256, with the claims of the demo's access
 * tokens (`sub`, `roles`, `scope`, `iss`, `aud`, `iat`, `exp`, `jti`), valid for a day.
 */
export function mintBenchToken(nowMs: number = Date.now()): string {
  const iat = Math.floor(nowMs / 1000);
  const header = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = base64url(
    JSON.stringify({
      sub: 'bench-user',
      roles: [BENCH_ROLE],
      scope: 'reports:read',
      iss: BENCH_JWT_ISSUER,
      aud: BENCH_JWT_AUDIENCE,
      iat,
      exp: iat + 24 * 3600,
      jti: randomUUID(),
    }),
  );
  const signature = createHmac('sha256', BENCH_JWT_SECRET).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${signature}`;
}
