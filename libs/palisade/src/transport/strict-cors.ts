import { describe, parseDuration } from '../common/duration.js';
import { assertKnownKeys } from '../common/option-keys.js';
import type { StrictCors, StrictCorsOptions, StrictCorsSettings } from './cors-options.interface.js';

/** Response headers always exposed to scripts: the rate-limit headers and the auth challenge. */
const ALWAYS_EXPOSED = ['RateLimit', 'RateLimit-Policy', 'Retry-After', 'WWW-Authenticate'];
const DEFAULT_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];
const DEFAULT_ALLOWED_HEADERS = ['Authorization', 'Content-Type', 'X-API-Key'];
/** Methods the Fetch standard forbids scripts to use. */
const FORBIDDEN_METHODS: ReadonlySet<string> = new Set(['CONNECT', 'TRACE', 'TRACK']);
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const KNOWN_KEYS = ['origins', 'credentials', 'methods', 'allowedHeaders', 'exposedHeaders', 'maxAge'];
const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const PATTERN = /^([a-z][a-z0-9+.-]*):\/\/\*\.([a-z0-9-]+(?:\.[a-z0-9-]+)*)(:\d{1,5})?$/;
/** A `Vary` value that already covers `Origin` (`*` varies on everything). */
const VARIES_ON_ORIGIN = /(?:^|,)\s*(?:\*|origin)\s*(?:,|$)/i;

/** The part of a Node.js response `Vary` is written through. */
interface HeaderTarget {
  getHeader(name: string): number | string | readonly string[] | undefined;
  setHeader(name: string, value: string): unknown;
}

function isHeaderTarget(value: unknown): value is HeaderTarget {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as HeaderTarget).getHeader === 'function' &&
    typeof (value as HeaderTarget).setHeader === 'function'
  );
}

/** Adds `Origin` to the response's `Vary`, keeping what is there (as the `vary` package does). */
function varyOnOrigin(response: HeaderTarget): void {
  const current = response.getHeader('Vary');
  const value = current === undefined ? '' : Array.isArray(current) ? current.join(', ') : String(current);
  if (value.trim() === '') response.setHeader('Vary', 'Origin');
  else if (!VARIES_ON_ORIGIN.test(value)) response.setHeader('Vary', `${value}, Origin`);
}

function fail(message: string): never {
  throw new Error(`strictCors: ${message}`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** An origin as browsers serialize it, or a precise error. */
function exactOrigin(value: string, path: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || url.origin === 'null' || !url.host) fail(`${path} is ${describe(value)}; expected an origin such as 'https://app.example.com'.`);
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '' || url.pathname !== '/' || /[?#]/.test(value)) {
    fail(`${path} is ${describe(value)}; an origin has no path, query or credentials. Write '${url.origin}'.`);
  }
  return url.origin;
}

/** A one-label wildcard pattern compiled to an anchored expression. */
function patternOrigin(value: string, path: string): RegExp {
  const match = PATTERN.exec(value.toLowerCase());
  if (!match) {
    fail(`${path} is ${describe(value)}; a pattern has '*' as its first label only, such as 'https://*.example.com' (optionally with a port).`);
  }
  const [, scheme, domain, port = ''] = match;
  if (domain!.split('.').length < 2)
    fail(`${path} is ${describe(value)}; the part after '*.' needs at least two labels ('*.example.com'), or it would match whole top-level domains.`);
  // The rest must be a valid origin on its own (also normalizes a default port away).
  const rest = exactOrigin(`${scheme}://${domain}${port}`, path);
  const [restScheme, restHost] = rest.split('://') as [string, string];
  return new RegExp(`^${escapeRegExp(restScheme)}://${LABEL}\\.${escapeRegExp(restHost)}$`);
}

function tokenList(value: unknown, fallback: readonly string[], path: string, what: string): string[] {
  if (value === undefined) return [...fallback];
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string' || !TOKEN.test(item))) {
    fail(`${path} is ${describe(value)}; expected an array of ${what}.`);
  }
  if ((value as string[]).includes('*'))
    fail(`${path} contains '*'; list the ${what} explicitly (a wildcard never covers Authorization, and is literal with credentials).`);
  return [...new Set(value as string[])];
}

