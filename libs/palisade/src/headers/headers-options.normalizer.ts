import { describe, parseDuration } from '../common/duration.js';
import { assertKnownKeys } from '../common/option-keys.js';
import { checkPolicy, mergeDirectives, presetDirectives, serializePolicy, type DirectiveMap } from './content-security-policy.js';
import type { ProtectiveHeader, ReferrerPolicyToken } from './headers-options.interface.js';
import { defaultFeatures, mergeFeatures, serializeFeatures, type FeatureMap } from './permissions-policy.js';

/** A policy header ready to send: `parts.join("'nonce-…'")` is its value. @internal */
export interface CompiledPolicy {
  readonly header: 'Content-Security-Policy' | 'Content-Security-Policy-Report-Only';
  readonly parts: readonly string[];
}

/** The headers of one scope, computed at startup: what the request path writes. @internal */
export interface HeaderSet {
  /** Set on every response of the scope. */
  readonly fixed: readonly (readonly [name: string, value: string])[];
  /** Headers Palisade manages that this scope does not send (removed when a narrower scope applies). */
  readonly absent: readonly string[];
  /** `Strict-Transport-Security` value, sent on HTTPS responses only. */
  readonly hsts: string | undefined;
  /** The enforced and report-only policies. */
  readonly policies: readonly CompiledPolicy[];
  /** True when a policy contains `CSP_NONCE`. */
  readonly usesNonce: boolean;
  /** `Cache-Control` of authenticated responses. */
  readonly cacheControl: string | undefined;
}

/** A path prefix with its own headers (`headers.paths`). @internal */
export interface PathHeaders {
  readonly prefix: string;
  readonly set: HeaderSet;
}

/** @internal Validated `headers` options. */
export interface NormalizedHeadersOptions {
  /** The module's headers. */
  readonly base: HeaderSet;
  /** Path overrides, longest prefix first. */
  readonly paths: readonly PathHeaders[];
  /** Remove `X-Powered-By` (and turn Express's setting off). */
  readonly removeXPoweredBy: boolean;
  /**
   * The module's headers before serialization: what a route's `@SecurityHeaders()` layers apply
   * over (see {@link compileOverrides}).
   */
  readonly scope: HeaderScope;
}

interface HstsSettings {
  readonly maxAgeSeconds: number;
  readonly includeSubDomains: boolean;
  readonly preload: boolean;
}

/** One scope after validation, before serialization. @internal */
export interface HeaderScope {
  readonly csp: DirectiveMap;
  readonly cspReportOnly: DirectiveMap | undefined;
  readonly endpoints: ReadonlyMap<string, string>;
  readonly hsts: HstsSettings;
  readonly values: ReadonlyMap<string, string>;
  readonly permissions: FeatureMap;
  readonly crossOriginEmbedderPolicy: string | undefined;
  readonly cacheControl: string;
  readonly disabled: ReadonlySet<ProtectiveHeader>;
}

/**
 * A fixed-value header and its option, named and shaped as in helmet and Nest's
 * `SecurityHeadersOptions`: `true` keeps the default, `{ [field]: value }` changes it (no `field`:
 * the value cannot change), `false` is refused in favour of `dangerouslyDisable`.
 */
interface SimpleHeader {
  readonly header: ProtectiveHeader;
  readonly option: string;
  readonly field?: string;
  /** The values `field` accepts, as sent (an input is matched case-insensitively when `upperCase`). */
  readonly values?: readonly string[];
  readonly upperCase?: boolean;
  readonly fallback: string;
}

/** A scope while its options are read: a copy of the enclosing scope that each option changes. */
type ScopeDraft = { -readonly [K in keyof HeaderScope]: HeaderScope[K] } & { values: Map<string, string> };

/**
 * Everything Palisade knows of one header, in one place: adding a header is adding an entry.
 * The table is in the order of the options (that of helmet's and Nest's `SecurityHeadersOptions`),
 * which is the order options are read and listed in messages.
 */
