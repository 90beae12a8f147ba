// The load generator: autocannon in its own process, so its CPU never mixes with the server's.
// Usage: node bench/dist/load.js '<LoadRequest as JSON>'. Prints JSON lines: `{"type":"start"}`,
// one `{"type":"tick","requests":n}` per second when `ticks` is set, then `{"type":"result",…}`.
import autocannon from 'autocannon';

/** What the harness asks for. */
export interface LoadRequest {
  url: string;
  connections: number;
  durationS: number;
  headers: Record<string, string>;
  /** Report the requests completed each second (soak mode). */
  ticks: boolean;
}

/** What the load generator reports at the end. */
export interface LoadResult {
  type: 'result';
  requests: number;
  durationS: number;
  rps: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyAvgMs: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
}

/**
 * Response times in µs. autocannon's own histogram holds whole milliseconds (a p50 of "0 ms" on
 * loopback), so the exact times of its `response` event are kept here instead.
 */
let latencies = new Float64Array(1 << 16);
let recorded = 0;

function record(responseTimeMs: number): void {
  if (recorded === latencies.length) {
    const grown = new Float64Array(latencies.length * 2);
    grown.set(latencies);
    latencies = grown;
  }
  latencies[recorded++] = responseTimeMs * 1000;
}

/** Nearest-rank percentile of the recorded times, in ms. */
function percentileMs(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]! / 1000;
}

function write(line: object): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

const request = JSON.parse(process.argv[2] ?? '{}') as LoadRequest;
const instance = autocannon(
  { url: request.url, connections: request.connections, duration: request.durationS, headers: request.headers, timeout: 10 },
  (error, result) => {
    if (error) {
      process.stderr.write(`autocannon failed: ${error.message}\n`);
      process.exit(1);
    }
    const statusCodes: Record<string, number> = {};
    for (const [code, { count }] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = Number(count);
    const requests = result.requests.total;
    const sorted = latencies.subarray(0, recorded).sort();
    let sum = 0;
    for (const value of sorted) sum += value;
    write({
      type: 'result',
      requests,
      durationS: result.duration,
      rps: result.duration > 0 ? requests / result.duration : 0,
      latencyP50Ms: percentileMs(sorted, 50),
      latencyP99Ms: percentileMs(sorted, 99),
      latencyAvgMs: sorted.length > 0 ? sum / sorted.length / 1000 : Number.NaN,
      non2xx: result.non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
      statusCodes,
    } satisfies LoadResult);
  },
);
instance.on('start', () => write({ type: 'start' }));
instance.on('response', (_client: unknown, _statusCode: number, _bytes: number, responseTimeMs: number) => record(responseTimeMs));
if (request.ticks) instance.on('tick', (tick: { counter: number }) => write({ type: 'tick', requests: tick.counter }));
