import { Redis, ReplyError, type Cluster, type RedisOptions } from 'ioredis';
import { LRUCache } from 'lru-cache';

/** The channel Redis publishes tracking invalidations on for RESP2 clients (redirect mode). */
const INVALIDATE = '__redis__:invalidate';

/** Number of hash slots of a Redis Cluster. */
const CLUSTER_SLOTS = 16_384;

/** What the mirror reports about its link to Redis. @internal */
export type MirrorState = 'live' | 'off';

/** Timings of the mirror's link. @internal */
export interface MirrorTimings {
  /** How often the link is pinged. */
  readonly heartbeatMs: number;
  /** Connect timeout of the mirror's own connection. */
  readonly connectTimeoutMs: number;
}

/** What a {@link TrackingLink} tells its mirror. */
interface LinkEvents {
  /** The link is live (tracking on, subscribed) or is no longer (with the reason, or the refusal). */
  state(link: TrackingLink, live: boolean, reason: unknown): void;
  /** Redis announced a change of `keys` (`null`: the whole database was flushed). */
  invalidated(keys: unknown): void;
}

/**
 * One tracking connection to one Redis server: `CLIENT TRACKING ON BCAST PREFIX <p>` redirected to
 * itself, subscribed to `__redis__:invalidate`, pinged every heartbeat (one PING in flight at a
 * time; a beat that finds the previous one unanswered drops the link and reconnects).
 */
class TrackingLink {
  live = false;
  private closed = false;
  private awaitingPong = false;
  private lastPongAt = 0;
  /** Bumped by every change of this link, so a setup that raced a drop is not trusted. */
  private generation = 0;

  constructor(
    readonly connection: Redis,
    private readonly trackedPrefix: string,
    private readonly timings: MirrorTimings,
    private readonly events: LinkEvents,
  ) {
    connection.on('error', () => undefined);
    connection.on('close', () => this.drop('connection closed'));
    connection.on('ready', () => void this.establish());
    connection.on('messageBuffer', (channel: Buffer, message: unknown) => {
      if (channel.toString() === INVALIDATE) events.invalidated(message);
    });
  }

  start(): void {
    // Not reachable now: ioredis keeps reconnecting, and 'ready' establishes the link.
    this.connection.connect().catch(() => undefined);
  }

  /** True while live and its last heartbeat reply is at most `staleAfterMs` old. */
  fresh(now: number, staleAfterMs: number): boolean {
    return this.live && now - this.lastPongAt <= staleAfterMs;
  }

  close(): void {
    this.closed = true;
    this.drop(undefined);
    this.connection.disconnect();
  }

  private async establish(): Promise<void> {
    this.drop(undefined);
    const generation = this.generation;
    // A link that stays silent while being set up is started over (the heartbeat only runs live).
    const watchdog = setTimeout(() => {
      if (!this.closed && !this.live && generation === this.generation) this.connection.disconnect(true);
    }, this.timings.heartbeatMs * 4);
    watchdog.unref();
    try {
      const id = (await this.connection.client('ID')) as number;
      await this.connection.call('CLIENT', 'TRACKING', 'ON', 'REDIRECT', String(id), 'BCAST', 'PREFIX', this.trackedPrefix);
      await this.connection.subscribe(INVALIDATE);
    } catch (error) {
      if (error instanceof ReplyError) {
        // The server refused (no CLIENT TRACKING, an ACL): stay off; checks go to Redis.
        this.events.state(this, false, error);
      } else if (!this.closed && generation === this.generation) {
        // The connection failed midway: start over on a new one.
        this.connection.disconnect(true);
      }
      return;
    } finally {
      clearTimeout(watchdog);
    }
    // Nothing changed the link meanwhile (a close would have bumped the generation).
    if (this.closed || generation !== this.generation || this.connection.status !== 'ready') return;
    this.lastPongAt = Date.now();
    this.awaitingPong = false;
    this.live = true;
    this.events.state(this, true, undefined);
  }

  beat(): void {
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
    this.generation++;
    const wasLive = this.live;
    this.live = false;
    // Every drop is reported (even of a link not yet live): the mirror forgets every answer.
    if (!this.closed) this.events.state(this, false, wasLive ? reason : undefined);
  }
}