interface HeaderDescriptor {
  /** The header's name, as sent and as `dangerouslyDisable` names it. */
  readonly header: string;
  /** The option that configures it (`xFrameOptions`). */
  readonly option: string;
  /**
   * Set when `dangerouslyDisable` may turn the header off (and configuring it in a narrower scope
   * turns it back on): its place in `PROTECTIVE_HEADERS`, the order Palisade writes them.
   */
  readonly rank?: number;
  /** Only the module's `headers` options take it (not `paths` nor `@SecurityHeaders()`), and the module reads it. */
  readonly moduleOnly?: true;
  /** helmet's legacy name for the option, refused with the name to write instead. */
  readonly helmetAlias?: string;
  /** A fixed-value header's value when no option sets it. */
  readonly fallback?: string;
  /** Reads the option (given, at `path`) into the scope being built. */
  readonly apply?: (given: unknown, draft: ScopeDraft, path: string) => void;
}

/** The descriptor of a fixed-value header (see {@link SimpleHeader}). */
function simpleHeader(spec: SimpleHeader & { readonly rank: number; readonly helmetAlias?: string }): HeaderDescriptor {
  return {
    header: spec.header,
    option: spec.option,
    rank: spec.rank,
    fallback: spec.fallback,
    ...(spec.helmetAlias === undefined ? {} : { helmetAlias: spec.helmetAlias }),
    apply: (given, draft, path) => setValue(draft, spec.header, readSimple(given, spec, path)),
  };
}

function setValue(draft: ScopeDraft, header: string, value: string | undefined): void {
  if (value !== undefined) draft.values.set(header, value);
}

const HEADER_DESCRIPTORS: readonly HeaderDescriptor[] = [
  {
    header: 'Content-Security-Policy',
    option: 'contentSecurityPolicy',
    rank: 1,
    apply: (given, draft, path) => (draft.csp = readPolicy(given, draft.csp, path)),
  },
  // After Content-Security-Policy: the report-only policy starts from the enforced one.
  {
    header: 'Content-Security-Policy-Report-Only',
    option: 'contentSecurityPolicyReportOnly',
    apply: (given, draft, path) => (draft.cspReportOnly = readPolicy(given, draft.csp, path)),
  },
  {
    header: 'Reporting-Endpoints',
    option: 'reportingEndpoints',
    apply: (given, draft, path) => (draft.endpoints = readEndpoints(given, draft.endpoints, path)),
  },
  {
    header: 'Strict-Transport-Security',
    option: 'strictTransportSecurity',
    rank: 2,
    helmetAlias: 'hsts',
    apply: (given, draft, path) => (draft.hsts = readHsts(given, draft.hsts, path)),
  },
  simpleHeader({
    header: 'X-Frame-Options',
    option: 'xFrameOptions',
    rank: 4,
    field: 'action',
    values: ['DENY', 'SAMEORIGIN'],
    upperCase: true,
    fallback: 'DENY',
    helmetAlias: 'frameguard',
  }),
  {
    header: 'Referrer-Policy',
    option: 'referrerPolicy',
    rank: 5,
    fallback: 'no-referrer',
    apply: (given, draft, path) => setValue(draft, 'Referrer-Policy', readReferrerPolicy(given, path)),
  },
  simpleHeader({
    header: 'Cross-Origin-Opener-Policy',
    option: 'crossOriginOpenerPolicy',
    rank: 6,
    field: 'policy',
    values: ['same-origin', 'same-origin-allow-popups', 'noopener-allow-popups'],
    fallback: 'same-origin',
  }),
  simpleHeader({
    header: 'Cross-Origin-Resource-Policy',
    option: 'crossOriginResourcePolicy',
    rank: 7,
    field: 'policy',
    values: ['same-origin', 'same-site', 'cross-origin'],
    fallback: 'same-origin',
  }),
  {
    header: 'Cross-Origin-Embedder-Policy',
    option: 'crossOriginEmbedderPolicy',
    apply: (given, draft, path) => (draft.crossOriginEmbedderPolicy = readEmbedderPolicy(given, draft.crossOriginEmbedderPolicy, path)),
  },
  {
    header: 'Permissions-Policy',
    option: 'permissionsPolicy',
    rank: 9,
    apply: (given, draft, path) => (draft.permissions = readPermissionsPolicy(given, draft.permissions, path)),
  },
  simpleHeader({
    header: 'X-DNS-Prefetch-Control',
    option: 'xDnsPrefetchControl',
    rank: 11,
    field: 'allow',
    fallback: 'off',
    helmetAlias: 'dnsPrefetchControl',
  }),
  simpleHeader({
    header: 'X-Permitted-Cross-Domain-Policies',
    option: 'xPermittedCrossDomainPolicies',
    rank: 13,
    field: 'permittedPolicies',
    values: ['none', 'master-only', 'by-content-type', 'all'],
    fallback: 'none',
    helmetAlias: 'permittedCrossDomainPolicies',
  }),
  simpleHeader({ header: 'X-Content-Type-Options', option: 'xContentTypeOptions', rank: 3, fallback: 'nosniff', helmetAlias: 'noSniff' }),
  simpleHeader({ header: 'Origin-Agent-Cluster', option: 'originAgentCluster', rank: 8, fallback: '?1' }),
  simpleHeader({ header: 'X-Download-Options', option: 'xDownloadOptions', rank: 12, fallback: 'noopen', helmetAlias: 'ieNoOpen' }),
  simpleHeader({ header: 'X-XSS-Protection', option: 'xXssProtection', rank: 10, fallback: '0', helmetAlias: 'xssFilter' }),
  {
    header: 'Cache-Control',
    option: 'cacheControl',
    rank: 14,
    apply: (given, draft, path) => (draft.cacheControl = readCacheControl(given, path)),
  },
  { header: 'X-Powered-By', option: 'xPoweredBy', moduleOnly: true, helmetAlias: 'hidePoweredBy' },
];

