import type { HttpRequestLike } from '../common/http-context.js';

const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);
const DEFAULT_PORTS: Readonly<Record<string, string>> = { 'http:': '80', 'https:': '443' };

function header(request: HttpRequestLike, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' ? value : undefined;
}

function originMatchesHost(origin: string, host: string): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (!url.host) return false;
  const authority = host.toLowerCase();
  if (url.host === authority) return true;
  const port = DEFAULT_PORTS[url.protocol];
  return !url.port && port !== undefined && `${url.hostname}:${port}` === authority;
}

/**
 * True when a browser reports `request` as cross-origin (a form or script on another site posting
 * here), following the same rules as Nest's `enableCsrfProtection()` (Go's `CrossOriginProtection`):
 * safe methods pass; `Sec-Fetch-Site` other than `same-origin`/`none` is cross-origin; without it,
 * an `Origin` that does not match `Host` is. Requests without either header (non-browser clients)
 * are not. An `Origin` in `trustedOrigins` (`scheme://host[:port]`, as browsers send it) is allowed.
 * @internal
 */
export function isCrossOriginRequest(request: HttpRequestLike, method: string, trustedOrigins: ReadonlySet<string>): boolean {
  if (SAFE_METHODS.has(method)) return false;
  const origin = header(request, 'origin');
  if (origin !== undefined && trustedOrigins.has(origin)) return false;
  const site = header(request, 'sec-fetch-site');
  if (site !== undefined) return site !== 'same-origin' && site !== 'none';
  if (origin === undefined) return false;
  const host = header(request, 'host');
  return host === undefined || !originMatchesHost(origin, host);
}
