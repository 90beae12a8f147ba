import { join } from 'node:path';
import type { BenchAdapter } from '../servers/server.bootstrap.js';
import { REPO_ROOT } from './environment.js';

/** The stacks the harness can boot, each a server entry under bench/dist/servers. */
export const STACKS = {
  bare: { entry: 'bare.js', label: 'bare Nest', secured: false, redis: 'none', env: {} },
  'bare-shaped': {
    entry: 'bare.js',
    label: 'bare Nest + stable request shapes',
    secured: false,
    redis: 'none',
    env: { BENCH_SHAPES: '1' },
  },
  palisade: { entry: 'palisade.js', label: 'Palisade (memory)', secured: true, redis: 'none', env: {} },
  'palisade-redis': { entry: 'palisade-redis.js', label: 'Palisade (Redis)', secured: true, redis: 'server', env: {} },
  'palisade-cluster': { entry: 'palisade-redis.js', label: 'Palisade (Redis Cluster)', secured: true, redis: 'cluster', env: {} },
  community: { entry: 'community.js', label: 'community (secret string)', secured: true, redis: 'none', env: {} },
  'community-keyobject': {
    entry: 'community.js',
    label: 'community (secret KeyObject)',
    secured: true,
    redis: 'none',
    env: { BENCH_SECRET_FORM: 'keyobject' },
  },
  'palisade-headers': {
    entry: 'palisade-headers.js',
    label: 'Palisade headers alone (PalisadeModule.forRoot({}), no guard)',
    secured: false,
    redis: 'none',
    env: {},
  },
  'nest-headers': { entry: 'bare.js', label: "bare Nest + Nest's app.useSecurityHeaders()", secured: false, redis: 'none', env: { BENCH_NEST_HEADERS: '1' } },
  'nest-first-party': {
    entry: 'community.js',
    label: 'Nest first-party: useSecurityHeaders() + @nestjs/throttler + passport-jwt + roles guard',
    secured: true,
    redis: 'none',
    env: { BENCH_NEST_HEADERS: '1' },
  },
  floor: { entry: 'floor.js', label: 'floor: bare + Palisade headers + 3 no-op guards', secured: false, redis: 'none', env: {} },
  'floor-headers': { entry: 'floor.js', label: 'floor: bare + Palisade headers', secured: false, redis: 'none', env: { BENCH_FLOOR_GUARDS: '0' } },
  'floor-guards': { entry: 'floor.js', label: 'floor: bare + 3 no-op guards', secured: false, redis: 'none', env: { BENCH_FLOOR_HEADERS: 'off' } },
} as const satisfies Record<
  string,
  {
    entry: string;
    label: string;
    secured: boolean;
    /**
     * The Redis the stack stores into: `server` = the one at `--redis-url` (shared, keys under a
     * random prefix), `cluster` = a private Redis Cluster the harness starts (`harness/redis-cluster.ts`).
     */
    redis: 'none' | 'server' | 'cluster';
    env: Record<string, string>;
  }
>;

/** Stacks that mean something on one adapter only (the others run on every adapter). */
const ONLY_ON: Partial<Record<StackName, readonly BenchAdapter[]>> = { 'bare-shaped': ['express'] };

/** True when `stack` runs on `adapter`. */
export function runsOn(stack: StackName, adapter: BenchAdapter): boolean {
  return ONLY_ON[stack]?.includes(adapter) ?? true;
}

export type StackName = keyof typeof STACKS;
export type BenchMode = 'quick' | 'soak' | 'smoke';

/** Everything a run is parameterised by. */
export interface BenchOptions {
  mode: BenchMode;
  stacks: StackName[];
  /** True when `--stacks` named them: a stack that cannot run is then an error, not a skip. */
  stacksExplicit: boolean;
  adapters: BenchAdapter[];
  rounds: number;
  /** Seconds of load per round (the whole soak in soak mode). */
  durationS: number;
  warmupS: number;
  connections: number;
  /** Soak mode: length of the windows compared (first vs last). */
  windowS: number;
  outDir: string;
  redisUrl: string;
  /** Freeze the servers not under load (SIGSTOP) so they neither disturb nor escape measurements. */
  pause: boolean;
}

const DEFAULTS: Record<BenchMode, Omit<BenchOptions, 'mode' | 'outDir' | 'redisUrl' | 'pause' | 'stacksExplicit'>> = {
  quick: {
    stacks: ['bare', 'nest-headers', 'palisade-headers', 'floor', 'palisade', 'palisade-redis', 'palisade-cluster', 'community', 'nest-first-party'],
    adapters: ['express', 'fastify'],
    rounds: 5,
    durationS: 3,
    warmupS: 3,
    connections: 10,
    windowS: 60,
  },
  soak: { stacks: ['palisade'], adapters: ['express'], rounds: 1, durationS: 300, warmupS: 5, connections: 10, windowS: 60 },
  smoke: { stacks: ['bare', 'palisade'], adapters: ['express'], rounds: 1, durationS: 1, warmupS: 0.5, connections: 4, windowS: 60 },
};