/** The descriptors of the headers `dangerouslyDisable` accepts, by rank. */
const PROTECTIVE: readonly HeaderDescriptor[] = HEADER_DESCRIPTORS.filter((d) => d.rank !== undefined).sort((a, b) => (a.rank ?? 0) - (b.rank ?? 0));

/** Every header `dangerouslyDisable` accepts, in the order Palisade writes them. */
export const PROTECTIVE_HEADERS: readonly ProtectiveHeader[] = PROTECTIVE.map((d) => d.header as ProtectiveHeader);

/** The headers a scope's options set (`paths` and `@SecurityHeaders()` included). */
const SCOPE_HEADERS: readonly HeaderDescriptor[] = HEADER_DESCRIPTORS.filter((d) => !d.moduleOnly);

/** Every header Palisade may set, so that a narrower scope can remove what it does not send. */
const MANAGED_HEADERS: readonly string[] = [...PROTECTIVE_HEADERS, ...SCOPE_HEADERS.filter((d) => d.rank === undefined).map((d) => d.header)];

/** helmet's legacy option names, refused with the name to write instead. */
const HELMET_ALIASES: ReadonlyMap<string, string> = new Map(
  HEADER_DESCRIPTORS.flatMap((d): [string, string][] => (d.helmetAlias === undefined ? [] : [[d.helmetAlias, d.option]])),
);

/**
 * The longest HSTS `maxAge` accepted, in seconds: two years, what the preload list asks for.
 * Browsers keep HSTS no longer than that, and a larger number is most likely milliseconds.
 */
const MAX_HSTS_SECONDS = 63_072_000;

const REFERRER_POLICIES: ReadonlySet<string> = new Set<ReferrerPolicyToken>([
  'no-referrer',
  'no-referrer-when-downgrade',
  'same-origin',
  'origin',
  'strict-origin',
  'origin-when-cross-origin',
  'strict-origin-when-cross-origin',
  'unsafe-url',
]);

const SCOPE_KEYS: readonly string[] = [...SCOPE_HEADERS.map((d) => d.option), 'dangerouslyDisable'];
const MODULE_ONLY_KEYS: readonly string[] = ['paths', 'dangerouslyKeepXPoweredBy', ...HEADER_DESCRIPTORS.filter((d) => d.moduleOnly).map((d) => d.option)];
const MODULE_KEYS: readonly string[] = [...SCOPE_KEYS, ...MODULE_ONLY_KEYS];

