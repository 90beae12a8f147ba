import { describe, expect, it } from 'vitest';
import { checkPolicy, compileDirective, CSP_NONCE, mergeDirectives, presetDirectives, serializePolicy } from './content-security-policy.js';

const P = 'headers.contentSecurityPolicy.directives';
const compile = (name: string, value: unknown) => compileDirective(name, value, P);

describe('compileDirective', () => {
  it('keeps valid sources, lower-cases keywords and drops duplicates', () => {
    expect(compile('script-src', ["'SELF'", 'https://cdn.example.com', "'self'", 'https:', '*.example.com:443', "'strict-dynamic'"])).toEqual([
      "'self'",
      'https://cdn.example.com',
      'https:',
      '*.example.com:443',
      "'strict-dynamic'",
    ]);
  });

  it.each([
    ['scriptSrc', `${P} has unknown directive 'scriptSrc'; did you mean 'script-src'?`],
    ['script_src', `${P} has unknown directive 'script_src'; did you mean 'script-src'?`],
    ['scirpt-src', `${P} has unknown directive 'scirpt-src'; did you mean 'script-src'?`],
    ['made-up', `${P} has unknown directive 'made-up'. Directives are written in kebab-case`],
    ['block-all-mixed-content', `${P} has directive 'block-all-mixed-content'; it is deprecated; use 'upgrade-insecure-requests': true.`],
    ['plugin-types', `${P} has directive 'plugin-types'; it was removed from CSP`],
  ])('refuses the directive %s', (name, message) => {
    expect(() => compile(name, ["'self'"])).toThrow(`PalisadeModule: ${message}`);
  });

  it.each([
    [['self'], `contains self without quotes; CSP keywords must be quoted, so browsers do not read them as a host named "self". Write "'self'".`],
    [['none'], `contains none without quotes`],
    [['unsafe-inline'], `contains unsafe-inline without quotes`],
    [["'self"], `contains "'self"; a keyword is quoted on both sides, e.g. "'self'".`],
    [['"self"'], `contains "\\"self\\"", which is not a CSP source`],
    [["'https:'"], `contains "'https:'"; schemes and hosts are not quoted. Write "https:".`],
    [["'cdn.example.com'"], `contains "'cdn.example.com'"; schemes and hosts are not quoted. Write "cdn.example.com".`],
    [["'nonce-abc123'"], `contains a fixed nonce "'nonce-abc123'"; a nonce must change on every response. Use CSP_NONCE and read it with @CspNonce().`],
    [["'self' https://cdn.example.com"], `contains "'self' https://cdn.example.com"; give each source as its own array element (no spaces, ';' or ',').`],
    [["'none'", "'self'"], `combines 'none' with other sources; 'none' must be alone.`],
    [["'magic'"], `contains unknown keyword 'magic'`],
    [[], `is empty; write ["'none'"] to allow nothing.`],
    ["'self'", `is "'self'"; expected an array of sources such as ["'self'"]`],
    [["'sha256-abc'"], `contains "'sha256-abc'"; its digest is 2 bytes, a SHA-256 digest is 32.`],
  ])('refuses script-src %j', (value, message) => {
    expect(() => compile('script-src', value)).toThrow(`${P}['script-src'] ${message}`);
  });

  it('accepts a well-formed hash in script-src, refuses hashes and script keywords where they do not apply', () => {
    const hash = `'sha256-${Buffer.alloc(32, 1).toString('base64')}'`;
    expect(compile('script-src', [hash])).toEqual([hash]);
    expect(() => compile('img-src', [hash])).toThrow("['img-src'] contains a hash source; hashes only apply to scripts and styles.");
    expect(() => compile('img-src', ["'unsafe-inline'"])).toThrow(
      "['img-src'] contains 'unsafe-inline', which does not apply to img-src; allowed keywords there: 'self' 'none'.",
    );
    expect(() => compile('frame-ancestors', ["'unsafe-eval'"])).toThrow('which does not apply to frame-ancestors');
    expect(() => compile('style-src', ["'unsafe-eval'"])).toThrow('which does not apply to style-src');
  });

  it('places CSP_NONCE only where nonces apply', () => {
    expect(compile('script-src', [CSP_NONCE, "'strict-dynamic'"])).toEqual([CSP_NONCE, "'strict-dynamic'"]);
    expect(compile('style-src-elem', [CSP_NONCE])).toEqual([CSP_NONCE]);
    expect(() => compile('img-src', [CSP_NONCE])).toThrow("['img-src'] contains CSP_NONCE; a nonce only applies in default-src, script-src");
    expect(() => compile('script-src-attr', [CSP_NONCE])).toThrow('contains CSP_NONCE');
  });

  it('validates the directives that are not source lists', () => {
    expect(compile('upgrade-insecure-requests', true)).toEqual([]);
    expect(compile('upgrade-insecure-requests', false)).toBeNull();
    expect(() => compile('upgrade-insecure-requests', 'yes')).toThrow('expected true (send it) or false/null (remove it).');
    expect(compile('sandbox', [])).toEqual([]);
    expect(compile('sandbox', ['allow-scripts'])).toEqual(['allow-scripts']);
    expect(() => compile('sandbox', ['allow-everything'])).toThrow(`${P}['sandbox'] contains "allow-everything"; known flags:`);
    expect(compile('report-to', 'csp-endpoint')).toEqual(['csp-endpoint']);
    expect(() => compile('report-to', 'https://reports.example.com')).toThrow('expected the name of an endpoint declared in reportingEndpoints');
    expect(compile('report-uri', ['/csp', 'https://reports.example.com/csp'])).toEqual(['/csp', 'https://reports.example.com/csp']);
    expect(() => compile('report-uri', ['http://reports.example.com'])).toThrow(
      '[\'report-uri\'][0] is "http://reports.example.com"; expected an absolute https: URL',
    );
    expect(compile('require-trusted-types-for', ["'script'"])).toEqual(["'script'"]);
    expect(() => compile('require-trusted-types-for', ['script'])).toThrow(`the only value is ["'script'"]`);
    expect(compile('trusted-types', ['default', "'allow-duplicates'"])).toEqual(['default', "'allow-duplicates'"]);
    expect(compile('img-src', null)).toBeNull();
  });
});

