/**
 * Palisade on a real Redis Cluster (3 primaries, 3 replicas, started by the suite on free ports):
 * three app instances, each with its own ioredis `Cluster` client, share limits, revocations and
 * brute-force blocks across keys spread over every primary; a slot migrated under load loses no
 * count; a primary killed under load follows the outage policy and recovers without a restart;
 * a failover loses at most the counts its replica had not received.
 */
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { RedisTokenStore } from '../../libs/palisade/src/tokens/redis-token.store.js';
import { RevocationMirror } from '../../libs/palisade/src/tokens/revocation-mirror.js';
import { ADAPTERS, type AdapterName } from '../support/app.js';
import { redisPrefix } from '../support/redis.js';
import { RedisClusterTopology, requireTopology, until, whenReady } from '../support/redis-topologies.js';
import { TOO_MANY_FAILURES, TOO_MANY_REQUESTS, uniqueIp } from '../support/throttle.js';
import {
  bootInstance,
  expectRevoked,
  jtiOf,
  loginFresh,
  logoutFresh,
  meFresh,
  COMMAND_TIMEOUT_MS,
  expectBoundedLoss,
  expectOutageReported,
  expectWithinPolicy,
  FAILURES_LIMIT,
  fromIp,
  limitAcrossFailover,
  PING_LIMIT,
  timedGet,
  underLoad,
  windowKey,
  type TopologyInstance,
} from '../support/topology-apps.js';

let launched: RedisClusterTopology | Error | undefined;
const admins: Cluster[] = [];

beforeAll(async () => {
  launched = await RedisClusterTopology.launch().catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
}, 60_000);

afterAll(async () => {
  for (const admin of admins) admin.disconnect();
  if (launched instanceof RedisClusterTopology) await launched.stop();
});

/** A connected Cluster client of the test (not one of the apps'). */
async function adminClient(topology: RedisClusterTopology): Promise<Cluster> {
  const client = topology.client(2_000);
  admins.push(client);
  await whenReady(client);
  return client;
}

/** The slot of a key, as the cluster computes it. */
async function slotOf(admin: Cluster, key: string): Promise<number> {
  return Number(await admin.cluster('KEYSLOT', key));
}

/** Client IPs whose throttle counters live on each primary (`perPrimary` on each of the three). */
async function ipsOnEveryPrimary(topology: RedisClusterTopology, admin: Cluster, perPrimary: number): Promise<{ ip: string; port: number }[]> {
  const chosen: { ip: string; port: number }[] = [];
  const counts = new Map<number, number>();
  for (let i = 0; i < 200 && chosen.length < perPrimary * 3; i++) {
    const ip = uniqueIp();
    // oxlint-disable-next-line no-await-in-loop -- a few cheap lookups, bounded
    const { port } = await topology.primaryOf(await slotOf(admin, `{ip:${ip}}`));
    if ((counts.get(port) ?? 0) >= perPrimary) continue;
    counts.set(port, (counts.get(port) ?? 0) + 1);
    chosen.push({ ip, port });
  }
  expect(counts.size, 'client IPs on all three primaries').toBe(3);
  return chosen;
}

/** Sum of the calls of `commands` on the primaries (all, or the one on `port`). */
async function commandCalls(admin: Cluster, commands: readonly string[], port?: number): Promise<number> {
  let total = 0;
  for (const node of admin.nodes('master').filter((n) => port === undefined || n.options.port === port)) {
    // oxlint-disable-next-line no-await-in-loop -- three nodes
    const info = (await node.info('commandstats')) as string;
    for (const name of commands) total += Number(new RegExp(`^cmdstat_${name}:calls=(\\d+)`, 'm').exec(info)?.[1] ?? 0);
  }
  return total;
}

/** Script calls (EVALSHA, EVAL) on every primary. */
const scriptCalls = (admin: Cluster): Promise<number> => commandCalls(admin, ['evalsha', 'eval']);

/** Hits of a client replicated before its primary is killed in the failover-bound test. */
const REPLICATED = 4;

/** The launched cluster and an admin client, or a CI failure / skip. */
const ready = async (ctx: TestContext): Promise<{ topology: RedisClusterTopology; admin: Cluster }> => {
  const topology = requireTopology(ctx, launched, '3-primary/3-replica Redis Cluster');
  return { topology, admin: await adminClient(topology) };
};