const ONE_YEAR_SECONDS = 31_536_000;
const ENDPOINT_NAME = /^[a-z*][a-z0-9_\-.*]*$/;
const HEADER_VALUE = /^[\x20-\x7e]+$/;

function fail(message: string): never {
  throw new Error(`PalisadeModule: ${message}`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const DEFAULT_SCOPE: HeaderScope = {
  csp: presetDirectives('api', 'CSP_PRESETS'),
  cspReportOnly: undefined,
  endpoints: new Map(),
  hsts: { maxAgeSeconds: ONE_YEAR_SECONDS, includeSubDomains: true, preload: false },
  values: new Map(PROTECTIVE.flatMap((d): [string, string][] => (d.fallback === undefined ? [] : [[d.header, d.fallback]]))),
  permissions: defaultFeatures(),
  crossOriginEmbedderPolicy: undefined,
  cacheControl: 'no-store',
  disabled: new Set(),
};

function readDisabled(value: unknown, path: string): Set<ProtectiveHeader> {
  if (value === undefined) return new Set();
  if (!Array.isArray(value)) fail(`${path}.dangerouslyDisable is ${describe(value)}; expected an array of header names such as ['X-Frame-Options'].`);
  const disabled = new Set<ProtectiveHeader>();
  for (const entry of value as unknown[]) {
    const canonical = PROTECTIVE_HEADERS.find((h) => typeof entry === 'string' && h.toLowerCase() === entry.toLowerCase());
    if (canonical === undefined) {
      fail(`${path}.dangerouslyDisable contains ${describe(entry)}; expected one of ${PROTECTIVE_HEADERS.join(', ')}.`);
    }
    if (canonical !== entry) fail(`${path}.dangerouslyDisable contains ${JSON.stringify(entry)}; write it as '${canonical}'.`);
    disabled.add(canonical);
  }
  return disabled;
}

/**
 * Reads a fixed-value header's option (see {@link SimpleHeader}); `undefined` keeps the enclosing
 * scope's value.
 */
function readSimple(given: unknown, spec: SimpleHeader, path: string): string | undefined {
  const { header, field, values } = spec;
  if (given === true) return undefined;
  if (given === false) fail(`${path} is false; turning off ${header} is spelled dangerouslyDisable: ['${header}'].`);
  if (field === undefined) fail(`${path} is ${describe(given)}; ${header} has one value, sent by default: write true, or leave the option out.`);
  if (!isPlainObject(given)) {
    const hint =
      field === 'allow'
        ? `{ allow: ${given === 'on'} }`
        : typeof given === 'string'
          ? `{ ${field}: '${spec.upperCase === true ? given.toLowerCase() : given}' }`
          : `{ ${field}: … }`;
    fail(`${path} is ${describe(given)}; write ${hint}, the shape of helmet and Nest's SecurityHeadersOptions.`);
  }
  assertKnownKeys(given, [field], path);
  const inner = given[field];
  if (inner === undefined) return undefined;
  if (field === 'allow') {
    if (typeof inner !== 'boolean') fail(`${path}.allow is ${describe(inner)}; expected true (X-DNS-Prefetch-Control: on) or false (off).`);
    return inner ? 'on' : 'off';
  }
  const value = spec.upperCase === true && typeof inner === 'string' ? inner.toUpperCase() : inner;
  const allowed = values ?? [];
  if (spec.upperCase === true && (typeof inner !== 'string' || !allowed.includes(value as string))) {
    fail(`${path}.${field} is ${describe(inner)}; expected one of ${allowed.map((v) => `'${v.toLowerCase()}'`).join(', ')}.`);
  }
  return readEnum(value, allowed, `${path}.${field}`, header);
}

function readEnum(value: unknown, allowed: readonly string[], path: string, header: string): string {
  if (value === false) fail(`${path} is false; turning off ${header} is spelled dangerouslyDisable: ['${header}'].`);
  if (typeof value !== 'string' || !allowed.includes(value)) {
    if (header === 'Cross-Origin-Opener-Policy' && value === 'unsafe-none') {
      fail(`${path} is 'unsafe-none', which turns the protection off; write dangerouslyDisable: ['${header}'] instead.`);
    }
    fail(`${path} is ${describe(value)}; expected one of ${allowed.map((v) => `'${v}'`).join(', ')}.`);
  }
  return value;
}

function readReferrerPolicy(given: unknown, path: string): string | undefined {
  if (given === true) return undefined;
  if (given === false) fail(`${path} is false; turning off Referrer-Policy is spelled dangerouslyDisable: ['Referrer-Policy'].`);
  if (!isPlainObject(given)) {
    fail(`${path} is ${describe(given)}; write { policy: ${JSON.stringify(given) ?? '…'} }, the shape of helmet and Nest's SecurityHeadersOptions.`);
  }
  assertKnownKeys(given, ['policy'], path);
  const value = given.policy;
  if (value === undefined) return undefined;
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0 || list.some((token) => typeof token !== 'string' || !REFERRER_POLICIES.has(token))) {
    fail(`${path}.policy is ${describe(value)}; expected one of ${[...REFERRER_POLICIES].join(', ')}, or a non-empty array of them (a fallback chain).`);
  }
  return [...new Set(list as string[])].join(', ');
}

/** `crossOriginEmbedderPolicy`: `true` → `require-corp`, `false` → not sent, `{ policy }`. */
function readEmbedderPolicy(given: unknown, parent: string | undefined, path: string): string | undefined {
  if (given === undefined) return parent;
  if (given === false) return undefined;
  if (given === true) return 'require-corp';
  if (!isPlainObject(given)) {
    fail(`${path} is ${describe(given)}; write { policy: ${JSON.stringify(given) ?? '…'} }, the shape of helmet and Nest's SecurityHeadersOptions.`);
  }
  assertKnownKeys(given, ['policy'], path);
  if (given.policy === undefined) return parent ?? 'require-corp';
  if (given.policy === 'unsafe-none')
    fail(`${path}.policy is 'unsafe-none', which is the same as not sending the header; write crossOriginEmbedderPolicy: false.`);
  return readEnum(given.policy, ['require-corp', 'credentialless'], `${path}.policy`, 'Cross-Origin-Embedder-Policy');
}

/** HSTS `maxAge`: a number of seconds (helmet's unit) or a duration string. */
function readMaxAge(value: unknown, path: string): number {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0)
      fail(`${path} is ${describe(value)}; expected a whole number of seconds, such as 31536000 (one year), or a duration such as '1y'.`);
    if (value > MAX_HSTS_SECONDS) {
      fail(
        `${path} is ${value} seconds, over two years (63072000); maxAge is in seconds, as in helmet (Palisade 0.x read a number as milliseconds). For one year write 31536000 or '1y'.`,
      );
    }
    return value;
  }
  return Math.floor(parseDuration(value, path) / 1000);
}

