// The benchmark harness (see bench/bench.mjs for how it is built and started, and USAGE for flags).
// Boots every stack × adapter as its own server process on 127.0.0.1, checks each answers the
// route under test correctly, warms them up, then loads them with autocannon (a separate process)
// in interleaved rounds, measuring the server's CPU per request. Writes <mode>.json/.md and prints
// the Markdown table on stdout (progress goes to stderr). A quick run is also kept as a dated
// quick-<UTC time>.json (a soak as soak-<UTC time>.json), which `npm run bench:page` turns into
// docs/benchmark.md. The palisade-cluster stack runs on a private Redis Cluster started here.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadResult } from './load.js';
import { machineInfo, redisVersion, versions } from './harness/environment.js';
import { killLoadGenerators, runLoad } from './harness/load-process.js';
import { parseOptions, runsOn, STACKS, USAGE, type BenchOptions, type StackName } from './harness/options.js';
import { BenchRedisCluster } from './harness/redis-cluster.js';
import { clusterDelta, redisProblem, totalCommandsProcessed, type NodeCounters } from './harness/redis-info.js';
import { renderMarkdown, type BenchReport, type RoundSample, type SoakResult, type SoakWindow, type StackResult, type TargetResult } from './harness/report.js';
import { procCpuUs, ServerProcess } from './harness/server-process.js';
import { median, ratio } from './harness/stats.js';
import { formatTargetValue, measureTargets, meets, roundRatios } from './harness/targets.js';
import { mintBenchToken } from './harness/token.js';
import { BENCH_PATH, reportsBody } from './servers/bench.constants.js';
import type { BenchAdapter } from './servers/server.bootstrap.js';

const SERVERS_DIR = fileURLToPath(new URL('./servers/', import.meta.url));
const BOOT_TIMEOUT_MS = 90_000;

/** Hooks of the launcher (bench/bench.mjs). */
export interface HarnessHooks {
  /** Called once every server has loaded its code (the launcher then releases the dist lock). */
  onServersBooted?: () => void;
}

const progress = (line: string): void => void process.stderr.write(`[bench] ${line}\n`);

/** One stack on one adapter, with its measurements. */
interface Target {
  stack: StackName;
  adapter: BenchAdapter;
  server: ServerProcess;
  samples: RoundSample[];
  problems: string[];
  responseHeaders: string[];
}

/**
 * The order of one round: adapter by adapter, so the stacks compared with each other run back to
 * back; every other round in reverse, so no stack always follows the same neighbour.
 */
function roundOrder(targets: readonly Target[], round: number): Target[] {
  const adapters = [...new Set(targets.map((target) => target.adapter))];
  const ordered = adapters.flatMap((adapter) => targets.filter((target) => target.adapter === adapter));
  return round % 2 === 1 ? ordered : ordered.reverse();
}

/** Boots every server (two at a time: a 2-core machine boots faster that way than all at once). */
async function bootAll(
  targets: Omit<Target, 'server'>[],
  options: BenchOptions,
  servers: ServerProcess[],
  cluster: BenchRedisCluster | undefined,
): Promise<Target[]> {
  const booted: Target[] = [];
  const queue = [...targets];
  const worker = async (): Promise<void> => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      const stack = STACKS[next.stack];
      const env: Record<string, string> = {
        ...stack.env,
        ...(stack.redis === 'server' ? { BENCH_REDIS_URL: options.redisUrl } : {}),
        ...(stack.redis === 'cluster' && cluster ? { BENCH_REDIS_CLUSTER: cluster.nodes.join(',') } : {}),
      };
      const server = ServerProcess.spawn(next.stack, next.adapter, join(SERVERS_DIR, stack.entry), env);
      servers.push(server);
      const started = Date.now();
      const port = await server.ready(BOOT_TIMEOUT_MS);
      progress(`${next.stack}/${next.adapter} listening on 127.0.0.1:${port} (pid ${server.pid}, ${Date.now() - started} ms)`);
      booted.push({ ...next, server });
    }
  };
  await Promise.all([worker(), worker()]);
  const order = (t: { stack: StackName; adapter: BenchAdapter }): number => targets.findIndex((x) => x.stack === t.stack && x.adapter === t.adapter);
  return booted.sort((a, b) => order(a) - order(b));
}

