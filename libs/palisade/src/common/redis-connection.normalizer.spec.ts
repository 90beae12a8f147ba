import { Cluster, Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { isClusterClient, normalizeRedisConnection } from './redis-connection.normalizer.js';

const NONE = { username: undefined, password: undefined, tls: undefined };

describe('normalizeRedisConnection', () => {
  it('a URL, with TLS and credentials beside it', () => {
    expect(normalizeRedisConnection('rediss://cache:6380', 'x.redis')).toEqual({
      kind: 'url',
      url: 'rediss://cache:6380',
      security: NONE,
      source: 'rediss://cache:6380',
    });
    const form = { url: 'redis://cache:6379', username: 'app', password: 'secret', tls: true as const };
    expect(normalizeRedisConnection(form, 'x.redis')).toEqual({
      kind: 'url',
      url: 'redis://cache:6379',
      security: { username: 'app', password: 'secret', tls: {} },
      source: form,
    });
  });

  it('a Cluster from seed nodes: host:port, [IPv6]:port or { host, port }', () => {
    const form = { cluster: ['10.0.0.1:7000', '[::1]:7001', { host: 'redis-2', port: 7002 }] };
    expect(normalizeRedisConnection(form, 'x.redis')).toMatchObject({
      kind: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '::1', port: 7001 },
        { host: 'redis-2', port: 7002 },
      ],
      source: form,
    });
  });

  it('Sentinel: sentinels, the primary name, and separate credentials for the sentinels', () => {
    const form = { sentinels: ['s1:26379'], name: 'mymaster', password: 'data', sentinelPassword: 'sent', sentinelTls: true as const };
    expect(normalizeRedisConnection(form, 'x.redis')).toMatchObject({
      kind: 'sentinel',
      sentinels: [{ host: 's1', port: 26379 }],
      name: 'mymaster',
      security: { password: 'data' },
      sentinel: { password: 'sent', tls: {} },
    });
  });

  it("an application's ioredis Redis or Cluster client, used as it is", () => {
    const redis = new Redis({ lazyConnect: true });
    const cluster = new Cluster([{ host: '127.0.0.1', port: 7000 }], { lazyConnect: true });
    expect(normalizeRedisConnection(redis, 'x.redis')).toEqual({ kind: 'client', client: redis, source: redis });
    expect(normalizeRedisConnection(cluster, 'x.redis')).toEqual({ kind: 'client', client: cluster, source: cluster });
    expect(isClusterClient(cluster)).toBe(true);
    expect(isClusterClient(redis)).toBe(false);
    redis.disconnect();
    cluster.disconnect();
  });

  it.each([
    ['cache:6379', 'PalisadeModule: t.redis is not a redis:// or rediss:// URL; pass a redis:// URL, { url }'],
    [42, 'PalisadeModule: t.redis is 42; expected a redis:// URL'],
    [{ url: 'http://x' }, 'PalisadeModule: t.redis.url is not a redis:// or rediss:// URL.'],
    [{ cluster: ['a:70000'] }, 'PalisadeModule: t.redis.cluster[0].port is 70000; expected 1 to 65535.'],
    [{ cluster: [{ host: '', port: 1 }] }, 'PalisadeModule: t.redis.cluster[0].host is ""; expected a host name or address.'],
    [{ cluster: ['a:1'], tsl: true }, 'PalisadeModule: unknown option t.redis.tsl; did you mean t.redis.tls?'],
    [{ sentinels: ['a:1'], name: '' }, 'PalisadeModule: t.redis.name is ""; expected the name of the primary'],
    [{ url: 'redis://x', password: 12345 }, 'PalisadeModule: t.redis.password is not a non-empty string'],
    [{ url: 'redis://x', tls: 'yes' }, 'PalisadeModule: t.redis.tls is "yes"; expected true or tls.connect options'],
  ])('refuses %j', (value, message) => {
    expect(() => normalizeRedisConnection(value, 't.redis')).toThrow(message);
  });

  it('never echoes a password in a message', () => {
    expect(() => normalizeRedisConnection({ url: 'redis://x', password: ['hunter2'] }, 't.redis')).toThrow(/^(?!.*hunter2)/);
  });
});
