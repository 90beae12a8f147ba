import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpException, PayloadTooLargeException } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { bodyLimit } from './body-limit.middleware.js';

/** Runs the middleware on a request with `headers`; returns what it passed to `next` and the headers it set. */
function run(limit: number, headers: Record<string, string>, lengthRequired?: boolean): { error: unknown; set: Record<string, unknown> } {
  const set: Record<string, unknown> = {};
  const response = { setHeader: (name: string, value: unknown) => (set[name.toLowerCase()] = value) } as unknown as ServerResponse;
  let error: unknown = 'next not called';
  bodyLimit(lengthRequired === undefined ? { limit } : { limit, lengthRequired })(
    { headers } as IncomingMessage,
    response,
    (passed?: unknown) => (error = passed),
  );
  return { error, set };
}

describe('bodyLimit', () => {
  it('passes a request declaring at most the limit, or no length (chunked, or no body), untouched', () => {
    const requests: Record<string, string>[] = [{ 'content-length': '1024' }, { 'content-length': '0' }, {}, { 'transfer-encoding': 'chunked' }];
    for (const headers of requests) {
      expect(run(1024, headers)).toEqual({ error: undefined, set: {} });
    }
  });

  it('refuses a declared length over the limit: a 413 with the stable body, and Connection: close', () => {
    const { error, set } = run(1024, { 'content-length': '1025' });
    expect(error).toBeInstanceOf(PayloadTooLargeException);
    expect((error as PayloadTooLargeException).getResponse()).toEqual({
      statusCode: 413,
      error: 'Payload Too Large',
      message: 'The request body is too large',
    });
    expect(set).toEqual({ connection: 'close' });
  });

  it('lengthRequired: a chunked body is refused at once with 411; a declared one under the limit, or none, passes', () => {
    const { error, set } = run(1024, { 'transfer-encoding': 'chunked' }, true);
    expect((error as HttpException).getStatus()).toBe(411);
    expect((error as HttpException).getResponse()).toEqual({
      statusCode: 411,
      error: 'Length Required',
      message: 'The request body must declare its length (Content-Length)',
    });
    expect(set).toEqual({ connection: 'close' });
    expect(run(1024, { 'content-length': '10' }, true)).toEqual({ error: undefined, set: {} });
    expect(run(1024, {}, true)).toEqual({ error: undefined, set: {} });
  });

  it.each([
    [{ limit: 1, lengthRequired: 'yes' }, 'bodyLimit: lengthRequired is "yes"; expected true or false.'],
    [undefined, 'bodyLimit: options are undefined; expected { limit: 65536 } (bytes).'],
    [{ limit: '64kb' }, 'bodyLimit: limit is "64kb"; expected a whole number of bytes, 0 or more, such as 65536 (64 KB).'],
    [{ limit: -1 }, 'bodyLimit: limit is -1; expected a whole number of bytes, 0 or more, such as 65536 (64 KB).'],
    [{ limit: 1.5 }, 'bodyLimit: limit is 1.5; expected a whole number of bytes, 0 or more, such as 65536 (64 KB).'],
    [{ limit: Number.POSITIVE_INFINITY }, 'bodyLimit: limit is Infinity; expected a whole number of bytes, 0 or more, such as 65536 (64 KB).'],
  ])('refuses options %j at startup with a precise message', (options, message) => {
    expect(() => bodyLimit(options as never)).toThrow(message);
  });

  it('refuses an unknown key', () => {
    expect(() => bodyLimit({ limit: 10, limt: 5 } as never)).toThrow(/bodyLimit.*limt/);
  });
});
