import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { HttpRequestLike } from '../common/http-context.js';
import { authorizationPresence, cachedCredentials, Presence, presentedCredentials, type PresentedCredentials } from './credentials.js';

/** A request as Express sees it: lower-cased `headers` and the raw name/value list. */
function request(rawHeaders: readonly [string, string][]): HttpRequestLike {
  const headers: IncomingHttpHeaders = {};
  for (const [name, value] of rawHeaders) {
    const key = name.toLowerCase();
    // Node keeps the first Authorization and joins repeated custom headers with ', '.
    if (key === 'authorization') headers[key] ??= value;
    else headers[key] = headers[key] === undefined ? value : `${String(headers[key])}, ${value}`;
  }
  return { headers, rawHeaders: rawHeaders.flat() };
}

/** Parses a fresh request, with the API key read from `x-api-key` and at most 64 characters. */
const parse = (rawHeaders: readonly [string, string][]): PresentedCredentials => presentedCredentials(request(rawHeaders), 'x-api-key', 64);

const NOTHING: PresentedCredentials = {
  authScheme: undefined,
  authCredential: undefined,
  authMalformed: false,
  authMalformedScheme: undefined,
  apiKey: undefined,
  apiKeyMalformed: false,
};

describe('presentedCredentials: Authorization', () => {
  it('finds nothing in a request without credentials', () => {
    expect(parse([])).toEqual(NOTHING);
  });

  it('splits a well-formed header into a lower-cased scheme and its token68', () => {
    expect(parse([['Authorization', 'Bearer abc.DEF-_~+/.ghi==']])).toEqual({ ...NOTHING, authScheme: 'bearer', authCredential: 'abc.DEF-_~+/.ghi==' });
  });

  it('lower-cases the scheme whatever its case', () => {
    expect(parse([['Authorization', 'BASIC dTpw']]).authScheme).toBe('basic');
  });

  it('accepts several spaces between scheme and credential', () => {
    expect(parse([['Authorization', 'Bearer   tok']])).toMatchObject({ authScheme: 'bearer', authCredential: 'tok', authMalformed: false });
  });

  it('keeps an unknown scheme (it is simply no credential for the built-in schemes)', () => {
    expect(parse([['Authorization', 'Token abc']])).toMatchObject({ authScheme: 'token', authCredential: 'abc', authMalformed: false });
  });

  it.each([
    ['a scheme alone', 'Bearer', 'bearer'],
    ['two credentials', 'Bearer a b', 'bearer'],
    ['a tab instead of a space', 'Bearer\ttok', undefined],
    ['characters outside token68', 'Bearer a$b', 'bearer'],
    ['padding inside the token', 'Bearer ab=c', 'bearer'],
    ['a comma-separated list', 'Bearer a, Basic b', 'bearer'],
    ['non-ASCII bytes', 'Bearer tok\u00e9', 'bearer'],
    ['Basic with padding alone', 'Basic ====', 'basic'],
    ['an empty value', '', undefined],
  ])('marks %s as malformed, naming the scheme it names (if one can be told)', (_what, value, scheme) => {
    expect(parse([['Authorization', value]])).toEqual({ ...NOTHING, authMalformed: true, authMalformedScheme: scheme });
  });

  it('marks a repeated Authorization header as malformed, even when both copies are identical', () => {
    expect(
      parse([
        ['Authorization', 'Bearer tok'],
        ['authorization', 'Bearer tok'],
      ]),
    ).toEqual({ ...NOTHING, authMalformed: true });
  });

  it('marks a header longer than 64 KiB as malformed', () => {
    expect(parse([['Authorization', `Bearer ${'a'.repeat(65_536)}`]]).authMalformed).toBe(true);
  });

  it('marks an array-valued header as malformed', () => {
    const req: HttpRequestLike = { headers: { authorization: ['Bearer a', 'Bearer b'] as unknown as string } };
    expect(presentedCredentials(req, 'x-api-key', 64).authMalformed).toBe(true);
  });

  it('reads the raw headers of a Fastify request from request.raw', () => {
    const raw = request([
      ['Authorization', 'Bearer a'],
      ['Authorization', 'Bearer a'],
    ]);
    const fastifyLike: HttpRequestLike = { headers: raw.headers, raw: { rawHeaders: raw.rawHeaders } as unknown as HttpRequestLike['raw'] };
    expect(presentedCredentials(fastifyLike, undefined, 0).authMalformed).toBe(true);
  });
});

