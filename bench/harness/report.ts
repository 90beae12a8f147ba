import type { BenchAdapter } from '../servers/server.bootstrap.js';
import type { MachineInfo } from './environment.js';
import type { BenchOptions, StackName } from './options.js';

/** One measured round of one stack on one adapter. */
export interface RoundSample {
  round: number;
  requests: number;
  durationS: number;
  rps: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  cpuUsPerRequest: number;
  non2xx: number;
  errors: number;
  /** Commands the server's Redis clients sent, per request (palisade-redis only). */
  redisCommandsPerRequest?: number;
  /** Writes to the Redis socket per request: one per command, or one per pipeline — the round trips. */
  redisRoundTripsPerRequest?: number;
  /** The same, per command name (`evalsha`, `get`, …). */
  redisCommandsByName?: Record<string, number>;
  /**
   * Growth of the Redis server's total_commands_processed per request (on a Cluster: summed over
   * every node, less the INFO calls that read it): counts the commands run inside scripts, other
   * clients of a shared Redis and, on a Cluster, the replicas' copies of writes.
   */
  redisServerCommandsPerRequest?: number;
  /** Cluster only: of those, the ones the replicas executed (their copies of the primaries' writes). */
  redisServerReplicaCommandsPerRequest?: number;
  /** Cluster only: scripts (EVAL/EVALSHA/FCALL calls) the nodes ran per request, summed over every node. */
  redisServerScriptsPerRequest?: number;
}

/** The medians of a stack's rounds and its ratios. */
export interface StackResult {
  stack: StackName;
  label: string;
  adapter: BenchAdapter;
  rounds: RoundSample[];
  median: {
    rps: number;
    latencyP50Ms: number;
    latencyP99Ms: number;
    cpuUsPerRequest: number;
    redisCommandsPerRequest?: number;
    redisRoundTripsPerRequest?: number;
    redisServerCommandsPerRequest?: number;
    redisServerReplicaCommandsPerRequest?: number;
    redisServerScriptsPerRequest?: number;
  };
  /**
   * req/s ÷ bare Nest's req/s on the same adapter: the median, over rounds, of the ratio within
   * each round (the two measured back to back, so a slower minute of the machine cancels out).
   */
  vsBare?: number;
  /** Lowest and highest per-round ratio to bare Nest (how much the machine moved). */
  vsBareRange?: [number, number];
  /** req/s ÷ the community stack's req/s on the same adapter (median of per-round ratios). */
  vsCommunity?: number;
  /** CPU per request ÷ bare Nest's on the same adapter. */
  cpuVsBare?: number;
  /** Response headers of the sanity request (what the stack sends). */
  responseHeaders: string[];
  problems: string[];
}

/** One window of a soak. */
export interface SoakWindow {
  fromS: number;
  toS: number;
  rps: number;
  cpuUsPerRequest: number;
  rssMiB: number;
}

export interface SoakResult {
  stack: StackName;
  adapter: BenchAdapter;
  durationS: number;
  windowS: number;
  requests: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  windows: SoakWindow[];
  /** Last window's req/s ÷ first window's. */
  lastVsFirst: number;
  problems: string[];
}

/** A target of the issue, evaluated on this run (`met: null` when this run does not measure it). */
export interface TargetResult {
  target: string;
  measured: string;
  met: boolean | null;
  /** A figure reported beside the targets, with no threshold of its own. */
  informational?: boolean;
}

export interface BenchReport {
  generatedAt: string;
  mode: BenchOptions['mode'];
  command: string;
  settings: { connections: number; rounds: number; durationS: number; warmupS: number; pausedBetweenRounds: boolean; cpuSource: string };
  machine: MachineInfo;
  versions: Record<string, string>;
  results: StackResult[];
  soak?: SoakResult[];
  targets: TargetResult[];
  notes: string[];
}

const integer = (value: number): string => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '–');
const fixed = (value: number | undefined, digits: number): string => (value !== undefined && Number.isFinite(value) ? value.toFixed(digits) : '–');
const times = (value: number | undefined): string => (value !== undefined && Number.isFinite(value) ? `${value.toFixed(2)}×` : '–');

