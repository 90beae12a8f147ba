import { Redis, ReplyError } from 'ioredis';
import { LRUCache } from 'lru-cache';

/** The channel Redis publishes tracking invalidations on for RESP2 clients (redirect mode). */
const INVALIDATE = '__redis__:invalidate';

/** What the mirror reports about its link to Redis. @internal */
export type MirrorState = 'live' | 'off';

/**
 * A local copy of the answers to "is this `jti` revoked?", kept exact by Redis server-assisted
 * client-side caching: one dedicated connection turns on `CLIENT TRACKING` in broadcasting mode
 * for the revocation keys' prefix, redirected to itself, and subscribes to `__redis__:invalidate`.
 * Redis then announces every write, expiry or deletion of a revocation key — from any instance —
 * and the mirror forgets that answer, so a cached answer is never one Redis has since changed.
 *
 * An answer is used only while the link is live; it is cached only when no invalidation arrived
 * between the read and its reply (an epoch counter), so a revocation racing the read is never
 * lost. When the link drops (its connection closes, or it misses a heartbeat) every answer is
 * forgotten and each check goes to Redis again until the link is back. A Redis that refuses
 * `CLIENT TRACKING` (before 6.0, or a managed service without it) just leaves the mirror off.
 * @internal
 */
export class RevocationMirror {
  private readonly answers: LRUCache<string, boolean>;
  private readonly connection: Redis;
  private readonly heartbeat: NodeJS.Timeout;
  private live = false;
  private closed = false;
  private awaitingPong = false;
  private epochValue = 0;

  constructor(
    source: string | Redis,
    private readonly keyPrefix: string,
    maxEntries: number,
    private readonly heartbeatMs: number,
    private readonly onState: (state: MirrorState, reason?: unknown) => void = () => undefined,
    connectTimeoutMs = 1_000,
  ) {
    this.answers = new LRUCache({ max: maxEntries });
    const own = { autoResubscribe: false, enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: true } as const;
    this.connection =
      typeof source === 'string'
        ? new Redis(source, { ...own, connectTimeout: connectTimeoutMs, retryStrategy: (attempt) => Math.min(100 * 2 ** Math.min(attempt, 5), 2000) })
        : source.duplicate(own);
    this.connection.on('error', () => undefined);
    this.connection.on('close', () => this.drop('connection closed'));
    this.connection.on('ready', () => void this.establish());
    this.connection.on('messageBuffer', (channel: Buffer, message: unknown) => {
      if (channel.toString() === INVALIDATE) this.invalidated(message);
    });
    this.heartbeat = setInterval(() => this.beat(), heartbeatMs);
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

  /** The mirrored answer for `jti`, or `undefined` when there is none or the link is not live. */
  get(jti: string): boolean | undefined {
    return this.live ? this.answers.get(jti) : undefined;
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

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.heartbeat);
    this.drop(undefined);
    if (this.connection.status === 'end') return;
    await this.connection.quit().catch(() => this.connection.disconnect());
  }

  private async establish(): Promise<void> {
    this.drop(undefined);
    const epoch = this.epochValue;
    try {
      const id = (await this.connection.client('ID')) as number;
      await this.connection.call('CLIENT', 'TRACKING', 'ON', 'REDIRECT', String(id), 'BCAST', 'PREFIX', this.keyPrefix);
      await this.connection.subscribe(INVALIDATE);
    } catch (error) {
      // A reply error is the server refusing tracking; anything else is the connection, which
      // reconnects and tries again.
      if (error instanceof ReplyError) this.onState('off', error);
      return;
    }
    // Nothing changed the link meanwhile (a close would have bumped the epoch).
    if (this.closed || epoch !== this.epochValue || this.connection.status !== 'ready') return;
    this.live = true;
    this.awaitingPong = false;
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
      if (name.startsWith(this.keyPrefix)) this.answers.delete(name.slice(this.keyPrefix.length));
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
