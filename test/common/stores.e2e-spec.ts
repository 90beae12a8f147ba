/**
 * Stores and Redis clients as injectable providers (issue 18): a store the application brings
 * (instance or DI-resolved class) is the one the guards, the brute-force limiter and TokenService
 * use; `@InjectThrottleStore()` / `@InjectTokenStore()` hand it out; a store that rejects is under
 * the shared outage policy (503 + Retry-After: 1, one store.unavailable event); an ioredis client
 * of the application is used and left open at shutdown; a bad store or Redis form stops startup
 * with a precise message. Every scenario runs on Express and Fastify.
 */
import { Controller, Get, Injectable, Module, type INestApplication } from '@nestjs/common';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import {
  InjectThrottleStore,
  InjectTokenStore,
  MemoryThrottleStore,
  MemoryTokenStore,
  PalisadeModule,
  Public,
  type PalisadeModuleOptions,
  type RefreshRotation,
  type RefreshTokenRecord,
  type ThrottleHit,
  type ThrottleStore,
  type ThrottlerStorageRecord,
  type TokenStore,
} from '@palisade/nest';
import { loadConfig } from '../../apps/demo/src/config.js';
import { ADAPTERS, bootApp, type AdapterName } from '../support/app.js';
import { CollectingSink } from '../support/events.js';
import { keysUnder, redisClient, redisPrefix, requireRedis, deleteKeysUnder } from '../support/redis.js';
import { TEST_SECRET } from '../support/tokens.js';
import { THROTTLE_UNAVAILABLE } from '../support/throttle.js';
import {
  OpenController,
  TOKEN_AUDIENCE,
  TOKEN_ISSUER,
  TOKEN_STORE_UNAVAILABLE,
  TokenLifecycleController,
  WhoAmIController,
  expectInvalidToken,
  getWith,
  login,
  logout,
  rotate,
} from '../support/token-app.js';

/** A ThrottleStore that counts the calls it gets, over the in-memory store. */
class CountingThrottleStore extends MemoryThrottleStore {
  readonly keys: string[] = [];

  override incrementMany(hits: readonly ThrottleHit[]): Promise<ThrottlerStorageRecord[]> {
    for (const hit of hits) this.keys.push(hit.key);
    return super.incrementMany(hits);
  }
}

/** Not a TokenStore: it has none of the methods one needs. */
class PartialStore {
  describe(): string {
    return 'not a token store';
  }
}

/** A dependency of the DI-resolved token store, from the application's own module. */
@Injectable()
class CallLog {
  readonly calls: string[] = [];
}

@Module({ providers: [CallLog], exports: [CallLog] })
class CallLogModule {}

/** A TokenStore that records its calls in an injected {@link CallLog}, over the in-memory store. */
@Injectable()
class LoggingTokenStore extends MemoryTokenStore {
  constructor(readonly log: CallLog) {
    super(1_000);
  }

  override saveRefreshToken(familyId: string, digest: string, record: RefreshTokenRecord, accessJti: string, accessExpiresAt: number): Promise<boolean> {
    this.log.calls.push('saveRefreshToken');
    return super.saveRefreshToken(familyId, digest, record, accessJti, accessExpiresAt);
  }

  override rotateRefreshToken(familyId: string, digest: string, rotation: RefreshRotation) {
    this.log.calls.push('rotateRefreshToken');
    return super.rotateRefreshToken(familyId, digest, rotation);
  }

  override revokeAccessToken(jti: string, expiresAt: number): Promise<void> {
    this.log.calls.push('revokeAccessToken');
    return super.revokeAccessToken(jti, expiresAt);
  }
}

/** A shared store that is down: every call rejects, as a network store's client would. */
class DownThrottleStore implements ThrottleStore {
  calls = 0;
  private fail(): Promise<never> {
    this.calls += 1;
    return Promise.reject(new Error('connection refused'));
  }
  increment(): Promise<ThrottlerStorageRecord> {
    return this.fail();
  }
  incrementMany(): Promise<ThrottlerStorageRecord[]> {
    return this.fail();
  }
  blockedFor(): Promise<number> {
    return this.fail();
  }
}