/** The Markdown report: context, results table, targets, notes. */
export function renderMarkdown(report: BenchReport): string {
  const lines: string[] = [];
  const { machine, settings } = report;
  lines.push(`### Benchmark (${report.mode}), ${report.generatedAt}`, '');
  lines.push(
    `- Machine: ${machine.cpuModel}, ${machine.cpus} CPUs, ${machine.memoryGiB} GiB, ${machine.os}; load average at start ${machine.loadAverageAtStart}`,
    `- Versions: ${Object.entries(report.versions)
      .map(([name, version]) => `${name} ${version}`)
      .join(', ')}`,
    `- Command: \`${report.command}\``,
  );
  if (report.mode === 'soak') {
    lines.push(
      `- Method: autocannon in its own process, ${settings.connections} connections, one run of ${settings.durationS} s after ${settings.warmupS} s of warm-up; server CPU from ${settings.cpuSource}`,
    );
  } else {
    lines.push(
      `- Method: autocannon in its own process, ${settings.connections} connections, ${settings.rounds} interleaved round(s) × ${settings.durationS} s per stack and adapter after ${settings.warmupS} s of warm-up (in each round the stacks of one adapter run back to back, every other round in reverse order); medians over rounds; ratios are the median of the per-round ratios (their range in brackets); server CPU (user + system, all threads) from ${settings.cpuSource} ÷ requests${settings.pausedBetweenRounds ? '; servers not under load are frozen (SIGSTOP)' : ''}`,
    );
  }
  lines.push('');
  if (report.results.length > 0) {
    const redis = report.results.some((result) => result.median.redisCommandsPerRequest !== undefined);
    lines.push(`| stack | adapter | req/s | p50 ms | p99 ms | CPU µs/req | × bare | × community |${redis ? ' Redis round trips/req | Redis cmd/req |' : ''}`);
    lines.push(`| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |${redis ? ' ---: | ---: |' : ''}`);
    for (const result of report.results) {
      const m = result.median;
      const cells = [
        result.label,
        result.adapter,
        integer(m.rps),
        fixed(m.latencyP50Ms, 2),
        fixed(m.latencyP99Ms, 2),
        integer(m.cpuUsPerRequest),
        result.stack === 'bare' ? '1.00×' : `${times(result.vsBare)}${result.vsBareRange ? ` (${result.vsBareRange.map((v) => v.toFixed(2)).join('–')})` : ''}`,
        result.stack === 'community' ? '1.00×' : times(result.vsCommunity),
      ];
      if (redis) cells.push(fixed(m.redisRoundTripsPerRequest, 2), fixed(m.redisCommandsPerRequest, 2));
      lines.push(`| ${cells.join(' | ')} |`);
    }
    lines.push('');
  }
  for (const soak of report.soak ?? []) {
    lines.push(
      `Soak of ${soak.stack} on ${soak.adapter}: ${integer(soak.requests)} requests in ${soak.durationS} s, p50 ${fixed(soak.latencyP50Ms, 2)} ms, p99 ${fixed(soak.latencyP99Ms, 2)} ms; last window ÷ first: ${times(soak.lastVsFirst)}`,
      '',
    );
    lines.push('| window | req/s | CPU µs/req | RSS MiB |', '| --- | ---: | ---: | ---: |');
    for (const window of soak.windows)
      lines.push(`| ${window.fromS}–${window.toS} s | ${integer(window.rps)} | ${integer(window.cpuUsPerRequest)} | ${integer(window.rssMiB)} |`);
    lines.push('');
  }
  if (report.targets.length > 0) {
    lines.push('| target | measured | met |', '| --- | --- | :-: |');
    for (const target of report.targets)
      lines.push(
        `| ${target.target} | ${target.measured} | ${target.informational ? '–' : target.met === null ? 'not measured' : target.met ? 'yes' : 'no'} |`,
      );
    lines.push('');
  }
  for (const note of report.notes) lines.push(`- ${note}`);
  const problems = [...report.results, ...(report.soak ?? [])].flatMap((result) =>
    result.problems.map((problem) => `${result.stack}/${result.adapter}: ${problem}`),
  );
  for (const problem of problems) lines.push(`- **Problem:** ${problem}`);
  return `${lines.join('\n').trim()}\n`;
}
