import type { ConnectionOptions } from 'node:tls';
import type { Cluster, Redis } from 'ioredis';
import { describe } from './duration.js';
import { assertKnownKeys } from './option-keys.js';
import type { RedisConnection, RedisNodeAddress } from './redis-connection.interface.js';

/** A node's address, parsed. @internal */
export interface RedisNode {
  readonly host: string;
  readonly port: number;
}

/** Credentials and TLS, checked. @internal */
export interface NormalizedRedisSecurity {
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly tls: ConnectionOptions | undefined;
}

/**
 * A validated {@link RedisConnection}. `source` is the value the user passed: stores given the same
 * value share one connection. @internal
 */
export type NormalizedRedisConnection =
  | { readonly kind: 'client'; readonly client: Redis | Cluster; readonly source: object }
  | { readonly kind: 'url'; readonly url: string; readonly security: NormalizedRedisSecurity; readonly source: string | object }
  | { readonly kind: 'cluster'; readonly nodes: readonly RedisNode[]; readonly security: NormalizedRedisSecurity; readonly source: object }
  | {
      readonly kind: 'sentinel';
      readonly sentinels: readonly RedisNode[];
      readonly name: string;
      readonly security: NormalizedRedisSecurity;
      readonly sentinel: NormalizedRedisSecurity;
      readonly source: object;
    };

const URL_PATTERN = /^rediss?:\/\//;
const SECURITY_KEYS = ['username', 'password', 'tls'];
const FORMS = "a redis:// URL, { url }, { cluster: ['host:port', …] }, { sentinels: ['host:port', …], name }, or an ioredis Redis or Cluster client";

function fail(message: string): never {
  throw new Error(`PalisadeModule: ${message}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** True for an ioredis `Redis` or `Cluster` (by shape: the application may load its own copy of ioredis). @internal */
export function isRedisClient(value: unknown): value is Redis | Cluster {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return typeof candidate.defineCommand === 'function' && typeof candidate.quit === 'function' && typeof candidate.status === 'string';
}

/** True for an ioredis `Cluster` client. @internal */
export function isClusterClient(client: Redis | Cluster): client is Cluster {
  return (client as { isCluster?: unknown }).isCluster === true;
}

function node(value: RedisNodeAddress | unknown, path: string): RedisNode {
  let host: unknown;
  let port: unknown;
  if (typeof value === 'string') {
    const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(value);
    if (!match) fail(`${path} is ${describe(value)}; expected 'host:port' (e.g. '10.0.0.1:7000', '[::1]:7000').`);
    host = match[1] ?? match[2];
    port = Number(match[3]);
  } else if (isObject(value)) {
    assertKnownKeys(value, ['host', 'port'], path);
    ({ host, port } = value);
  } else {
    fail(`${path} is ${describe(value)}; expected 'host:port' or { host, port }.`);
  }
  if (typeof host !== 'string' || host.length === 0) fail(`${path}.host is ${describe(host)}; expected a host name or address.`);
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535) fail(`${path}.port is ${describe(port)}; expected 1 to 65535.`);
  return { host, port };
}

function nodes(value: unknown, path: string): RedisNode[] {
  if (!Array.isArray(value) || value.length === 0) fail(`${path} is ${describe(value)}; expected at least one 'host:port'.`);
  return value.map((entry, i) => node(entry, `${path}[${i}]`));
}

function security(input: Record<string, unknown>, path: string, keys: { username: string; password: string; tls: string }): NormalizedRedisSecurity {
  const username = input[keys.username];
  const password = input[keys.password];
  const tls = input[keys.tls];
  if (username !== undefined && (typeof username !== 'string' || username.length === 0))
    fail(`${path}.${keys.username} is ${describe(username)}; expected a non-empty string.`);
  // The value itself is never echoed: it is a secret.
  if (password !== undefined && (typeof password !== 'string' || password.length === 0))
    fail(`${path}.${keys.password} is not a non-empty string; pass the password as a string, or leave it out.`);
  if (tls !== undefined && tls !== true && !isObject(tls))
    fail(`${path}.${keys.tls} is ${describe(tls)}; expected true or tls.connect options ({ ca, cert, key, … }).`);
  return {
    username: username as string | undefined,
    password: password as string | undefined,
    tls: tls === undefined ? undefined : tls === true ? {} : (tls as ConnectionOptions),
  };
}

/**
 * Validates a store's `redis` option once at startup (`path` names it in messages, e.g.
 * `throttle.storage.redis`). @internal
 */
export function normalizeRedisConnection(value: RedisConnection | unknown, path: string): NormalizedRedisConnection {
  if (typeof value === 'string') {
    if (!URL_PATTERN.test(value)) fail(`${path} is not a redis:// or rediss:// URL; pass ${FORMS}.`);
    return { kind: 'url', url: value, security: { username: undefined, password: undefined, tls: undefined }, source: value };
  }
  if (isRedisClient(value)) return { kind: 'client', client: value, source: value };
  if (!isObject(value)) fail(`${path} is ${describe(value)}; expected ${FORMS}.`);
  const plain = { username: 'username', password: 'password', tls: 'tls' };
  if ('url' in value) {
    assertKnownKeys(value, ['url', ...SECURITY_KEYS], path);
    if (typeof value.url !== 'string' || !URL_PATTERN.test(value.url)) fail(`${path}.url is not a redis:// or rediss:// URL.`);
    return { kind: 'url', url: value.url, security: security(value, path, plain), source: value };
  }
  if ('cluster' in value) {
    assertKnownKeys(value, ['cluster', ...SECURITY_KEYS], path);
    return { kind: 'cluster', nodes: nodes(value.cluster, `${path}.cluster`), security: security(value, path, plain), source: value };
  }
  if ('sentinels' in value) {
    assertKnownKeys(value, ['sentinels', 'name', 'sentinelUsername', 'sentinelPassword', 'sentinelTls', ...SECURITY_KEYS], path);
    if (typeof value.name !== 'string' || value.name.length === 0)
      fail(`${path}.name is ${describe(value.name)}; expected the name of the primary the sentinels monitor (e.g. 'mymaster').`);
    return {
      kind: 'sentinel',
      sentinels: nodes(value.sentinels, `${path}.sentinels`),
      name: value.name,
      security: security(value, path, plain),
      sentinel: security(value, path, { username: 'sentinelUsername', password: 'sentinelPassword', tls: 'sentinelTls' }),
      source: value,
    };
  }
  return fail(`${path} is an object with none of url, cluster or sentinels, and not an ioredis client; pass ${FORMS}.`);
}