/** A token store whose revocation check is down (the rest works, in memory). */
class RevocationDownTokenStore implements TokenStore {
  private readonly inner = new MemoryTokenStore(1_000);
  saveRefreshToken(...args: Parameters<TokenStore['saveRefreshToken']>) {
    return this.inner.saveRefreshToken(...args);
  }
  findRefreshToken(...args: Parameters<TokenStore['findRefreshToken']>) {
    return this.inner.findRefreshToken(...args);
  }
  rotateRefreshToken(...args: Parameters<TokenStore['rotateRefreshToken']>) {
    return this.inner.rotateRefreshToken(...args);
  }
  revokeFamily(...args: Parameters<TokenStore['revokeFamily']>) {
    return this.inner.revokeFamily(...args);
  }
  revokeAccessToken(...args: Parameters<TokenStore['revokeAccessToken']>) {
    return this.inner.revokeAccessToken(...args);
  }
  isAccessTokenRevoked(): Promise<boolean> {
    return Promise.reject(new Error('connection refused'));
  }
}

/** Hands out what the injection helpers give, so the tests can compare identities. */
@Controller('stores')
class StoresController {
  constructor(
    @InjectThrottleStore() readonly throttleStore: ThrottleStore,
    @InjectTokenStore() readonly tokenStore: TokenStore | null,
  ) {}

  @Get('limited') @Public() limited() {
    return { ok: true };
  }
}

function storesModule(options: PalisadeModuleOptions, extra: { imports?: unknown[]; providers?: unknown[] } = {}) {
  return {
    imports: [
      ...((extra.imports ?? []) as never[]),
      PalisadeModule.forRootAsync({
        imports: [CallLogModule],
        useFactory: () => options,
        global: true,
      }),
    ],
    controllers: [StoresController, TokenLifecycleController, WhoAmIController, OpenController],
    providers: [CollectingSink, ...((extra.providers ?? []) as never[])],
  };
}

const jwtAuth = { jwt: { secret: TEST_SECRET, issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE } };

describe.each(ADAPTERS)('stores the application brings, on %s', (adapter: AdapterName) => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('a ThrottleStore instance counts every request of the guard (brute-force state stays in Palisade’s own partition), and is what @InjectThrottleStore() uses', async () => {
    const store = new CountingThrottleStore();
    ({ app } = await bootApp(
      adapter,
      storesModule({
        auth: jwtAuth,
        throttle: { throttlers: [{ name: 'default', limit: 2, ttl: '1m' }], storage: { store, prefix: 'app:' }, authFailures: { limit: 5, ttl: '1m' } },
      }),
    ));
    const http = request(app.getHttpServer());
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await http.get('/stores/limited')).status);
    expect(statuses).toEqual([200, 200, 429]);
    expect(store.keys).toHaveLength(3);
    expect(store.keys.every((key) => key.startsWith('app:{'))).toBe(true);

    // Brute-force state (attempts reserved before verification, failures, blocks) lives in
    // Palisade's own partition, which a ThrottleStore's counters cannot express: the application's
    // store sees none of it, and the limit (5) still holds.
    const guesses = [];
    for (let i = 0; i < 6; i++) guesses.push((await http.get('/me').set('Authorization', 'Bearer not-a-jwt')).status);
    expect(guesses).toEqual([401, 401, 401, 401, 401, 429]);
    expect(store.keys.some((key) => key.endsWith(':auth-failures'))).toBe(false);

    // The injected store is the one in use: a hit through it lands in the application's store.
    const injected = app.get(StoresController).throttleStore;
    const before = store.keys.length;
    await injected.incrementMany([{ key: 'app:{probe}', ttlMs: 60_000, limit: 1, blockMs: 0 }]);
    expect(store.keys.slice(before)).toEqual(['app:{probe}']);
  });

  it('a TokenStore class is resolved through DI (its dependency injected) and used by TokenService for issue, rotation, revocation', async () => {
    ({ app } = await bootApp(adapter, storesModule({ auth: jwtAuth, tokens: { storage: { store: LoggingTokenStore } } })));
    const injected = app.get(StoresController).tokenStore;
    expect(injected).toBeInstanceOf(LoggingTokenStore);
    const log = (injected as LoggingTokenStore).log;
    expect(log).toBeInstanceOf(CallLog);

    const pair = await login(app);
    const next = await rotate(app, pair.refresh_token);
    expect((await logout(app, next.access_token)).status).toBe(204);
    expectInvalidToken(await getWith(app, next.access_token));
    // Logout revokes the access token, then its family's access tokens again (the store is idempotent).
    expect(log.calls.slice(0, 3)).toEqual(['saveRefreshToken', 'rotateRefreshToken', 'revokeAccessToken']);
    expect(new Set(log.calls.slice(3))).toEqual(new Set(['revokeAccessToken']));
  });

  it('a class the application already provides is that provider, not a second instance', async () => {
    ({ app } = await bootApp(
      adapter,
      storesModule({ auth: jwtAuth, tokens: { storage: { store: LoggingTokenStore } } }, { imports: [CallLogModule], providers: [LoggingTokenStore] }),
    ));
    const injected = app.get(StoresController).tokenStore as LoggingTokenStore;
    expect(injected).toBe(app.get(LoggingTokenStore));
    await login(app);
    expect(injected.log.calls).toEqual(['saveRefreshToken']);
  });

  it('a ThrottleStore that rejects is under the outage policy: 503 with Retry-After: 1 (failOpen: false), one store.unavailable event', async () => {
    const store = new DownThrottleStore();
    ({ app } = await bootApp(
      adapter,
      storesModule({
        auth: jwtAuth,
        throttle: { throttlers: [{ name: 'default', limit: 5, ttl: '1m' }], storage: { store }, failOpen: false, authFailures: false },
      }),
    ));
    const http = request(app.getHttpServer());
    for (let i = 0; i < 2; i++) {
      const res = await http.get('/stores/limited');
      expect({ status: res.status, body: res.body as unknown, retryAfter: res.headers['retry-after'] }).toEqual({
        status: 503,
        body: THROTTLE_UNAVAILABLE,
        retryAfter: '1',
      });
    }
    expect(store.calls).toBe(2);
    expect(app.get(CollectingSink).ofType('store.unavailable')).toEqual([expect.objectContaining({ store: 'throttle', policy: 'fail-closed' })]);
  });

  it('a ThrottleStore that rejects under failOpen (default) counts per instance in memory instead', async () => {
    ({ app } = await bootApp(
      adapter,
      storesModule({
        auth: jwtAuth,
        throttle: { throttlers: [{ name: 'default', limit: 1, ttl: '1m' }], storage: { store: new DownThrottleStore() }, authFailures: false },
      }),
    ));
    const http = request(app.getHttpServer());
    expect([(await http.get('/stores/limited')).status, (await http.get('/stores/limited')).status]).toEqual([200, 429]);
  });

  it('a TokenStore that rejects answers 503 with Retry-After: 1 on a bearer request (tokens fail closed)', async () => {
    ({ app } = await bootApp(adapter, storesModule({ auth: jwtAuth, tokens: { storage: { store: new RevocationDownTokenStore() } } })));
    const pair = await login(app);
    const res = await getWith(app, pair.access_token);
    expect({ status: res.status, body: res.body as unknown, retryAfter: res.headers['retry-after'] }).toEqual({
      status: 503,
      body: TOKEN_STORE_UNAVAILABLE,
      retryAfter: '1',
    });
    expect(app.get(CollectingSink).ofType('store.unavailable')).toEqual([expect.objectContaining({ store: 'tokens', policy: 'fail-closed' })]);
  });
});