export const USAGE = `Usage: npm run bench [-- options]

Modes:
  (default)            quick: ${DEFAULTS.quick.stacks.join(', ')} on Express and Fastify, ${DEFAULTS.quick.rounds} interleaved rounds × ${DEFAULTS.quick.durationS} s (a few minutes)
  --soak               ${DEFAULTS.soak.durationS / 60} min against the Palisade memory stack; first vs last minute
  --smoke              a few seconds (bare + Palisade on Express); used by the CI smoke test

Options:
  --stacks a,b         ${Object.keys(STACKS).join(', ')}
  --adapters a,b       express, fastify
  --rounds N           interleaved rounds per stack and adapter
  --duration S         seconds of load per round (soak: in total)
  --warmup S           seconds of unmeasured load per server before the first round
  --connections N      autocannon connections (default 10)
  --window S           soak: length of the compared windows (default 60)
  --out DIR            where <mode>.json/.md go (default bench/results; quick writes latest.* and a dated
                       quick-<UTC time>.json, soak a dated soak-<UTC time>.json, which \`npm run bench:page\` reads)
  --redis-url URL      Redis of the palisade-redis stack (default $BENCH_REDIS_URL, $REDIS_URL or redis://127.0.0.1:6379);
                       palisade-cluster runs on a private Redis Cluster (six redis-server on free ports) the harness starts
  --no-pause           keep idle servers running instead of freezing them between their rounds
  --rebuild / --no-build   always / never rebuild libs/palisade/dist and bench/dist first
`;

function positive(name: string, raw: string | undefined): number {
  const value = Number(raw);
  if (raw === undefined || !Number.isFinite(value) || value <= 0) throw new Error(`bench: ${name} is ${JSON.stringify(raw)}; expected a positive number.`);
  return value;
}

function list<T extends string>(name: string, raw: string | undefined, allowed: readonly T[]): T[] {
  const items = (raw ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
  if (items.length === 0) throw new Error(`bench: ${name} needs a comma-separated list of ${allowed.join(', ')}.`);
  for (const item of items) {
    if (!allowed.includes(item as T)) throw new Error(`bench: ${name} has ${JSON.stringify(item)}; expected some of ${allowed.join(', ')}.`);
  }
  return [...new Set(items as T[])];
}

/** Parses the command line; returns undefined for `--help`. */
export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): BenchOptions | undefined {
  if (argv.includes('--help') || argv.includes('-h')) return undefined;
  const mode: BenchMode = argv.includes('--soak') ? 'soak' : argv.includes('--smoke') ? 'smoke' : 'quick';
  if (argv.includes('--soak') && argv.includes('--smoke')) throw new Error('bench: --soak and --smoke exclude each other.');
  const options: BenchOptions = {
    mode,
    ...DEFAULTS[mode],
    stacksExplicit: false,
    outDir: join(REPO_ROOT, 'bench', 'results'),
    redisUrl: env.BENCH_REDIS_URL ?? env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    pause: true,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    switch (flag) {
      case '--quick':
      case '--soak':
      case '--smoke':
        break;
      case '--no-pause':
        options.pause = false;
        break;
      case '--stacks':
        options.stacks = list('--stacks', value(), Object.keys(STACKS) as StackName[]);
        options.stacksExplicit = true;
        break;
      case '--adapter':
      case '--adapters':
        options.adapters = list('--adapters', value(), ['express', 'fastify'] as const);
        break;
      case '--rounds':
        options.rounds = Math.round(positive('--rounds', value()));
        break;
      case '--duration':
        options.durationS = positive('--duration', value());
        break;
      case '--warmup': {
        const raw = value();
        options.warmupS = raw === '0' ? 0 : positive('--warmup', raw);
        break;
      }
      case '--connections':
        options.connections = Math.round(positive('--connections', value()));
        break;
      case '--window':
        options.windowS = positive('--window', value());
        break;
      case '--out':
        options.outDir = value() ?? options.outDir;
        break;
      case '--redis-url':
        options.redisUrl = value() ?? options.redisUrl;
        break;
      default:
        throw new Error(`bench: unknown option ${JSON.stringify(arg)}.\n\n${USAGE}`);
    }
  }
  if (mode === 'soak' && options.durationS < 2 * options.windowS) {
    throw new Error(
      `bench: a soak of ${options.durationS} s cannot compare two ${options.windowS} s windows; give --duration ≥ ${2 * options.windowS} or a shorter --window.`,
    );
  }
  return options;
}
