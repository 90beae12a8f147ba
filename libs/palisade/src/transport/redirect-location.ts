import type { IncomingMessage } from 'node:http';
import type { NormalizedHttpsOptions } from './https-options.normalizer.js';

/** The host name of a `Host` / `:authority` value, lower-cased, without port or trailing dot. */
function hostName(authority: string | undefined): string | undefined {
  if (authority === undefined) return undefined;
  const value = authority.trim().toLowerCase();
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    return end < 0 ? undefined : value.slice(0, end + 1);
  }
  const colon = value.indexOf(':');
  return (colon < 0 ? value : value.slice(0, colon)).replace(/\.$/, '');
}

/** Path and query of the request target, starting with a single `/`, in visible ASCII. */
function pathAndQuery(target: string): string {
  let path = target;
  if (!path.startsWith('/')) {
    // Absolute form (`GET http://host/path HTTP/1.1`) or asterisk form: keep the path only.
    try {
      const url = new URL(path);
      path = `${url.pathname}${url.search}`;
    } catch {
      path = '/';
    }
  }
  // After a fixed origin, even `//evil.example/x` or `/\evil.example` is a path on that origin.
  // Bytes outside visible ASCII are percent-encoded as the bytes they were (Node reads latin1).
  return path.replace(/[^\x21-\x7e]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/**
 * Where a plain-HTTP request is redirected: `https://` on the request's own host when it is one
 * of `https.hosts`, on the first of them otherwise; never on a host taken from the request alone.
 * @internal
 */
export function redirectLocation(request: IncomingMessage & { originalUrl?: string }, https: NormalizedHttpsOptions): string | undefined {
  const authority = request.headers.host ?? (request.headers[':authority'] as string | undefined);
  const origin = https.origins.get(hostName(authority) ?? '') ?? https.canonicalOrigin;
  if (origin === undefined) return undefined;
  return `${origin}${pathAndQuery(request.originalUrl ?? request.url ?? '/')}`;
}