/** Fails unless the stack answers the route like the others: 200 and the JSON with a token, 401 without (when secured). */
async function checkAnswers(target: Target, token: string): Promise<void> {
  const url = `http://127.0.0.1:${target.server.port}${BENCH_PATH}`;
  const withToken = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  const body = await withToken.text();
  if (withToken.status !== 200 || body !== JSON.stringify(reportsBody())) {
    throw new Error(`${target.stack}/${target.adapter}: GET ${BENCH_PATH} with the bench token answered ${withToken.status} ${body.slice(0, 300)}`);
  }
  target.responseHeaders = [...withToken.headers.keys()].sort();
  if (STACKS[target.stack].secured) {
    const without = await fetch(url);
    await without.arrayBuffer();
    if (without.status !== 401)
      throw new Error(`${target.stack}/${target.adapter}: GET ${BENCH_PATH} without a token answered ${without.status}, expected 401`);
  }
}

function loadRequest(target: Target, options: BenchOptions, token: string, durationS: number, ticks = false) {
  return {
    url: `http://127.0.0.1:${target.server.port}${BENCH_PATH}`,
    connections: options.connections,
    durationS,
    headers: { authorization: `Bearer ${token}` },
    ticks,
  };
}

function loadProblems(load: LoadResult): string[] {
  const problems: string[] = [];
  if (load.non2xx > 0) problems.push(`${load.non2xx} non-2xx responses (${JSON.stringify(load.statusCodes)})`);
  if (load.errors > 0) problems.push(`${load.errors} connection errors (${load.timeouts} timeouts)`);
  if (load.requests === 0) problems.push('no request completed');
  return problems;
}

/** One measured round: CPU and Redis counters around one autocannon run. */
async function measureRound(target: Target, round: number, options: BenchOptions, token: string, cluster: BenchRedisCluster | undefined): Promise<RoundSample> {
  const { server } = target;
  const redis = STACKS[target.stack].redis;
  const serverCount = (): Promise<number> =>
    redis === 'server' ? totalCommandsProcessed(options.redisUrl).catch(() => Number.NaN) : Promise.resolve(Number.NaN);
  const clusterCount = (): Promise<NodeCounters[]> => (redis === 'cluster' && cluster ? cluster.counters().catch(() => []) : Promise.resolve([]));
  // Read while still frozen: work that fell due while it was (timers) is billed to this round.
  const cpuBefore = procCpuUs(server.pid);
  const statsBefore = await server.stats();
  const redisBefore = await serverCount();
  const clusterBefore = await clusterCount();
  const load = await runLoad(loadRequest(target, options, token, options.durationS));
  const cpuAfter = procCpuUs(server.pid);
  const statsAfter = await server.stats();
  const redisAfter = await serverCount();
  const clusterAfter = await clusterCount();
  if (options.pause) server.pause();

  const cpuUs =
    cpuBefore !== undefined && cpuAfter !== undefined
      ? cpuAfter - cpuBefore
      : statsAfter.cpuUserUs + statsAfter.cpuSystemUs - (statsBefore.cpuUserUs + statsBefore.cpuSystemUs);
  const sample: RoundSample = {
    round,
    requests: load.requests,
    durationS: load.durationS,
    rps: load.rps,
    latencyP50Ms: load.latencyP50Ms,
    latencyP99Ms: load.latencyP99Ms,
    cpuUsPerRequest: load.requests > 0 ? cpuUs / load.requests : Number.NaN,
    non2xx: load.non2xx,
    errors: load.errors,
  };
  if (redis !== 'none') {
    // Divided by the requests the server received: autocannon does not count the ones in flight when it stops.
    const delta = (key: string): number => (statsAfter.extra[key] ?? 0) - (statsBefore.extra[key] ?? 0);
    const handled = delta('requestsHandled');
    const perRequest = (count: number): number => (handled > 0 ? count / handled : Number.NaN);
    // The clients' upkeep (PING, CLUSTER SLOTS, …: see servers/palisade-redis.ts) is no request's.
    sample.redisRoundTripsPerRequest = perRequest(delta('redisWrites') - delta('redisUpkeepWrites'));
    sample.redisCommandsPerRequest = perRequest(delta('redisCommands') - delta('redisUpkeepCommands'));
    sample.redisCommandsByName = {};
    for (const key of Object.keys(statsAfter.extra)) {
      const count = delta(key);
      if (key.startsWith('redis:') && count > 0) sample.redisCommandsByName[key.slice('redis:'.length)] = Math.round(perRequest(count) * 1000) / 1000;
    }
    if (redis === 'server') {
      // The first INFO is itself counted between the two readings.
      sample.redisServerCommandsPerRequest = perRequest(redisAfter - redisBefore - 1);
    } else {
      // Summed over all six nodes, less the INFO of the first reading on each.
      const nodes = clusterDelta(clusterBefore, clusterAfter);
      sample.redisServerCommandsPerRequest = perRequest(nodes.commands);
      sample.redisServerReplicaCommandsPerRequest = perRequest(nodes.replicaCommands);
      sample.redisServerScriptsPerRequest = perRequest(nodes.scripts);
    }
  }
  for (const problem of loadProblems(load)) target.problems.push(`round ${round}: ${problem}`);
  return sample;
}

