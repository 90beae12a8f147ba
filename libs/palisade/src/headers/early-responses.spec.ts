import { describe, expect, it } from 'vitest';
import { EarlyResponses, statusOfClientError } from './early-responses.js';
import { normalizeHeadersOptions, type HeaderSet } from './headers-options.normalizer.js';

const baseOf = (options: unknown): HeaderSet => normalizeHeadersOptions(options).base;
const noNonce = (): string => {
  throw new Error('no nonce expected');
};

/** Splits a raw response into its status line, header lines and body. */
function split(raw: string): { statusLine: string; headers: Map<string, string>; body: string } {
  const [head = '', body = ''] = raw.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  return { statusLine, headers: new Map(lines.map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)])), body };
}

describe('statusOfClientError', () => {
  it("maps Node.js's error codes as Node.js's own answer does, anything else to 400", () => {
    expect(statusOfClientError({ code: 'HPE_HEADER_OVERFLOW' })).toBe(431);
    expect(statusOfClientError({ code: 'HPE_CHUNK_EXTENSIONS_OVERFLOW' })).toBe(413);
    expect(statusOfClientError({ code: 'ERR_HTTP_REQUEST_TIMEOUT' })).toBe(408);
    expect(statusOfClientError({ code: 'HPE_INVALID_METHOD' })).toBe(400);
    expect(statusOfClientError({})).toBe(400);
  });
});

describe('EarlyResponses', () => {
  it('writes a complete HTTP/1.1 response: the fixed headers, a request id, the JSON headers and body', () => {
    const { statusLine, headers, body } = split(new EarlyResponses(baseOf(undefined)).raw(408, false, noNonce));
    expect(statusLine).toBe('HTTP/1.1 408 Request Timeout');
    expect(headers.get('X-Frame-Options')).toBe('DENY');
    expect(headers.get('Content-Security-Policy')).toBe("default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    expect(headers.has('Strict-Transport-Security')).toBe(false);
    expect(headers.has('Cache-Control')).toBe(false);
    expect(headers.get('X-Request-Id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(headers.get('Content-Type')).toBe('application/json; charset=utf-8');
    expect(headers.get('Content-Length')).toBe(String(body.length));
    expect(headers.get('Connection')).toBe('close');
    expect(JSON.parse(body)).toEqual({ statusCode: 408, error: 'Request Timeout', message: 'The request was not received in time' });
  });

  it('adds HSTS on TLS connections only', () => {
    const early = new EarlyResponses(baseOf(undefined));
    expect(split(early.raw(400, true, noNonce)).headers.get('Strict-Transport-Security')).toBe('max-age=31536000; includeSubDomains');
  });

  it('leaves out what dangerouslyDisable turned off', () => {
    const { headers } = split(new EarlyResponses(baseOf({ dangerouslyDisable: ['X-Frame-Options'] })).raw(400, false, noNonce));
    expect(headers.has('X-Frame-Options')).toBe(false);
    expect(headers.get('X-Content-Type-Options')).toBe('nosniff');
  });

  it('answers an unknown status as a 400', () => {
    const early = new EarlyResponses(baseOf(undefined));
    expect(split(early.raw(500, false, noNonce)).statusLine).toBe('HTTP/1.1 400 Bad Request');
    expect(JSON.parse(early.body(500))).toEqual({ statusCode: 400, error: 'Bad Request', message: 'The request is not valid HTTP' });
  });

  it('puts a fresh nonce into a nonce policy', () => {
    const early = new EarlyResponses(baseOf({ contentSecurityPolicy: { preset: 'page' } }));
    const csp = split(early.raw(431, false, () => 'AAAA')).headers.get('Content-Security-Policy');
    expect(csp).toContain("script-src 'nonce-AAAA' 'strict-dynamic'");
    expect(csp).toContain("style-src 'self' 'nonce-AAAA'");
  });
});
