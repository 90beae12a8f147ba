import { normalizeIp } from '@nestjs/throttler';
import { LRUCache } from 'lru-cache';
import type { AttackDetectedEvent, SecurityEvent } from './security-event.interface.js';

/** @internal */
export interface DetectorThresholds {
  readonly failuresPerClient: number;
  readonly failuresPerNetwork: number;
  readonly usernamesPerClient: number;
  readonly windowMs: number;
}

interface Window {
  start: number;
  count: number;
  alerted: boolean;
  usernames?: Set<string>;
}

/** /24 of an IPv4 address, /48 of an IPv6 one (compressed forms expanded first). @internal */
export function networkOf(ip: string): string {
  if (!ip.includes(':')) return `${ip.split('.').slice(0, 3).join('.')}.0/24`;
  return normalizeIp(ip, 48);
}

/** A client: an IPv4 address, or an IPv6 /64 (one host's usual allocation, as the throttler groups it). @internal */
export function clientOf(ip: string): string {
  return ip.includes(':') ? normalizeIp(ip, 64) : ip;
}

/**
 * Turns failure events into `attack.detected` alerts: many failures from one client or network
 * in a window (`brute-force`), many usernames tried from one client (`credential-stuffing`), and
 * any refresh-token reuse. One alert per key and window. Bounded memory (LRU), no timers.
 * @internal
 */
export class AttackDetector {
  private readonly windows = new LRUCache<string, Window>({ max: 50_000 });

  constructor(
    private readonly thresholds: DetectorThresholds,
    private readonly now: () => number = Date.now,
  ) {}

  /** Returns the alert `event` raises, if any. */
  observe(event: SecurityEvent): Omit<AttackDetectedEvent, 'time' | 'severity'> | undefined {
    if (event.type === 'refresh-token.reused') {
      return { type: 'attack.detected', pattern: 'refresh-token-reuse', count: 1, windowMs: 0, ...context(event) };
    }
    const failure = (event.type === 'authentication.failed' && event.reason !== 'missing') || (event.type === 'rate.limited' && event.tier === 'auth-failures');
    if (!failure || event.clientIp === undefined) return undefined;
    const { failuresPerClient, failuresPerNetwork, usernamesPerClient, windowMs } = this.thresholds;
    // Count the failure everywhere first, so one alert never hides a count from another key.
    const client = this.bump(`c:${clientOf(event.clientIp)}`);
    const network = this.bump(`n:${networkOf(event.clientIp)}`);
    const username = event.type === 'authentication.failed' ? event.usernameFingerprint : undefined;
    // The set only needs to reach the threshold: bounded by it.
    if (username !== undefined && (client.usernames?.size ?? 0) < usernamesPerClient) (client.usernames ??= new Set()).add(username);
    if (!client.alerted && client.usernames !== undefined && client.usernames.size >= usernamesPerClient) {
      client.alerted = true;
      return { type: 'attack.detected', pattern: 'credential-stuffing', count: client.usernames.size, windowMs, ...context(event) };
    }
    if (!client.alerted && client.count >= failuresPerClient) {
      client.alerted = true;
      return { type: 'attack.detected', pattern: 'brute-force', count: client.count, windowMs, ...context(event) };
    }
    if (!network.alerted && network.count >= failuresPerNetwork) {
      network.alerted = true;
      return { type: 'attack.detected', pattern: 'brute-force', count: network.count, windowMs, ...context(event) };
    }
    return undefined;
  }

  private bump(key: string): Window {
    const now = this.now();
    let window = this.windows.get(key);
    if (!window || now - window.start >= this.thresholds.windowMs) {
      window = { start: now, count: 0, alerted: false };
      this.windows.set(key, window);
    }
    window.count += 1;
    return window;
  }
}

function context(event: SecurityEvent): Pick<AttackDetectedEvent, 'clientIp' | 'requestId' | 'route'> {
  return {
    ...(event.clientIp === undefined ? {} : { clientIp: event.clientIp }),
    ...(event.requestId === undefined ? {} : { requestId: event.requestId }),
    ...(event.route === undefined ? {} : { route: event.route }),
  };
}