function summarize(target: Target): StackResult {
  const pick = (key: keyof RoundSample): number => median(target.samples.map((sample) => Number(sample[key])));
  const result: StackResult = {
    stack: target.stack,
    label: STACKS[target.stack].label,
    adapter: target.adapter,
    rounds: target.samples,
    median: { rps: pick('rps'), latencyP50Ms: pick('latencyP50Ms'), latencyP99Ms: pick('latencyP99Ms'), cpuUsPerRequest: pick('cpuUsPerRequest') },
    responseHeaders: target.responseHeaders,
    problems: target.problems,
  };
  if (STACKS[target.stack].redis !== 'none') {
    result.median.redisCommandsPerRequest = pick('redisCommandsPerRequest');
    result.median.redisRoundTripsPerRequest = pick('redisRoundTripsPerRequest');
    result.median.redisServerCommandsPerRequest = pick('redisServerCommandsPerRequest');
  }
  if (STACKS[target.stack].redis === 'cluster') {
    result.median.redisServerReplicaCommandsPerRequest = pick('redisServerReplicaCommandsPerRequest');
    result.median.redisServerScriptsPerRequest = pick('redisServerScriptsPerRequest');
  }
  return result;
}

/**
 * Ratios to bare Nest and to the community stack: the median of the ratios within each round.
 * Stacks of one adapter are measured back to back in every round, so each round's ratio compares
 * two measurements a few seconds apart; the median then drops the rounds a busy neighbour spoiled.
 */
function addRatios(results: StackResult[]): void {
  for (const result of results) {
    const bare = results.find((other) => other.stack === 'bare' && other.adapter === result.adapter);
    const community = results.find((other) => other.stack === 'community' && other.adapter === result.adapter);
    if (bare) {
      const ratios = roundRatios(result, bare, 'rps');
      result.vsBare = ratios.length > 0 ? median(ratios) : ratio(result.median.rps, bare.median.rps);
      if (ratios.length > 1 && result.stack !== 'bare') result.vsBareRange = [Math.min(...ratios), Math.max(...ratios)];
      const cpu = roundRatios(result, bare, 'cpuUsPerRequest');
      result.cpuVsBare = cpu.length > 0 ? median(cpu) : ratio(result.median.cpuUsPerRequest, bare.median.cpuUsPerRequest);
    }
    if (community) {
      const ratios = roundRatios(result, community, 'rps');
      result.vsCommunity = ratios.length > 0 ? median(ratios) : ratio(result.median.rps, community.median.rps);
    }
  }
}

/** The issues' targets, on what this run measured (see `harness/targets.ts`), and the soak's. */
function evaluateTargets(results: StackResult[], soaks: SoakResult[]): TargetResult[] {
  const targets: TargetResult[] = measureTargets(results).map((target) => ({
    target: target.target,
    measured: formatTargetValue(target),
    met: Number.isFinite(target.value) ? meets(target, target.value) : null,
  }));
  const soakName = 'No decay: last minute of a 5-min soak ≥ 0.95× the first';
  const soak = soaks.find((s) => s.stack === 'palisade');
  if (!soak || !Number.isFinite(soak.lastVsFirst)) targets.push({ target: soakName, measured: 'not in this run (`npm run bench -- --soak`)', met: null });
  else
    targets.push({
      target: soakName,
      measured: `${soak.lastVsFirst.toFixed(2)}× (${soak.durationS} s, ${soak.windowS} s windows)`,
      met: soak.durationS >= 300 && soak.windowS >= 60 ? soak.lastVsFirst >= 0.95 : null,
    });
  return targets;
}

