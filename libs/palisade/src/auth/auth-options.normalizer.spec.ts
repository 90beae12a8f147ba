import { createHash, createSecretKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AuthOptions } from './auth-options.interface.js';
import { normalizeAuthOptions } from './auth-options.normalizer.js';

const SECRET = 'unit-secret-0123456789abcdef-0123456789abcdef'; // 45 bytes
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const validate = () => null;

/** The message `normalizeAuthOptions` refuses `options` with (plain JS values allowed, as a JS caller could pass them). */
function refusal(options: unknown): string {
  try {
    normalizeAuthOptions(options as AuthOptions);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected normalizeAuthOptions to refuse the options');
}

describe('normalizeAuthOptions: defaults and precomputation', () => {
  it('configures no scheme without options', () => {
    const auth = normalizeAuthOptions(undefined);
    expect({ jwt: auth.jwt, apiKey: auth.apiKey, basic: auth.basic, realm: auth.realm }).toEqual({
      jwt: undefined,
      apiKey: undefined,
      basic: undefined,
      realm: 'api',
    });
    expect([...auth.configured]).toEqual([]);
    expect(auth.defaultSchemes).toEqual([]);
    expect(auth.challenges.size).toBe(0);
  });

  it('defaults a JWT secret to HS256, no leeway, 8192-character tokens, roles/scope claims and 15-minute tokens', () => {
    const jwt = normalizeAuthOptions({ jwt: { secret: SECRET } }).jwt;
    expect(jwt).toMatchObject({
      algorithms: ['HS256'],
      issuer: undefined,
      audience: undefined,
      clockToleranceSeconds: 0,
      maxTokenLength: 8192,
      rolesClaim: 'roles',
      scopesClaim: 'scope',
      accessTokenTtlSeconds: 900,
    });
    expect(jwt?.verifyKey?.type).toBe('secret');
    expect(jwt?.signKey).toBe(jwt?.verifyKey);
  });

  it('converts clockTolerance and accessTokenTtl durations to seconds', () => {
    const jwt = normalizeAuthOptions({ jwt: { secret: SECRET, clockTolerance: '30s', accessTokenTtl: '1h' } }).jwt;
    expect(jwt).toMatchObject({ clockToleranceSeconds: 30, accessTokenTtlSeconds: 3600 });
  });

  it('keeps a single issuer as a string and several as an array', () => {
    expect(normalizeAuthOptions({ jwt: { secret: SECRET, issuer: 'a', audience: ['x'] } }).jwt).toMatchObject({ issuer: 'a', audience: 'x' });
    expect(normalizeAuthOptions({ jwt: { secret: SECRET, issuer: ['a', 'b'] } }).jwt?.issuer).toEqual(['a', 'b']);
  });

  it("picks a public key's natural algorithm: RS256 for RSA, ES256/ES384/ES512 for P-256/P-384/P-521", () => {
    expect(normalizeAuthOptions({ jwt: { publicKey: rsa.publicKey } }).jwt?.algorithms).toEqual(['RS256']);
    for (const [namedCurve, alg] of [
      ['P-256', 'ES256'],
      ['P-384', 'ES384'],
      ['P-521', 'ES512'],
    ] as const) {
      const { publicKey } = generateKeyPairSync('ec', { namedCurve });
      expect(normalizeAuthOptions({ jwt: { publicKey } }).jwt?.algorithms).toEqual([alg]);
    }
  });

  it('reads a public key from PEM, JWK and KeyObject, and derives it from a private KeyObject', () => {
    const pem = rsa.publicKey.export({ type: 'spki', format: 'pem' });
    const jwk = rsa.publicKey.export({ format: 'jwk' });
    for (const publicKey of [pem, jwk, rsa.publicKey, rsa.privateKey]) {
      const jwt = normalizeAuthOptions({ jwt: { publicKey } }).jwt;
      expect(jwt?.verifyKey?.type).toBe('public');
      expect(jwt?.verifyKey?.equals(rsa.publicKey)).toBe(true);
    }
  });

  it('has no signing key with a public key alone, and imports privateKey for signing', () => {
    expect(normalizeAuthOptions({ jwt: { publicKey: rsa.publicKey } }).jwt?.signKey).toBeUndefined();
    const pem = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' });
    expect(normalizeAuthOptions({ jwt: { publicKey: rsa.publicKey, privateKey: pem } }).jwt?.signKey?.type).toBe('private');
  });

  it('lower-cases the API key header and decodes hex and base64 digests to the same bytes', () => {
    const digest = createHash('sha256').update('k').digest();
    const apiKey = normalizeAuthOptions({
      apiKey: {
        header: 'X-Service-Key',
        keys: [
          { sha256: digest.toString('hex'), principal: { id: 'a' } },
          { sha256: digest.toString('base64'), principal: { id: 'b' } },
        ],
      },
    }).apiKey;
    expect(apiKey?.header).toBe('x-service-key');
    expect(apiKey?.keys.map((k) => k.digest)).toEqual([digest, digest]);
    expect(apiKey?.maxKeyLength).toBe(512);
  });

  it('defaults the schemes to every configured one, in the order jwt, api-key, basic', () => {
    const auth = normalizeAuthOptions({ basic: { validate }, apiKey: { validate }, jwt: { secret: SECRET } });
    expect(auth.defaultSchemes).toEqual(['jwt', 'api-key', 'basic']);
  });

  it('keeps the order of defaultSchemes and drops duplicates', () => {
    const auth = normalizeAuthOptions({ jwt: { secret: SECRET }, apiKey: { validate }, defaultSchemes: ['api-key', 'jwt', 'api-key'] });
    expect(auth.defaultSchemes).toEqual(['api-key', 'jwt']);
  });

  it('precomputes the challenges of each scheme with the realm (RFC 6750, RFC 7617)', () => {
    const auth = normalizeAuthOptions({ realm: 'shop', jwt: { secret: SECRET }, apiKey: { validate }, basic: { validate, realm: 'staff' } });
    expect(auth.challenges.get('jwt')).toEqual({
      missing: 'Bearer realm="shop"',
      invalid: 'Bearer realm="shop", error="invalid_token", error_description="The access token is invalid"',
      expired: 'Bearer realm="shop", error="invalid_token", error_description="The access token expired"',
      malformed: 'Bearer realm="shop", error="invalid_request", error_description="The Authorization header is malformed"',
    });
    expect(auth.challenges.get('api-key')?.missing).toBe('ApiKey realm="shop", header="x-api-key"');
    expect(auth.challenges.get('basic')?.missing).toBe('Basic realm="staff", charset="UTF-8"');
  });
});

describe('normalizeAuthOptions: auth.jwt refusals', () => {
  it('refuses a 12-byte HS256 secret, without repeating the secret', () => {
    const message = refusal({ jwt: { secret: 'twelve-bytes' } });
    expect(message).toBe(
      'PalisadeModule: auth.jwt.secret is 12 bytes; HS256 needs at least 32. Set a longer secret (e.g. 32 random bytes, base64) or use publicKey.',
    );
    expect(message).not.toContain('twelve-bytes');
  });

  it('refuses a secret too short for HS512', () => {
    expect(refusal({ jwt: { secret: SECRET, algorithms: ['HS256', 'HS512'] } })).toBe(
      'PalisadeModule: auth.jwt.secret is 45 bytes; HS512 needs at least 64. Set a longer secret (e.g. 32 random bytes, base64) or use publicKey.',
    );
  });

  it('refuses both secret and publicKey', () => {
    expect(refusal({ jwt: { secret: SECRET, publicKey: rsa.publicKey } })).toBe(
      'PalisadeModule: auth.jwt has both secret and publicKey; give exactly one (secret for HS*, publicKey for RS*, PS*, ES*).',
    );
  });

  it('refuses auth.jwt without a key', () => {
    expect(refusal({ jwt: {} })).toBe(
      'PalisadeModule: auth.jwt has no key; set auth.jwt.secret (HS256, at least 32 bytes) or auth.jwt.publicKey (RS*, PS*, ES*).',
    );
  });

  it('refuses auth.jwt that is not an object', () => {
    expect(refusal({ jwt: null })).toBe('PalisadeModule: auth.jwt is null; expected an object.');
  });

  it("refuses 'none' in any case", () => {
    const message = "PalisadeModule: auth.jwt.algorithms contains 'none'; unsigned tokens are never accepted. Remove it.";
    expect(refusal({ jwt: { secret: SECRET, algorithms: ['none'] } })).toBe(message);
    expect(refusal({ jwt: { secret: SECRET, algorithms: ['HS256', 'NONE'] } })).toBe(message);
  });

  it('refuses an empty or unknown algorithm list', () => {
    expect(refusal({ jwt: { secret: SECRET, algorithms: [] } })).toBe(
      "PalisadeModule: auth.jwt.algorithms is an array of 0; expected a non-empty array such as ['HS256'].",
    );
    expect(refusal({ jwt: { secret: SECRET, algorithms: ['HS1'] } })).toBe(
      'PalisadeModule: auth.jwt.algorithms contains "HS1"; supported: HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512.',
    );
  });

  it('refuses an asymmetric algorithm with a secret', () => {
    expect(refusal({ jwt: { secret: SECRET, algorithms: ['RS256'] } })).toBe(
      'PalisadeModule: auth.jwt.algorithms contains RS256, which needs a public key, but auth.jwt.secret is set; use HS256/HS384/HS512 with a secret.',
    );
  });

  it('refuses a PEM key given as the secret (the algorithm-confusion set-up)', () => {
    const pem = rsa.publicKey.export({ type: 'spki', format: 'pem' });
    expect(refusal({ jwt: { secret: pem } })).toBe(
      'PalisadeModule: auth.jwt.secret looks like a PEM key; pass public keys as auth.jwt.publicKey (an HMAC secret must not be a public key).',
    );
  });

  it('refuses a secret of the wrong type or an asymmetric KeyObject as secret', () => {
    expect(refusal({ jwt: { secret: 42 } })).toBe('PalisadeModule: auth.jwt.secret is 42; expected a string, a Buffer or a secret KeyObject.');
    expect(refusal({ jwt: { secret: rsa.publicKey } })).toBe('PalisadeModule: auth.jwt.secret is an asymmetric key; pass it as auth.jwt.publicKey instead.');
  });

  it('refuses an HMAC algorithm with a public key', () => {
    expect(refusal({ jwt: { publicKey: rsa.publicKey, algorithms: ['HS256'] } })).toBe(
      'PalisadeModule: auth.jwt.algorithms contains HS256 with a public key; an HMAC algorithm with a public key lets anyone forge tokens. Use RS256.',
    );
  });

  it('refuses an algorithm that does not match the key type', () => {
    expect(refusal({ jwt: { publicKey: rsa.publicKey, algorithms: ['ES256'] } })).toBe(
      'PalisadeModule: auth.jwt.algorithms contains ES256, which does not match the rsa key; use RS256 or RS384 or RS512 or PS256 or PS384 or PS512.',
    );
  });

  it('refuses a 1024-bit RSA key', () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(refusal({ jwt: { publicKey } })).toBe('PalisadeModule: auth.jwt.publicKey is a 1024-bit RSA key; RS*/PS* need at least 2048 bits.');
  });

  it('refuses an EC key on an unsupported curve and an Ed25519 key', () => {
    expect(refusal({ jwt: { publicKey: generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey } })).toBe(
      'PalisadeModule: auth.jwt.publicKey is an EC key on curve secp256k1; use P-256, P-384 or P-521.',
    );
    expect(refusal({ jwt: { publicKey: generateKeyPairSync('ed25519').publicKey } })).toMatch(
      /^PalisadeModule: auth\.jwt\.publicKey is an ed25519 key; .*EdDSA keys are not supported yet\.$/,
    );
  });

  it('refuses a public key that cannot be read, or a secret KeyObject as public key', () => {
    expect(refusal({ jwt: { publicKey: 'not a key' } })).toBe(
      'PalisadeModule: auth.jwt.publicKey could not be read as a PEM, JWK or KeyObject public key; check its format.',
    );
    expect(refusal({ jwt: { publicKey: createSecretKey(Buffer.alloc(32)) } })).toBe(
      'PalisadeModule: auth.jwt.publicKey is a secret key; pass HMAC secrets as auth.jwt.secret.',
    );
  });

  it('refuses a privateKey next to a secret, or a privateKey that is not private', () => {
    expect(refusal({ jwt: { secret: SECRET, privateKey: rsa.privateKey } })).toBe(
      'PalisadeModule: auth.jwt.privateKey is set with an HMAC secret; remove it (the secret signs).',
    );
    expect(refusal({ jwt: { publicKey: rsa.publicKey, privateKey: rsa.publicKey } })).toBe('PalisadeModule: auth.jwt.privateKey is not a private key.');
  });

  it('refuses a clockTolerance over 5 minutes', () => {
    expect(refusal({ jwt: { secret: SECRET, clockTolerance: '1h' } })).toBe(
      'PalisadeModule: auth.jwt.clockTolerance is 3600000 ms; at most 5 minutes is allowed (RFC 8725 favours small leeways).',
    );
  });

  it('refuses a clockTolerance that is not a duration', () => {
    expect(refusal({ jwt: { secret: SECRET, clockTolerance: 'soon' } })).toMatch(
      /^PalisadeModule: auth\.jwt\.clockTolerance is "soon"; expected a number of milliseconds/,
    );
  });

  it.each([
    [{ jwt: { secret: SECRET, clockTolerance: 30 } }, 'auth.jwt.clockTolerance is 30, which is 30 ms'],
    [
      { jwt: { secret: SECRET, accessTokenTtl: 900 } },
      "auth.jwt.accessTokenTtl is 900, which is 900 ms: numeric durations in Palisade are milliseconds, as in @nestjs/throttler. For 900 seconds write 900_000 or '900s'",
    ],
    [{ jwt: { secret: SECRET, cache: { maxAge: 60 } } }, 'auth.jwt.cache.maxAge is 60, which is 60 ms'],
    [
      { jwt: { jwks: [{ uri: 'https://id.example.com/jwks', issuer: 'https://id.example.com', cacheMaxAge: 600 }] } },
      'auth.jwt.jwks[0].cacheMaxAge is 600, which is 600 ms',
    ],
    [
      { jwt: { jwks: [{ uri: 'https://id.example.com/jwks', issuer: 'https://id.example.com', timeout: 5 }] } },
      "auth.jwt.jwks[0].timeout is 5, which is 5 ms: numeric durations in Palisade are milliseconds, as in @nestjs/throttler. For 5 seconds write 5_000 or '5s'; if 5 ms is really meant, write '5ms'.",
    ],
  ])('refuses a numeric duration under one second (seconds meant as milliseconds): %j', (options, message) => {
    expect(refusal(options)).toContain(`PalisadeModule: ${message}`);
  });

  it('accepts a zero clockTolerance and sub-second durations written with their unit', () => {
    expect(() => normalizeAuthOptions({ jwt: { secret: SECRET, clockTolerance: 0, cache: { maxAge: '500ms' } } })).not.toThrow();
  });

  it.each([
    [
      { realm: 'api', relam: 'x' },
      'PalisadeModule: unknown option auth.relam; did you mean auth.realm? Known options of auth: jwt, apiKey, basic, defaultSchemes, realm.',
    ],
    [{ jwt: { secret: SECRET, audiance: 'api' } }, 'PalisadeModule: unknown option auth.jwt.audiance; did you mean auth.jwt.audience?'],
    [{ jwt: { secret: SECRET, cache: { maxAgeMs: 10 } } }, 'PalisadeModule: unknown option auth.jwt.cache.maxAgeMs; did you mean auth.jwt.cache.maxAge?'],
    [
      { jwt: { jwks: [{ uri: 'https://id.example.com/jwks', iss: 'x' }] } },
      'PalisadeModule: unknown option auth.jwt.jwks[0].iss; did you mean auth.jwt.jwks[0].issuer?',
    ],
    [{ apiKey: { validate, headerName: 'x-key' } }, 'PalisadeModule: unknown option auth.apiKey.headerName; did you mean auth.apiKey.header?'],
    [
      { apiKey: { keys: [{ sha256: 'a'.repeat(64), principal: { id: 'x' }, roles: [] }] } },
      'PalisadeModule: unknown option auth.apiKey.keys[0].roles. Known options of auth.apiKey.keys[0]: sha256, principal.',
    ],
    [{ apiKey: { keys: [null] } }, 'PalisadeModule: auth.apiKey.keys[0] is null; expected { sha256, principal }.'],
    [{ basic: { validate, realms: 'x' } }, 'PalisadeModule: unknown option auth.basic.realms; did you mean auth.basic.realm?'],
  ])('refuses an unknown key at any depth: %j', (options, message) => {
    expect(refusal(options)).toContain(message);
  });

  it('refuses an accessTokenTtl under one second', () => {
    expect(refusal({ jwt: { secret: SECRET, accessTokenTtl: '500ms' } })).toBe(
      'PalisadeModule: auth.jwt.accessTokenTtl is 500 ms; expected at least one second.',
    );
  });

  it.each([0, 1.5, 65_537, '100'])('refuses a maxTokenLength of %j', (maxTokenLength) => {
    expect(refusal({ jwt: { secret: SECRET, maxTokenLength } })).toMatch(
      /^PalisadeModule: auth\.jwt\.maxTokenLength is .+; expected an integer between 1 and 65536\.$/,
    );
  });

  it('refuses an empty issuer or audience', () => {
    const expected = 'expected a non-empty string or a non-empty array of non-empty strings.';
    expect(refusal({ jwt: { secret: SECRET, issuer: [] } })).toBe(`PalisadeModule: auth.jwt.issuer is an array of 0; ${expected}`);
    expect(refusal({ jwt: { secret: SECRET, audience: '' } })).toBe(`PalisadeModule: auth.jwt.audience is ""; ${expected}`);
  });

  it('refuses an empty claim name', () => {
    expect(refusal({ jwt: { secret: SECRET, rolesClaim: '' } })).toBe(
      'PalisadeModule: auth.jwt.rolesClaim is ""; expected a claim name or a dot-separated path such as realm_access.roles.',
    );
    expect(refusal({ jwt: { secret: SECRET, rolesClaim: 'realm_access..roles' } })).toBe(
      'PalisadeModule: auth.jwt.rolesClaim is "realm_access..roles"; expected a claim name or a dot-separated path of at most 8 non-empty segments (not __proto__, prototype or constructor).',
    );
    expect(refusal({ jwt: { secret: SECRET, scopesClaim: ['scope', '__proto__.x'] } })).toContain('auth.jwt.scopesClaim is an array of 2;');
    expect(refusal({ jwt: { secret: SECRET, rolesClaim: [] } })).toContain("expected a claim name, a path such as 'realm_access.roles', or 1 to 8 of them.");
  });

  it('refuses a validate hook that is not a function', () => {
    expect(refusal({ jwt: { secret: SECRET, validate: 'yes' } })).toBe('PalisadeModule: auth.jwt.validate is "yes"; expected a function.');
  });
});