function readHsts(value: unknown, parent: HstsSettings, path: string): HstsSettings {
  if (value === true) return parent;
  if (value === false) fail(`${path} is false; turning off Strict-Transport-Security is spelled dangerouslyDisable: ['Strict-Transport-Security'].`);
  if (!isPlainObject(value)) fail(`${path} is ${describe(value)}; expected { maxAge?, includeSubDomains?, preload? }.`);
  assertKnownKeys(value, ['maxAge', 'includeSubDomains', 'preload'], path);
  const maxAgeSeconds = value.maxAge === undefined ? parent.maxAgeSeconds : readMaxAge(value.maxAge, `${path}.maxAge`);
  if (maxAgeSeconds < 1) {
    fail(
      `${path}.maxAge is ${describe(value.maxAge)}, under one second; max-age=0 makes browsers forget HSTS. Use a duration such as '1y', or dangerouslyDisable.`,
    );
  }
  const flags: Record<'includeSubDomains' | 'preload', boolean> = { includeSubDomains: parent.includeSubDomains, preload: parent.preload };
  for (const flag of ['includeSubDomains', 'preload'] as const) {
    const given = value[flag];
    if (given !== undefined && typeof given !== 'boolean') fail(`${path}.${flag} is ${describe(given)}; expected true or false.`);
    if (typeof given === 'boolean') flags[flag] = given;
  }
  if (flags.preload && (maxAgeSeconds < ONE_YEAR_SECONDS || !flags.includeSubDomains)) {
    fail(`${path}.preload is true but the preload list needs maxAge of at least '1y' and includeSubDomains: true (max-age is ${maxAgeSeconds} s).`);
  }
  return { maxAgeSeconds, ...flags };
}