describe.each(ADAPTERS)("the application's own ioredis client, on %s", (adapter: AdapterName) => {
  it('is used by the throttle and token stores and left open when the app closes', async (ctx) => {
    const admin = await requireRedis(ctx);
    const prefix = redisPrefix();
    const client = redisClient();
    await client.connect();
    ctx.onTestFinished(async () => {
      await deleteKeysUnder(admin, prefix);
      client.disconnect();
    });
    const { app } = await bootApp(
      adapter,
      storesModule({
        auth: jwtAuth,
        throttle: { throttlers: [{ name: 'default', limit: 10, ttl: '1m' }], storage: { redis: client, prefix }, authFailures: false },
        tokens: { storage: { redis: client, prefix } },
      }),
    );
    let closed = false;
    try {
      expect((await request(app.getHttpServer()).get('/stores/limited')).status).toBe(200);
      const pair = await login(app);
      expect((await logout(app, pair.access_token)).status).toBe(204);
      const keys = await keysUnder(admin, prefix);
      expect(keys.some((key) => key.includes('{fam:'))).toBe(true);
      expect(keys.some((key) => key.includes(':revoked:'))).toBe(true);
      // The throttle counter: `<prefix>{<client ip>}…`, beside the token family's `<prefix>{fam:…}`.
      expect(keys.some((key) => key.startsWith(`${prefix}{`) && !key.startsWith(`${prefix}{fam:`))).toBe(true);
      await app.close();
      closed = true;
      // Palisade did not quit the application's client: it still answers.
      expect(client.status).toBe('ready');
      expect(await client.ping()).toBe('PONG');
    } finally {
      if (!closed) await app.close();
    }
  });
});

