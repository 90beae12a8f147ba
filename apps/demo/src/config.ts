import { createHash } from 'node:crypto';
import { parseDuration } from '@palisade/nest';

/** The shared Redis of the demo: a URL, a Cluster's seed nodes, or Sentinel (forms of Palisade's `RedisConnection`). */
export type DemoRedis = string | { readonly cluster: readonly string[] } | { readonly sentinels: readonly string[]; readonly name: string };

/** The demo's configuration, read from the environment (see docs/demo.md). */
export interface DemoConfig {
  readonly port: number;
  readonly adapter: 'express' | 'fastify';
  readonly jwtSecret: string;
  /** True when JWT_SECRET was not set and the documented development secret is used. */
  readonly jwtSecretIsDefault: boolean;
  readonly jwtIssuer: string;
  readonly jwtAudience: string;
  /** SHA-256 of the service principal's API key (the key itself is not kept). */
  readonly apiKeySha256: string;
  readonly apiKeyIsDefault: boolean;
  readonly throttleLimit: number;
  readonly throttleTtlMs: number;
  readonly corsOrigins: readonly string[];
  readonly httpsEnforce: boolean;
  /** Host names HTTPS redirects may point to (HTTPS_HOSTS), the first being canonical. */
  readonly httpsHosts: readonly string[];
  /** Port of the HTTPS listener redirects point to (HTTPS_PORT); 443 is left out of the URL. */
  readonly httpsPort: number;
  /**
   * Shared storage for throttling, brute force and tokens, from REDIS_URL, REDIS_CLUSTER_NODES or
   * REDIS_SENTINELS + REDIS_SENTINEL_NAME (at most one of them); `undefined`: in memory.
   */
  readonly redis: DemoRedis | undefined;
  readonly trustProxy: string | undefined;
  readonly jwksUri: string | undefined;
}

/** The realm every challenge of the demo names (`WWW-Authenticate: Bearer realm="palisade-demo"`). */
export const DEMO_REALM = 'palisade-demo';

/** Development secret used when JWT_SECRET is unset; refused when NODE_ENV=production. */
export const DEV_JWT_SECRET = 'palisade-demo-development-secret-change-me-0123456789';
/** Development API key of the service principal `svc` when DEMO_API_KEY is unset. */
export const DEV_API_KEY = 'palisade-demo-api-key-0123456789abcdef';

function fail(message: string): never {
  throw new Error(`Demo configuration: ${message}`);
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) {
    fail(`${name} is ${JSON.stringify(raw)}; expected an integer between ${min} and ${max}.`);
  }
  return value;
}

function bool(env: NodeJS.ProcessEnv, name: string): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '' || raw === 'false') return false;
  if (raw === 'true') return true;
  return fail(`${name} is ${JSON.stringify(raw)}; expected true or false.`);
}

function optional(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw === '' ? undefined : raw;
}

const NODE = /^(?:\[[0-9A-Fa-f:.]+\]|[^:\s[\]]+):\d{1,5}$/;

/** A comma-separated list of `host:port`. */
function nodeList(env: NodeJS.ProcessEnv, name: string): string[] | undefined {
  const raw = optional(env, name);
  if (raw === undefined) return undefined;
  const nodes = raw
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
  const bad = nodes.find((entry) => !NODE.test(entry) || Number(entry.slice(entry.lastIndexOf(':') + 1)) > 65_535);
  if (nodes.length === 0 || bad !== undefined) {
    fail(`${name} is ${JSON.stringify(raw)}; expected comma-separated host:port entries such as 10.0.0.1:7000,10.0.0.2:7000.`);
  }
  return nodes;
}

