import type { Duration } from '../common/duration.js';

/**
 * Security events: the default log sink, the detector's thresholds and request ids.
 *
 * @example
 * events: { log: { maxPerSecond: 20 }, detection: { failuresPerClient: 20, window: '1m' } }
 */
export interface EventsOptions {
  /**
   * The default sink: one JSON line per event through Nest's `Logger` (context `PalisadeSecurity`),
   * at most `maxPerSecond` lines a second (default 50) of routine events (`authentication.failed`,
   * `access.denied`, `rate.limited`) and as many of the others (critical events, revocations…),
   * so a flood of the former never drops the latter; the number dropped, per type, is reported
   * once a second.
   * `false` turns it off (your `@SecurityEventSink()` providers still receive everything).
   */
  log?: false | { maxPerSecond?: number };
  /** Attack detection thresholds; `false` turns detection off. */
  detection?:
    | false
    | {
        /** Failed authentications from one client IP within `window` that raise `brute-force`. Default 20. */
        failuresPerClient?: number;
        /** Failed authentications from one /24 (IPv4) or /48 (IPv6) network within `window`. Default 100. */
        failuresPerNetwork?: number;
        /** Distinct usernames tried from one client IP within `window` that raise `credential-stuffing`. Default 10. */
        usernamesPerClient?: number;
        /** Window of the counts, ms or duration. Default `'5m'`. */
        window?: Duration;
      };
  /**
   * Key of the credential fingerprints (HMAC-SHA256). Default: random per process, so fingerprints
   * group attempts within one instance and cannot be reversed offline; set a shared secret (≥ 32
   * bytes) to group them across instances.
   */
  fingerprintKey?: string;
}
