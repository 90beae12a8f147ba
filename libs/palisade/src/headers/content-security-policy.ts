import { describe } from '../common/duration.js';

/**
 * Stands for the per-request nonce in a CSP source list: each response gets a fresh
 * `'nonce-…'` (128 random bits) in its place, which handlers read with `@CspNonce()`.
 * Allowed in `default-src`, `script-src`, `script-src-elem`, `style-src` and `style-src-elem`.
 *
 * @example
 * contentSecurityPolicy: { directives: { 'script-src': [CSP_NONCE, "'strict-dynamic'"] } }
 */
export const CSP_NONCE: unique symbol = Symbol('palisade.cspNonce');

/** A source in a CSP source list: a quoted keyword (`"'self'"`), a scheme, a host, a hash, or {@link CSP_NONCE}. */
export type CspSource = string | typeof CSP_NONCE;

/** A CSP source list. `["'none'"]` allows nothing. */
export type CspSourceList = readonly CspSource[];

/** Tokens of the CSP `sandbox` directive. */
export type CspSandboxToken =
  | 'allow-downloads'
  | 'allow-forms'
  | 'allow-modals'
  | 'allow-orientation-lock'
  | 'allow-pointer-lock'
  | 'allow-popups'
  | 'allow-popups-to-escape-sandbox'
  | 'allow-presentation'
  | 'allow-same-origin'
  | 'allow-scripts'
  | 'allow-storage-access-by-user-activation'
  | 'allow-top-navigation'
  | 'allow-top-navigation-by-user-activation'
  | 'allow-top-navigation-to-custom-protocols';

/**
 * CSP directives by their real names (CSP Level 3). `null` removes a directive inherited from
 * the enclosing policy. Keywords must be quoted (`"'self'"`, `"'none'"`); hosts and schemes are not.
 */
export interface CspDirectives {
  'default-src'?: CspSourceList | null;
  'script-src'?: CspSourceList | null;
  'script-src-elem'?: CspSourceList | null;
  'script-src-attr'?: CspSourceList | null;
  'style-src'?: CspSourceList | null;
  'style-src-elem'?: CspSourceList | null;
  'style-src-attr'?: CspSourceList | null;
  'child-src'?: CspSourceList | null;
  'connect-src'?: CspSourceList | null;
  'fenced-frame-src'?: CspSourceList | null;
  'font-src'?: CspSourceList | null;
  'frame-src'?: CspSourceList | null;
  'img-src'?: CspSourceList | null;
  'manifest-src'?: CspSourceList | null;
  'media-src'?: CspSourceList | null;
  'object-src'?: CspSourceList | null;
  'worker-src'?: CspSourceList | null;
  'base-uri'?: CspSourceList | null;
  'form-action'?: CspSourceList | null;
  'frame-ancestors'?: CspSourceList | null;
  /** Sandbox flags; `[]` is the strictest sandbox. */
  sandbox?: readonly CspSandboxToken[] | null;
  /** `true` sends the directive, `false`/`null` removes it. */
  'upgrade-insecure-requests'?: boolean | null;
  /** Legacy reporting URLs (absolute `https:` URLs or absolute paths). Prefer `report-to`. */
  'report-uri'?: readonly string[] | null;
  /** Name of an endpoint declared in `reportingEndpoints`. */
  'report-to'?: string | null;
  'require-trusted-types-for'?: readonly "'script'"[] | null;
  /** Trusted Types policy names, `"'none'"`, `"'allow-duplicates'"` or `'*'`. */
  'trusted-types'?: readonly string[] | null;
}

/** Name of a CSP directive Palisade knows. */
export type CspDirectiveName = keyof CspDirectives;

/** `'script-src'` → `'scriptSrc'`: a directive's name as helmet and Nest write it. */
type CamelDirectiveName<S extends string> = S extends `${infer Head}-${infer Tail}` ? `${Head}${Capitalize<CamelDirectiveName<Tail>>}` : S;

/**
 * CSP directives by their camelCase names, as helmet's and Nest's `contentSecurityPolicy.directives`
 * write them (`defaultSrc`, `scriptSrc`), with the same values as {@link CspDirectives}.
 */
export type CspDirectivesCamelCase = { [K in CspDirectiveName as CamelDirectiveName<K>]?: CspDirectives[K] };

/** Names of the built-in CSP presets (see {@link CSP_PRESETS}). */
export type CspPresetName = 'api' | 'swagger-ui' | 'graphiql' | 'page';

