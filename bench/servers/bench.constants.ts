/**
 * What every stack under test agrees on: the route, its answer, and the JWT it must verify.
 * The harness mints one HS256 token with these values (see `harness/token.ts`).
 */

/** The route under test: needs a valid bearer JWT carrying {@link BENCH_ROLE} (except on the bare stack). */
export const BENCH_PATH = '/reports';

/** HS256 secret shared by the harness and the servers (≥ 32 bytes, as Palisade requires). */
export const BENCH_JWT_SECRET = 'palisade-bench-hs256-secret-0123456789abcdef';
export const BENCH_JWT_ISSUER = 'palisade-bench';
export const BENCH_JWT_AUDIENCE = 'palisade-bench';

/** The role the route requires. */
export const BENCH_ROLE = 'analyst';

/** Requests per minute allowed per caller: high enough never to answer 429 during a benchmark. */
export const BENCH_THROTTLE_LIMIT = 1_000_000_000;
export const BENCH_THROTTLE_TTL_MS = 60_000;

/** The small JSON every stack answers with. */
export function reportsBody(): { reports: { id: string; title: string }[] } {
  return { reports: [{ id: 'r-1', title: 'Quarterly access review' }] };
}