function readEndpoints(value: unknown, parent: ReadonlyMap<string, string>, path: string): ReadonlyMap<string, string> {
  if (value === undefined) return parent;
  if (!isPlainObject(value)) fail(`${path} is ${describe(value)}; expected an object such as { csp: 'https://reports.example.com/csp' }.`);
  const merged = new Map(parent);
  for (const [name, url] of Object.entries(value)) {
    if (!ENDPOINT_NAME.test(name)) fail(`${path} has endpoint name ${JSON.stringify(name)}; names are lower-case letters, digits, '_', '-' and '.'.`);
    let valid = typeof url === 'string' && HEADER_VALUE.test(url) && !url.includes('"') && !url.includes('\\');
    if (valid && !(url as string).startsWith('/')) {
      try {
        valid = new URL(url as string).protocol === 'https:';
      } catch {
        valid = false;
      }
    }
    if (!valid || (url as string).startsWith('//'))
      fail(`${path}['${name}'] is ${describe(url)}; expected an absolute https: URL or an absolute path such as '/reports'.`);
    merged.set(name, url as string);
  }
  return merged;
}

function readCacheControl(value: unknown, path: string): string {
  if (value === false) fail(`${path} is false; turning off Cache-Control is spelled dangerouslyDisable: ['Cache-Control'].`);
  if (typeof value !== 'string' || value.trim().length === 0 || value.length > 256 || !HEADER_VALUE.test(value)) {
    fail(`${path} is ${describe(value)}; expected a Cache-Control value such as 'no-store' or 'private, max-age=60'.`);
  }
  return value.trim();
}

function readPolicy(value: unknown, base: DirectiveMap, path: string): DirectiveMap {
  if (value === true) return base;
  if (value === false) fail(`${path} is false; turning off the Content-Security-Policy is spelled dangerouslyDisable: ['Content-Security-Policy'].`);
  if (!isPlainObject(value)) fail(`${path} is ${describe(value)}; expected { preset?, directives?, useDefaults? }.`);
  assertKnownKeys(value, ['preset', 'directives', 'useDefaults', 'reportOnly'], path);
  if (value.reportOnly === true) {
    fail(
      `${path}.reportOnly is true, which stops enforcing the policy; write dangerouslyDisable: ['Content-Security-Policy'] and the policy as contentSecurityPolicyReportOnly.`,
    );
  }
  if (value.reportOnly !== undefined && value.reportOnly !== false)
    fail(`${path}.reportOnly is ${describe(value.reportOnly)}; expected false, or leave it out.`);
  if (value.useDefaults !== undefined && typeof value.useDefaults !== 'boolean')
    fail(`${path}.useDefaults is ${describe(value.useDefaults)}; expected true or false.`);
  if (value.useDefaults === false && value.preset !== undefined) fail(`${path} sets both preset and useDefaults: false; keep one of them.`);
  const start = value.preset !== undefined ? presetDirectives(value.preset, `${path}.preset`) : value.useDefaults === false ? new Map() : base;
  return mergeDirectives(start, value.directives, `${path}.directives`);
}

function readPermissionsPolicy(given: unknown, parent: FeatureMap, path: string): FeatureMap {
  if (given === false) fail(`${path} is false; turning off Permissions-Policy is spelled dangerouslyDisable: ['Permissions-Policy'].`);
  if (!isPlainObject(given)) fail(`${path} is ${describe(given)}; expected { features: { camera: [], fullscreen: ['self'] } }.`);
  assertKnownKeys(given, ['features'], path);
  return mergeFeatures(parent, given.features, `${path}.features`);
}

