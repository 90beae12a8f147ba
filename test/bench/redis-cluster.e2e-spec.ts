import { existsSync } from 'node:fs';
import { Cluster } from 'ioredis';
import { describe, expect, it, type TestContext } from 'vitest';
import { BenchRedisCluster } from '../../bench/harness/redis-cluster.js';
import { clusterDelta, infoField, redisCommand, scriptCalls, type NodeCounters } from '../../bench/harness/redis-info.js';
import { skipOrFail } from '../support/redis.js';

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Starts the bench's private Cluster, or fails under CI / skips elsewhere when redis-server cannot. */
async function startCluster(ctx: TestContext): Promise<BenchRedisCluster> {
  try {
    return await BenchRedisCluster.start();
  } catch (error) {
    return skipOrFail(ctx, `cannot start a private Redis Cluster (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`);
  }
}

const node = (port: number, role: 'master' | 'slave', commands: number, scripts: number): NodeCounters => ({
  node: `127.0.0.1:${port}`,
  role,
  commands,
  scripts,
});

// The palisade-cluster stack of `npm run bench` runs on a Redis Cluster the harness starts and
// stops itself, and counts what a request costs by summing every node's INFO.
describe('benchmark harness: the private Redis Cluster', () => {
  it('starts 3 primaries + 3 replicas on free ports (never 6379), serves every slot, and stop() kills them and removes their files', async (ctx) => {
    const cluster = await startCluster(ctx);
    try {
      expect(cluster.nodes).toHaveLength(6);
      expect(new Set(cluster.nodes).size).toBe(6);
      expect(cluster.nodes.every((address) => /^127\.0\.0\.1:\d+$/.test(address) && !address.endsWith(':6379'))).toBe(true);
      const info = await redisCommand(`redis://${cluster.nodes[0]}`, ['CLUSTER', 'INFO']);
      expect(infoField(info, 'cluster_state')).toBe('ok');
      expect(infoField(info, 'cluster_slots_assigned')).toBe('16384');
      expect(infoField(info, 'cluster_size')).toBe('3');
      const counters = await cluster.counters();
      expect(counters.map((entry) => entry.role).sort()).toEqual(['master', 'master', 'master', 'slave', 'slave', 'slave']);
      expect(cluster.pids.every(isAlive)).toBe(true);
      expect(existsSync(cluster.directory)).toBe(true);
    } finally {
      await cluster.stop();
    }
    expect(cluster.pids.some(isAlive)).toBe(false);
    expect(existsSync(cluster.directory)).toBe(false);
  }, 120_000);

  it('counts, summed over all six nodes, exactly the scripts a Cluster client ran, whichever primary ran them', async (ctx) => {
    const cluster = await startCluster(ctx);
    const client = new Cluster(cluster.nodes.slice(0, 1).map((address) => ({ host: '127.0.0.1', port: Number(address.split(':')[1]) })));
    try {
      await client.set('warm-up', '1'); // slot map loaded before the first reading
      const before = await cluster.counters();
      const scripts = 60;
      // Keys with 60 different hash tags land on all three primaries.
      for (let i = 0; i < scripts; i++) await client.eval("return redis.call('INCR', KEYS[1])", 1, `{tag-${i}}:counter`);
      const after = await cluster.counters();
      const delta = clusterDelta(before, after);
      expect(delta.scripts).toBe(scripts);
      // Every primary ran some of them: the sum is over all nodes, not one.
      const perPrimary = after.filter((entry) => entry.role === 'master').map((end) => end.scripts - before.find((start) => start.node === end.node)!.scripts);
      expect(perPrimary).toHaveLength(3);
      expect(perPrimary.every((count) => count > 0)).toBe(true);
      // Each script runs INCR inside Redis too, and the replicas execute the primaries' writes.
      expect(delta.primaryCommands).toBeGreaterThanOrEqual(2 * scripts);
      expect(delta.replicaCommands).toBeGreaterThanOrEqual(scripts);
      expect(delta.commands).toBe(delta.primaryCommands + delta.replicaCommands);
    } finally {
      client.disconnect();
      await cluster.stop();
    }
  }, 120_000);

  it('stopNow() (the harness exit handler) kills the nodes at once and removes their files', async (ctx) => {
    const cluster = await startCluster(ctx);
    cluster.stopNow();
    expect(existsSync(cluster.directory)).toBe(false);
    const deadline = Date.now() + 5_000;
    while (cluster.pids.some(isAlive) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(cluster.pids.some(isAlive)).toBe(false);
  }, 120_000);

  it('sums the deltas over every node, taking out the one INFO each node counted for the first reading', () => {
    const before = [node(7001, 'master', 100, 10), node(7002, 'master', 200, 20), node(7003, 'slave', 50, 0)];
    const after = [node(7003, 'slave', 61, 0), node(7001, 'master', 131, 20), node(7002, 'master', 221, 25)];
    expect(clusterDelta(before, after)).toEqual({ commands: 30 + 20 + 10, primaryCommands: 50, replicaCommands: 10, scripts: 15 });
    // A node missing from a reading makes the sum unknown, never an undercount.
    expect(clusterDelta(before, after.slice(1)).commands).toBeNaN();
    expect(clusterDelta(before, [node(7001, 'master', 131, 20), node(7002, 'master', 221, 25), node(7009, 'slave', 61, 0)]).scripts).toBeNaN();
  });

  it('reads the script calls from INFO commandstats: EVAL, EVALSHA and FCALL (and their _RO forms), not what scripts call', () => {
    const info = [
      '# Commandstats',
      'cmdstat_evalsha:calls=7,usec=70,usec_per_call=10.00,rejected_calls=0,failed_calls=0',
      'cmdstat_eval:calls=2,usec=20,usec_per_call=10.00,rejected_calls=0,failed_calls=0',
      'cmdstat_fcall_ro:calls=1,usec=1,usec_per_call=1.00,rejected_calls=0,failed_calls=0',
      'cmdstat_incr:calls=40,usec=40,usec_per_call=1.00,rejected_calls=0,failed_calls=0',
      'cmdstat_info:calls=3,usec=30,usec_per_call=10.00,rejected_calls=0,failed_calls=0',
    ].join('\r\n');
    expect(scriptCalls(info)).toBe(10);
  });
});
