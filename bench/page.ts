// `npm run bench:page` (bench/page.mjs builds this file and runs it): writes docs/benchmark.md from
// the runs kept in bench/results (quick-<UTC time>.json, soak-<UTC time>.json, which every
// `npm run bench` and `npm run bench -- --soak` write) and the template bench/benchmark-page.md
// (the method, in prose). By default the three newest quick runs and the newest soak.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import type { BenchReport, StackResult } from './harness/report.js';
import { median } from './harness/stats.js';
import { formatTargetValue, measureTargets, meets, type TargetValue } from './harness/targets.js';

/** What the page is made of. */
export interface PageInput {
  /** The template, with `{{name}}` placeholders (see {@link PLACEHOLDERS}). */
  template: string;
  /** Quick runs, oldest first, each with the file it came from. */
  runs: readonly { file: string; report: BenchReport }[];
  /** The newest soak, if any. */
  soak?: { file: string; report: BenchReport };
  /** The command that regenerates the page (written at its top). */
  command: string;
}

/** The placeholders a template must hold, each exactly once. */
export const PLACEHOLDERS = ['runs-summary', 'machine', 'versions', 'targets', 'results', 'soak'] as const;

const integer = (value: number | null | undefined): string =>
  value !== undefined && value !== null && Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '–';
const fixed = (value: number | null | undefined, digits: number): string =>
  value !== undefined && value !== null && Number.isFinite(value) ? value.toFixed(digits) : '–';
const adapterName = (adapter: string): string => (adapter === 'express' ? 'Express' : adapter === 'fastify' ? 'Fastify' : adapter);

/** JSON writes NaN as null: back to NaN, so every figure is a number again. */
function numeric(value: number | null | undefined): number {
  return value === null || value === undefined ? Number.NaN : value;
}

/** A report read back from JSON, with the nulls of missing figures turned back into NaN where the targets read them. */
function revive(report: BenchReport): BenchReport {
  const results: StackResult[] = report.results.map((result) => ({
    ...result,
    median: Object.fromEntries(Object.entries(result.median).map(([key, value]) => [key, numeric(value as number | null)])) as StackResult['median'],
    rounds: result.rounds.map((round) => ({ ...round, rps: numeric(round.rps), cpuUsPerRequest: numeric(round.cpuUsPerRequest) })),
  }));
  return { ...report, results };
}

function runsSummary(input: PageInput): string {
  if (input.runs.length === 0) {
    return [
      'No measured run is recorded in `bench/results/` yet. Run `npm run bench` (three times, on a quiet',
      'machine), then `npm run bench:page`: this page then shows them.',
    ].join('\n');
  }
  const lines = [
    '| run | file | finished (UTC) | command | load average at start | rounds × s (warm-up s), connections |',
    '| --- | --- | --- | --- | ---: | --- |',
  ];
  input.runs.forEach(({ file, report }, index) => {
    const s = report.settings;
    lines.push(
      `| ${index + 1} | \`${file}\` | ${report.generatedAt} | \`${report.command}\` | ${fixed(report.machine.loadAverageAtStart, 2)} | ${s.rounds} × ${s.durationS} (${s.warmupS}), ${s.connections} |`,
    );
  });
  return lines.join('\n');
}

function machine(input: PageInput): string {
  const reports = [...input.runs.map((run) => run.report), ...(input.soak ? [input.soak.report] : [])];
  if (reports.length === 0) return 'No run yet.';
  const described = [...new Set(reports.map(({ machine: m }) => `${m.cpuModel}, ${m.cpus} CPUs, ${m.memoryGiB} GiB, ${m.os}`))];
  const lines = described.map((line) => `- ${line}`);
  lines.push(`- Server CPU time read from ${reports[0]!.settings.cpuSource}`);
  if (described.length > 1) lines.push('', '**These runs come from different machines: their figures are not comparable.**');
  return lines.join('\n');
}

function versionsTable(input: PageInput): string {
  const newest = input.runs[input.runs.length - 1]?.report ?? input.soak?.report;
  if (!newest) return 'No run yet.';
  const lines = ['| package | version |', '| --- | --- |'];
  for (const [name, version] of Object.entries(newest.versions)) lines.push(`| ${name} | ${version} |`);
  const redis = newest.notes.map((note) => /Redis (\d+\.\d+\.\d+)/.exec(note)?.[1]).find((version) => version !== undefined);
  if (redis) lines.push(`| Redis (server) | ${redis} |`);
  const differing = input.runs.filter(({ report }) => JSON.stringify(report.versions) !== JSON.stringify(newest.versions)).map(({ file }) => `\`${file}\``);
  if (differing.length > 0) lines.push('', `Versions differ in ${differing.join(', ')}: see those files.`);
  return lines.join('\n');
}

