import { describe, expect, it } from 'vitest';
import type { Principal } from '../auth/principal.interface.js';
import type { HttpRequestLike } from '../common/http-context.js';
import { compileTrustProxy, TrustedProxy } from '../common/trusted-proxy.js';
import { requestTracker, safeKeyPart } from './throttle-tracker.js';

const proxy = new TrustedProxy(compileTrustProxy(undefined));

/** A request another guard authenticated, with `user` on it (as Express and Fastify requests carry it). */
const requestOf = (user: object): HttpRequestLike => ({ headers: {}, user }) as unknown as HttpRequestLike;

describe('requestTracker (who a request counts against)', () => {
  it('keys a frozen principal (as Palisade creates them) by its id, the same for every request', () => {
    const principal = Object.freeze({ id: 'alice', roles: [] }) as unknown as Principal;
    expect(requestTracker(requestOf(principal), proxy)).toBe('u:alice');
    expect(requestTracker(requestOf(principal), proxy)).toBe('u:alice');
  });

  it("follows a mutable principal's id when it changes between requests (nothing stale is reused)", () => {
    const principal = { id: 'alice', roles: [] };
    expect(requestTracker(requestOf(principal), proxy)).toBe('u:alice');
    principal.id = 'mallory';
    expect(requestTracker(requestOf(principal), proxy)).toBe('u:mallory');
  });

  it('hashes an id that is not safe inside a Redis hash tag', () => {
    const principal = Object.freeze({ id: 'a}b{c', roles: [] }) as unknown as Principal;
    const tracker = requestTracker(requestOf(principal), proxy);
    expect(tracker).toBe(`u:${safeKeyPart('a}b{c')}`);
    expect(tracker).toMatch(/^u:#[A-Za-z0-9_-]{32}$/);
  });
});
