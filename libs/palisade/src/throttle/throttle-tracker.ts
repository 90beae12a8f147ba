import { createHash } from 'node:crypto';
import { normalizeIp } from '@nestjs/throttler';
import type { Principal } from '../auth/principal.interface.js';
import type { HttpRequestLike } from '../common/http-context.js';
import { requestStateOf } from '../common/request-state.js';
import type { TrustedProxy } from '../common/trusted-proxy.js';

const SAFE = /^[A-Za-z0-9_.@:-]{1,128}$/;

/** A value safe inside a Redis hash tag and bounded in size: kept as is, or hashed. @internal */
export function safeKeyPart(value: string): string {
  return SAFE.test(value) ? value : `#${createHash('sha256').update(value, 'utf8').digest('base64url').slice(0, 32)}`;
}

/** The client address as a counter key: IPv4 as is, IPv6 grouped by its /64 network. @internal */
export function ipTracker(request: HttpRequestLike, proxy: TrustedProxy): string {
  const ip = proxy.clientIp(request);
  return `ip:${safeKeyPart(ip.includes(':') ? normalizeIp(ip, 64) : ip)}`;
}

/**
 * Who a request counts against: the authenticated principal (Palisade's, else one another guard put
 * on `request.user`), else the client IP. @internal
 */
export function requestTracker(request: HttpRequestLike, proxy: TrustedProxy): string {
  const user = (requestStateOf(request).principal ?? request.user) as Principal | undefined;
  if (user && typeof user.id === 'string') return principalTracker(user);
  return ipTracker(request, proxy);
}

/**
 * Trackers of principals already seen: the verified-token cache hands the same principal to every
 * request of a token, so its tracker is built (and its id checked) once, not per request.
 */
const principalTrackers = new WeakMap<object, string>();

function principalTracker(user: Principal): string {
  let tracker = principalTrackers.get(user);
  if (tracker === undefined) {
    tracker = `u:${safeKeyPart(user.id)}`;
    // Only a frozen principal (as Palisade creates them) keeps its id: another's may change later.
    if (Object.isFrozen(user)) principalTrackers.set(user, tracker);
  }
  return tracker;
}