describe.each(ADAPTERS)('startup refusals, on %s', (adapter: AdapterName) => {
  it.each<[string, PalisadeModuleOptions, string]>([
    [
      'a ThrottleStore instance missing methods',
      { throttle: { throttlers: [{ limit: 1, ttl: '1m' }], storage: { store: { increment: () => undefined } as never } } },
      'PalisadeModule: throttle.storage.store (an object) has no incrementMany(), blockedFor(); a ThrottleStore needs increment(), incrementMany(), blockedFor(). Implement the missing methods.',
    ],
    [
      'a TokenStore class missing a method',
      { tokens: { storage: { store: PartialStore as never } } },
      'PalisadeModule: tokens.storage.store (class PartialStore) has no saveRefreshToken(), findRefreshToken(), rotateRefreshToken(), revokeFamily(), revokeAccessToken(), isAccessTokenRevoked(); a TokenStore needs',
    ],
    [
      'a factory function given where a store or its class is expected',
      { tokens: { storage: { store: (() => new MemoryTokenStore(100)) as never } } },
      'PalisadeModule: tokens.storage.store is a function that is not a class; pass a TokenStore instance or its class.',
    ],
    [
      'a Cluster without seed nodes',
      { throttle: { throttlers: [{ limit: 1, ttl: '1m' }], storage: { redis: { cluster: [] } } } },
      "PalisadeModule: throttle.storage.redis.cluster is an array of 0; expected at least one 'host:port'.",
    ],
    [
      'a Cluster node without a port',
      { tokens: { storage: { redis: { cluster: ['10.0.0.1'] } } } },
      'PalisadeModule: tokens.storage.redis.cluster[0] is "10.0.0.1"; expected \'host:port\'',
    ],
    [
      'Sentinel without the primary name',
      { tokens: { storage: { redis: { sentinels: ['10.0.0.1:26379'] } as never } } },
      "PalisadeModule: tokens.storage.redis.name is undefined; expected the name of the primary the sentinels monitor (e.g. 'mymaster').",
    ],
    [
      'an object that is neither a form nor a client',
      { throttle: { throttlers: [{ limit: 1, ttl: '1m' }], storage: { redis: { host: 'x' } as never } } },
      'PalisadeModule: throttle.storage.redis is an object with none of url, cluster or sentinels, and not an ioredis client',
    ],
  ])('refuses %s', async (_name, options, message) => {
    await expect(bootApp(adapter, storesModule(options))).rejects.toThrow(message);
  });
});

describe("the demo's Redis variables (DESIGN.md contract)", () => {
  it('REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS + REDIS_SENTINEL_NAME; none: in memory', () => {
    expect(loadConfig({}).redis).toBeUndefined();
    expect(loadConfig({ REDIS_URL: 'redis://cache:6379' }).redis).toBe('redis://cache:6379');
    expect(loadConfig({ REDIS_CLUSTER_NODES: ' 10.0.0.1:7000, 10.0.0.2:7001 ' }).redis).toEqual({ cluster: ['10.0.0.1:7000', '10.0.0.2:7001'] });
    expect(loadConfig({ REDIS_SENTINELS: '10.0.0.1:26379,[::1]:26380', REDIS_SENTINEL_NAME: 'mymaster' }).redis).toEqual({
      sentinels: ['10.0.0.1:26379', '[::1]:26380'],
      name: 'mymaster',
    });
  });

  it.each([
    [{ REDIS_URL: 'redis://a:6379', REDIS_CLUSTER_NODES: 'b:7000' }, 'Demo configuration: REDIS_URL and REDIS_CLUSTER_NODES are both set; set only one'],
    [{ REDIS_CLUSTER_NODES: '10.0.0.1' }, 'Demo configuration: REDIS_CLUSTER_NODES is "10.0.0.1"; expected comma-separated host:port entries'],
    [{ REDIS_CLUSTER_NODES: 'a:99999' }, 'Demo configuration: REDIS_CLUSTER_NODES is "a:99999"'],
    [{ REDIS_SENTINELS: 'a:26379' }, 'Demo configuration: REDIS_SENTINELS is set without REDIS_SENTINEL_NAME'],
    [{ REDIS_SENTINEL_NAME: 'mymaster' }, 'Demo configuration: REDIS_SENTINEL_NAME is set without REDIS_SENTINELS'],
    [{ REDIS_URL: 'cache:6379' }, 'Demo configuration: REDIS_URL is not a redis:// or rediss:// URL.'],
  ])('refuses %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });
});