/** The shared Redis, from whichever of REDIS_URL, REDIS_CLUSTER_NODES and REDIS_SENTINELS is set. */
function redisConnection(env: NodeJS.ProcessEnv): DemoRedis | undefined {
  const url = optional(env, 'REDIS_URL');
  const cluster = nodeList(env, 'REDIS_CLUSTER_NODES');
  const sentinels = nodeList(env, 'REDIS_SENTINELS');
  const name = optional(env, 'REDIS_SENTINEL_NAME');
  const set = [url && 'REDIS_URL', cluster && 'REDIS_CLUSTER_NODES', sentinels && 'REDIS_SENTINELS'].filter(Boolean);
  if (set.length > 1) fail(`${set.join(' and ')} are both set; set only one of REDIS_URL, REDIS_CLUSTER_NODES and REDIS_SENTINELS.`);
  if (sentinels !== undefined && name === undefined)
    fail('REDIS_SENTINELS is set without REDIS_SENTINEL_NAME; set the name of the primary the sentinels monitor.');
  if (name !== undefined && sentinels === undefined)
    fail('REDIS_SENTINEL_NAME is set without REDIS_SENTINELS; set the sentinels as comma-separated host:port.');
  if (url !== undefined) {
    if (!/^rediss?:\/\//.test(url)) fail('REDIS_URL is not a redis:// or rediss:// URL.');
    return url;
  }
  if (cluster !== undefined) return { cluster };
  if (sentinels !== undefined && name !== undefined) return { sentinels, name };
  return undefined;
}

/** Reads and validates the environment; throws with a precise message on a bad value. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): DemoConfig {
  const adapter = env.HTTP_ADAPTER ?? 'express';
  if (adapter !== 'express' && adapter !== 'fastify') fail(`HTTP_ADAPTER is ${JSON.stringify(adapter)}; expected express or fastify.`);
  const secret = optional(env, 'JWT_SECRET');
  if (secret === undefined && env.NODE_ENV === 'production') {
    fail('JWT_SECRET is not set and NODE_ENV=production; the development secret is refused in production. Set JWT_SECRET (at least 32 bytes).');
  }
  const apiKey = optional(env, 'DEMO_API_KEY');
  if (apiKey === undefined && env.NODE_ENV === 'production') {
    fail('DEMO_API_KEY is not set and NODE_ENV=production; the documented development key is refused in production.');
  }
  let throttleTtlMs: number;
  try {
    throttleTtlMs = parseDuration(optional(env, 'THROTTLE_TTL') ?? '60s', 'THROTTLE_TTL');
  } catch {
    fail(`THROTTLE_TTL is ${JSON.stringify(env.THROTTLE_TTL)}; expected a duration such as 500ms, 60s or 1m.`);
  }
  return {
    port: integer(env, 'PORT', 3000, 0, 65_535),
    adapter,
    jwtSecret: secret ?? DEV_JWT_SECRET,
    jwtSecretIsDefault: secret === undefined,
    jwtIssuer: optional(env, 'JWT_ISSUER') ?? 'palisade-demo',
    jwtAudience: optional(env, 'JWT_AUDIENCE') ?? 'palisade-demo',
    apiKeySha256: createHash('sha256')
      .update(apiKey ?? DEV_API_KEY, 'utf8')
      .digest('hex'),
    apiKeyIsDefault: apiKey === undefined,
    throttleLimit: integer(env, 'THROTTLE_LIMIT', 100, 1, 1_000_000),
    throttleTtlMs,
    corsOrigins: (optional(env, 'CORS_ORIGINS') ?? '')
      .split(',')
      .map((origin) => origin.trim())
      .filter((origin) => origin.length > 0),
    httpsEnforce: bool(env, 'HTTPS_ENFORCE'),
    httpsHosts: (optional(env, 'HTTPS_HOSTS') ?? 'localhost,127.0.0.1')
      .split(',')
      .map((host) => host.trim())
      .filter((host) => host.length > 0),
    httpsPort: integer(env, 'HTTPS_PORT', 443, 1, 65_535),
    redis: redisConnection(env),
    trustProxy: optional(env, 'TRUST_PROXY'),
    jwksUri: optional(env, 'JWKS_URI'),
  };
}