/**
 * Built-in policies, for `contentSecurityPolicy: { preset }`.
 *
 * - `api` (the default): JSON and other non-HTML responses load, run and embed nothing, and
 *   nothing may frame them.
 * - `swagger-ui`: what Swagger UI (`@nestjs/swagger`, `swagger-ui-dist`) needs: its scripts and
 *   styles from the same origin, inline styles (the UI sets `style` attributes), `data:` images
 *   and fonts, and requests to the same origin for the OpenAPI document.
 * - `graphiql`: what the self-hosted GraphiQL page of `@palisade/nest/graphiql` needs, and no more.
 *   Scripts run only with the per-request nonce (no `'self'`, never `'unsafe-inline'`): the page
 *   loads React, ReactDOM, GraphiQL and its start script through nonced `<script src>` tags, so no
 *   other same-origin URL can be pulled in as a script. Styles also only by nonce: the stylesheet
 *   link carries it, and the one `<style>` element GraphiQL inserts at run time (its dialogs' scroll
 *   lock) takes it from `__webpack_nonce__`, which the start script sets, so `'unsafe-inline'` is
 *   not needed for styles either (GraphiQL's other styles are set through the CSSOM, which CSP does
 *   not govern). Fonts and images from `data:` URLs (the stylesheet embeds its fonts), requests to
 *   the same origin only (the GraphQL endpoint, and so the user's token, stays on this origin).
 * - `page`: a strict policy for server-rendered HTML: scripts only with the per-request nonce
 *   (and what they load, `'strict-dynamic'`), styles from the same origin or with the nonce.
 */
export const CSP_PRESETS: Readonly<Record<CspPresetName, Readonly<CspDirectives>>> = Object.freeze<Record<CspPresetName, Readonly<CspDirectives>>>({
  api: Object.freeze<CspDirectives>({
    'default-src': ["'none'"],
    'base-uri': ["'none'"],
    'form-action': ["'none'"],
    'frame-ancestors': ["'none'"],
  }),
  'swagger-ui': Object.freeze<CspDirectives>({
    'default-src': ["'self'"],
    'base-uri': ["'self'"],
    'connect-src': ["'self'"],
    'font-src': ["'self'", 'data:'],
    'form-action': ["'self'"],
    'frame-ancestors': ["'none'"],
    'img-src': ["'self'", 'data:'],
    'object-src': ["'none'"],
    'script-src': ["'self'"],
    'script-src-attr': ["'none'"],
    'style-src': ["'self'", "'unsafe-inline'"],
  }),
  graphiql: Object.freeze<CspDirectives>({
    'default-src': ["'none'"],
    'base-uri': ["'none'"],
    'connect-src': ["'self'"],
    'font-src': ['data:'],
    'form-action': ["'none'"],
    'frame-ancestors': ["'none'"],
    'img-src': ["'self'", 'data:'],
    'object-src': ["'none'"],
    'script-src': [CSP_NONCE],
    'script-src-attr': ["'none'"],
    'style-src': [CSP_NONCE],
    'style-src-attr': ["'none'"],
  }),
  page: Object.freeze<CspDirectives>({
    'default-src': ["'self'"],
    'base-uri': ["'none'"],
    'form-action': ["'self'"],
    'frame-ancestors': ["'none'"],
    'img-src': ["'self'", 'data:'],
    'object-src': ["'none'"],
    'script-src': [CSP_NONCE, "'strict-dynamic'"],
    'script-src-attr': ["'none'"],
    'style-src': ["'self'", CSP_NONCE],
  }),
});

/** A validated directive: its tokens in order (`[]` for a directive without value). @internal */
export type CompiledDirective = readonly CspSource[];

/** Directives of a policy, in header order. @internal */
export type DirectiveMap = ReadonlyMap<CspDirectiveName, CompiledDirective>;

type DirectiveKind = 'script' | 'style' | 'default' | 'fetch' | 'navigation' | 'sandbox' | 'flag' | 'report-uri' | 'report-to' | 'tt-for' | 'trusted-types';