/** The scope's options as an object of known keys: no helmet legacy name, no module-only key in a narrower scope. */
function checkScopeKeys(input: unknown, path: string, moduleLevel: boolean): Record<string, unknown> {
  if (!isPlainObject(input)) fail(`${path} is ${describe(input)}; expected an object of header options.`);
  for (const [alias, name] of HELMET_ALIASES) {
    if (Object.hasOwn(input, alias)) fail(`${path}.${alias} is helmet's legacy name; write ${path}.${name} (the name helmet and Nest use today).`);
  }
  if (!moduleLevel) {
    const moduleOnly = MODULE_ONLY_KEYS.find((key) => Object.hasOwn(input, key));
    if (moduleOnly !== undefined) fail(`${path} has option '${moduleOnly}', which is only accepted in the module's headers options.`);
  }
  assertKnownKeys(input, moduleLevel ? MODULE_KEYS : SCOPE_KEYS, path);
  return input;
}

/** The parent's disabled headers, minus those this scope configures, plus its `dangerouslyDisable`. */
function resolveDisabled(parent: ReadonlySet<ProtectiveHeader>, options: Record<string, unknown>, path: string): Set<ProtectiveHeader> {
  const disabledHere = readDisabled(options.dangerouslyDisable, path);
  const disabled = new Set(parent);
  for (const { header, option, rank } of SCOPE_HEADERS) {
    if (rank === undefined || options[option] === undefined) continue;
    if (disabledHere.has(header as ProtectiveHeader)) fail(`${path} sets ${option} and also lists '${header}' in dangerouslyDisable; keep one of them.`);
    disabled.delete(header as ProtectiveHeader); // configuring a header in a narrower scope turns it back on
  }
  for (const header of disabledHere) disabled.add(header);
  return disabled;
}

/** Each policy sent must name only declared reporting endpoints. */
function checkPolicies(scope: HeaderScope, path: string): void {
  if (!scope.disabled.has('Content-Security-Policy')) checkPolicy(scope.csp, scope.endpoints, `${path}.contentSecurityPolicy.directives`);
  if (scope.cspReportOnly !== undefined) checkPolicy(scope.cspReportOnly, scope.endpoints, `${path}.contentSecurityPolicyReportOnly.directives`);
}

/** Validates one scope's options over its parent scope. */
function resolveScope(parent: HeaderScope, input: unknown, path: string, moduleLevel: boolean): HeaderScope {
  const options = checkScopeKeys(input, path, moduleLevel);
  const disabled = resolveDisabled(parent.disabled, options, path);
  const draft: ScopeDraft = { ...parent, values: new Map(parent.values), disabled };
  for (const { option, apply } of SCOPE_HEADERS) {
    const given = options[option];
    if (given !== undefined) apply?.(given, draft, `${path}.${option}`);
  }
  checkPolicies(draft, path);
  return draft;
}