/** A target's figure in one run's column: `0.85×`, `1.00` (round trips), or `–`. */
function short(value: TargetValue | undefined): string {
  if (value === undefined || !Number.isFinite(value.value)) return '–';
  return value.unit === 'ratio' ? `${value.value.toFixed(2)}×` : value.value.toFixed(2);
}

/** One row per target: its figure in each run, the median over the runs, and whether the median meets it. */
function targetsTable(input: PageInput): string {
  if (input.runs.length === 0) return 'No run yet.';
  const perRun = input.runs.map(({ report }) => measureTargets(revive(report).results));
  const first = perRun[0] ?? [];
  const header = `| target | ${input.runs.map((_, index) => `run ${index + 1}`).join(' | ')} | median | met |`;
  const lines = [header, `| --- |${input.runs.map(() => ' ---: |').join('')} ---: | :-: |`];
  for (const target of first) {
    const values = perRun.map((targets) => targets.find((candidate) => candidate.id === target.id));
    const figures = values.map((value) => value?.value ?? Number.NaN);
    const measured = figures.filter((value) => Number.isFinite(value));
    const middle = median(measured);
    const commands = median(values.map((value) => value?.commandsPerRequest ?? Number.NaN));
    const scripts = median(values.map((value) => value?.serverScriptsPerRequest ?? Number.NaN));
    const met =
      measured.length === 0
        ? 'not measured'
        : `${meets(target, middle) ? 'yes' : 'no'} (${measured.filter((value) => meets(target, value)).length}/${measured.length} runs)`;
    lines.push(
      `| ${target.target} | ${values.map(short).join(' | ')} | ${measured.length === 0 ? '–' : formatTargetValue(target, middle, commands, target.serverScriptsPerRequest === undefined ? undefined : scripts)} | ${met} |`,
    );
  }
  const soak = input.soak?.report.soak?.find((entry) => entry.stack === 'palisade');
  const soakFigure = soak ? numeric(soak.lastVsFirst) : Number.NaN;
  lines.push(
    `| No decay: last minute of a 5-min soak ≥ 0.95× the first | ${input.runs.map(() => '').join(' | ')} | ${Number.isFinite(soakFigure) ? `${soakFigure.toFixed(2)}× (\`${input.soak?.file}\`)` : 'no soak recorded'} | ${Number.isFinite(soakFigure) ? (soakFigure >= 0.95 ? 'yes' : 'no') : 'not measured'} |`,
  );
  return lines.join('\n');
}

function resultsTables(input: PageInput): string {
  if (input.runs.length === 0) return 'No run yet.';
  const sections: string[] = [];
  input.runs.forEach(({ file, report }, index) => {
    const redis = report.results.some((result) => result.median.redisRoundTripsPerRequest !== undefined);
    const lines = [
      `#### Run ${index + 1} (\`${file}\`, load average ${fixed(report.machine.loadAverageAtStart, 2)} at start)`,
      '',
      `| stack | adapter | req/s | p50 ms | p99 ms | CPU µs/req | × bare (range over rounds) |${redis ? ' Redis round trips/req |' : ''}`,
      `| --- | --- | ---: | ---: | ---: | ---: | ---: |${redis ? ' ---: |' : ''}`,
    ];
    for (const result of report.results) {
      const m = result.median;
      const vsBare =
        result.stack === 'bare'
          ? '1.00×'
          : result.vsBare === undefined || result.vsBare === null
            ? '–'
            : `${fixed(result.vsBare, 2)}×${result.vsBareRange ? ` (${result.vsBareRange.map((value) => fixed(value, 2)).join('–')})` : ''}`;
      const cells = [
        result.label,
        adapterName(result.adapter),
        integer(m.rps),
        fixed(m.latencyP50Ms, 2),
        fixed(m.latencyP99Ms, 2),
        integer(m.cpuUsPerRequest),
        vsBare,
      ];
      if (redis) cells.push(fixed(m.redisRoundTripsPerRequest, 2));
      lines.push(`| ${cells.join(' | ')} |`);
    }
    const problems = report.results.flatMap((result) => result.problems.map((problem) => `${result.stack}/${result.adapter}: ${problem}`));
    if (problems.length > 0) lines.push('', ...problems.map((problem) => `- **Problem:** ${problem}`));
    sections.push(lines.join('\n'));
  });
  return sections.join('\n\n');
}

function soakSection(input: PageInput): string {
  const soaks = input.soak?.report.soak ?? [];
  if (soaks.length === 0) return 'No soak recorded (`npm run bench -- --soak`).';
  return soaks
    .map((soak) =>
      [
        `${soak.stack} on ${adapterName(soak.adapter)}, ${soak.durationS} s in ${soak.windowS} s windows (\`${input.soak?.file}\`, ${input.soak?.report.generatedAt}): last window ÷ first **${fixed(numeric(soak.lastVsFirst), 2)}×**.`,
        '',
        '| window | req/s | CPU µs/req | RSS MiB |',
        '| --- | ---: | ---: | ---: |',
        ...soak.windows.map(
          (window) => `| ${window.fromS}–${window.toS} s | ${integer(window.rps)} | ${integer(window.cpuUsPerRequest)} | ${integer(window.rssMiB)} |`,
        ),
      ].join('\n'),
    )
    .join('\n\n');
}