const DIRECTIVE_KINDS: ReadonlyMap<string, DirectiveKind> = new Map<CspDirectiveName, DirectiveKind>([
  ['default-src', 'default'],
  ['script-src', 'script'],
  ['script-src-elem', 'script'],
  ['script-src-attr', 'script'],
  ['style-src', 'style'],
  ['style-src-elem', 'style'],
  ['style-src-attr', 'style'],
  ['child-src', 'fetch'],
  ['connect-src', 'fetch'],
  ['fenced-frame-src', 'fetch'],
  ['font-src', 'fetch'],
  ['frame-src', 'fetch'],
  ['img-src', 'fetch'],
  ['manifest-src', 'fetch'],
  ['media-src', 'fetch'],
  ['object-src', 'fetch'],
  ['worker-src', 'fetch'],
  ['base-uri', 'navigation'],
  ['form-action', 'navigation'],
  ['frame-ancestors', 'navigation'],
  ['sandbox', 'sandbox'],
  ['upgrade-insecure-requests', 'flag'],
  ['report-uri', 'report-uri'],
  ['report-to', 'report-to'],
  ['require-trusted-types-for', 'tt-for'],
  ['trusted-types', 'trusted-types'],
]);

const RETIRED: ReadonlyMap<string, string> = new Map([
  ['block-all-mixed-content', "it is deprecated; use 'upgrade-insecure-requests': true"],
  ['plugin-types', "it was removed from CSP; use 'object-src': [\"'none'\"]"],
  ['prefetch-src', 'it was removed from CSP; prefetches follow default-src'],
  ['navigate-to', 'it was removed from CSP'],
  ['referrer', 'it was removed from CSP; use the referrerPolicy option (Referrer-Policy header)'],
  ['reflected-xss', 'it was removed from CSP; the X-XSS-Protection header is already set to 0'],
  ['disown-opener', 'it was never shipped; use the crossOriginOpenerPolicy option'],
]);

const SCRIPT_KEYWORDS = [
  "'self'",
  "'none'",
  "'unsafe-inline'",
  "'unsafe-eval'",
  "'wasm-unsafe-eval'",
  "'strict-dynamic'",
  "'unsafe-hashes'",
  "'report-sample'",
  "'inline-speculation-rules'",
];
const STYLE_KEYWORDS = ["'self'", "'none'", "'unsafe-inline'", "'unsafe-hashes'", "'report-sample'"];
const KEYWORDS_BY_KIND: Readonly<Record<'script' | 'style' | 'default' | 'fetch' | 'navigation', ReadonlySet<string>>> = {
  script: new Set(SCRIPT_KEYWORDS),
  style: new Set(STYLE_KEYWORDS),
  default: new Set([...SCRIPT_KEYWORDS, ...STYLE_KEYWORDS]),
  fetch: new Set(["'self'", "'none'"]),
  navigation: new Set(["'self'", "'none'"]),
};
const ALL_KEYWORDS: ReadonlySet<string> = new Set([...SCRIPT_KEYWORDS, "'unsafe-allow-redirects'"].map((k) => k.slice(1, -1)));
const NONCE_DIRECTIVES: ReadonlySet<string> = new Set(['default-src', 'script-src', 'script-src-elem', 'style-src', 'style-src-elem']);
const SANDBOX_TOKENS: ReadonlySet<string> = new Set<CspSandboxToken>([
  'allow-downloads',
  'allow-forms',
  'allow-modals',
  'allow-orientation-lock',
  'allow-pointer-lock',
  'allow-popups',
  'allow-popups-to-escape-sandbox',
  'allow-presentation',
  'allow-same-origin',
  'allow-scripts',
  'allow-storage-access-by-user-activation',
  'allow-top-navigation',
  'allow-top-navigation-by-user-activation',
  'allow-top-navigation-to-custom-protocols',
]);

