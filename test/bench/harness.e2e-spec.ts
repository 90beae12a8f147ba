import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeResult, runCommand } from '../support/command.js';
import { REPO_ROOT } from '../support/dist-lock.js';

/** The parts of bench/results/<mode>.json this test reads. */
interface SmokeReport {
  mode: string;
  results: { stack: string; adapter: string; median: { rps: number; cpuUsPerRequest: number; latencyP50Ms: number }; vsBare?: number; problems: string[] }[];
  targets: { target: string; met: boolean | null }[];
}

// CI does not run the benchmark; it runs the harness end to end for a few seconds (bare Nest and
// the Palisade stack on Express), so `npm run bench` cannot rot unnoticed.
describe('benchmark harness (npm run bench -- --smoke)', () => {
  it('boots the stacks as processes, loads them with autocannon and reports a Markdown table and JSON', async () => {
    const out = await mkdtemp(join(tmpdir(), 'palisade-bench-smoke-'));
    try {
      const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
      delete env.NODE_OPTIONS;
      // Generous: the harness may first wait for another suite's build of libs/palisade/dist (dist lock).
      const result = await runCommand(process.execPath, ['bench/bench.mjs', '--smoke', '--out', out], { cwd: REPO_ROOT, timeoutMs: 280_000, env });
      if (result.code !== 0) throw new Error(describeResult('node bench/bench.mjs --smoke', result));

      expect(result.stdout).toMatch(/^\| stack \| adapter \| req\/s \| p50 ms \| p99 ms \| CPU µs\/req \| × bare \| × community \|$/m);
      expect(result.stdout).toMatch(/^\| bare Nest \| express \| [\d,]+ \|/m);
      expect(result.stdout).toMatch(/^\| Palisade \(memory\) \| express \| [\d,]+ \|/m);

      const report = JSON.parse(await readFile(join(out, 'smoke.json'), 'utf8')) as SmokeReport;
      expect(report.mode).toBe('smoke');
      expect(report.results.map((r) => `${r.stack}/${r.adapter}`)).toEqual(['bare/express', 'palisade/express']);
      for (const stack of report.results) {
        expect(stack.problems).toEqual([]); // every response 2xx, no connection errors
        expect(stack.median.rps).toBeGreaterThan(0);
        expect(stack.median.cpuUsPerRequest).toBeGreaterThan(0);
        expect(stack.median.latencyP50Ms).toBeGreaterThan(0);
      }
      expect(report.results[1]!.vsBare).toBeGreaterThan(0);
      expect(report.targets.length).toBeGreaterThan(0);
      expect(await readFile(join(out, 'smoke.md'), 'utf8')).toContain('| Palisade (memory) | express |');
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 300_000);
});