/** Soak: one long autocannon run, sampling CPU and memory at every window boundary. */
async function soak(target: Target, options: BenchOptions, token: string): Promise<SoakResult> {
  const { server } = target;
  const perWindow = Math.max(1, Math.round(options.windowS));
  const ticks: number[] = [];
  const snapshots: { cpuUs: number; rssBytes: number }[] = [];
  let timer: NodeJS.Timeout | undefined;
  const snapshot = async (): Promise<void> => {
    try {
      const stats = await server.stats();
      snapshots.push({ cpuUs: procCpuUs(server.pid) ?? stats.cpuUserUs + stats.cpuSystemUs, rssBytes: stats.rssBytes });
    } catch (error) {
      target.problems.push(`soak: no stats from the server (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`);
    }
  };
  server.resume();
  progress(`soak: ${target.stack}/${target.adapter} for ${options.durationS} s (windows of ${options.windowS} s)…`);
  let load: LoadResult;
  try {
    load = await runLoad(loadRequest(target, options, token, options.durationS, true), {
      onStart: () => {
        void snapshot();
        timer = setInterval(() => void snapshot(), options.windowS * 1000);
      },
      onTick: (requests) => {
        ticks.push(requests);
        if (ticks.length % perWindow === 0) {
          const recent = ticks.slice(-perWindow).reduce((a, b) => a + b, 0) / perWindow;
          progress(`soak: ${ticks.length} s, ${Math.round(recent)} req/s over the last window`);
        }
      },
    });
  } finally {
    clearInterval(timer);
  }
  await snapshot();
  const windows: SoakWindow[] = [];
  for (let start = 0, index = 0; start < ticks.length; start += perWindow, index++) {
    // autocannon may tick once less than the duration: a last window at least 90 % full still counts.
    const length = Math.min(perWindow, ticks.length - start);
    if (length < perWindow * 0.9) break;
    const requests = ticks.slice(start, start + length).reduce((a, b) => a + b, 0);
    const before = snapshots[index];
    const after = snapshots[index + 1] ?? snapshots[snapshots.length - 1];
    windows.push({
      fromS: start,
      toS: start + length,
      rps: requests / length,
      cpuUsPerRequest: before && after && requests > 0 ? (after.cpuUs - before.cpuUs) / requests : Number.NaN,
      rssMiB: (after?.rssBytes ?? Number.NaN) / 2 ** 20,
    });
  }
  const first = windows[0];
  const last = windows[windows.length - 1];
  return {
    stack: target.stack,
    adapter: target.adapter,
    durationS: options.durationS,
    windowS: options.windowS,
    requests: load.requests,
    latencyP50Ms: load.latencyP50Ms,
    latencyP99Ms: load.latencyP99Ms,
    windows,
    lastVsFirst: windows.length >= 2 ? ratio(last?.rps, first?.rps) : Number.NaN,
    problems: [...target.problems, ...loadProblems(load)],
  };
}

/** `quick-2026-12-03T10-15-00Z.json`: the mode and the UTC time the run ended (sorts by date). */
export function datedRunName(mode: BenchOptions['mode'], isoTime: string): string {
  return `${mode}-${isoTime.replace(/\.\d+Z$/, 'Z').replaceAll(':', '-')}.json`;
}

function commandLine(argv: readonly string[]): string {
  return argv.length === 0 ? 'npm run bench' : `npm run bench -- ${argv.join(' ')}`;
}