describe.each(ADAPTERS)('Palisade on a Redis Cluster (3 primaries, 3 replicas), on %s', (adapter: AdapterName) => {
  const prefix = redisPrefix();
  let instances: TopologyInstance[] = [];

  beforeAll(async () => {
    if (!(launched instanceof RedisClusterTopology)) return;
    const topology = launched;
    instances = await Promise.all(
      [0, 1, 2].map(async () => {
        const client = topology.client(COMMAND_TIMEOUT_MS);
        await whenReady(client);
        return bootInstance(adapter, client, prefix);
      }),
    );
    // Warm-up: each instance loads the throttle script on every primary (EVALSHA's first NOSCRIPT),
    // so the counts below are steady-state round trips.
    const warmUp = await ipsOnEveryPrimary(topology, await adminClient(topology), 1);
    await Promise.all(instances.flatMap((instance) => warmUp.map(({ ip }) => timedGet(`${instance.url}/open`, fromIp(ip)))));
  }, 30_000);

  afterAll(async () => {
    await Promise.all(instances.map((instance) => instance.app.close()));
    for (const instance of instances) instance.client.disconnect();
  });

  it(`lets exactly ${PING_LIMIT} requests per client through among many concurrent ones on three instances, with keys on every primary, in one script call each`, async (ctx) => {
    const { topology, admin } = await ready(ctx);
    const clients = await ipsOnEveryPrimary(topology, admin, 2);
    const perClient = PING_LIMIT * 3;
    const before = await scriptCalls(admin);
    const sends = clients.flatMap(({ ip }) => Array.from({ length: perClient }, (_, i) => ({ ip, instance: instances[i % 3] as TopologyInstance })));
    const outcomes = await Promise.all(sends.map(({ ip, instance }) => timedGet(`${instance.url}/ping`, fromIp(ip))));
    const after = await scriptCalls(admin);
    for (const { ip } of clients) {
      const statuses = outcomes.filter((_, i) => sends[i]?.ip === ip).map((outcome) => outcome.status);
      expect(
        statuses.filter((status) => status !== 200 && status !== 429),
        `neither allowed nor refused for ${ip}`,
      ).toEqual([]);
      expect(
        statuses.filter((status) => status === 200),
        `allowed for ${ip}`,
      ).toHaveLength(PING_LIMIT);
      expect(
        statuses.filter((status) => status === 429),
        `refused for ${ip}`,
      ).toHaveLength(perClient - PING_LIMIT);
      // The counter holds exactly the allowed hits, on the primary of the client's slot.
      expect(await admin.hget(`${prefix}{ip:${ip}}:PingController.ping:default`, 'c')).toBe(String(PING_LIMIT));
    }
    for (const outcome of outcomes.filter((o) => o.status === 429)) expect(outcome.response?.body).toEqual(TOO_MANY_REQUESTS);
    // One round trip per request, as on a single server: one script call (EVALSHA) each.
    expect(after - before).toBe(sends.length);
  });

  it('refuses a token logged out on one instance on the other two at once', async (ctx) => {
    await ready(ctx);
    const [a, b, c] = instances as [TopologyInstance, TopologyInstance, TopologyInstance];
    // Six tokens: their revocation keys spread over the primaries.
    const tokens = await Promise.all(Array.from({ length: 6 }, (_, i) => loginFresh(a, `user-${i}`)));
    for (const token of tokens) {
      // oxlint-disable-next-line no-await-in-loop -- each token: accepted, logged out on A, refused on B and C
      expect((await meFresh(b, token)).status).toBe(200);
      // oxlint-disable-next-line no-await-in-loop
      expect((await logoutFresh(a, token)).status).toBe(204);
      // oxlint-disable-next-line no-await-in-loop
      for (const outcome of await Promise.all([meFresh(b, token), meFresh(c, token)])) expectRevoked(outcome);
    }
  });

  it(`blocks a client on every instance once its failed authentications, counted on all three, pass ${FAILURES_LIMIT}`, async (ctx) => {
    await ready(ctx);
    const [a, b, c] = instances as [TopologyInstance, TopologyInstance, TopologyInstance];
    const valid = await loginFresh(a, 'victim');
    const ip = uniqueIp();
    const statuses: number[] = [];
    for (let i = 0; i <= FAILURES_LIMIT; i++) {
      // oxlint-disable-next-line no-await-in-loop -- failures counted one after the other, round-robin over the instances
      statuses.push((await timedGet(`${(instances[i % 3] as TopologyInstance).url}/me`, fromIp(ip, { Authorization: 'Bearer not-a-token' }))).status);
    }
    expect(statuses).toEqual([...Array.from({ length: FAILURES_LIMIT }, () => 401), 429]);
    const blocked = await Promise.all([a, b, c].map((instance) => timedGet(`${instance.url}/me`, fromIp(ip, { Authorization: `Bearer ${valid}` }))));
    for (const outcome of blocked) {
      expect(outcome.status).toBe(429);
      expect(outcome.response?.body).toEqual(TOO_MANY_FAILURES);
    }
    // Another client is not affected.
    expect((await meFresh(b, valid)).status).toBe(200);
  });

  it('follows ASK and MOVED while a slot migrates under load: no error, no lost count', async (ctx) => {
    const { topology, admin } = await ready(ctx);
    const [{ ip, port }] = (await ipsOnEveryPrimary(topology, admin, 1)) as [{ ip: string; port: number }];
    const slot = await slotOf(admin, `{ip:${ip}}`);
    const target = (await topology.clusterNodes()).find((node) => node.role === 'master' && !node.failed && node.port !== port && node.slots.length > 0);
    if (!target) throw new Error('no other primary to migrate to');
    const send = (i: number) => timedGet(`${(instances[i % 3] as TopologyInstance).url}/ping`, fromIp(ip));
    // A first hit creates the counter on the source primary, so the migration moves a live key.
    const first = await send(0);
    expect(first.status).toBe(200);
    const askingBefore = await commandCalls(admin, ['asking'], target.port);
    let migrating = true;
    const load = underLoad((i) => send(i + 1), { concurrency: 6, maxRequests: 400, maxMs: 15_000, stop: () => !migrating });
    await topology.migrateSlot(slot, target.port, () => new Promise((resolve) => setTimeout(resolve, 150)));
    migrating = false;
    const during = await load;
    // After the migration, more requests: the key now answers from its new primary.
    const afterwards = await Promise.all(Array.from({ length: 6 }, (_, i) => send(i)));
    const all = [first, ...during, ...afterwards];
    expect(
      all.filter((o) => o.status !== 200 && o.status !== 429),
      'no error during the migration',
    ).toEqual([]);
    expect(all.filter((o) => o.status === 200)).toHaveLength(Math.min(PING_LIMIT, all.length));
    expect((await topology.primaryOf(slot)).port).toBe(target.port);
    // The clients met ASK redirections while the slot was half-migrated, and followed them.
    expect(await commandCalls(admin, ['asking'], target.port)).toBeGreaterThan(askingBefore);
    // Every allowed hit was counted once, on the key's new primary.
    expect(await admin.hget(`${prefix}{ip:${ip}}:PingController.ping:default`, 'c')).toBe(String(PING_LIMIT));
  });

  it('kills a primary under load: the outage policy (503 + Retry-After, within the command timeout), recovery without restart, and an acknowledged logout still holds', async (ctx) => {
    const { topology, admin } = await ready(ctx);
    const [a, b, c] = instances as [TopologyInstance, TopologyInstance, TopologyInstance];
    // A logout acknowledged just before the failover, whose revocation key lives on the primary we kill.
    let victim: { token: string; port: number; slots: [number, number][] } | undefined;
    for (let i = 0; i < 20 && victim === undefined; i++) {
      // oxlint-disable-next-line no-await-in-loop -- logins until one's revocation key lands on a primary with a replica (bounded)
      const token = await loginFresh(a, `failover-${i}`);
      const jti = jtiOf(token);
      // oxlint-disable-next-line no-await-in-loop
      const owner = await topology.primaryOf(await slotOf(admin, `${prefix}revoked:${jti}`));
      if ((await topology.replicasOf(owner.id)) > 0) victim = { token, port: owner.port, slots: owner.slots };
    }
    if (!victim) throw new Error('no login whose revocation lands on a primary with a replica');
    expect((await logoutFresh(b, victim.token)).status).toBe(204);
    // Clients on every primary, so the load meets the dead one.
    const clients = await ipsOnEveryPrimary(topology, admin, 2);
    let i = 0;
    const send = () => {
      const n = i++;
      const instance = [a, b, c][n % 3] as TopologyInstance;
      return timedGet(`${instance.url}/ping`, fromIp((clients[n % clients.length] as { ip: string }).ip));
    };
    let recoveredAt = 0;
    let killedAt = 0;
    const load = underLoad(send, {
      concurrency: 6,
      maxRequests: 3_000,
      maxMs: 20_000,
      stop: () => recoveredAt > 0 && Date.now() - recoveredAt > 500,
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    killedAt = Date.now();
    await topology.kill(victim.port);
    await topology.waitForFailover(victim.port, victim.slots, 15_000);
    recoveredAt = Date.now();
    const outcomes = await load;
    const failoverMs = recoveredAt - killedAt;
    // No hang, no other 5xx: the documented 503 with Retry-After, each answer within the command
    // timeout of its one Redis call (the throttle script) plus scheduling slack on busy cores.
    expectWithinPolicy(outcomes, COMMAND_TIMEOUT_MS + 500);
    ctx.annotate(
      `failover ${failoverMs} ms; ${outcomes.length} requests, ${outcomes.filter((o) => o.status === 503).length} answered 503; slowest ${Math.round(Math.max(...outcomes.map((o) => o.ms)))} ms`,
    );
    expect(
      outcomes.some((o) => o.status === 503),
      `the dead primary's clients met the outage (failover took ${failoverMs} ms)`,
    ).toBe(true);
    // Recovered without a restart: every client is served from the promoted replica.
    await until(
      async () => {
        const probe = await Promise.all(clients.map(({ ip }, k) => timedGet(`${([a, b, c][k % 3] as TopologyInstance).url}/open`, fromIp(ip))));
        // Redis answers again (200, or 429 once a client's limit is used up): no 503.
        return probe.every((o) => o.status === 200 || o.status === 429);
      },
      10_000,
      () => 'the instances did not recover after the promotion',
      100,
    );
    expectOutageReported([a, b, c]);
    const fresh = await loginFresh(c, 'after-failover');
    await until(
      async () => (await meFresh(a, fresh)).status === 200,
      5_000,
      () => 'a new token is not accepted after the failover',
    );
    // The logout acknowledged before the failover survived it (WAIT 1: a replica held it).
    for (const instance of [a, b, c]) expectRevoked(await meFresh(instance, victim.token));
  });

  it(`a failover loses at most the counts its replica had not received: ${REPLICATED} replicated before the kill survive, so a client gets at most 2 × ${PING_LIMIT} in the window, and then exactly the limit again`, async (ctx) => {
    const { topology, admin } = await ready(ctx);
    // Earlier kills left primaries without a replica: the killed nodes come back as replicas.
    await topology.heal();
    const ip = uniqueIp();
    const key = windowKey(prefix, ip);
    const owner = await topology.primaryOf(await slotOf(admin, key));
    const outcome = await limitAcrossFailover({
      instances,
      topology,
      primaryPort: owner.port,
      ip,
      replicated: REPLICATED,
      failover: async () => {
        await topology.waitForFailover(owner.port, owner.slots, 15_000);
      },
      counter: async () => Number(await admin.hget(key, 'c')),
    });
    ctx.annotate(
      `before the kill: ${outcome.before.join(' ')}; failover ${outcome.failoverMs} ms; promoted count ${outcome.promoted}; after: ${outcome.after.join(' ')}`,
    );
    expectBoundedLoss(outcome, REPLICATED);
  }, 60_000);
});

/** `count` jtis whose revocation keys live on each primary (at least one per primary). */
async function jtisOnEveryPrimary(topology: RedisClusterTopology, admin: Cluster, prefix: string, count: number): Promise<{ jti: string; port: number }[]> {
  const chosen: { jti: string; port: number }[] = [];
  for (let i = 0; i < 200 && chosen.length < count; i++) {
    const jti = `jti-${i}-${Math.random().toString(36).slice(2)}`;
    // oxlint-disable-next-line no-await-in-loop -- a few lookups, bounded
    const { port } = await topology.primaryOf(await slotOf(admin, `${prefix}revoked:${jti}`));
    if (chosen.filter((c) => c.port === port).length < Math.ceil(count / 3)) chosen.push({ jti, port });
  }
  expect(new Set(chosen.map((c) => c.port)).size).toBe(3);
  return chosen;
}

describe('the revocation mirror on the Cluster: one tracking link per primary (library level)', () => {
  const TIMINGS = { heartbeatMs: 500, connectTimeoutMs: 1_000 };

  /** A mirror and a store on one Cluster client, and a second store (another instance) writing. */
  async function mirrored(ctx: TestContext) {
    const topology = requireTopology(ctx, launched, '3-primary/3-replica Redis Cluster');
    const prefix = redisPrefix();
    const [mine, theirs] = [topology.client(COMMAND_TIMEOUT_MS), topology.client(COMMAND_TIMEOUT_MS)];
    await Promise.all([whenReady(mine), whenReady(theirs)]);
    const mirror = new RevocationMirror(mine, `${prefix}revoked:`, 1_000, TIMINGS);
    const store = new RedisTokenStore(mine, prefix, mirror);
    const other = new RedisTokenStore(theirs, prefix);
    ctx.onTestFinished(() => {
      mirror.close();
      mine.disconnect();
      theirs.disconnect();
    });
    mirror.start();
    await until(
      async () => mirror.isLive,
      5_000,
      () => 'the mirror did not go live',
    );
    return { topology, admin: await adminClient(topology), prefix, mirror, store, other };
  }

  it('links every primary, answers known tokens locally, and forgets an answer as soon as another instance revokes it on any primary', async (ctx) => {
    const { topology, admin, prefix, mirror, store, other } = await mirrored(ctx);
    expect(mirror.linkCount).toBe(3);
    const jtis = await jtisOnEveryPrimary(topology, admin, prefix, 6);
    for (const { jti } of jtis) expect(await store.isAccessTokenRevoked(jti)).toBe(false);
    // Known now: answered without a round trip.
    for (const { jti } of jtis) expect(store.isAccessTokenRevokedSync(jti)).toBe(false);
    const before = await commandCalls(admin, ['exists']);
    for (const { jti } of jtis) expect(await store.isAccessTokenRevoked(jti)).toBe(false);
    expect(await commandCalls(admin, ['exists'])).toBe(before);
    // Another instance revokes them, on all three primaries: each answer is forgotten, then read as revoked.
    for (const { jti } of jtis) await other.revokeAccessToken(jti, Date.now() + 60_000);
    await until(
      async () => jtis.every(({ jti }) => store.isAccessTokenRevokedSync(jti) === undefined),
      2_000,
      () => 'an invalidation did not arrive',
    );
    for (const { jti } of jtis) expect(await store.isAccessTokenRevoked(jti)).toBe(true);
  });

  it('goes off when a primary dies and live again once its replica is promoted and linked, announcing writes on the new primary', async (ctx) => {
    const { topology, admin, prefix, mirror, store, other } = await mirrored(ctx);
    const nodes = await topology.clusterNodes();
    const primaries = nodes.filter((n) => n.role === 'master' && !n.failed && n.slots.length > 0);
    const victim = primaries.find((p) => nodes.some((r) => r.role === 'slave' && !r.failed && r.masterId === p.id));
    if (!victim) throw new Error('no primary with a live replica left');
    const [from] = victim.slots[0] as [number, number];
    let jti = '';
    for (let i = 0; i < 500 && jti === ''; i++) {
      const candidate = `moved-${i}-${Math.random().toString(36).slice(2)}`;
      // oxlint-disable-next-line no-await-in-loop -- bounded search for a key on the victim's slots
      const slot = await slotOf(admin, `${prefix}revoked:${candidate}`);
      if (victim.slots.some(([a, b]) => slot >= a && slot <= b)) jti = candidate;
    }
    expect(jti).not.toBe('');
    expect(await store.isAccessTokenRevoked(jti)).toBe(false);
    expect(store.isAccessTokenRevokedSync(jti)).toBe(false);
    await topology.kill(victim.port);
    // Off within its heartbeat bound: no answer is served from a mirror missing a primary.
    await until(
      async () => store.isAccessTokenRevokedSync(jti) === undefined,
      TIMINGS.heartbeatMs * 3,
      () => 'the mirror still answers',
    );
    await topology.waitForFailover(victim.port, victim.slots, 15_000);
    expect((await topology.primaryOf(from)).port).not.toBe(victim.port);
    await until(
      async () => mirror.isLive,
      10_000,
      () => 'the mirror did not go live again after the promotion',
    );
    expect(mirror.linkCount).toBe(3);
    // Written on the promoted primary by another instance: announced on the new link.
    expect(await store.isAccessTokenRevoked(jti)).toBe(false);
    expect(store.isAccessTokenRevokedSync(jti)).toBe(false);
    await until(
      async () => {
        await other.revokeAccessToken(jti, Date.now() + 60_000);
        return true;
      },
      5_000,
      () => 'the other instance cannot write on the promoted primary',
      100,
    );
    await until(
      async () => store.isAccessTokenRevokedSync(jti) === undefined,
      2_000,
      () => 'the promoted primary did not announce the revocation',
    );
    expect(await store.isAccessTokenRevoked(jti)).toBe(true);
  });
});