describe('normalizeAuthOptions: auth.apiKey refusals', () => {
  it('refuses neither keys nor validate', () => {
    expect(refusal({ apiKey: {} })).toBe(
      'PalisadeModule: auth.apiKey needs keys (SHA-256 digests) or a validate callback; without either no key could ever be accepted.',
    );
  });

  it.each(['authorization', 'Authorization', 'cookie', 'x api key', ''])('refuses the header %j', (header) => {
    expect(refusal({ apiKey: { header, validate } })).toBe(
      `PalisadeModule: auth.apiKey.header is ${JSON.stringify(header)}; expected a header name such as 'x-api-key' (not Authorization or Cookie).`,
    );
  });

  it('refuses a header name that is not a string with its own message, not a TypeError', () => {
    expect(refusal({ apiKey: { header: 42, validate } })).toBe(
      "PalisadeModule: auth.apiKey.header is 42; expected a header name such as 'x-api-key' (not Authorization or Cookie).",
    );
  });

  it('refuses a digest that is neither 64 hex nor 44 base64 characters', () => {
    expect(refusal({ apiKey: { keys: [{ sha256: 'abc', principal: { id: 'svc' } }] } })).toBe(
      'PalisadeModule: auth.apiKey.keys[0].sha256 is "abc"; expected a SHA-256 digest as 64 hex characters or 44 base64 characters.',
    );
  });

  it('refuses a key principal without an id, or with roles that are not strings', () => {
    const sha256 = 'a'.repeat(64);
    expect(refusal({ apiKey: { keys: [{ sha256, principal: { roles: [] } }] } })).toBe(
      'PalisadeModule: auth.apiKey.keys[0].principal is an object; expected { id: string, roles?: string[], scopes?: string[] }.',
    );
    expect(refusal({ apiKey: { keys: [{ sha256, principal: { id: 'svc', roles: 'admin' } }] } })).toBe(
      'PalisadeModule: auth.apiKey.keys[0].principal.roles is "admin"; expected an array of strings.',
    );
  });

  it('refuses keys that are not an array and a validate that is not a function', () => {
    expect(refusal({ apiKey: { keys: {} } })).toBe('PalisadeModule: auth.apiKey.keys is an object; expected an array of { sha256, principal }.');
    expect(refusal({ apiKey: { validate: true } })).toBe('PalisadeModule: auth.apiKey.validate is true; expected a function.');
  });

  it('refuses a maxKeyLength outside 1..8192', () => {
    expect(refusal({ apiKey: { validate, maxKeyLength: 10_000 } })).toBe(
      'PalisadeModule: auth.apiKey.maxKeyLength is 10000; expected an integer between 1 and 8192.',
    );
  });
});