describe('mergeDirectives and serializePolicy', () => {
  const api = presetDirectives('api', 'preset');

  it('serializes the api preset', () => {
    expect(serializePolicy(api)).toEqual(["default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"]);
  });

  it('replaces in place, appends new directives and removes null ones', () => {
    const merged = mergeDirectives(api, { 'frame-ancestors': ["'self'"], 'base-uri': null, 'img-src': ["'self'", 'data:'] }, P);
    expect(serializePolicy(merged)).toEqual(["default-src 'none'; form-action 'none'; frame-ancestors 'self'; img-src 'self' data:"]);
    expect(serializePolicy(api)).toEqual(["default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"]);
  });

  it('splits a policy with nonces into the pieces between them', () => {
    const parts = serializePolicy(presetDirectives('page', 'preset'));
    expect(parts).toHaveLength(3);
    expect(parts.join("'nonce-N'")).toBe(
      "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; img-src 'self' data:; object-src 'none'; script-src 'nonce-N' 'strict-dynamic'; script-src-attr 'none'; style-src 'self' 'nonce-N'",
    );
  });

  it('refuses an unknown preset and a policy with nothing left', () => {
    expect(() => presetDirectives('strict', 'headers.contentSecurityPolicy.preset')).toThrow(
      'PalisadeModule: headers.contentSecurityPolicy.preset is "strict"; known presets: api, swagger-ui, graphiql, page.',
    );
    const empty = mergeDirectives(api, { 'default-src': null, 'base-uri': null, 'form-action': null, 'frame-ancestors': null }, P);
    expect(() => checkPolicy(empty, new Map(), P)).toThrow(`${P} has no directive left`);
  });

  it('requires report-to to name a declared endpoint', () => {
    const policy = mergeDirectives(api, { 'report-to': 'csp' }, P);
    expect(() => checkPolicy(policy, new Map(), P)).toThrow(
      `${P}['report-to'] names 'csp', which is not declared; add reportingEndpoints: { 'csp': 'https://…' }.`,
    );
    expect(() => checkPolicy(policy, new Map([['csp', '/csp']]), P)).not.toThrow();
  });
});