describe('presentedCredentials: API key', () => {
  it('reads the key from the configured header', () => {
    expect(parse([['X-Api-Key', 'k-123']])).toEqual({ ...NOTHING, apiKey: 'k-123' });
  });

  it('ignores the header when no API key scheme is configured', () => {
    expect(presentedCredentials(request([['X-Api-Key', 'k-123']]), undefined, 0)).toEqual(NOTHING);
  });

  it('accepts a key of exactly maxKeyLength characters', () => {
    expect(parse([['X-Api-Key', 'k'.repeat(64)]]).apiKey).toBe('k'.repeat(64));
  });

  it.each([
    ['longer than maxKeyLength', 'k'.repeat(65)],
    ['containing a space', 'k 1'],
    ['containing a tab', 'k\t1'],
    ['containing non-ASCII', 'clé'],
    ['empty', ''],
  ])('marks a key %s as malformed', (_what, value) => {
    expect(parse([['X-Api-Key', value]])).toEqual({ ...NOTHING, apiKeyMalformed: true });
  });

  it('marks a repeated API key header as malformed', () => {
    expect(
      parse([
        ['X-Api-Key', 'k-1'],
        ['x-api-key', 'k-1'],
      ]),
    ).toEqual({ ...NOTHING, apiKeyMalformed: true });
  });

  it('parses the Authorization header and the API key independently', () => {
    expect(
      parse([
        ['Authorization', 'Bearer'],
        ['X-Api-Key', 'k-1'],
      ]),
    ).toEqual({ ...NOTHING, authMalformed: true, authMalformedScheme: 'bearer', apiKey: 'k-1' });
  });
});

describe('presentedCredentials: caching', () => {
  it('parses once per request and shares the result through cachedCredentials', () => {
    const req = request([['Authorization', 'Bearer tok']]);
    expect(cachedCredentials(req)).toBeUndefined();
    const first = presentedCredentials(req, 'x-api-key', 64);
    req.headers.authorization = 'Basic other';
    expect(presentedCredentials(req, 'x-api-key', 64)).toBe(first);
    expect(cachedCredentials(req)).toBe(first);
  });
});

describe('authorizationPresence', () => {
  it('is Present for the scheme the header carries', () => {
    const credentials = parse([['Authorization', 'Bearer tok']]);
    expect(authorizationPresence(credentials, 'bearer')).toBe(Presence.Present);
    expect(authorizationPresence(credentials, 'basic')).toBe(Presence.Absent);
  });

  it('is Malformed for the scheme a malformed header names, Absent for the others', () => {
    const bearer = parse([['Authorization', 'Bearer a b']]);
    expect(authorizationPresence(bearer, 'bearer')).toBe(Presence.Malformed);
    expect(authorizationPresence(bearer, 'basic')).toBe(Presence.Absent);
    const basic = parse([['Authorization', 'Basic ====']]);
    expect(authorizationPresence(basic, 'basic')).toBe(Presence.Malformed);
    expect(authorizationPresence(basic, 'bearer')).toBe(Presence.Absent);
  });

  it('is Malformed for every scheme when the header names none (junk, or repeated)', () => {
    for (const credentials of [
      parse([['Authorization', '\tjunk']]),
      parse([
        ['Authorization', 'Basic dTpw'],
        ['Authorization', 'Bearer tok'],
      ]),
    ]) {
      expect(authorizationPresence(credentials, 'bearer')).toBe(Presence.Malformed);
      expect(authorizationPresence(credentials, 'basic')).toBe(Presence.Malformed);
    }
  });

  it('is Absent without an Authorization header or with an unknown scheme', () => {
    expect(authorizationPresence(parse([]), 'bearer')).toBe(Presence.Absent);
    expect(authorizationPresence(parse([['Authorization', 'Token abc']]), 'bearer')).toBe(Presence.Absent);
  });
});