/** The page: the template with every placeholder filled. Throws if the template lacks one or has an unknown one. */
export function renderBenchmarkPage(input: PageInput): string {
  const values: Record<(typeof PLACEHOLDERS)[number], string> = {
    'runs-summary': runsSummary(input),
    machine: machine(input),
    versions: versionsTable(input),
    targets: targetsTable(input),
    results: resultsTables(input),
    soak: soakSection(input),
  };
  for (const name of PLACEHOLDERS) {
    const count = input.template.split(`{{${name}}}`).length - 1;
    if (count !== 1) throw new Error(`bench:page: the template has {{${name}}} ${count} times; it needs it once.`);
  }
  const body = input.template.replace(/\{\{([a-z-]+)\}\}/g, (whole, name: string) => {
    if (!(name in values)) throw new Error(`bench:page: the template has an unknown placeholder ${whole}.`);
    return values[name as keyof typeof values];
  });
  const banner = `<!-- Generated by \`${input.command}\` from bench/results/*.json and bench/benchmark-page.md: edit those, not this file. -->`;
  return `${banner}\n\n${body.trim()}\n`;
}

/** The dated runs of `mode` in `dir`, oldest first (their names sort by date). */
export async function datedRuns(dir: string, mode: 'quick' | 'soak'): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  return names.filter((name) => new RegExp(`^${mode}-\\d{4}-\\d{2}-\\d{2}T[\\d-]+Z\\.json$`).test(name)).sort();
}

const USAGE = `Usage: npm run bench:page [-- options] [quick-….json …]

Writes docs/benchmark.md from the runs in bench/results and the template bench/benchmark-page.md.
  (files)            the quick runs to show (default: the newest --runs of bench/results/quick-*.json)
  --runs N           how many of the newest quick runs (default 3)
  --results DIR      where the runs are (default bench/results)
  --template FILE    default bench/benchmark-page.md
  --out FILE         default docs/benchmark.md
`;

/** Reads the runs, renders the page, writes it; resolves with the exit code. */
export async function main(argv: readonly string[], root: string = process.cwd()): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  let count = 3;
  let resultsDir = join(root, 'bench', 'results');
  let templateFile = join(root, 'bench', 'benchmark-page.md');
  let outFile = join(root, 'docs', 'benchmark.md');
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`bench:page: ${arg} needs a value.\n\n${USAGE}`);
      return next;
    };
    if (arg === '--runs') {
      count = Number(value());
      if (!Number.isInteger(count) || count < 1) throw new Error(`bench:page: --runs is ${argv[i]}; expected a whole number ≥ 1.`);
    } else if (arg === '--results') resultsDir = resolve(root, value());
    else if (arg === '--template') templateFile = resolve(root, value());
    else if (arg === '--out') outFile = resolve(root, value());
    else if (arg.startsWith('--')) throw new Error(`bench:page: unknown option ${JSON.stringify(arg)}.\n\n${USAGE}`);
    else files.push(resolve(root, arg));
  }
  const chosen = files.length > 0 ? files : (await datedRuns(resultsDir, 'quick')).slice(-count).map((name) => join(resultsDir, name));
  // Paths as the reader of the page finds them: from the repository's root when they are inside it.
  const shown = (file: string): string => (relative(root, file).startsWith('..') ? file : relative(root, file));
  const read = async (file: string): Promise<{ file: string; report: BenchReport }> => ({
    file: shown(file),
    report: JSON.parse(await readFile(file, 'utf8')) as BenchReport,
  });
  const runs = await Promise.all(chosen.map(read));
  for (const run of runs) {
    if (run.report.mode !== 'quick') throw new Error(`bench:page: ${run.file} is a ${run.report.mode} run; give quick runs.`);
    // Shown all the same (its command is on the page), but a partial run leaves targets unmeasured.
    if (run.report.command !== 'npm run bench') process.stderr.write(`[bench:page] note: ${run.file} is not a default run (\`${run.report.command}\`)\n`);
  }
  const newestSoak = (await datedRuns(resultsDir, 'soak')).at(-1);
  const page = renderBenchmarkPage({
    template: await readFile(templateFile, 'utf8'),
    runs,
    ...(newestSoak ? { soak: await read(join(resultsDir, newestSoak)) } : {}),
    command: 'npm run bench:page',
  });
  await writeFile(outFile, page);
  process.stderr.write(`[bench:page] wrote ${shown(outFile)} from ${runs.length} run(s)${newestSoak ? ` and ${newestSoak}` : ''}\n`);
  return 0;
}
