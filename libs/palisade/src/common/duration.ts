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

/** `60000` → `'60_000'`: a number of milliseconds as a readable numeric literal. */
function literal(ms: number): string {
  return Number.isInteger(ms) ? String(ms).replace(/\B(?=(\d{3})+$)/g, '_') : String(ms);
}

/**
 * Parses a duration that is normally a second or longer (a window, a block, a cache age, a
 * tolerance) into milliseconds, refusing a **number** from 0 to 1000 (exclusive): numbers are
 * milliseconds, as in `@nestjs/throttler`, so `ttl: 60` is a 60 ms window, almost always seconds
 * meant as milliseconds. A string with a unit (`'500ms'`) is taken as written, and `0` is left to
 * the caller's own rules.
 *
 * @example
 * parseCoarseDuration(60_000, 'throttle.throttlers[0].ttl'); // 60000
 * parseCoarseDuration('500ms', 'throttle.throttlers[0].ttl'); // 500
 * parseCoarseDuration(60, 'throttle.throttlers[0].ttl'); // throws: write 60_000 or '60s', or '60ms'
 * @internal
 */
export function parseCoarseDuration(value: unknown, path: string): number {
  const ms = parseDuration(value, path);
  if (typeof value === 'number' && value > 0 && value < 1000) {
    throw new Error(
      `PalisadeModule: ${path} is ${value}, which is ${value} ms: numeric durations in Palisade are milliseconds, as in @nestjs/throttler. For ${value} seconds write ${literal(Math.round(value * 1000))} or '${value}s'; if ${value} ms is really meant, write '${value}ms'.`,
    );
  }
  return ms;
}

/** Renders a configuration value for an error message without leaking long secrets. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return value.length > 40 ? `a ${value.length}-character string` : JSON.stringify(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  return String(value);
}
