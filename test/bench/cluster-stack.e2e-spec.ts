import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BenchReport } from '../../bench/harness/report.js';
import { describeResult, runCommand } from '../support/command.js';
import { REPO_ROOT } from '../support/dist-lock.js';

/** Resolves true when something accepts a TCP connection on 127.0.0.1:`port`. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Resolves true once nothing listens on any of `addresses` (`127.0.0.1:port`): a SIGKILLed
 * process's sockets close when the kernel has torn it down, a moment after the signal.
 */
async function allClosed(addresses: readonly string[], timeoutMs = 5_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await Promise.all(addresses.map((address) => accepts(Number(address.split(':')[1]))));
    if (!open.some(Boolean)) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function benchEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.NODE_OPTIONS;
  return env;
}

/** The `Redis Cluster up … (files in DIR): nodes` progress line, parsed. */
const CLUSTER_UP = /Redis Cluster up in \d+ ms \(files in (\S+)\): (127\.0\.0\.1:\d+(?:, 127\.0\.0\.1:\d+){5})/;

// `npm run bench -- --stacks palisade-cluster`: Palisade's Redis stores on a Redis Cluster the
// harness starts for the run and stops afterwards. Not a measurement: a few seconds of load to
// prove the stack boots, answers and is counted, and that nothing is left behind.
describe('benchmark harness: the palisade-cluster stack', () => {
  it('boots Palisade on the private Cluster, counts one round trip and one script per request over all nodes, then stops the Cluster', async () => {
    const out = await mkdtemp(join(tmpdir(), 'palisade-bench-cluster-stack-'));
    try {
      const args = [
        'bench/bench.mjs',
        '--stacks',
        'palisade-cluster',
        '--adapters',
        'fastify',
        '--rounds',
        '1',
        '--duration',
        '1',
        '--warmup',
        '1',
        '--out',
        out,
      ];
      // Generous: the harness may first wait for another suite's build of libs/palisade/dist (dist lock).
      const result = await runCommand(process.execPath, args, { cwd: REPO_ROOT, timeoutMs: 280_000, env: benchEnv() });
      if (result.code !== 0) throw new Error(describeResult('node bench/bench.mjs --stacks palisade-cluster', result));
      const up = CLUSTER_UP.exec(result.stderr);
      if (up === null) throw new Error(`no "Redis Cluster up" line in the harness's progress:\n${result.stderr}`);

      const report = JSON.parse(await readFile(join(out, 'latest.json'), 'utf8')) as BenchReport;
      expect(report.results.map((r) => `${r.stack}/${r.adapter}`)).toEqual(['palisade-cluster/fastify']);
      const [stack] = report.results;
      expect(stack!.problems).toEqual([]); // every response 2xx
      expect(stack!.median.rps).toBeGreaterThan(0);
      // One EVALSHA per request (the throttle's tiers in one script); the revocation check is mirrored.
      expect(stack!.median.redisRoundTripsPerRequest).toBeCloseTo(1, 1);
      expect(stack!.median.redisServerScriptsPerRequest).toBeCloseTo(1, 1);
      expect(stack!.rounds[0]!.redisCommandsByName?.evalsha).toBeCloseTo(1, 1);
      expect(report.targets.find((t) => t.target.startsWith('Redis store on a Cluster'))?.measured).toMatch(/^1\.0\d round trips .*scripts run per request$/);
      // A quick run is also kept under its date, for `npm run bench:page`.
      expect((await readdir(out)).filter((name) => /^quick-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ\.json$/.test(name))).toHaveLength(1);

      // Stopped and removed when the run ends.
      const [, dir, nodes] = up;
      expect(existsSync(dir!)).toBe(false);
      expect(await allClosed(nodes!.split(', '))).toBe(true);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 300_000);

  it('stops the Cluster when the run is interrupted (SIGINT)', async () => {
    const out = await mkdtemp(join(tmpdir(), 'palisade-bench-cluster-sigint-'));
    const args = [
      'bench/bench.mjs',
      '--stacks',
      'palisade-cluster',
      '--adapters',
      'fastify',
      '--rounds',
      '1',
      '--duration',
      '120',
      '--warmup',
      '0',
      '--out',
      out,
    ];
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env: benchEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
    const exited = once(child, 'exit');
    let stderr = '';
    try {
      // Interrupted once the run is under load, as someone pressing Ctrl-C would.
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no round started within 280 s:\n${stderr}`)), 280_000);
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
          stderr += chunk;
          if (/listening on 127\.0\.0\.1/.test(stderr) && CLUSTER_UP.test(stderr)) {
            clearTimeout(timer);
            resolve();
          }
        });
        child.once('exit', () => reject(new Error(`the harness exited before its server listened:\n${stderr}`)));
      });
      const [, dir, nodes] = CLUSTER_UP.exec(stderr)!;
      expect(existsSync(dir!)).toBe(true);
      child.kill('SIGINT');
      const [code] = await exited;
      expect(code).toBe(130);
      expect(existsSync(dir!)).toBe(false);
      expect(await allClosed(nodes!.split(', '))).toBe(true);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await rm(out, { recursive: true, force: true });
    }
  }, 300_000);
});