describe('normalizeAuthOptions: auth.basic, realm and defaultSchemes refusals', () => {
  it('refuses auth.basic without validate', () => {
    expect(refusal({ basic: {} })).toBe('PalisadeModule: auth.basic.validate is undefined; expected (userId, password, request) => principal | null.');
  });

  it('refuses a realm that cannot be quoted in a challenge', () => {
    const expected = `expected 1 to 128 printable ASCII characters without '"' or '\\'.`;
    expect(refusal({ realm: 'a"b' })).toBe(`PalisadeModule: auth.realm is "a\\"b"; ${expected}`);
    expect(refusal({ basic: { validate, realm: 'caf\u00e9' } })).toBe(`PalisadeModule: auth.basic.realm is "caf\u00e9"; ${expected}`);
  });

  it('refuses auth that is not an object', () => {
    expect(refusal('jwt')).toBe('PalisadeModule: auth is "jwt"; expected an object.');
  });

  it('refuses defaultSchemes that is not an array', () => {
    expect(refusal({ jwt: { secret: SECRET }, defaultSchemes: 'jwt' })).toBe(
      'PalisadeModule: auth.defaultSchemes is "jwt"; expected an array of scheme names.',
    );
  });

  it('refuses an unknown scheme in defaultSchemes', () => {
    expect(refusal({ jwt: { secret: SECRET }, defaultSchemes: ['oauth'] })).toBe(
      'PalisadeModule: auth.defaultSchemes names the scheme "oauth"; known schemes: jwt, api-key, basic.',
    );
  });

  it('refuses a scheme in defaultSchemes that is not configured, naming the option to set', () => {
    expect(refusal({ jwt: { secret: SECRET }, defaultSchemes: ['basic'] })).toBe(
      "PalisadeModule: auth.defaultSchemes names the scheme 'basic', which is not configured; set auth.basic in PalisadeModule.forRoot().",
    );
  });
});