/** The ioredis client's own key prefix, which Redis sees in front of every key. */
function clientKeyPrefix(source: Redis | Cluster): string {
  const options = source.options as { keyPrefix?: string };
  return options.keyPrefix ?? '';
}

const isCluster = (source: string | Redis | Cluster): source is Cluster => typeof source !== 'string' && (source as { isCluster?: boolean }).isCluster === true;

/**
 * A local copy of the answers to "is this `jti` revoked?", kept exact by Redis server-assisted
 * client-side caching: a dedicated connection turns on `CLIENT TRACKING` in broadcasting mode for
 * the revocation keys' prefix, redirected to itself, and subscribes to `__redis__:invalidate`.
 * Redis then announces every write, expiry or deletion of a revocation key — from any instance —
 * and the mirror forgets that answer, so a cached answer is never one Redis has since changed.
 *
 * On Redis Cluster tracking is per node, so the mirror keeps one such connection per primary (the
 * primaries ioredis routes the slots to) and serves answers only while every one of the 16384
 * slots is routed to a primary whose link is live: a revocation is written on its slot's primary,
 * which announces it on that link. A change of the primaries (a failover, a node added) drops
 * every answer and links the new primaries; the mirror is off until they are all live. A slot
 * migration between linked primaries is announced (MIGRATE deletes on the source and writes on
 * the target). The slot map is refreshed every other heartbeat, so a slot handed to a primary
 * added since the last refresh is linked (and every answer dropped) within two heartbeats plus
 * one `CLUSTER SLOTS`; until then an answer for a key of that slot written on the new primary
 * could be stale — the same order as the heartbeat bound below.
 *
 * Safety rules, each closing a way a stale "not revoked" could survive:
 * - answers are served only while every link is live, and only while each link's last heartbeat
 *   reply is recent (a silent link stops serving within 2.5 heartbeats, before the drop that
 *   follows);
 * - an answer is cached only when nothing bumped the epoch between its read and its reply: every
 *   announcement, every change of a link and going live bump it, so a read that raced an
 *   announcement, or began before the subscriptions existed, is not kept;
 * - every answer is forgotten whenever any link drops (connection closed, heartbeat missed) or the
 *   set of primaries changes.
 *
 * A Redis that refuses `CLIENT TRACKING` (before 6.0, or a managed service without it) leaves the
 * mirror off; each check then goes to Redis.
 * @internal
 */
export class RevocationMirror {
  private readonly answers: LRUCache<string, boolean>;
  /** Links by node (`host:port`; `''` for a single server). */
  private readonly links = new Map<string, TrackingLink>();
  private readonly heartbeat: NodeJS.Timeout;
  /** The tracked key prefix as Redis sees it (the client's own `keyPrefix` included). */
  private readonly trackedPrefix: string;
  private readonly staleAfterMs: number;
  private readonly own: RedisOptions;
  private readonly cluster: Cluster | undefined;
  private readonly onClusterChange = (): void => this.reconcile();
  private live = false;
  private closed = false;
  private started = false;
  private refused = false;
  private epochValue = 0;
  private beats = 0;

  constructor(
    source: string | Redis | Cluster,
    keyPrefix: string,
    maxEntries: number,
    private readonly timings: MirrorTimings,
    private readonly onState: (state: MirrorState, reason?: unknown) => void = () => undefined,
  ) {
    this.answers = new LRUCache({ max: maxEntries });
    this.staleAfterMs = timings.heartbeatMs * 2.5;
    this.own = {
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
      this.trackedPrefix = keyPrefix;
      this.addLink('', new Redis(source, this.own));
    } else if (isCluster(source)) {
      this.cluster = source;
      // ioredis prepends the client's keyPrefix to every key; Redis announces the full names.
      this.trackedPrefix = `${clientKeyPrefix(source)}${keyPrefix}`;
    } else {
      this.trackedPrefix = `${clientKeyPrefix(source)}${keyPrefix}`;
      this.addLink('', source.duplicate(this.own));
    }
    this.heartbeat = setInterval(() => this.beat(), timings.heartbeatMs);
    this.heartbeat.unref();
  }

