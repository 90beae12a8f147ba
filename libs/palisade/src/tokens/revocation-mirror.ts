import { Redis, ReplyError, type RedisOptions } from 'ioredis';
import { LRUCache } from 'lru-cache';

/** The channel Redis publishes tracking invalidations on for RESP2 clients (redirect mode). */
const INVALIDATE = '__redis__:invalidate';

/** What the mirror reports about its link to Redis. @internal */
export type MirrorState = 'live' | 'off';

/** Timings of the mirror's link. @internal */
export interface MirrorTimings {
  /** How often the link is pinged. */
  readonly heartbeatMs: number;
  /** Connect timeout of the mirror's own connection. */
  readonly connectTimeoutMs: number;
}

/**
 * A local copy of the answers to "is this `jti` revoked?", kept exact by Redis server-assisted
 * client-side caching: one dedicated connection turns on `CLIENT TRACKING` in broadcasting mode
 * for the revocation keys' prefix, redirected to itself, and subscribes to `__redis__:invalidate`.
 * Redis then announces every write, expiry or deletion of a revocation key — from any instance —
 * and the mirror forgets that answer, so a cached answer is never one Redis has since changed.
 *
 * Safety rules, each closing a way a stale "not revoked" could survive:
 * - answers are served only while the link is live, and only while its last heartbeat reply is
 *   recent (a silent link stops serving within 2.5 heartbeats, before the drop that follows);
 * - an answer is cached only when nothing bumped the epoch between its read and its reply: every
 *   announcement, every change of the link and going live bump it, so a read that raced an
 *   announcement, or began before the subscription existed, is not kept;
 * - every answer is forgotten whenever the link drops (connection closed, heartbeat missed).
 *
 * A Redis that refuses `CLIENT TRACKING` (before 6.0, or a managed service without it) leaves the
 * mirror off; each check then goes to Redis. Not for Redis Cluster (tracking is per node).
 * @internal
 */
export class RevocationMirror {
  private readonly answers: LRUCache<string, boolean>;
  private readonly connection: Redis;
  private readonly heartbeat: NodeJS.Timeout;
  /** The tracked key prefix as Redis sees it (the client's own `keyPrefix` included). */
  private readonly trackedPrefix: string;
  private readonly staleAfterMs: number;
  private live = false;
  private closed = false;
  private awaitingPong = false;
  private lastPongAt = 0;
  private epochValue = 0;

  constructor(
    source: string | Redis,
    keyPrefix: string,
    maxEntries: number,
    private readonly timings: MirrorTimings,
    private readonly onState: (state: MirrorState, reason?: unknown) => void = () => undefined,
  ) {
    this.answers = new LRUCache({ max: maxEntries });
    this.staleAfterMs = timings.heartbeatMs * 2.5;
    const own: RedisOptions = {
      autoResubscribe: false,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      lazyConnect: true,
      // Its own timing, whatever the application's client uses: the heartbeat judges silence.
      commandTimeout: undefined,
      connectTimeout: timings.connectTimeoutMs,
      retryStrategy: (attempt) => Math.min(100 * 2 ** Math.min(attempt, 5), 2000),
    };
    if (typeof source === 'string') {
      this.connection = new Redis(source, own);
      this.trackedPrefix = keyPrefix;
    } else {
      this.connection = source.duplicate(own);
      // ioredis prepends the client's keyPrefix to every key; Redis announces the full names.
      this.trackedPrefix = `${source.options.keyPrefix ?? ''}${keyPrefix}`;
    }
    this.connection.on('error', () => undefined);
    this.connection.on('close', () => this.drop('connection closed'));
    this.connection.on('ready', () => void this.establish());
    this.connection.on('messageBuffer', (channel: Buffer, message: unknown) => {
      if (channel.toString() === INVALIDATE) this.invalidated(message);
    });
    this.heartbeat = setInterval(() => this.beat(), timings.heartbeatMs);
    this.heartbeat.unref();
  }