const SCHEME_SOURCE = /^[a-z][a-z0-9+.-]*:$/i;
const HOST_SOURCE = /^(?:[a-z][a-z0-9+.-]*:\/\/)?(?:\*|(?:\*\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*\.?)(?::(?:\d{1,5}|\*))?(?:\/[!$&()*+\-./0-9:=@A-Z_a-z~%]*)?$/i;
const HASH_SOURCE = /^'sha(256|384|512)-([A-Za-z0-9+/_-]+={0,2})'$/;
const HASH_LENGTHS: Readonly<Record<string, number>> = { '256': 32, '384': 48, '512': 64 };
const TRUSTED_TYPES_NAME = /^[A-Za-z0-9\-#=_/@.%]+$/;
const ENDPOINT_NAME = /^[a-z*][a-z0-9_\-.*]*$/;

function fail(message: string): never {
  throw new Error(`PalisadeModule: ${message}`);
}

/** A camelCase directive name as helmet and Nest write them (`scriptSrc`, `upgradeInsecureRequests`). */
const CAMEL_CASE = /^[a-z]+(?:[A-Z][a-z]+)+$/;

function kebab(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/[_\s]+/g, '-')
    .toLowerCase();
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}

/** The known directive closest to `name`, for "did you mean" hints. */
function closestDirective(name: string): string | undefined {
  const normalized = kebab(name);
  if (DIRECTIVE_KINDS.has(normalized)) return normalized;
  let best: string | undefined;
  let bestDistance = 3;
  for (const known of DIRECTIVE_KINDS.keys()) {
    const distance = editDistance(normalized, known);
    if (distance < bestDistance) {
      best = known;
      bestDistance = distance;
    }
  }
  return best;
}

function checkDirectiveName(name: string, path: string): DirectiveKind {
  const kind = DIRECTIVE_KINDS.get(name);
  if (kind !== undefined) return kind;
  const retired = RETIRED.get(kebab(name));
  if (retired !== undefined) fail(`${path} has directive '${name}'; ${retired}.`);
  const suggestion = closestDirective(name);
  fail(
    `${path} has unknown directive '${name}'${suggestion === undefined ? '.' : `; did you mean '${suggestion}'?`} Directives are written in kebab-case, as in the header (see CspDirectives).`,
  );
}

function checkHashSource(token: string, where: string): void {
  const match = HASH_SOURCE.exec(token);
  if (!match) fail(`${where} contains ${JSON.stringify(token)}; a hash source is 'sha256-<base64 digest>' (also sha384, sha512).`);
  const digest = Buffer.from(match[2]!.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (digest.length !== HASH_LENGTHS[match[1]!]) {
    fail(`${where} contains ${JSON.stringify(token)}; its digest is ${digest.length} bytes, a SHA-${match[1]} digest is ${HASH_LENGTHS[match[1]!]}.`);
  }
}

function checkSource(source: unknown, name: string, kind: 'script' | 'style' | 'default' | 'fetch' | 'navigation', where: string): CspSource {
  if (source === CSP_NONCE) {
    if (!NONCE_DIRECTIVES.has(name))
      fail(`${where} contains CSP_NONCE; a nonce only applies in default-src, script-src, script-src-elem, style-src and style-src-elem.`);
    return CSP_NONCE;
  }
  if (typeof source !== 'string' || source.length === 0)
    fail(`${where} contains ${describe(source)}; expected a source string such as "'self'" or 'https://cdn.example.com'.`);
  if (/[\s;,]/.test(source)) {
    fail(`${where} contains ${JSON.stringify(source)}; give each source as its own array element (no spaces, ';' or ',').`);
  }
  if (/[^\x21-\x7e]/.test(source)) fail(`${where} contains ${JSON.stringify(source)}; sources are printable ASCII (punycode and percent-encode the rest).`);
  const bare = source.replace(/^'|'$/g, '');
  if (source.startsWith("'") || source.endsWith("'")) {
    if (!(source.startsWith("'") && source.endsWith("'") && source.length > 2)) {
      fail(`${where} contains ${JSON.stringify(source)}; a keyword is quoted on both sides, e.g. "'${bare}'".`);
    }
    const lower = source.toLowerCase();
    if (lower.startsWith("'nonce-")) {
      fail(`${where} contains a fixed nonce ${JSON.stringify(source)}; a nonce must change on every response. Use CSP_NONCE and read it with @CspNonce().`);
    }
    if (/^'sha\d+-/.test(lower)) {
      if (kind !== 'script' && kind !== 'style' && kind !== 'default') fail(`${where} contains a hash source; hashes only apply to scripts and styles.`);
      checkHashSource(source, where);
      return source;
    }
    // A quoted word could be a misspelt keyword; a quoted scheme or host has ':', '.' or '*'.
    if (/[:.*]/.test(bare) && (SCHEME_SOURCE.test(bare) || HOST_SOURCE.test(bare))) {
      if (!ALL_KEYWORDS.has(bare.toLowerCase()))
        fail(`${where} contains ${JSON.stringify(source)}; schemes and hosts are not quoted. Write ${JSON.stringify(bare)}.`);
    }
    if (!KEYWORDS_BY_KIND[kind].has(lower)) {
      const known = ALL_KEYWORDS.has(bare.toLowerCase());
      fail(
        known
          ? `${where} contains ${source}, which does not apply to ${name}; allowed keywords there: ${[...KEYWORDS_BY_KIND[kind]].join(' ')}.`
          : `${where} contains unknown keyword ${source}; known keywords: ${[...KEYWORDS_BY_KIND[kind]].join(' ')}.`,
      );
    }
    return lower;
  }
  if (ALL_KEYWORDS.has(source.toLowerCase())) {
    fail(
      `${where} contains ${source} without quotes; CSP keywords must be quoted, so browsers do not read them as a host named "${source}". Write "'${source.toLowerCase()}'".`,
    );
  }
  if (SCHEME_SOURCE.test(source) || HOST_SOURCE.test(source)) return source;
  fail(
    `${where} contains ${JSON.stringify(source)}, which is not a CSP source; expected a quoted keyword ("'self'"), a scheme ('https:') or a host ('https://cdn.example.com', '*.example.com').`,
  );
}

function checkSourceList(value: unknown, name: string, kind: 'script' | 'style' | 'default' | 'fetch' | 'navigation', where: string): CompiledDirective {
  if (!Array.isArray(value)) {
    fail(`${where} is ${describe(value)}; expected an array of sources such as ["'self'"] (or null to remove the directive).`);
  }
  if (value.length === 0) fail(`${where} is empty; write ["'none'"] to allow nothing.`);
  const sources: CspSource[] = [];
  for (const item of value as unknown[]) {
    const source = checkSource(item, name, kind, where);
    if (!sources.includes(source)) sources.push(source);
  }
  if (sources.includes("'none'") && sources.length > 1) fail(`${where} combines 'none' with other sources; 'none' must be alone.`);
  return Object.freeze(sources);
}

function checkReportUrl(value: unknown, where: string): string {
  if (typeof value === 'string' && value.startsWith('/') && !value.startsWith('//') && /^[\x21-\x7e]+$/.test(value) && !/[;,]/.test(value)) return value;
  if (typeof value === 'string' && /^[\x21-\x7e]+$/.test(value) && !/[;,]/.test(value)) {
    let url: URL | undefined;
    try {
      url = new URL(value);
    } catch {
      url = undefined;
    }
    if (url?.protocol === 'https:' && url.username === '' && url.password === '') return value;
  }
  fail(`${where} is ${describe(value)}; expected an absolute https: URL or an absolute path such as '/csp-reports'.`);
}

function checkSandbox(value: unknown, where: string): CompiledDirective {
  if (!Array.isArray(value)) fail(`${where} is ${describe(value)}; expected an array of sandbox flags ([] for the strictest sandbox).`);
  for (const token of value as unknown[]) {
    if (typeof token !== 'string' || !SANDBOX_TOKENS.has(token)) fail(`${where} contains ${describe(token)}; known flags: ${[...SANDBOX_TOKENS].join(', ')}.`);
  }
  return Object.freeze([...new Set(value as string[])]);
}

function checkFlag(value: unknown, where: string): CompiledDirective | null {
  if (value === false) return null;
  if (value !== true) fail(`${where} is ${describe(value)}; expected true (send it) or false/null (remove it).`);
  return Object.freeze([]);
}

function checkReportUris(value: unknown, where: string): CompiledDirective {
  if (!Array.isArray(value) || value.length === 0) fail(`${where} is ${describe(value)}; expected a non-empty array of URLs.`);
  return Object.freeze((value as unknown[]).map((url, i) => checkReportUrl(url, `${where}[${i}]`)));
}

function checkReportTo(value: unknown, where: string): CompiledDirective {
  if (typeof value !== 'string' || !ENDPOINT_NAME.test(value)) {
    fail(`${where} is ${describe(value)}; expected the name of an endpoint declared in reportingEndpoints (lower-case letters, digits, '_', '-', '.').`);
  }
  return Object.freeze([value]);
}

function checkTrustedTypesFor(value: unknown, where: string): CompiledDirective {
  if (!Array.isArray(value) || value.length !== 1 || value[0] !== "'script'") fail(`${where} is ${describe(value)}; the only value is ["'script'"].`);
  return Object.freeze(["'script'"]);
}

function isTrustedTypesToken(token: unknown): boolean {
  return token === "'none'" || token === "'allow-duplicates'" || token === '*' || (typeof token === 'string' && TRUSTED_TYPES_NAME.test(token));
}

function checkTrustedTypes(value: unknown, where: string): CompiledDirective {
  if (!Array.isArray(value)) fail(`${where} is ${describe(value)}; expected an array of policy names.`);
  for (const token of value as unknown[]) {
    if (!isTrustedTypesToken(token)) fail(`${where} contains ${describe(token)}; expected policy names, "'none'", "'allow-duplicates'" or '*'.`);
  }
  return Object.freeze([...new Set(value as string[])]);
}

/** How each kind of directive checks its value (`where` names it in errors); `null` removes it. */
const DIRECTIVE_CHECKS: Readonly<Record<DirectiveKind, (value: unknown, name: string, where: string) => CompiledDirective | null>> = {
  script: (value, name, where) => checkSourceList(value, name, 'script', where),
  style: (value, name, where) => checkSourceList(value, name, 'style', where),
  default: (value, name, where) => checkSourceList(value, name, 'default', where),
  fetch: (value, name, where) => checkSourceList(value, name, 'fetch', where),
  navigation: (value, name, where) => checkSourceList(value, name, 'navigation', where),
  sandbox: (value, _name, where) => checkSandbox(value, where),
  flag: (value, _name, where) => checkFlag(value, where),
  'report-uri': (value, _name, where) => checkReportUris(value, where),
  'report-to': (value, _name, where) => checkReportTo(value, where),
  'tt-for': (value, _name, where) => checkTrustedTypesFor(value, where),
  'trusted-types': (value, _name, where) => checkTrustedTypes(value, where),
};

/**
 * Validates a directive's value and returns its tokens, or `null` when the directive is removed.
 * @internal
 */
export function compileDirective(name: string, value: unknown, path: string): CompiledDirective | null {
  const kind = checkDirectiveName(name, path);
  if (value === null || value === undefined) return null;
  return DIRECTIVE_CHECKS[kind](value, name, `${path}['${name}']`);
}

/**
 * Applies `directives` (validated) on top of `base`: a given directive replaces the base one in
 * place, a new one is appended, `null` removes one. Names are kebab-case as in the header, or
 * camelCase as in helmet and Nest (`scriptSrc`). @internal
 */
export function mergeDirectives(base: DirectiveMap, directives: unknown, path: string): DirectiveMap {
  if (directives === undefined) return base;
  if (typeof directives !== 'object' || directives === null || Array.isArray(directives)) {
    fail(`${path} is ${describe(directives)}; expected an object of directives such as { 'script-src': ["'self'"] }.`);
  }
  const merged = new Map(base);
  const seen = new Map<string, string>();
  for (const [given, value] of Object.entries(directives)) {
    // helmet's and Nest's camelCase names (`scriptSrc`) are accepted for the directive they name.
    const name = CAMEL_CASE.test(given) && DIRECTIVE_KINDS.has(kebab(given)) ? kebab(given) : given;
    const twin = seen.get(name);
    if (twin !== undefined) fail(`${path} names directive '${name}' twice ('${twin}' and '${given}'); keep one of them.`);
    seen.set(name, given);
    const compiled = compileDirective(name, value, path);
    if (compiled === null) merged.delete(name as CspDirectiveName);
    else merged.set(name as CspDirectiveName, compiled);
  }
  return merged;
}

/** The directives of a preset. @internal */
export function presetDirectives(preset: unknown, path: string): DirectiveMap {
  if (typeof preset !== 'string' || !Object.hasOwn(CSP_PRESETS, preset)) {
    fail(`${path} is ${describe(preset)}; known presets: ${Object.keys(CSP_PRESETS).join(', ')}.`);
  }
  return mergeDirectives(new Map(), CSP_PRESETS[preset as CspPresetName], path);
}

/** Marks where the nonce goes in a serialized policy (never a valid header character). */
const NONCE_MARK = '\u0000';

/**
 * Serializes a policy into the pieces between nonces: the header value of a response is
 * `parts.join("'nonce-<nonce>'")`, a single piece when the policy has no nonce. @internal
 */
export function serializePolicy(directives: DirectiveMap): readonly string[] {
  const text = [...directives]
    .map(([name, tokens]) => (tokens.length === 0 ? name : `${name} ${tokens.map((t) => (t === CSP_NONCE ? NONCE_MARK : t)).join(' ')}`))
    .join('; ');
  return Object.freeze(text.split(NONCE_MARK));
}

/** Checks that `report-to` names a declared endpoint, and that some directive remains. @internal */
export function checkPolicy(directives: DirectiveMap, endpoints: ReadonlyMap<string, string>, path: string): void {
  if (directives.size === 0) fail(`${path} has no directive left; a policy needs at least default-src. Start from a preset or keep default-src.`);
  const reportTo = directives.get('report-to')?.[0];
  if (typeof reportTo === 'string' && !endpoints.has(reportTo)) {
    fail(`${path}['report-to'] names '${reportTo}', which is not declared; add reportingEndpoints: { '${reportTo}': 'https://…' }.`);
  }
}