  /**
   * Starts connecting and returns at once: the mirror goes live when Redis has turned tracking on
   * (on every primary of a Cluster); until then every check goes to Redis, so a slow or absent
   * Redis never delays startup.
   */
  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    if (this.cluster) {
      this.cluster.on('refresh', this.onClusterChange);
      this.cluster.on('+node', this.onClusterChange);
      this.cluster.on('-node', this.onClusterChange);
      this.reconcile();
    }
    for (const link of this.links.values()) link.start();
  }

  /** Bumped by every invalidation and every change of a link; see {@link remember}. */
  get epoch(): number {
    return this.epochValue;
  }

  /** The mirrored answer for `jti`, or `undefined` when there is none or the links are not trusted now. */
  get(jti: string): boolean | undefined {
    if (!this.live) return undefined;
    const now = Date.now();
    for (const link of this.links.values()) if (!link.fresh(now, this.staleAfterMs)) return undefined;
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

  /** Number of tracking connections (one per Cluster primary; one on a single server). */
  get linkCount(): number {
    return this.links.size;
  }

  /** Stops for good; never waits for Redis (a subscriber has nothing to flush). */
  close(): void {
    this.closed = true;
    clearInterval(this.heartbeat);
    if (this.cluster) {
      this.cluster.off('refresh', this.onClusterChange);
      this.cluster.off('+node', this.onClusterChange);
      this.cluster.off('-node', this.onClusterChange);
    }
    this.setLive(false, undefined);
    for (const link of this.links.values()) link.close();
    this.links.clear();
  }

  private addLink(node: string, connection: Redis): TrackingLink {
    const link = new TrackingLink(connection, this.trackedPrefix, this.timings, {
      state: (from, live, reason) => this.linkState(from, live, reason),
      invalidated: (keys) => this.invalidated(keys),
    });
    this.links.set(node, link);
    if (this.started) link.start();
    return link;
  }

  /**
   * Cluster only: links exactly the primaries the client routes the slots to. A slot without a
   * primary, or a primary not in the client's pool yet, leaves the mirror off.
   */
  private reconcile(): void {
    const cluster = this.cluster;
    if (!cluster || this.closed) return;
    const primaries = new Set<string>();
    let covered = true;
    for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
      const primary = cluster.slots[slot]?.[0];
      if (primary === undefined) covered = false;
      else primaries.add(primary);
    }
    const pool = new Map(cluster.nodes('master').map((node) => [`${node.options.host}:${node.options.port}`, node]));
    let changed = false;
    for (const [node, link] of this.links) {
      if (primaries.has(node)) continue;
      this.links.delete(node);
      link.close();
      changed = true;
    }
    for (const node of primaries) {
      if (this.links.has(node)) continue;
      const client = pool.get(node);
      if (!client) {
        covered = false;
        continue;
      }
      this.addLink(node, client.duplicate(this.own));
      changed = true;
    }
    if (!covered) this.setLive(false, 'a slot has no linked primary');
    else if (changed) this.setLive(false, 'the primaries changed');
    this.updateLive();
  }

  private linkState(link: TrackingLink, live: boolean, reason: unknown): void {
    if (![...this.links.values()].includes(link)) return;
    if (!live) {
      if (reason instanceof ReplyError) this.refused = true;
      this.setLive(false, reason);
      return;
    }
    this.updateLive();
  }

  /** Goes live once every link is live (and, on a Cluster, every slot has a linked primary). */
  private updateLive(): void {
    if (this.live || this.closed || this.refused || this.links.size === 0) return;
    for (const link of this.links.values()) if (!link.live) return;
    if (this.cluster) {
      for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
        const primary = this.cluster.slots[slot]?.[0];
        if (primary === undefined || !this.links.has(primary)) return;
      }
    }
    // Reads that began before the subscriptions existed may have missed an announcement.
    this.setLive(true, undefined);
  }

  private setLive(live: boolean, reason: unknown): void {
    this.epochValue++;
    if (!live) this.answers.clear();
    if (this.live === live) {
      // A refusal is reported even when the mirror never went live.
      if (!live && reason instanceof ReplyError && !this.closed) this.onState('off', reason);
      return;
    }
    this.live = live;
    if (live) this.onState('live');
    else if (reason !== undefined && !this.closed) this.onState('off', reason);
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

  private beat(): void {
    if (this.cluster) {
      // A slot moved to a primary added since the last refresh would go unannounced: ask the
      // cluster for its slot map every other beat (its 'refresh' event reconciles the links).
      if (++this.beats % 2 === 0) this.cluster.refreshSlotsCache();
      this.reconcile();
    }
    for (const link of this.links.values()) link.beat();
  }
}
