import { isIP } from 'node:net';
import { describe } from '../common/duration.js';
import { assertKnownKeys } from '../common/option-keys.js';

/** @internal Validated `https` options. */
export interface NormalizedHttpsOptions {
  readonly enforce: boolean;
  readonly redirect: boolean;
  /** `https://host[:port]` by lower-cased host name (IPv6 in brackets). */
  readonly origins: ReadonlyMap<string, string>;
  /** Origin of the first host: where a request for an unknown host is redirected. */
  readonly canonicalOrigin: string | undefined;
  /** Path prefixes served over plain HTTP too. */
  readonly exclude: readonly string[];
}

const KNOWN_KEYS = ['enforce', 'hosts', 'port', 'redirect', 'exclude'];
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

function fail(message: string): never {
  throw new Error(`PalisadeModule: ${message}`);
}

function hostKey(value: unknown, path: string): string {
  if (typeof value === 'string') {
    const host = value.trim().toLowerCase().replace(/\.$/, '');
    if (host.startsWith('[') && host.endsWith(']') && isIP(host.slice(1, -1)) === 6) return host;
    if (isIP(host) === 4 || HOST_NAME.test(host)) return host;
  }
  fail(
    `${path} is ${describe(value)}; expected a host name such as 'api.example.com' (no scheme, no port, IPv6 in brackets). Give the HTTPS port as https.port.`,
  );
}

/**
 * Validates `https` once at startup and precomputes the redirect origins.
 * @internal
 */
export function normalizeHttpsOptions(input: unknown): NormalizedHttpsOptions {
  const options = input ?? {};
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    fail(`https is ${describe(options)}; expected an object such as { enforce: true, hosts: ['api.example.com'] }.`);
  assertKnownKeys(options, KNOWN_KEYS, 'https');
  const { enforce = false, redirect = true, hosts, port = 443, exclude } = options as Record<string, unknown>;
  if (typeof enforce !== 'boolean') fail(`https.enforce is ${describe(enforce)}; expected true or false.`);
  if (typeof redirect !== 'boolean') fail(`https.redirect is ${describe(redirect)}; expected true or false.`);
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535)
    fail(`https.port is ${describe(port)}; expected a port number from 1 to 65535.`);
  if (hosts !== undefined && (!Array.isArray(hosts) || hosts.length === 0))
    fail(`https.hosts is ${describe(hosts)}; expected a non-empty array of host names.`);
  if (enforce && redirect && hosts === undefined) {
    fail(
      "https.enforce is true but https.hosts is not set; redirects go only to hosts the app serves, so a forged Host header cannot redirect clients elsewhere. Set https.hosts (e.g. ['api.example.com']), or https.redirect: false to refuse plain HTTP instead.",
    );
  }
  const suffix = port === 443 ? '' : `:${port}`;
  const origins = new Map<string, string>();
  for (const [i, host] of ((hosts as unknown[] | undefined) ?? []).entries()) {
    const key = hostKey(host, `https.hosts[${i}]`);
    origins.set(key, `https://${key}${suffix}`);
  }
  if (exclude !== undefined && !Array.isArray(exclude)) fail(`https.exclude is ${describe(exclude)}; expected an array of path prefixes such as ['/health'].`);
  const prefixes = ((exclude as unknown[] | undefined) ?? []).map((prefix, i) => {
    if (typeof prefix !== 'string' || !prefix.startsWith('/') || prefix === '/' || prefix.startsWith('//') || /[?#\s]/.test(prefix)) {
      fail(`https.exclude[${i}] is ${describe(prefix)}; expected an absolute path such as '/health' (not '/', without query).`);
    }
    return prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  });
  return Object.freeze({
    enforce,
    redirect,
    origins,
    canonicalOrigin: origins.values().next().value,
    exclude: Object.freeze(prefixes),
  });
}