/** Runs the harness; resolves with the process exit code. */
export async function main(argv: readonly string[], hooks: HarnessHooks = {}): Promise<number> {
  const options = parseOptions(argv);
  if (options === undefined) {
    process.stdout.write(USAGE);
    return 0;
  }
  const machine = machineInfo();
  const notes: string[] = [];
  let stacks = [...options.stacks];
  if (stacks.some((stack) => STACKS[stack].redis === 'server')) {
    const problem = await redisProblem(options.redisUrl);
    if (problem !== undefined) {
      const message = `Redis is not reachable at ${options.redisUrl} (${problem})`;
      if (options.stacksExplicit) throw new Error(`bench: ${message}; start redis-server or pass --redis-url.`);
      notes.push(`${message}: the Redis stack was skipped.`);
      progress(`${message}: skipping the Redis stack`);
      stacks = stacks.filter((stack) => STACKS[stack].redis !== 'server');
    }
  }

  const token = mintBenchToken();
  const servers: ServerProcess[] = [];
  let cluster: BenchRedisCluster | undefined;
  const killAll = (): void => {
    killLoadGenerators();
    for (const server of servers) server.killNow();
    cluster?.stopNow();
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    progress(`${signal}: stopping the servers`);
    killAll();
    process.exit(130);
  };
  process.on('exit', killAll);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    if (stacks.some((stack) => STACKS[stack].redis === 'cluster')) {
      progress('starting a private Redis Cluster (3 primaries + 3 replicas on free ports)…');
      const started = Date.now();
      try {
        cluster = await BenchRedisCluster.start();
        progress(`Redis Cluster up in ${Date.now() - started} ms (files in ${cluster.directory}): ${cluster.nodes.join(', ')}`);
      } catch (error) {
        const message = `the private Redis Cluster did not start (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`;
        if (options.stacksExplicit) throw new Error(`bench: ${message}; it needs redis-server and redis-cli (Redis ≥ 7) on the PATH.`, { cause: error });
        notes.push(`${message}: the Cluster stack was skipped.`);
        progress(`${message}: skipping the Cluster stack`);
        stacks = stacks.filter((stack) => STACKS[stack].redis !== 'cluster');
      }
    }
    const plan = stacks.flatMap((stack) =>
      options.adapters.filter((adapter) => runsOn(stack, adapter)).map((adapter) => ({ stack, adapter, samples: [], problems: [], responseHeaders: [] })),
    );
    progress(`${options.mode}: booting ${plan.length} server(s): ${plan.map((t) => `${t.stack}/${t.adapter}`).join(', ')}`);
    let targets: Target[];
    try {
      targets = await bootAll(plan, options, servers, cluster);
    } finally {
      hooks.onServersBooted?.();
    }
    for (const target of targets) await checkAnswers(target, token);

    for (const target of targets) {
      if (options.warmupS > 0) {
        progress(`warm-up ${target.stack}/${target.adapter} (${options.warmupS} s)`);
        const warm = await runLoad(loadRequest(target, options, token, options.warmupS));
        for (const problem of loadProblems(warm)) target.problems.push(`warm-up: ${problem}`);
      }
      if (options.pause) target.server.pause();
    }

    const soaks: SoakResult[] = [];
    if (options.mode === 'soak') {
      for (const target of targets) soaks.push(await soak(target, options, token));
    } else {
      for (let round = 1; round <= options.rounds; round++) {
        for (const target of roundOrder(targets, round)) {
          const sample = await measureRound(target, round, options, token, cluster);
          target.samples.push(sample);
          const redis =
            sample.redisCommandsPerRequest === undefined
              ? ''
              : `, Redis ${(sample.redisRoundTripsPerRequest ?? Number.NaN).toFixed(2)} round trips/req, ${sample.redisCommandsPerRequest.toFixed(2)} cmd/req ${JSON.stringify(sample.redisCommandsByName ?? {})}`;
          progress(
            `round ${round}/${options.rounds} ${target.stack}/${target.adapter}: ${Math.round(sample.rps)} req/s, p50 ${sample.latencyP50Ms.toFixed(2)} ms, p99 ${sample.latencyP99Ms.toFixed(2)} ms, ${Math.round(sample.cpuUsPerRequest)} µs CPU/req${redis}`,
          );
        }
      }
    }

    const results = options.mode === 'soak' ? [] : targets.map(summarize);
    addRatios(results);
    if (stacks.some((stack) => STACKS[stack].redis === 'server')) {
      const version = await redisVersion(options.redisUrl);
      notes.push(
        `Redis ${version ?? '(version unknown)'} at ${options.redisUrl}, keys under a random prefix. Counted in the server process, per request: "Redis cmd/req" = commands its ioredis clients sent; "round trips" = writes to the Redis socket (one per command, one per pipeline); both without the clients' own upkeep (PING, CLUSTER SLOTS, CLIENT, READONLY…, which no request sends; listed by name below). The Redis server's own count (INFO total_commands_processed) is in the JSON as redisServerCommandsPerRequest and includes every other client of a shared Redis.`,
      );
    }
    if (cluster) {
      const version = await redisVersion(`redis://${cluster.nodes[0]}`);
      notes.push(
        `Redis Cluster: a private one the harness starts for the run, Redis ${version ?? '(version unknown)'}, 3 primaries + 3 replicas on ${cluster.nodes.join(', ')}; Palisade reaches it through \`storage.redis: { cluster: [...] }\`. Round trips and commands are counted in the server process as for one server, summed over its connections to every node. The nodes' own counts, summed over all six (INFO, less the INFO calls themselves), are in the JSON: redisServerScriptsPerRequest (scripts run: only clients send them), redisServerCommandsPerRequest (every command executed, those inside scripts and the replicas' copies included) and redisServerReplicaCommandsPerRequest.`,
      );
    }
    for (const result of results.filter((r) => r.stack === 'palisade-cluster')) {
      notes.push(
        `${result.label} on ${result.adapter}, the nodes' own count summed over all six: ${result.median.redisServerScriptsPerRequest?.toFixed(2) ?? '–'} scripts run per request, ${result.median.redisServerCommandsPerRequest?.toFixed(2) ?? '–'} commands executed per request (of which ${result.median.redisServerReplicaCommandsPerRequest?.toFixed(2) ?? '–'} on replicas).`,
      );
    }
    for (const result of results) {
      const last = result.rounds[result.rounds.length - 1]?.redisCommandsByName;
      if (last && Object.keys(last).length > 0) {
        notes.push(
          `${result.label} on ${result.adapter}, Redis commands per request (last round): ${Object.entries(last)
            .map(([name, count]) => `${name} ${count}`)
            .join(', ')}.`,
        );
      }
    }
    for (const floor of results.filter((result) => result.stack === 'floor')) {
      notes.push(
        `The floor on ${floor.adapter} (bare Nest + the headers Palisade sends, written where Palisade writes them by default, + three guards that do nothing) reaches ${floor.vsBare?.toFixed(2) ?? '–'}× bare Nest: the most any stack sending that header set through three guards can reach; the rest of Palisade's distance to bare Nest is its own work.`,
      );
    }
    for (const shaped of results.filter((result) => result.stack === 'bare-shaped')) {
      notes.push(
        `On ${shaped.adapter}, declaring the fields Express adds to each request and response before Express re-parents them (what Palisade's opt-in \`stableRequestShapes: true\` does; off by default, and off in every Palisade and floor stack here) takes bare Nest by itself to ${shaped.vsBare?.toFixed(2) ?? '–'}× its throughput: no other stack is compared with it.`,
      );
    }
    notes.push('Numbers from one machine and one run; anything else running on it (load average above) makes them noisy. Ratios are from the same run.');
    const cpuSource = process.platform === 'linux' && procCpuUs(process.pid) !== undefined ? '/proc/<pid>/stat' : 'process.cpuUsage() over IPC';
    const report: BenchReport = {
      generatedAt: new Date().toISOString(),
      mode: options.mode,
      command: commandLine(argv),
      settings: {
        connections: options.connections,
        rounds: options.mode === 'soak' ? 1 : options.rounds,
        durationS: options.durationS,
        warmupS: options.warmupS,
        pausedBetweenRounds: options.pause && options.mode !== 'soak',
        cpuSource,
      },
      machine,
      versions: versions(),
      results,
      ...(soaks.length > 0 ? { soak: soaks } : {}),
      targets: evaluateTargets(results, soaks),
      notes,
    };
    const markdown = renderMarkdown(report);
    const name = options.mode === 'quick' ? 'latest' : options.mode;
    const json = `${JSON.stringify(report, (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? null : value), 2)}\n`;
    await mkdir(options.outDir, { recursive: true });
    await writeFile(join(options.outDir, `${name}.json`), json);
    await writeFile(join(options.outDir, `${name}.md`), markdown);
    process.stdout.write(`\n${markdown}`);
    progress(`wrote ${join(options.outDir, `${name}.json`)} and ${name}.md`);
    if (options.mode !== 'smoke') {
      // Kept for `npm run bench:page` (docs/benchmark.md): every run under its own date.
      const dated = join(options.outDir, datedRunName(options.mode, report.generatedAt));
      await writeFile(dated, json);
      progress(`wrote ${dated}`);
    }
    const problems = [...results, ...soaks].some((result) => result.problems.length > 0);
    return problems ? 1 : 0;
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
    await cluster?.stop();
    process.off('exit', killAll);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
