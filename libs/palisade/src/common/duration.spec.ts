import { describe, expect, it } from 'vitest';
import { describe as describeValue, parseCoarseDuration, parseDuration } from './duration.js';

describe('parseDuration', () => {
  it.each([
    [0, 0],
    [1500, 1500],
    [0.5, 0.5],
  ])('takes the number %s as milliseconds', (input, expected) => {
    expect(parseDuration(input, 'ttl')).toBe(expected);
  });

  it.each([
    ['500ms', 500],
    ['60s', 60_000],
    ['1m', 60_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['1w', 604_800_000],
    ['1y', 31_536_000_000],
    ['0s', 0],
  ])('parses %s', (input, expected) => {
    expect(parseDuration(input, 'ttl')).toBe(expected);
  });

  it('accepts a decimal amount and rounds to whole milliseconds', () => {
    expect(parseDuration('1.5s', 'ttl')).toBe(1500);
    expect(parseDuration('2.5ms', 'ttl')).toBe(3);
  });

  it('accepts surrounding whitespace and one space before the unit', () => {
    expect(parseDuration(' 30s ', 'ttl')).toBe(30_000);
    expect(parseDuration('30 s', 'ttl')).toBe(30_000);
  });

  it.each([
    ['a negative number', -1],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['a number without a unit in a string', '60'],
    ['an unknown unit', '1mo'],
    ['an upper-case unit', '1M'],
    ['a negative string', '-1s'],
    ['two spaces before the unit', '1  s'],
    ['an empty string', ''],
    ['null', null],
    ['undefined', undefined],
    ['an object', { ms: 5 }],
  ])('refuses %s', (_what, input) => {
    expect(() => parseDuration(input, 'throttle.ttl')).toThrow(/^PalisadeModule: throttle\.ttl is /);
  });

  it('names the option, the bad value and the accepted forms in its message', () => {
    expect(() => parseDuration('soon', 'auth.jwt.clockTolerance')).toThrow(
      `PalisadeModule: auth.jwt.clockTolerance is "soon"; expected a number of milliseconds or a string such as '500ms', '60s', '1m', '1h', '1d' or '1y'.`,
    );
  });
});

describe('rendering configuration values in messages', () => {
  it('quotes short strings', () => {
    expect(describeValue('abc')).toBe('"abc"');
  });

  it('gives only the length of a long string, so secrets never reach a message', () => {
    const secret = 's'.repeat(41);
    expect(describeValue(secret)).toBe('a 41-character string');
  });

  it('names null, arrays, objects and primitives', () => {
    expect(describeValue(null)).toBe('null');
    expect(describeValue([1, 2, 3])).toBe('an array of 3');
    expect(describeValue({ a: 1 })).toBe('an object');
    expect(describeValue(42)).toBe('42');
    expect(describeValue(undefined)).toBe('undefined');
  });
});

describe('parseCoarseDuration', () => {
  it('accepts numbers from one second, strings with a unit (sub-second included) and 0', () => {
    expect(parseCoarseDuration(1000, 't.ttl')).toBe(1000);
    expect(parseCoarseDuration(60_000, 't.ttl')).toBe(60_000);
    expect(parseCoarseDuration('500ms', 't.ttl')).toBe(500);
    expect(parseCoarseDuration('60s', 't.ttl')).toBe(60_000);
    expect(parseCoarseDuration(0, 't.ttl')).toBe(0);
  });

  it('refuses a number under 1000, showing the millisecond and string fixes', () => {
    expect(() => parseCoarseDuration(60, 't.ttl')).toThrow(
      "PalisadeModule: t.ttl is 60, which is 60 ms: numeric durations in Palisade are milliseconds, as in @nestjs/throttler. For 60 seconds write 60_000 or '60s'; if 60 ms is really meant, write '60ms'.",
    );
    expect(() => parseCoarseDuration(999, 't.ttl')).toThrow("write 999_000 or '999s'; if 999 ms is really meant, write '999ms'.");
    expect(() => parseCoarseDuration(0.5, 't.ttl')).toThrow("For 0.5 seconds write 500 or '0.5s'");
  });

  it('keeps the usual message for values that are no duration at all', () => {
    expect(() => parseCoarseDuration('1 minute', 't.ttl')).toThrow('PalisadeModule: t.ttl is "1 minute"; expected a number of milliseconds');
  });
});
