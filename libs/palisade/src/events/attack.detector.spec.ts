import { describe, expect, it } from 'vitest';
import { AttackDetector, networkOf, type DetectorThresholds } from './attack.detector.js';
import type { SecurityEvent } from './security-event.interface.js';

/** A clock the test moves by hand (the detector reads time only through it). */
function manualClock(start = 1_700_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

const THRESHOLDS: DetectorThresholds = { failuresPerClient: 1_000, failuresPerNetwork: 1_000, usernamesPerClient: 1_000, windowMs: 60_000 };
const TIME = '2023-11-14T22:13:20.000Z';
let nextRequest = 0;

/** A failed authentication from `clientIp` (optionally with a username fingerprint). */
function failed(clientIp: string | undefined, extra: { reason?: 'invalid' | 'missing' | 'malformed' | 'expired'; username?: string } = {}): SecurityEvent {
  nextRequest += 1;
  return {
    type: 'authentication.failed',
    severity: 'info',
    time: TIME,
    reason: extra.reason ?? 'invalid',
    ...(extra.username === undefined ? {} : { usernameFingerprint: extra.username }),
    ...(clientIp === undefined ? {} : { clientIp }),
    requestId: `req-${nextRequest}`,
    route: 'POST /auth/login',
  };
}

/** Feeds `events` in order and returns the alerts, with the index of the event that raised each. */
function run(detector: AttackDetector, events: readonly SecurityEvent[]): { at: number; alert: ReturnType<AttackDetector['observe']> }[] {
  const alerts: { at: number; alert: ReturnType<AttackDetector['observe']> }[] = [];
  events.forEach((event, at) => {
    const alert = detector.observe(event);
    if (alert) alerts.push({ at, alert });
  });
  return alerts;
}

const times = <T>(n: number, make: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => make(i));

/** A refresh-token reuse seen on request `requestId`. */
const reuse = (requestId: string): SecurityEvent => ({
  type: 'refresh-token.reused',
  familyFingerprint: 'fam',
  severity: 'critical',
  time: TIME,
  clientIp: '198.51.100.60',
  requestId,
  route: 'POST /auth/refresh',
});

describe('networkOf', () => {
  it('groups IPv4 addresses by /24', () => {
    expect(networkOf('203.0.113.7')).toBe('203.0.113.0/24');
    expect(networkOf('203.0.113.250')).toBe(networkOf('203.0.113.7'));
    expect(networkOf('203.0.114.7')).not.toBe(networkOf('203.0.113.7'));
  });

  it('groups uncompressed IPv6 addresses by /48', () => {
    expect(networkOf('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1::/48');
    expect(networkOf('2001:db8:1:ffff::1')).toBe(networkOf('2001:db8:1:2:3:4:5:6'));
    expect(networkOf('2001:db8:2:2:3:4:5:6')).not.toBe(networkOf('2001:db8:1:2:3:4:5:6'));
  });

  // Regression: the groups were split on ':' and the empty ones dropped, so a '::' within the
  // first three groups shifted later groups into the prefix: 2001:db8::5:0:0:1 (= 2001:db8:0:0:5::1)
  // was put in "2001:db8:5::/48" — one network per value of an attacker-chosen group.
  it('groups compressed IPv6 addresses by their real /48 prefix', () => {
    const sameNetwork = ['2001:db8::1', '2001:db8::5:0:0:1', '2001:db8::6:0:0:1', '2001:db8:0:0:7::1', '2001:db8:0:1::1'];
    expect(new Set(sameNetwork.map(networkOf)).size).toBe(1);
    expect(networkOf('2001:db8:1::1')).not.toBe(networkOf('2001:db8::1'));
  });
});

describe('AttackDetector', () => {
  describe('brute-force from one client', () => {
    it('raises one alert when the client reaches failuresPerClient, with the request fields of that event', () => {
      const detector = new AttackDetector({ ...THRESHOLDS, failuresPerClient: 3 }, manualClock().now);
      const events = times(3, () => failed('198.51.100.1'));
      expect(run(detector, events)).toEqual([
        {
          at: 2,
          alert: {
            type: 'attack.detected',
            pattern: 'brute-force',
            count: 3,
            windowMs: 60_000,
            clientIp: '198.51.100.1',
            requestId: events[2]?.requestId,
            route: 'POST /auth/login',
          },
        },
      ]);
    });

    it('raises it once per window, then again in the next window', () => {
      const clock = manualClock();
      const detector = new AttackDetector({ ...THRESHOLDS, failuresPerClient: 3 }, clock.now);
      expect(
        run(
          detector,
          times(20, () => failed('198.51.100.2')),
        ).map(({ at }) => at),
      ).toEqual([2]);
      clock.advance(59_999);
      expect(
        run(
          detector,
          times(5, () => failed('198.51.100.2')),
        ),
      ).toEqual([]);
      clock.advance(1);
      expect(
        run(
          detector,
          times(3, () => failed('198.51.100.2')),
        ).map(({ at, alert }) => [at, alert?.count]),
      ).toEqual([[2, 3]]);
    });

    it('starts a new window for a client whose failures are spread out (fixed windows, not a lifetime count)', () => {
      const clock = manualClock();
      const detector = new AttackDetector({ ...THRESHOLDS, failuresPerClient: 3 }, clock.now);
      const alerts = [];
      for (let i = 0; i < 10; i++) {
        alerts.push(...run(detector, [failed('198.51.100.3')]));
        clock.advance(30_000);
      }
      // Windows start at t=0, 60 s, 120 s…: two failures each, never three.
      expect(alerts).toEqual([]);
    });

    it('keeps clients apart', () => {
      const detector = new AttackDetector({ ...THRESHOLDS, failuresPerClient: 3 }, manualClock().now);
      const events = [failed('198.51.100.4'), failed('198.51.100.5'), failed('198.51.100.4'), failed('198.51.100.5'), failed('198.51.100.5')];
      expect(run(detector, events).map(({ at, alert }) => [at, alert?.clientIp])).toEqual([[4, '198.51.100.5']]);
    });

    it("counts invalid, expired and malformed credentials and auth-failure blocks; not 'missing', other events or events without a client IP", () => {
      const detector = new AttackDetector({ ...THRESHOLDS, failuresPerClient: 4 }, manualClock().now);
      const ip = '198.51.100.6';
      const ignored: SecurityEvent[] = [
        failed(ip, { reason: 'missing' }),
        failed(undefined),
        { type: 'access.denied', reason: 'role', severity: 'info', time: TIME, clientIp: ip },
        { type: 'rate.limited', tier: 'default', severity: 'warning', time: TIME, clientIp: ip },
        { type: 'token.revoked', what: 'access-token', severity: 'info', time: TIME, clientIp: ip },
      ];
      expect(run(detector, [...ignored, ...ignored, ...ignored])).toEqual([]);
      const counted: SecurityEvent[] = [
        failed(ip, { reason: 'invalid' }),
        failed(ip, { reason: 'expired' }),
        failed(ip, { reason: 'malformed' }),
        { type: 'rate.limited', tier: 'auth-failures', severity: 'warning', time: TIME, clientIp: ip, requestId: 'blocked' },
      ];
      expect(run(detector, counted)).toEqual([
        { at: 3, alert: { type: 'attack.detected', pattern: 'brute-force', count: 4, windowMs: 60_000, clientIp: ip, requestId: 'blocked' } },
      ]);
    });
  });

  describe('brute-force from one network', () => {
    it('adds up the failures of the clients of one IPv4 /24', () => {
      const detector = new AttackDetector({ ...THRESHOLDS, failuresPerNetwork: 5 }, manualClock().now);
      const events = times(5, (i) => failed(`192.0.2.${10 + i}`));
      expect(run(detector, events)).toEqual([
        {
          at: 4,
          alert: {
            type: 'attack.detected',
            pattern: 'brute-force',
            count: 5,
            windowMs: 60_000,
            clientIp: '192.0.2.14',
            requestId: events[4]?.requestId,
            route: 'POST /auth/login',
          },
        },
      ]);
    });

    it('does not add up neighbouring /24s, and alerts once per network and window', () => {
      const detector = new AttackDetector({ ...THRESHOLDS, failuresPerNetwork: 5 }, manualClock().now);
      const split = [...times(4, (i) => failed(`192.0.2.${i}`)), ...times(4, (i) => failed(`192.0.3.${i}`))];
      expect(run(detector, split)).toEqual([]);
      expect(
        run(
          detector,
          times(10, (i) => failed(`192.0.2.${100 + i}`)),
        ).map(({ at }) => at),
      ).toEqual([0]);
    });

    it('adds up the failures of the clients of one IPv6 /48', () => {
      const detector = new AttackDetector({ ...THRESHOLDS, failuresPerNetwork: 4 }, manualClock().now);
      const events = times(4, (i) => failed(`2001:db8:42:${i + 1}::1`));
      expect(run(detector, events).map(({ at, alert }) => [at, alert?.pattern])).toEqual([[3, 'brute-force']]);
    });

    // Regression (see networkOf): compressed addresses of one /48 were spread over many networks.
    it('adds up the failures of compressed IPv6 addresses of one /48', () => {
      const detector = new AttackDetector({ ...THRESHOLDS, failuresPerNetwork: 4 }, manualClock().now);
      const events = times(4, (i) => failed(`2001:db8::${i + 1}:0:0:1`));
      expect(run(detector, events).map(({ at, alert }) => [at, alert?.pattern])).toEqual([[3, 'brute-force']]);
    });

    // Regression: the failure that raised a client alert returned before the network count, so a
    // network's count missed one failure per client alert.
    it('counts the failure that raised a client alert towards its network too', () => {
      const detector = new AttackDetector({ ...THRESHOLDS, failuresPerClient: 2, failuresPerNetwork: 4 }, manualClock().now);
      const events = [failed('192.0.2.1'), failed('192.0.2.1'), failed('192.0.2.2'), failed('192.0.2.3')];
      expect(run(detector, events).map(({ at, alert }) => [at, alert?.pattern, alert?.count, alert?.clientIp])).toEqual([
        [1, 'brute-force', 2, '192.0.2.1'],
        [3, 'brute-force', 4, '192.0.2.3'],
      ]);
    });
  });

  describe('credential stuffing', () => {
    it('raises one alert when one client has tried usernamesPerClient distinct usernames', () => {
      const detector = new AttackDetector({ ...THRESHOLDS, usernamesPerClient: 3 }, manualClock().now);
      const events = [
        failed('198.51.100.20', { username: 'u1' }),
        failed('198.51.100.20', { username: 'u1' }),
        failed('198.51.100.20', { username: 'u2' }),
        failed('198.51.100.20', { username: 'u2' }),
        failed('198.51.100.20', { username: 'u3' }),
        failed('198.51.100.20', { username: 'u4' }),
        failed('198.51.100.20', { username: 'u5' }),
      ];
      expect(run(detector, events)).toEqual([
        {
          at: 4,
          alert: {
            type: 'attack.detected',
            pattern: 'credential-stuffing',
            count: 3,
            windowMs: 60_000,
            clientIp: '198.51.100.20',
            requestId: events[4]?.requestId,
            route: 'POST /auth/login',
          },
        },
      ]);
    });

    it('does not count usernames tried from different clients together', () => {
      const detector = new AttackDetector({ ...THRESHOLDS, usernamesPerClient: 3 }, manualClock().now);
      const events = times(6, (i) => failed(`198.51.100.${30 + (i % 3)}`, { username: `u${Math.floor(i / 3)}` }));
      expect(run(detector, events)).toEqual([]);
    });

    it('forgets the usernames when the window ends', () => {
      const clock = manualClock();
      const detector = new AttackDetector({ ...THRESHOLDS, usernamesPerClient: 3 }, clock.now);
      expect(run(detector, [failed('198.51.100.40', { username: 'a' }), failed('198.51.100.40', { username: 'b' })])).toEqual([]);
      clock.advance(60_000);
      expect(run(detector, [failed('198.51.100.40', { username: 'c' }), failed('198.51.100.40', { username: 'd' })])).toEqual([]);
      expect(run(detector, [failed('198.51.100.40', { username: 'e' })]).map(({ alert }) => alert?.pattern)).toEqual(['credential-stuffing']);
    });

    // Regression: every username tried was added to the client's set, even after the alert, so
    // with brute-force blocking off (or high) one client could grow it without bound in a window
    // ("Bounded memory" in the class documentation). Past the threshold there is nothing to count.
    it('keeps at most usernamesPerClient usernames per client (bounded memory)', () => {
      const detector = new AttackDetector({ ...THRESHOLDS, failuresPerNetwork: 1_000_000, usernamesPerClient: 10 }, manualClock().now);
      const alerts = run(
        detector,
        times(10_000, (i) => failed('198.51.100.70', { username: `user-${i}` })),
      );
      expect(alerts.map(({ at }) => at)).toEqual([9]);
      const windows = (detector as unknown as { windows: { get(key: string): { usernames?: Set<string> } | undefined } }).windows;
      expect(windows.get('c:198.51.100.70')?.usernames?.size ?? 0).toBeLessThanOrEqual(10);
    });

    it('one username guessed many times is brute force, not credential stuffing', () => {
      const detector = new AttackDetector({ ...THRESHOLDS, failuresPerClient: 5, usernamesPerClient: 2 }, manualClock().now);
      const alerts = run(
        detector,
        times(10, () => failed('198.51.100.50', { username: 'alice' })),
      );
      expect(alerts.map(({ at, alert }) => [at, alert?.pattern])).toEqual([[4, 'brute-force']]);
    });
  });

  describe('refresh-token reuse', () => {
    it('raises an alert for every reuse, with the request fields', () => {
      const detector = new AttackDetector(THRESHOLDS, manualClock().now);
      expect(run(detector, [reuse('r1'), reuse('r2')])).toEqual([
        {
          at: 0,
          alert: {
            type: 'attack.detected',
            pattern: 'refresh-token-reuse',
            count: 1,
            windowMs: 0,
            clientIp: '198.51.100.60',
            requestId: 'r1',
            route: 'POST /auth/refresh',
          },
        },
        {
          at: 1,
          alert: {
            type: 'attack.detected',
            pattern: 'refresh-token-reuse',
            count: 1,
            windowMs: 0,
            clientIp: '198.51.100.60',
            requestId: 'r2',
            route: 'POST /auth/refresh',
          },
        },
      ]);
    });

    it('raises it for a reuse outside a request too (no request fields)', () => {
      const detector = new AttackDetector(THRESHOLDS, manualClock().now);
      expect(detector.observe({ type: 'refresh-token.reused', familyFingerprint: 'fam', severity: 'critical', time: TIME })).toEqual({
        type: 'attack.detected',
        pattern: 'refresh-token-reuse',
        count: 1,
        windowMs: 0,
      });
    });
  });
});