  /**
   * Starts connecting and returns at once: the mirror goes live when Redis has turned tracking on
   * (until then every check goes to Redis), so a slow or absent Redis never delays startup.
   */
  start(): void {
    // Not reachable now: ioredis keeps reconnecting, and 'ready' establishes the link.
    this.connection.connect().catch(() => undefined);
  }

  /** Bumped by every invalidation and every change of the link; see {@link remember}. */
  get epoch(): number {
    return this.epochValue;
  }

  /** The mirrored answer for `jti`, or `undefined` when there is none or the link is not trusted now. */
  get(jti: string): boolean | undefined {
    if (!this.live || Date.now() - this.lastPongAt > this.staleAfterMs) return undefined;
    return this.answers.get(jti);
  }

  /** Records Redis's answer for `jti`, read when the epoch was `epochAtRead`. */
  remember(jti: string, revoked: boolean, epochAtRead: number): void {
    if (this.live && epochAtRead === this.epochValue) this.answers.set(jti, revoked);
  }

  /** Forgets `jti` at once (this instance just wrote it; Redis's announcement follows). */
  forget(jti: string): void {
    this.epochValue++;
    this.answers.delete(jti);
  }

  /** True while answers are served from the mirror. */
  get isLive(): boolean {
    return this.live;
  }

  /** Stops for good; never waits for Redis (a subscriber has nothing to flush). */
  close(): void {
    this.closed = true;
    clearInterval(this.heartbeat);
    this.drop(undefined);
    this.connection.disconnect();
  }

  private async establish(): Promise<void> {
    this.drop(undefined);
    const epoch = this.epochValue;
    // A link that stays silent while being set up is started over (the heartbeat only runs live).
    const watchdog = setTimeout(() => {
      if (!this.closed && !this.live && epoch === this.epochValue) this.connection.disconnect(true);
    }, this.timings.heartbeatMs * 4);
    watchdog.unref();
    try {
      const id = (await this.connection.client('ID')) as number;
      await this.connection.call('CLIENT', 'TRACKING', 'ON', 'REDIRECT', String(id), 'BCAST', 'PREFIX', this.trackedPrefix);
      await this.connection.subscribe(INVALIDATE);
    } catch (error) {
      if (error instanceof ReplyError) {
        // The server refused (no CLIENT TRACKING, an ACL): stay off; checks go to Redis.
        this.onState('off', error);
      } else if (!this.closed && epoch === this.epochValue) {
        // The connection failed midway: start over on a new one.
        this.connection.disconnect(true);
      }
      return;
    } finally {
      clearTimeout(watchdog);
    }
    // Nothing changed the link meanwhile (a close would have bumped the epoch).
    if (this.closed || epoch !== this.epochValue || this.connection.status !== 'ready') return;
    // Reads that began before the subscription existed may have missed an announcement.
    this.epochValue++;
    this.lastPongAt = Date.now();
    this.awaitingPong = false;
    this.live = true;
    this.onState('live');
  }

  private invalidated(message: unknown): void {
    this.epochValue++;
    if (!Array.isArray(message)) {
      // A null payload: the database was flushed.
      this.answers.clear();
      return;
    }
    for (const key of message) {
      const name = String(key);
      if (name.startsWith(this.trackedPrefix)) this.answers.delete(name.slice(this.trackedPrefix.length));
    }
  }

  /** One PING in flight at a time; a beat that finds the previous one unanswered drops the link. */
  private beat(): void {
    if (!this.live) return;
    if (this.awaitingPong) {
      this.drop('heartbeat missed');
      // A silent connection cannot be trusted to carry invalidations: start over on a new one.
      this.connection.disconnect(true);
      return;
    }
    this.awaitingPong = true;
    this.connection.ping().then(
      () => {
        this.awaitingPong = false;
        this.lastPongAt = Date.now();
      },
      () => undefined,
    );
  }

  private drop(reason: string | undefined): void {
    this.epochValue++;
    this.answers.clear();
    if (!this.live) return;
    this.live = false;
    if (reason !== undefined && !this.closed) this.onState('off', reason);
  }
}
