import { describe, expect, it } from 'vitest';
import { normalizeHttpsOptions } from './https-options.normalizer.js';

describe('normalizeHttpsOptions', () => {
  it('is off by default', () => {
    expect(normalizeHttpsOptions(undefined)).toEqual({ enforce: false, redirect: true, origins: new Map(), canonicalOrigin: undefined, exclude: [] });
  });

  it('precomputes the redirect origins, the first host being canonical', () => {
    const https = normalizeHttpsOptions({
      enforce: true,
      hosts: ['API.example.com.', 'www.example.com', '[::1]', '10.0.0.1'],
      port: 8443,
      exclude: ['/health/'],
    });
    expect([...https.origins]).toEqual([
      ['api.example.com', 'https://api.example.com:8443'],
      ['www.example.com', 'https://www.example.com:8443'],
      ['[::1]', 'https://[::1]:8443'],
      ['10.0.0.1', 'https://10.0.0.1:8443'],
    ]);
    expect(https.canonicalOrigin).toBe('https://api.example.com:8443');
    expect(https.exclude).toEqual(['/health']);
  });

  it.each([
    [{ enforce: true }, 'PalisadeModule: https.enforce is true but https.hosts is not set; redirects go only to hosts the app serves'],
    [
      { enforce: true, hosts: ['https://api.example.com'] },
      'PalisadeModule: https.hosts[0] is "https://api.example.com"; expected a host name such as \'api.example.com\'',
    ],
    [{ enforce: true, hosts: ['api.example.com:443'] }, 'Give the HTTPS port as https.port.'],
    [{ enforce: true, hosts: [] }, 'PalisadeModule: https.hosts is an array of 0; expected a non-empty array of host names.'],
    [{ enforce: 'yes' }, 'PalisadeModule: https.enforce is "yes"; expected true or false.'],
    [{ port: 0 }, 'PalisadeModule: https.port is 0; expected a port number from 1 to 65535.'],
    [{ exclude: ['/'] }, 'PalisadeModule: https.exclude[0] is "/"; expected an absolute path such as \'/health\''],
    [
      { force: true },
      'PalisadeModule: unknown option https.force; did you mean https.enforce? Known options of https: enforce, hosts, port, redirect, exclude.',
    ],
  ])('refuses %j', (options, message) => {
    expect(() => normalizeHttpsOptions(options)).toThrow(message);
  });

  it('needs no hosts when it refuses instead of redirecting', () => {
    expect(normalizeHttpsOptions({ enforce: true, redirect: false }).canonicalOrigin).toBeUndefined();
  });
});