/**
 * CORS options for `app.enableCors()` on Express and Fastify, strict by default: only the listed
 * origins (exactly, or by a one-label `*.` pattern) may read responses; a wildcard origin with
 * credentials is refused; preflights are answered (204) with the allowed methods and headers and a
 * cache lifetime; the rate-limit headers and `WWW-Authenticate` are exposed. A request from any
 * other origin gets no CORS headers, so the browser keeps the response from the page. Every
 * response carries `Vary: Origin` (unless `origins` is `['*']`, where no answer depends on the
 * origin), on Express as on Fastify: a shared cache never serves one origin's answer to another.
 *
 * The result is the options object, also callable for each adapter (see {@link StrictCors}).
 *
 * Throws at startup, naming the option, the bad value and the fix.
 *
 * @example
 * const app = await NestFactory.create(AppModule);
 * app.enableCors(strictCors({ origins: ['https://app.example.com'] }));
 */
export function strictCors(options: StrictCorsOptions): StrictCors {
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    fail(`options are ${describe(options)}; expected { origins: ['https://app.example.com'] }.`);
  assertKnownKeys(options, KNOWN_KEYS, '', 'strictCors');
  const { origins, credentials = false, maxAge = '10m' } = options;
  if (typeof credentials !== 'boolean') fail(`credentials is ${describe(credentials)}; expected true or false.`);
  if (!Array.isArray(origins) || origins.length === 0) fail(`origins is ${describe(origins)}; expected a non-empty array such as ['https://app.example.com'].`);

  const exact = new Set<string>();
  const patterns: RegExp[] = [];
  let anyOrigin = false;
  for (const [i, origin] of origins.entries()) {
    const path = `origins[${i}]`;
    if (typeof origin !== 'string' || origin.trim() !== origin || origin.length === 0)
      fail(`${path} is ${describe(origin)}; expected an origin such as 'https://app.example.com'.`);
    if (origin === '*') {
      if (credentials) {
        fail(`${path} is '*' with credentials: true; any site could then read responses with the user's cookies. List the origins, or set credentials: false.`);
      }
      anyOrigin = true;
    } else if (origin === 'null') {
      fail(`${path} is 'null'; sandboxed frames and file: pages send Origin: null, so anyone can. Serve the page from a real origin and list it.`);
    } else if (origin.includes('*')) {
      patterns.push(patternOrigin(origin, path));
    } else {
      exact.add(exactOrigin(origin, path));
    }
  }
  if (anyOrigin && (exact.size > 0 || patterns.length > 0)) fail(`origins mixes '*' with other origins; give '*' alone or list the origins.`);

  const methods = tokenList(options.methods, DEFAULT_METHODS, 'methods', 'methods').map((m) => m.toUpperCase());
  const forbidden = methods.find((m) => FORBIDDEN_METHODS.has(m));
  if (forbidden !== undefined) fail(`methods contains ${forbidden}, which browsers never send from scripts; remove it.`);
  const allowedHeaders = tokenList(options.allowedHeaders, DEFAULT_ALLOWED_HEADERS, 'allowedHeaders', 'header names');
  const exposedHeaders = [...new Set([...ALWAYS_EXPOSED, ...tokenList(options.exposedHeaders, [], 'exposedHeaders', 'header names')])];
  const maxAgeSeconds = Math.floor(parseDuration(maxAge, 'strictCors maxAge') / 1000);

  const isAllowed = (origin: string): boolean => exact.has(origin) || patterns.some((pattern) => pattern.test(origin));
  const corsOptions: StrictCorsSettings = {
    origin: anyOrigin ? '*' : (requestOrigin, callback) => callback(null, requestOrigin !== undefined && isAllowed(requestOrigin)),
    credentials,
    methods,
    allowedHeaders,
    exposedHeaders,
    maxAge: maxAgeSeconds,
    preflightContinue: false,
    optionsSuccessStatus: 204,
  };
  // One declared parameter (`length` 1): Nest's Fastify adapter calls a function of fewer than two
  // with the instance, for the options; Express's `cors` calls any function with (request, callback).
  function strictCorsOptions(target: unknown, ...rest: unknown[]): StrictCorsSettings | undefined {
    const callback = rest[0];
    if (typeof callback !== 'function') return corsOptions;
    if (!anyOrigin) {
      const response = typeof target === 'object' && target !== null ? (target as { res?: unknown }).res : undefined;
      if (!isHeaderTarget(response)) {
        (callback as (error: Error | null, options: StrictCorsSettings) => void)(
          new Error(
            'strictCors: the request has no response to add Vary: Origin to (request.res); pass the options to app.enableCors() on Express or Fastify.',
          ),
          corsOptions,
        );
        return undefined;
      }
      varyOnOrigin(response);
    }
    (callback as (error: Error | null, options: StrictCorsSettings) => void)(null, corsOptions);
    return undefined;
  }
  return Object.assign(strictCorsOptions, corsOptions) as unknown as StrictCors;
}
