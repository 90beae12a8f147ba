/**
 * A duration: a number of **milliseconds**, or a string made of a number and a unit
 * (`ms`, `s`, `m`, `h`, `d`, `w`, `y`), e.g. `'500ms'`, `'60s'`, `'1m'`, `'1y'`.
 *
 * @example
 * const ttl: Duration = '1m'; // 60 000 ms
 */
export type Duration = number | `${number}${DurationUnit}`;

/** Units accepted in a {@link Duration} string. */
export type DurationUnit = 'ms' | 's' | 'm' | 'h' | 'd' | 'w' | 'y';

const UNIT_MS: Readonly<Record<DurationUnit, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000, // 365 days, the unit HSTS max-age values are usually written in
};

const DURATION_PATTERN = /^(\d+(?:\.\d+)?)\s?(ms|s|m|h|d|w|y)$/;

/**
 * Parses a {@link Duration} into milliseconds. Throws a precise error naming `path` (the option
 * being parsed) when the value is not a finite, non-negative duration.
 *
 * @example
 * parseDuration('1m', 'throttle.ttl'); // 60000
 */
export function parseDuration(value: unknown, path: string): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return value;
  } else if (typeof value === 'string') {
    const match = DURATION_PATTERN.exec(value.trim());
    if (match) {
      const amount = Number(match[1]);
      const unit = match[2] as DurationUnit;
      return Math.round(amount * UNIT_MS[unit]);
    }
  }
  throw new Error(
    `PalisadeModule: ${path} is ${describe(value)}; expected a number of milliseconds or a string such as '500ms', '60s', '1m', '1h', '1d' or '1y'.`,
  );
}

/** Renders a configuration value for an error message without leaking long secrets. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return value.length > 40 ? `a ${value.length}-character string` : JSON.stringify(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  return String(value);
}
