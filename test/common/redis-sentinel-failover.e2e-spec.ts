/**
 * Palisade on a Sentinel-managed Redis (one primary, one replica, three sentinels, started by the
 * suite on free ports): three app instances, each with its own Sentinel-backed ioredis client,
 * share limits and revocations (mirrored locally); a revocation is acknowledged only once a
 * replica holds it; the primary killed under load follows the outage policy, the replica is
 * promoted and every instance recovers without a restart, the acknowledged logout included; a
 * failover loses at most the counts its replica had not received.
 */
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { TokenService } from '@palisade/nest';
import { ADAPTERS, type AdapterName } from '../support/app.js';
import { redisPrefix } from '../support/redis.js';
import { RedisSentinelTopology, requireTopology, until, whenReady } from '../support/redis-topologies.js';
import { TOO_MANY_REQUESTS, uniqueIp } from '../support/throttle.js';
import {
  bootInstance,
  COMMAND_TIMEOUT_MS,
  expectBoundedLoss,
  expectRevoked,
  expectOutageReported,
  expectWithinPolicy,
  fromIp,
  limitAcrossFailover,
  loginFresh,
  logoutFresh,
  meFresh,
  PING_LIMIT,
  timedGet,
  TOKENS_UNAVAILABLE,
  underLoad,
  windowKey,
  type TopologyInstance,
} from '../support/topology-apps.js';

/** Hits of a client replicated before the primary is killed in the failover-bound test. */
const REPLICATED = 4;

const mirrored = (instance: TopologyInstance): boolean => instance.app.get(TokenService).revocationsMirrored;

