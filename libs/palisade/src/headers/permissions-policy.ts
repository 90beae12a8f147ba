import { describe } from '../common/duration.js';

/**
 * Features turned off by default (`feature=()`): the powerful features an API never needs, all
 * recognised by current browsers (unknown names make Chromium log a warning per response).
 * @internal
 */
export const DEFAULT_DISABLED_FEATURES: readonly string[] = Object.freeze([
  'accelerometer',
  'autoplay',
  'camera',
  'display-capture',
  'encrypted-media',
  'fullscreen',
  'geolocation',
  'gyroscope',
  'magnetometer',
  'microphone',
  'midi',
  'payment',
  'picture-in-picture',
  'publickey-credentials-get',
  'screen-wake-lock',
  'sync-xhr',
  'usb',
  'xr-spatial-tracking',
]);

/** Serialized allowlists by feature, in header order. @internal */
export type FeatureMap = ReadonlyMap<string, string>;

const FEATURE_NAME = /^[a-z][a-z0-9-]*$/;

function fail(message: string): never {
  throw new Error(`PalisadeModule: ${message}`);
}

function serializeOrigin(value: string, where: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.origin === 'null' || `${url.origin}/` !== url.href.replace(/\/?$/, '/')) {
    fail(`${where} contains ${describe(value)}; expected 'self', 'src', '*' or an origin such as 'https://maps.example.com' (no path).`);
  }
  return `"${url.origin}"`;
}

function serializeAllowlist(value: unknown, where: string): string {
  if (value === '*') return '*';
  if (!Array.isArray(value)) fail(`${where} is ${describe(value)}; expected '*' or an array of 'self', 'src' and origins ([] turns the feature off).`);
  const items = new Set<string>();
  for (const item of value as unknown[]) {
    if (item === 'self' || item === 'src') items.add(item);
    else if (item === '*') fail(`${where} mixes '*' with other entries; give '*' alone (not in an array).`);
    else if (item === "'self'" || item === "'src'") fail(`${where} contains ${item}; Permissions-Policy keywords are not quoted. Write ${item.slice(1, -1)}.`);
    else if (typeof item === 'string') items.add(serializeOrigin(item, where));
    else fail(`${where} contains ${describe(item)}; expected 'self', 'src' or an origin.`);
  }
  return `(${[...items].join(' ')})`;
}

/** The default policy: every feature of {@link DEFAULT_DISABLED_FEATURES} off. @internal */
export function defaultFeatures(): FeatureMap {
  return new Map(DEFAULT_DISABLED_FEATURES.map((feature) => [feature, '()']));
}

/** Applies `features` on top of `base` (validated). @internal */
export function mergeFeatures(base: FeatureMap, features: unknown, path: string): FeatureMap {
  if (features === undefined) return base;
  if (typeof features !== 'object' || features === null || Array.isArray(features)) {
    fail(`${path} is ${describe(features)}; expected an object such as { fullscreen: ['self'] }.`);
  }
  const merged = new Map(base);
  for (const [feature, allowlist] of Object.entries(features)) {
    if (!FEATURE_NAME.test(feature)) {
      fail(`${path} has feature ${JSON.stringify(feature)}; feature names are lower-case with dashes, as in the header ('display-capture').`);
    }
    if (allowlist === null) merged.delete(feature);
    else merged.set(feature, serializeAllowlist(allowlist, `${path}['${feature}']`));
  }
  return merged;
}

/** `camera=(), fullscreen=(self)`. @internal */
export function serializeFeatures(features: FeatureMap): string {
  return [...features].map(([feature, allowlist]) => `${feature}=${allowlist}`).join(', ');
}
