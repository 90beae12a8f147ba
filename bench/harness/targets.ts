import type { BenchAdapter } from '../servers/server.bootstrap.js';
import { STACKS, type StackName } from './options.js';
import type { StackResult } from './report.js';
import { median, ratio } from './stats.js';

/** The per-round ratios of `key` between two stacks measured in the same rounds. */
export function roundRatios(result: StackResult, other: StackResult, key: 'rps' | 'cpuUsPerRequest'): number[] {
  return result.rounds.flatMap((sample) => {
    const peer = other.rounds.find((candidate) => candidate.round === sample.round);
    const value = peer ? ratio(sample[key], peer[key]) : Number.NaN;
    return Number.isFinite(value) ? [value] : [];
  });
}

/** One target of the issues, with the figure one run measured for it (NaN when the run has not the stacks it needs). */
export interface TargetValue {
  /** Stable identifier (`palisade-vs-bare/express`), to match a target across runs. */
  id: string;
  /** What is promised, in words. */
  target: string;
  /** `min`: the figure must be at least `threshold`; `max`: at most. */
  direction: 'min' | 'max';
  threshold: number;
  /** `ratio`: a throughput ratio (×); `round-trips`: Redis round trips per request. */
  unit: 'ratio' | 'round-trips';
  value: number;
  /** Redis commands per request beside a round-trip figure. */
  commandsPerRequest?: number;
  /** Cluster: the scripts the nodes themselves ran per request, summed over every node (INFO commandstats). */
  serverScriptsPerRequest?: number;
}

const adapterName = (adapter: BenchAdapter): string => (adapter === 'express' ? 'Express' : 'Fastify');

/** True when `value` meets the target (a round-trip count may be 1.001: counted per request received). */
export function meets(target: Pick<TargetValue, 'direction' | 'threshold'>, value: number): boolean {
  return target.direction === 'min' ? value >= target.threshold : value <= target.threshold + 0.001;
}

/**
 * The targets of the benchmark's issues, measured on one run's results. Every throughput ratio is
 * the median, over rounds, of the ratio within each round (the two stacks measured back to back).
 */
export function measureTargets(results: readonly StackResult[]): TargetValue[] {
  const find = (stack: StackName, adapter: BenchAdapter): StackResult | undefined => results.find((r) => r.stack === stack && r.adapter === adapter);
  const targets: TargetValue[] = [];
  const versus = (stack: StackName, other: StackName, adapter: BenchAdapter, threshold: number, what: string): void => {
    const mine = find(stack, adapter);
    const theirs = find(other, adapter);
    targets.push({
      id: `${stack}-vs-${other}/${adapter}`,
      target: `${what} ≥ ${threshold}× ${STACKS[other].label} throughput on ${adapterName(adapter)}`,
      direction: 'min',
      threshold,
      unit: 'ratio',
      value: mine && theirs ? median(roundRatios(mine, theirs, 'rps')) : Number.NaN,
    });
  };
  versus('palisade', 'bare', 'express', 0.8, 'Palisade (memory)');
  versus('palisade', 'bare', 'fastify', 0.6, 'Palisade (memory)');
  for (const adapter of ['express', 'fastify'] as const) {
    versus('palisade', 'nest-headers', adapter, 0.9, 'Palisade (memory), its whole stack,');
    versus('palisade-headers', 'nest-headers', adapter, 1.0, "Palisade's header delivery alone (palisade-headers)");
    versus('palisade', 'nest-first-party', adapter, 3, 'Palisade (memory)');
    versus('palisade', 'community', adapter, 3, 'Palisade (memory)');
  }
  const roundTrips = (stack: 'palisade-redis' | 'palisade-cluster', what: string): void => {
    const measured = results.filter((r) => r.stack === stack && r.median.redisRoundTripsPerRequest !== undefined);
    targets.push({
      id: `${stack}-round-trips`,
      target: `${what}: at most one Redis round trip per request`,
      direction: 'max',
      threshold: 1,
      unit: 'round-trips',
      // The worse adapter.
      value: measured.length > 0 ? Math.max(...measured.map((r) => r.median.redisRoundTripsPerRequest ?? Number.NaN)) : Number.NaN,
      commandsPerRequest: measured.length > 0 ? Math.max(...measured.map((r) => r.median.redisCommandsPerRequest ?? Number.NaN)) : Number.NaN,
      ...(stack === 'palisade-cluster'
        ? { serverScriptsPerRequest: measured.length > 0 ? Math.max(...measured.map((r) => r.median.redisServerScriptsPerRequest ?? Number.NaN)) : Number.NaN }
        : {}),
    });
  };
  roundTrips('palisade-redis', 'Redis store (one server)');
  roundTrips('palisade-cluster', 'Redis store on a Cluster (3 primaries + 3 replicas)');
  for (const adapter of ['express', 'fastify'] as const) versus('palisade-cluster', 'palisade-redis', adapter, 0.8, 'Palisade on a Redis Cluster');
  return targets;
}

/** `0.93×`, or `1.00 round trips (1.00 commands) per request` (and the nodes' own script count on a Cluster). */
export function formatTargetValue(
  target: TargetValue,
  value = target.value,
  commands = target.commandsPerRequest,
  scripts = target.serverScriptsPerRequest,
): string {
  if (!Number.isFinite(value)) return 'not in this run';
  if (target.unit === 'ratio') return `${value.toFixed(2)}×`;
  const counted = `${value.toFixed(2)} round trips${commands !== undefined && Number.isFinite(commands) ? ` (${commands.toFixed(2)} commands)` : ''} per request`;
  return scripts !== undefined && Number.isFinite(scripts) ? `${counted}; the nodes' INFO, all six: ${scripts.toFixed(2)} scripts run per request` : counted;
}
