import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { normalizeHttpsOptions } from './https-options.normalizer.js';
import { redirectLocation } from './redirect-location.js';

const https = normalizeHttpsOptions({ enforce: true, hosts: ['api.example.com', 'www.example.com', '[::1]'] });
const request = (url: string, headers: Record<string, string> = {}, originalUrl?: string) =>
  ({ url, headers, ...(originalUrl === undefined ? {} : { originalUrl }) }) as unknown as IncomingMessage & { originalUrl?: string };

describe('redirectLocation', () => {
  it.each([
    [{ host: 'api.example.com' }, '/a?b=c', 'https://api.example.com/a?b=c'],
    [{ host: 'WWW.EXAMPLE.COM.:8080' }, '/', 'https://www.example.com/'],
    [{ host: '[::1]:3000' }, '/x', 'https://[::1]/x'],
    [{ ':authority': 'www.example.com' }, '/h2', 'https://www.example.com/h2'],
    [{ host: 'evil.example' }, '/a', 'https://api.example.com/a'],
    [{ host: 'api.example.com@evil.example' }, '/a', 'https://api.example.com/a'],
    [{ host: 'evil.example:80', 'x-forwarded-host': 'www.example.com' }, '/a', 'https://api.example.com/a'],
    [{}, '/a', 'https://api.example.com/a'],
    [{ host: 'api.example.com' }, 'http://evil.example/p?q', 'https://api.example.com/p?q'],
    [{ host: 'api.example.com' }, '*', 'https://api.example.com/'],
    [{ host: 'api.example.com' }, '/caf\u00e9 x', 'https://api.example.com/caf%E9%20x'],
  ])('%j %s → %s', (headers, url, expected) => {
    expect(redirectLocation(request(url, headers), https)).toBe(expected);
  });

  it("uses Express's originalUrl, not the mount-relative url", () => {
    expect(redirectLocation(request('/', { host: 'api.example.com' }, '/v1/items?id=1'), https)).toBe('https://api.example.com/v1/items?id=1');
  });
});