describe('normalizeAuthOptions: auth.jwt.jwks entries', () => {
  const uri = 'https://id.example.com/jwks.json';
  const jwks = (entry: Record<string, unknown>, jwt: Record<string, unknown> = {}) =>
    normalizeAuthOptions({ jwt: { jwks: [{ uri, ...entry }], ...jwt } as never }).jwt?.jwks[0];

  it('inherits auth.jwt.issuer, audience and claim mapping; defaults the timings (ms) and the algorithms', () => {
    expect(jwks({}, { issuer: ['https://a', 'https://b'], audience: 'api', rolesClaim: 'realm_access.roles' })).toMatchObject({
      issuers: ['https://a', 'https://b'],
      audience: 'api',
      algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519'],
      typ: undefined,
      requiredClaims: [],
      allowedClients: undefined,
      rolesPaths: [{ name: 'realm_access.roles', segments: ['realm_access', 'roles'] }],
      scopesPaths: [{ name: 'scope', segments: ['scope'] }],
      keySet: { uri, cacheMaxAgeMs: 600_000, cooldownMs: 30_000, maxBackoffMs: 300_000, staleIfErrorMs: 3_600_000, timeoutMs: 5_000 },
    });
  });

  it("an entry's own issuer, audience and claims win over the inherited ones", () => {
    const entry = jwks(
      { issuer: 'https://own', audience: ['x', 'y'], rolesClaim: 'resource_access.api.roles', scopesClaim: ['scp'] },
      { issuer: 'https://top' },
    );
    expect(entry).toMatchObject({ issuers: ['https://own'], audience: ['x', 'y'] });
    expect(entry?.rolesPaths).toEqual([{ name: 'resource_access.api.roles', segments: ['resource_access', 'api', 'roles'] }]);
    expect(entry?.scopesPaths).toEqual([{ name: 'scp', segments: ['scp'] }]);
  });

  it('refuses an entry without its own issuer when auth.jwt.issuer is not set (tokens of any issuer sharing the keys would pass)', () => {
    expect(refusal({ jwt: { jwks: [{ uri }] } })).toBe(
      'PalisadeModule: auth.jwt.jwks[0] has no issuer and auth.jwt.issuer is not set; tokens of every issuer that publishes these keys would be accepted (Entra ID tenants share one key set). Set auth.jwt.jwks[0].issuer or auth.jwt.issuer.',
    );
  });

  it('refuses two entries expecting the same issuer, inherited or not', () => {
    expect(refusal({ jwt: { issuer: 'https://top', jwks: [{ uri }, { uri: `${uri}?2` }] } })).toBe(
      'PalisadeModule: auth.jwt.jwks[1] expects the issuer "https://top", as auth.jwt.jwks[0] does (perhaps inherited from auth.jwt.issuer); one JWK Set per issuer: give each entry its own issuer.',
    );
  });

  it("profile 'rfc9068' requires typ at+jwt and RFC 9068's claims; typ and requiredClaims add to it", () => {
    expect(jwks({ issuer: 'i', profile: 'rfc9068', requiredClaims: ['tid'] })).toMatchObject({
      typ: 'at+jwt',
      requiredClaims: ['iss', 'exp', 'aud', 'sub', 'client_id', 'iat', 'jti', 'tid'],
    });
    expect(jwks({ issuer: 'i', typ: 'application/at+jwt', profile: 'rfc9068' })?.typ).toBe('application/at+jwt');
    expect(refusal({ jwt: { jwks: [{ uri, issuer: 'i', profile: 'rfc9068', typ: 'JWT' }] } })).toBe(
      "PalisadeModule: auth.jwt.jwks[0].typ is \"JWT\" but profile 'rfc9068' requires 'at+jwt'; remove one of them.",
    );
    expect(refusal({ jwt: { jwks: [{ uri, issuer: 'i', profile: 'rfc7519' }] } })).toBe(
      'PalisadeModule: auth.jwt.jwks[0].profile is "rfc7519"; the supported profile is \'rfc9068\' (JWT access tokens, typ at+jwt).',
    );
    expect(refusal({ jwt: { jwks: [{ uri, issuer: 'i', typ: 'at jwt' }] } })).toBe(
      'PalisadeModule: auth.jwt.jwks[0].typ is "at jwt"; expected a media type such as \'at+jwt\'.',
    );
  });

  it('keeps allowedClients as a set; refuses empty lists', () => {
    expect([...(jwks({ issuer: 'i', allowedClients: ['web', 'cli'] })?.allowedClients ?? [])]).toEqual(['web', 'cli']);
    expect(refusal({ jwt: { jwks: [{ uri, issuer: 'i', allowedClients: [] }] } })).toBe(
      "PalisadeModule: auth.jwt.jwks[0].allowedClients is an array of 0; expected a non-empty array of non-empty strings such as ['orders-web'].",
    );
    expect(refusal({ jwt: { jwks: [{ uri, issuer: 'i', requiredClaims: [''] }] } })).toContain('auth.jwt.jwks[0].requiredClaims is an array of 1;');
  });

  it('accepts Ed25519 (RFC 9864); every algorithm refusal names the bad value', () => {
    expect(jwks({ issuer: 'i', algorithms: ['Ed25519'] })?.algorithms).toEqual(['Ed25519']);
    for (const bad of ['HS256', 'none', 'Ed448', 'ed25519']) {
      expect(refusal({ jwt: { jwks: [{ uri, issuer: 'i', algorithms: ['RS256', bad] }] } })).toBe(
        `PalisadeModule: auth.jwt.jwks[0].algorithms contains "${bad}"; expected asymmetric algorithms among RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA, Ed25519 (never HS* or none).`,
      );
    }
  });

  it('refuses unknown entry keys, bad timings and staleIfError beyond 7 days, naming the option', () => {
    expect(refusal({ jwt: { jwks: [{ uri, issuer: 'i', cacheMaxAgeSeconds: 5 }] } })).toMatch(
      /^PalisadeModule: unknown option auth\.jwt\.jwks\[0\]\.cacheMaxAgeSeconds; did you mean auth\.jwt\.jwks\[0\]\.cacheMaxAge\? Known options of auth\.jwt\.jwks\[0\]: uri, issuer, /,
    );
    expect(refusal({ jwt: { jwks: [{ uri, issuer: 'i', cooldown: 0 }] } })).toBe(
      "PalisadeModule: auth.jwt.jwks[0].cooldown is 0; expected a positive duration such as '30s'.",
    );
    expect(refusal({ jwt: { jwks: [{ uri, issuer: 'i', cooldown: '1m', maxBackoff: '30s' }] } })).toBe(
      'PalisadeModule: auth.jwt.jwks[0].maxBackoff is 30000 ms, shorter than cooldown (60000 ms); set it to at least the cooldown.',
    );
    expect(refusal({ jwt: { jwks: [{ uri, issuer: 'i', staleIfError: '8d' }] } })).toBe(
      'PalisadeModule: auth.jwt.jwks[0].staleIfError is 691200000 ms; at most 7 days is allowed (keys that old may have been removed).',
    );
    expect(refusal({ jwt: { jwks: [{ uri, issuer: 'i', timeout: '2m' }] } })).toBe(
      'PalisadeModule: auth.jwt.jwks[0].timeout is 120000 ms; at most 60 seconds is allowed.',
    );
    expect(jwks({ issuer: 'i', staleIfError: 0 })?.keySet.staleIfErrorMs).toBe(0);
  });
});