/** Serializes a scope into the header set the request path writes. */
function compileScope(scope: HeaderScope): HeaderSet {
  const on = (header: ProtectiveHeader): boolean => !scope.disabled.has(header);
  const fixed: [string, string][] = [];
  for (const [header, value] of scope.values) if (on(header as ProtectiveHeader)) fixed.push([header, value]);
  if (on('Permissions-Policy') && scope.permissions.size > 0) fixed.push(['Permissions-Policy', serializeFeatures(scope.permissions)]);
  if (scope.crossOriginEmbedderPolicy !== undefined) fixed.push(['Cross-Origin-Embedder-Policy', scope.crossOriginEmbedderPolicy]);
  if (scope.endpoints.size > 0) {
    fixed.push(['Reporting-Endpoints', [...scope.endpoints].map(([name, url]) => `${name}="${url}"`).join(', ')]);
  }
  const policies: CompiledPolicy[] = [];
  if (on('Content-Security-Policy')) policies.push({ header: 'Content-Security-Policy', parts: serializePolicy(scope.csp) });
  if (scope.cspReportOnly !== undefined) policies.push({ header: 'Content-Security-Policy-Report-Only', parts: serializePolicy(scope.cspReportOnly) });
  // A fixed policy (no nonce) is written like any other header.
  for (const policy of policies) if (policy.parts.length === 1) fixed.push([policy.header, policy.parts[0]!]);
  const noncePolicies = policies.filter((policy) => policy.parts.length > 1);
  const hsts = on('Strict-Transport-Security')
    ? `max-age=${scope.hsts.maxAgeSeconds}${scope.hsts.includeSubDomains ? '; includeSubDomains' : ''}${scope.hsts.preload ? '; preload' : ''}`
    : undefined;
  const cacheControl = on('Cache-Control') ? scope.cacheControl : undefined;
  const sent = new Set([...fixed.map(([name]) => name), ...noncePolicies.map((p) => p.header)]);
  if (hsts !== undefined) sent.add('Strict-Transport-Security');
  if (cacheControl !== undefined) sent.add('Cache-Control');
  return Object.freeze({
    fixed: Object.freeze(fixed.map((entry) => Object.freeze(entry))),
    absent: Object.freeze(MANAGED_HEADERS.filter((name) => !sent.has(name))),
    hsts,
    policies: Object.freeze(noncePolicies),
    usesNonce: noncePolicies.length > 0,
    cacheControl,
  });
}

function readPaths(value: unknown, scope: HeaderScope): PathHeaders[] {
  if (value === undefined) return [];
  if (!isPlainObject(value))
    fail(
      `headers.paths is ${describe(value)}; expected an object keyed by path prefix, such as { '/docs': { contentSecurityPolicy: { preset: 'swagger-ui' } } }.`,
    );
  const paths: PathHeaders[] = [];
  for (const [prefix, override] of Object.entries(value)) {
    if (!prefix.startsWith('/') || prefix === '/' || /[?#\s]/.test(prefix) || prefix.startsWith('//')) {
      fail(`headers.paths has prefix ${JSON.stringify(prefix)}; expected an absolute path such as '/docs' (not '/', without query or fragment).`);
    }
    const normalizedPrefix = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
    const path = `headers.paths['${prefix}']`;
    paths.push({ prefix: normalizedPrefix, set: compileScope(resolveScope(scope, override, path, false)) });
  }
  return paths.sort((a, b) => b.prefix.length - a.prefix.length);
}

/**
 * Validates `headers` once at startup and precomputes every header value.
 * @internal
 */
export function normalizeHeadersOptions(input: unknown): NormalizedHeadersOptions {
  const options = input ?? {};
  const scope = resolveScope(DEFAULT_SCOPE, options, 'headers', true);
  const { paths, dangerouslyKeepXPoweredBy, xPoweredBy } = options as Record<string, unknown>;
  if (dangerouslyKeepXPoweredBy !== undefined && typeof dangerouslyKeepXPoweredBy !== 'boolean') {
    fail(`headers.dangerouslyKeepXPoweredBy is ${describe(dangerouslyKeepXPoweredBy)}; expected true or false.`);
  }
  if (xPoweredBy === false) fail(`headers.xPoweredBy is false; keeping X-Powered-By is spelled dangerouslyKeepXPoweredBy: true.`);
  if (xPoweredBy !== undefined && xPoweredBy !== true)
    fail(`headers.xPoweredBy is ${describe(xPoweredBy)}; expected true (the default: the header is removed).`);
  return Object.freeze({
    base: compileScope(scope),
    paths: Object.freeze(readPaths(paths, scope)),
    removeXPoweredBy: dangerouslyKeepXPoweredBy !== true,
    scope,
  });
}

/**
 * Compiles a route's `@SecurityHeaders()` options, each layer over the previous one and the first
 * over `scope` (the module's, {@link NormalizedHeadersOptions.scope}); throws a precise error
 * naming `where`.
 * @internal
 */
export function compileOverrides(scope: HeaderScope, layers: readonly (readonly [override: unknown, where: string])[]): HeaderSet {
  return compileScope(layers.reduce<HeaderScope>((parent, [override, where]) => resolveScope(parent, override, where, false), scope));
}
