import { randomBytes } from 'node:crypto';
import { describe, parseCoarseDuration } from '../common/duration.js';
import { assertKnownKeys } from '../common/option-keys.js';
import type { DetectorThresholds } from './attack.detector.js';
import type { EventsOptions } from './events-options.interface.js';

/** @internal */
export interface NormalizedEventsOptions {
  readonly logPerSecond: number | undefined;
  readonly detection: DetectorThresholds | undefined;
  readonly fingerprintKey: Buffer;
}

function fail(message: string): never {
  throw new Error(`PalisadeModule: ${message}`);
}

function isPlainObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function count(value: unknown, fallback: number, path: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) fail(`${path} is ${describe(value)}; expected a positive integer.`);
  return value;
}

/** Validates `events` options once at startup. @internal */
export function normalizeEventsOptions(options: EventsOptions | undefined): NormalizedEventsOptions {
  const input = options ?? {};
  if (!isPlainObject(input)) fail(`events is ${describe(input)}; expected an object.`);
  assertKnownKeys(input, ['log', 'detection', 'fingerprintKey'], 'events');
  const log = input.log ?? {};
  if (log !== false && !isPlainObject(log)) fail(`events.log is ${describe(log)}; expected { maxPerSecond? } or false.`);
  if (log !== false) assertKnownKeys(log, ['maxPerSecond'], 'events.log');
  const logPerSecond = log === false ? undefined : count(log.maxPerSecond, 50, 'events.log.maxPerSecond');
  const d = input.detection ?? {};
  if (d !== false && !isPlainObject(d)) fail(`events.detection is ${describe(d)}; expected an object of thresholds or false.`);
  if (d !== false) assertKnownKeys(d, ['failuresPerClient', 'failuresPerNetwork', 'usernamesPerClient', 'window'], 'events.detection');
  const detection =
    d === false
      ? undefined
      : {
          failuresPerClient: count(d.failuresPerClient, 20, 'events.detection.failuresPerClient'),
          failuresPerNetwork: count(d.failuresPerNetwork, 100, 'events.detection.failuresPerNetwork'),
          usernamesPerClient: count(d.usernamesPerClient, 10, 'events.detection.usernamesPerClient'),
          windowMs: parseCoarseDuration(d.window ?? '5m', 'events.detection.window'),
        };
  let fingerprintKey: Buffer;
  if (input.fingerprintKey === undefined) fingerprintKey = randomBytes(32);
  else if (typeof input.fingerprintKey !== 'string' || Buffer.byteLength(input.fingerprintKey) < 32) {
    fail('events.fingerprintKey must be a string of at least 32 bytes.');
  } else fingerprintKey = Buffer.from(input.fingerprintKey, 'utf8');
  return { logPerSecond, detection, fingerprintKey };
}
