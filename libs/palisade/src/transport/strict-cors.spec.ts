import { describe, expect, it } from 'vitest';
import type { CustomOrigin } from '@nestjs/common/interfaces/external/cors-options.interface.js';
import { strictCors } from './strict-cors.js';

function allows(origin: CustomOrigin | unknown, requestOrigin: string | undefined): boolean {
  let result: unknown;
  (origin as CustomOrigin)(requestOrigin, (error, value) => {
    if (error) throw error;
    result = value;
  });
  return result === true;
}

describe('strictCors', () => {
  it('builds strict options with the defaults', () => {
    const options = strictCors({ origins: ['https://app.example.com'] });
    expect({ ...options, origin: typeof options.origin }).toEqual({
      origin: 'function',
      credentials: false,
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['Authorization', 'Content-Type', 'X-API-Key'],
      exposedHeaders: ['RateLimit', 'RateLimit-Policy', 'Retry-After', 'WWW-Authenticate'],
      maxAge: 600,
      preflightContinue: false,
      optionsSuccessStatus: 204,
    });
  });

  it('matches origins exactly, after normalizing the configured ones', () => {
    const { origin } = strictCors({ origins: ['HTTPS://App.Example.com:443/', 'http://localhost:5173'] });
    expect(allows(origin, 'https://app.example.com')).toBe(true);
    expect(allows(origin, 'http://localhost:5173')).toBe(true);
    for (const other of [
      'https://app.example.com:8443',
      'http://app.example.com',
      'https://app.example.com.evil.example',
      'https://evil.example',
      'null',
      'http://localhost:5174',
    ]) {
      expect({ other, allowed: allows(origin, other) }).toEqual({ other, allowed: false });
    }
    expect(allows(origin, undefined)).toBe(false);
  });

  it('a pattern stands for exactly one DNS label', () => {
    const { origin } = strictCors({ origins: ['https://*.preview.example.com', 'http://*.local.example.com:8080'] });
    expect(allows(origin, 'https://pr-1.preview.example.com')).toBe(true);
    expect(allows(origin, 'http://web.local.example.com:8080')).toBe(true);
    for (const other of [
      'https://preview.example.com',
      'https://a.b.preview.example.com',
      'https://-x.preview.example.com',
      'https://pr-1.preview.example.com:444',
      'http://web.local.example.com',
      'https://pr-1.preview.example.comevil.example',
      'https://x.preview.example.com.evil.example',
    ]) {
      expect({ other, allowed: allows(origin, other) }).toEqual({ other, allowed: false });
    }
  });

  it("'*' alone, without credentials", () => {
    expect(strictCors({ origins: ['*'] }).origin).toBe('*');
  });

  it.each([
    [
      { origins: ['*'], credentials: true },
      "strictCors: origins[0] is '*' with credentials: true; any site could then read responses with the user's cookies.",
    ],
    [{ origins: [] }, 'strictCors: origins is an array of 0; expected a non-empty array'],
    [{ origins: ['null'] }, "strictCors: origins[0] is 'null'; sandboxed frames and file: pages send Origin: null, so anyone can."],
    [
      { origins: ['https://app.example.com/login'] },
      'strictCors: origins[0] is "https://app.example.com/login"; an origin has no path, query or credentials. Write \'https://app.example.com\'.',
    ],
    [{ origins: ['app.example.com'] }, 'strictCors: origins[0] is "app.example.com"; expected an origin such as \'https://app.example.com\'.'],
    [{ origins: ['https://*.com'] }, "the part after '*.' needs at least two labels"],
    [{ origins: ['https://app.*.example.com'] }, "a pattern has '*' as its first label only"],
    [{ origins: ['https://*example.com'] }, "a pattern has '*' as its first label only"],
    [{ origins: ['*', 'https://app.example.com'] }, "strictCors: origins mixes '*' with other origins"],
    [{ origins: ['https://a.example'], allowedHeaders: ['*'] }, "strictCors: allowedHeaders contains '*'; list the header names explicitly"],
    [{ origins: ['https://a.example'], methods: ['GET', 'TRACE'] }, 'strictCors: methods contains TRACE, which browsers never send from scripts'],
    [{ origins: ['https://a.example'], maxAge: 'long' }, 'PalisadeModule: strictCors maxAge is "long"'],
    [
      { origins: ['https://a.example'], origin: 'https://b.example' },
      'strictCors: unknown option origin; did you mean origins? Known options: origins, credentials, methods, allowedHeaders, exposedHeaders, maxAge.',
    ],
  ])('refuses %j', (options, message) => {
    expect(() => strictCors(options as never)).toThrow(message);
  });
});

/** A response that records its headers, as `request.res` on Express. */
function response(initial: Record<string, string> = {}) {
  const headers = new Map(Object.entries(initial).map(([name, value]) => [name.toLowerCase(), value]));
  return {
    headers,
    getHeader: (name: string) => headers.get(name.toLowerCase()),
    setHeader: (name: string, value: string) => headers.set(name.toLowerCase(), value),
  };
}
function delegate(cors: ReturnType<typeof strictCors>, request: object): { error: Error | null; options: unknown } {
  let result: { error: Error | null; options: unknown } | undefined;
  (cors as unknown as (request: object, callback: (error: Error | null, options: unknown) => void) => void)(request, (error, options) => {
    result = { error, options };
  });
  if (result === undefined) throw new Error('callback not called');
  return result;
}

describe('strictCors, called as each adapter calls it', () => {
  it('declares one parameter, so that Nest’s Fastify adapter calls it with the instance, and then returns the plain options', () => {
    const cors = strictCors({ origins: ['https://app.example.com'] });
    expect(cors.length).toBe(1);
    const options = cors({});
    expect(typeof options).toBe('object');
    expect(options).toEqual({ ...cors });
  });

  it('as an Express options delegate: Vary: Origin on request.res, then the same options', () => {
    const cors = strictCors({ origins: ['https://app.example.com'] });
    const res = response();
    const { error, options } = delegate(cors, { headers: {}, res });
    expect(error).toBeNull();
    expect(options).toBe(cors({}));
    expect(res.headers.get('vary')).toBe('Origin');
  });

  it.each([
    ['Accept-Encoding', 'Accept-Encoding, Origin'],
    ['Accept-Encoding, origin', 'Accept-Encoding, origin'],
    ['*', '*'],
    ['Origins', 'Origins, Origin'],
  ])('keeps an existing Vary (%j → %j)', (before, after) => {
    const res = response({ Vary: before });
    delegate(strictCors({ origins: ['https://app.example.com'] }), { res });
    expect(res.headers.get('vary')).toBe(after);
  });

  it("with origins ['*'] nothing depends on the origin: no Vary", () => {
    const res = response();
    expect(delegate(strictCors({ origins: ['*'] }), { res }).error).toBeNull();
    expect(res.headers.get('vary')).toBeUndefined();
  });

  it('fails closed when the request has no response to write Vary on (not an Express request)', () => {
    expect(delegate(strictCors({ origins: ['https://app.example.com'] }), { headers: {} }).error?.message).toMatch(/^strictCors: the request has no response/);
  });
});
