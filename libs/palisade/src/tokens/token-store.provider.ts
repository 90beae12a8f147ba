import { Logger, type OnApplicationBootstrap, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { resolveCustomStore } from '../common/custom-store.js';
import { TOKENS_OPTIONS } from './tokens.constants.js';
import { RedisConnections } from '../common/redis-connections.js';
import { MemoryTokenStore } from './memory-token.store.js';
import { RedisTokenStore } from './redis-token.store.js';
import { RevocationMirror, type MirrorState } from './revocation-mirror.js';
import { TOKEN_STORE } from './token-store.decorator.js';
import type { TokenStore } from './token-store.interface.js';
import type { NormalizedTokensOptions } from './tokens-options.normalizer.js';

/** How often the revocation mirror's link is pinged; a silent link stops serving within 2.5×. */
const MIRROR_HEARTBEAT_MS = 500;

/** Says once that Redis refused the mirror (no CLIENT TRACKING); checks keep going to Redis. */
function mirrorRefusalLogger(): (state: MirrorState, reason?: unknown) => void {
  let said = false;
  return (state, reason) => {
    if (state !== 'off' || !(reason instanceof Error) || said) return;
    said = true;
    new Logger('PalisadeTokens').warn(`Revocation mirror off: Redis refused to set it up (${reason.message}); every revocation check goes to Redis.`);
  };
}

/**
 * The configured token store, obtained once at startup: memory, Redis (a server, a Cluster,
 * Sentinel or the application's client; with the revocation mirror where tracking works), or the
 * application's own store. Starts and closes the mirror with the application.
 * @internal
 */
export class TokenStoreHolder implements OnApplicationBootstrap, OnApplicationShutdown {
  private constructor(
    /** `undefined` when `tokens` is not configured. */
    readonly store: TokenStore | undefined,
    readonly mirror: RevocationMirror | undefined,
  ) {}

  static async create(options: NormalizedTokensOptions | undefined, connections: RedisConnections, moduleRef: ModuleRef): Promise<TokenStoreHolder> {
    const storage = options?.storage;
    if (!options || !storage) return new TokenStoreHolder(undefined, undefined);
    if (storage.kind === 'memory') return new TokenStoreHolder(new MemoryTokenStore(options.maxMemoryEntries), undefined);
    if (storage.kind === 'custom') return new TokenStoreHolder(await resolveCustomStore(storage.store, moduleRef, 'tokens.storage.store'), undefined);
    const client = connections.get(storage.connection, storage.commandTimeoutMs);
    // On a Redis Cluster the mirror keeps one tracking link per primary (tracking is per node).
    let mirror: RevocationMirror | undefined;
    if (storage.mirrorRevocations) {
      const connection = storage.connection;
      mirror = new RevocationMirror(
        // A URL opens its own connection; any other form duplicates the client (Sentinel included).
        connection.kind === 'url' && typeof connection.source === 'string' ? connection.url : client,
        `${storage.prefix}revoked:`,
        options.maxMemoryEntries,
        { heartbeatMs: MIRROR_HEARTBEAT_MS, connectTimeoutMs: Math.max(1000, storage.commandTimeoutMs * 4) },
        mirrorRefusalLogger(),
      );
    }
    return new TokenStoreHolder(new RedisTokenStore(client, storage.prefix, mirror), mirror);
  }

  /** Opens the revocation mirror's connection; it goes live once Redis turned tracking on. */
  onApplicationBootstrap(): void {
    this.mirror?.start();
  }

  onApplicationShutdown(): void {
    this.mirror?.close();
  }
}

/** The token store's providers: the holder and `InjectTokenStore()`'s token. @internal */
export const TOKEN_STORE_PROVIDERS: Provider[] = [
  {
    provide: TokenStoreHolder,
    inject: [TOKENS_OPTIONS, RedisConnections, ModuleRef],
    useFactory: (tokens: NormalizedTokensOptions | undefined, connections: RedisConnections, moduleRef: ModuleRef) =>
      TokenStoreHolder.create(tokens, connections, moduleRef),
  },
  { provide: TOKEN_STORE, inject: [TokenStoreHolder], useFactory: (holder: TokenStoreHolder) => holder.store ?? null },
];
