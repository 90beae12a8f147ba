import { isIP, isIPv4, isIPv6 } from 'node:net';
import type { TLSSocket } from 'node:tls';
import proxyaddr from 'proxy-addr';
import { describe } from './duration.js';
import { nodeRequestOf, type HttpRequestLike } from './http-context.js';

/**
 * Which proxies' `X-Forwarded-*` headers are believed, as Express's `trust proxy` setting:
 * a number of hops, or addresses and CIDR ranges (a string, comma-separated, or an array), with
 * the names `'loopback'`, `'linklocal'` and `'uniquelocal'`. Unset: no proxy is trusted and the
 * client is the TCP peer. `true` (trust everyone) is refused: every client could then forge its address.
 *
 * @example
 * trustProxy: 'loopback'               // a reverse proxy on the same host
 * trustProxy: ['10.0.0.0/8', '::1']    // a load balancer's network
 * trustProxy: 1                        // exactly one proxy in front, whatever its address
 */
export type TrustProxySetting = number | string | readonly string[];

type TrustFunction = (address: string, hop: number) => boolean;

function fail(message: string): never {
  throw new Error(`PalisadeModule: ${message}`);
}

/** Compiles a {@link TrustProxySetting} once at startup. @internal */
export function compileTrustProxy(setting: unknown, path = 'trustProxy'): TrustFunction | undefined {
  if (setting === undefined || setting === false) return undefined;
  if (setting === true) {
    fail(`${path} is true; trusting every proxy lets any client forge X-Forwarded-For. Name the proxies ('loopback', '10.0.0.0/8') or give a hop count.`);
  }
  if (typeof setting === 'number') {
    if (!Number.isInteger(setting) || setting < 0 || setting > 32) fail(`${path} is ${describe(setting)}; a hop count is an integer from 0 to 32.`);
    const hops = setting;
    return (_address, hop) => hop < hops;
  }
  const list = typeof setting === 'string' ? setting.split(',').map((s) => s.trim()) : setting;
  if (!Array.isArray(list) || list.length === 0 || list.some((entry) => typeof entry !== 'string' || entry.length === 0)) {
    fail(`${path} is ${describe(setting)}; expected a hop count, or addresses/CIDR ranges such as 'loopback' or ['10.0.0.0/8'].`);
  }
  try {
    return proxyaddr.compile(list as string[]);
  } catch (error) {
    fail(`${path} has an invalid address or range (${error instanceof Error ? error.message : String(error)}).`);
  }
}

/** Strips the IPv4-mapped IPv6 prefix so `::ffff:1.2.3.4` and `1.2.3.4` are one client. @internal */
export function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

const IPV4_WITH_PORT = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/;
const BRACKETED_IPV6 = /^\[([0-9A-Fa-f:.]+)\](?::\d{1,5})?$/;

/**
 * The address in an `X-Forwarded-For` entry: the entry itself when it is an IP address, the
 * address of `1.2.3.4:5678` or `[2001:db8::1]:5678` (some load balancers append the client's
 * port, which would give every connection a budget of its own), otherwise `undefined`.
 * @internal
 */
export function forwardedAddress(entry: string): string | undefined {
  if (isIP(entry) !== 0) return entry;
  const v4 = IPV4_WITH_PORT.exec(entry)?.[1];
  if (v4 !== undefined && isIPv4(v4)) return v4;
  const v6 = BRACKETED_IPV6.exec(entry)?.[1];
  return v6 !== undefined && isIPv6(v6) ? v6 : undefined;
}

/**
 * The proxy model shared by every capability (client IP for throttling and events, protocol for
 * HSTS and HTTPS enforcement). Identical on Express and Fastify: both read the raw socket and
 * headers, ignoring the adapters' own `trust proxy` settings.
 * @internal
 */
export class TrustedProxy {
  constructor(private readonly trust: TrustFunction | undefined) {}

  /** True when at least one proxy is trusted. */
  get enabled(): boolean {
    return this.trust !== undefined;
  }

  /**
   * The client's address: the TCP peer, or the nearest untrusted address in `X-Forwarded-For`
   * (without a port a load balancer appended). An entry that is no address at all is not taken as
   * a client: the nearest hop with an address answers for it, so junk cannot buy fresh budgets.
   */
  clientIp(request: HttpRequestLike): string {
    const raw = nodeRequestOf(request);
    const peer = raw.socket?.remoteAddress ?? '';
    if (!this.trust || request.headers['x-forwarded-for'] === undefined) return normalizeAddress(peer);
    const client = proxyaddr(raw, this.trust);
    if (isIP(client) !== 0) return normalizeAddress(client);
    // Rare path: [peer, trusted hops…, client], nearest first.
    const chain = proxyaddr.all(raw, this.trust);
    for (let i = chain.length - 1; i >= 0; i--) {
      const address = forwardedAddress(chain[i] as string);
      if (address !== undefined) return normalizeAddress(address);
    }
    return normalizeAddress(peer);
  }

  /** True when the TCP peer itself is a trusted proxy. */
  peerTrusted(request: HttpRequestLike): boolean {
    if (!this.trust) return false;
    const peer = nodeRequestOf(request).socket?.remoteAddress;
    return peer !== undefined && this.trust(peer, 0);
  }

  /** `https` when the connection is TLS, or a trusted proxy says so in `X-Forwarded-Proto`; else `http`. */
  protocol(request: HttpRequestLike): 'http' | 'https' {
    const raw = nodeRequestOf(request);
    if ((raw.socket as TLSSocket | undefined)?.encrypted === true) return 'https';
    if (!this.peerTrusted(request)) return 'http';
    const header = request.headers['x-forwarded-proto'];
    const value = (Array.isArray(header) ? header[0] : header)?.split(',')[0]?.trim().toLowerCase();
    return value === 'https' ? 'https' : 'http';
  }
}

/**
 * The validated `trustProxy` setting, as plain data: `undefined` (no proxy is trusted), a hop
 * count, or the list of addresses, CIDR ranges and names. {@link TrustedProxy} is built from it.
 * @internal
 */
export interface NormalizedTrustProxy {
  readonly setting: number | readonly string[] | undefined;
}

/**
 * Validates `trustProxy` once at startup (the messages of {@link compileTrustProxy}) and returns
 * it as data.
 * @internal
 */
export function normalizeTrustProxy(setting: unknown, path = 'trustProxy'): NormalizedTrustProxy {
  if (compileTrustProxy(setting, path) === undefined) return Object.freeze({ setting: undefined });
  const value = setting as TrustProxySetting;
  return Object.freeze({
    setting: typeof value === 'number' ? value : Object.freeze(typeof value === 'string' ? value.split(',').map((s) => s.trim()) : [...value]),
  });
}

/**
 * Injection token of the normalised `trustProxy` setting ({@link NormalizedTrustProxy}). The proxy
 * model itself is the {@link TrustedProxy} provider, built from it.
 * @internal
 */
export const TRUST_PROXY_OPTIONS = Symbol('PALISADE_TRUST_PROXY_OPTIONS');

/** Builds the proxy model from its normalised setting. @internal */
export function trustedProxyOf(options: NormalizedTrustProxy): TrustedProxy {
  return new TrustedProxy(compileTrustProxy(options.setting));
}