describe.each(ADAPTERS)('Palisade on a Sentinel-managed Redis (1 primary, 1 replica, 3 sentinels), on %s', (adapter: AdapterName) => {
  const prefix = redisPrefix();
  let launched: RedisSentinelTopology | Error | undefined;
  let instances: TopologyInstance[] = [];

  beforeAll(async () => {
    launched = await RedisSentinelTopology.launch().catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
    if (!(launched instanceof RedisSentinelTopology)) return;
    const topology = launched;
    instances = await Promise.all(
      [0, 1, 2].map(async () => {
        const client = topology.client(COMMAND_TIMEOUT_MS);
        await whenReady(client);
        return bootInstance(adapter, client, prefix);
      }),
    );
    // Warm-up: each instance loads its scripts (EVALSHA's first NOSCRIPT) before the counts.
    await Promise.all(instances.map((instance) => timedGet(`${instance.url}/open`, fromIp(uniqueIp()))));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(instances.map((instance) => instance.app.close()));
    for (const instance of instances) instance.client.disconnect();
    if (launched instanceof RedisSentinelTopology) await launched.stop();
  });

  const ready = (ctx: TestContext): RedisSentinelTopology => requireTopology(ctx, launched, 'Redis Sentinel group');

  it(`lets exactly ${PING_LIMIT} of many concurrent requests through on three instances, and a logout on one is refused on the others at once (revocations mirrored)`, async (ctx) => {
    ready(ctx);
    const [a, b, c] = instances as [TopologyInstance, TopologyInstance, TopologyInstance];
    const ip = uniqueIp();
    const outcomes = await Promise.all(
      Array.from({ length: PING_LIMIT * 4 }, (_, i) => timedGet(`${(instances[i % 3] as TopologyInstance).url}/ping`, fromIp(ip))),
    );
    expect(outcomes.filter((o) => o.status !== 200 && o.status !== 429).map((o) => o.response?.body)).toEqual([]);
    expect(outcomes.filter((o) => o.status === 200)).toHaveLength(PING_LIMIT);
    expect(outcomes.filter((o) => o.status === 429).map((o) => o.response?.body)).toEqual(Array.from({ length: PING_LIMIT * 3 }, () => TOO_MANY_REQUESTS));

    await until(
      async () => instances.every(mirrored),
      5_000,
      () => 'the revocation mirrors did not go live',
    );
    const token = await loginFresh(a, 'alice');
    // Seen by B and C (now mirrored there), then logged out on A: refused on B and C at once.
    for (const instance of [b, c]) expect((await meFresh(instance, token)).status).toBe(200);
    expect((await logoutFresh(a, token)).status).toBe(204);
    for (const outcome of await Promise.all([meFresh(b, token), meFresh(c, token)])) expectRevoked(outcome);
  });

  it('does not acknowledge a logout no replica holds: with the replica frozen, 503 within the command timeout', async (ctx) => {
    const topology = ready(ctx);
    const [a, b] = instances as [TopologyInstance, TopologyInstance];
    const token = await loginFresh(a, 'bob');
    topology.replica.pause();
    try {
      const outcome = await logoutFresh(b, token);
      // (The test app's logout calls `revoke(claims)` without the response, so no Retry-After here.)
      expect({ status: outcome.status, body: outcome.response?.body }).toEqual({ status: 503, body: TOKENS_UNAVAILABLE });
      expect(outcome.ms).toBeLessThan(COMMAND_TIMEOUT_MS * 2 + 500);
    } finally {
      topology.replica.resume();
    }
    // Not acknowledged, yet in force on the primary: the token is refused everywhere (a retried
    // logout is then a 401), and the replica catches up once it answers again.
    for (const instance of instances) expectRevoked(await meFresh(instance, token));
    await until(
      async () => (await logoutFresh(b, token)).status === 401,
      5_000,
      () => 'the retried logout is not refused',
    );
  });

  it('kills the primary under load: the outage policy within the command timeout, the replica promoted, recovery without restart, and an acknowledged logout still holds', async (ctx) => {
    const topology = ready(ctx);
    const [a, b, c] = instances as [TopologyInstance, TopologyInstance, TopologyInstance];
    const token = await loginFresh(a, 'carol');
    expect((await meFresh(c, token)).status).toBe(200);
    expect((await logoutFresh(b, token)).status).toBe(204);
    const primary = await topology.primaryPort();
    let i = 0;
    const send = () => {
      const n = i++;
      return timedGet(`${([a, b, c][n % 3] as TopologyInstance).url}/open`, fromIp(uniqueIp()));
    };
    let recoveredAt = 0;
    const load = underLoad(send, { concurrency: 6, maxRequests: 5_000, maxMs: 25_000, stop: () => recoveredAt > 0 && Date.now() - recoveredAt > 500 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const killedAt = Date.now();
    await topology.kill(primary);
    await until(
      async () => (await topology.primaryPort()) !== primary,
      15_000,
      () => 'the sentinels did not promote the replica',
      100,
    );
    // Every instance is served again (Redis answers: 200, never 503) without a restart.
    await until(
      async () => (await Promise.all([a, b, c].map((instance) => timedGet(`${instance.url}/open`, fromIp(uniqueIp()))))).every((o) => o.status === 200),
      10_000,
      () => 'the instances did not recover after the promotion',
      100,
    );
    recoveredAt = Date.now();
    const outcomes = await load;
    // Each answer within the command timeout of its one Redis call (the throttle script) plus slack.
    expectWithinPolicy(outcomes, COMMAND_TIMEOUT_MS + 500);
    expect(
      outcomes.some((o) => o.status === 503),
      'the load met the outage',
    ).toBe(true);
    ctx.annotate(
      `recovered ${recoveredAt - killedAt} ms after the kill; ${outcomes.length} requests, ${outcomes.filter((o) => o.status === 503).length} answered 503`,
    );
    expectOutageReported([a, b, c]);
    // The logout acknowledged before the failover survived it; new tokens work; the mirrors are live again.
    for (const instance of [a, b, c]) expectRevoked(await meFresh(instance, token));
    const fresh = await loginFresh(c, 'after-failover');
    expect((await meFresh(a, fresh)).status).toBe(200);
    await until(
      async () => instances.every(mirrored),
      5_000,
      () => 'the revocation mirrors did not go live again on the new primary',
    );
  });

  it(`a failover loses at most the counts its replica had not received: ${REPLICATED} replicated before the kill survive, so a client gets at most 2 × ${PING_LIMIT} in the window, and then exactly the limit again`, async (ctx) => {
    const topology = ready(ctx);
    // An earlier kill left the primary without a replica: the killed node comes back as one.
    await topology.heal();
    const admin = topology.client(2_000);
    ctx.onTestFinished(() => admin.disconnect());
    await whenReady(admin);
    const ip = uniqueIp();
    const primary = await topology.primaryPort();
    const outcome = await limitAcrossFailover({
      instances,
      topology,
      primaryPort: primary,
      ip,
      replicated: REPLICATED,
      failover: () =>
        until(
          async () => (await topology.primaryPort()) !== primary,
          15_000,
          () => 'the sentinels did not promote the replica',
          100,
        ),
      counter: async () => Number(await admin.hget(windowKey(prefix, ip), 'c')),
    });
    ctx.annotate(
      `before the kill: ${outcome.before.join(' ')}; failover ${outcome.failoverMs} ms; promoted count ${outcome.promoted}; after: ${outcome.after.join(' ')}`,
    );
    expectBoundedLoss(outcome, REPLICATED);
  }, 60_000);
});
