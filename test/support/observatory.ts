import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { TEST_TLS } from './tls.js';

/** Where the scanner looks: one path on 127.0.0.1, over plain HTTP and HTTPS on one port. */
export interface ObservatoryTarget {
  /** The port that answers both plain HTTP (the scanner's first request, expected to redirect) and HTTPS (the test certificate, which the scanner trusts). */
  port: number;
  /** The path scanned, e.g. `/health`. */
  path: string;
}

/** One of the scanner's tests, as it reports it. */
export interface ObservatoryTest {
  /** The result a site should get, e.g. `csp-implemented-with-no-unsafe`. */
  expectation: string;
  /** The result it got, e.g. `csp-implemented-with-no-unsafe-default-src-none`. */
  result: string;
  pass: boolean;
  /** Points this result adds to (or takes from) the base score of 100. */
  scoreModifier: number;
  /** Redirection only: the URLs the plain-HTTP request went through. */
  route?: string[];
}

/** What the scanner reports for one page: its grade and each test. */
export interface ObservatoryReport {
  scan: {
    grade: string;
    score: number;
    statusCode: number;
    testsPassed: number;
    testsFailed: number;
    testsQuantity: number;
    /** Headers of the scored response (lower-cased names). */
    responseHeaders: Record<string, string>;
  };
  /** By test name: `content-security-policy`, `cookies`, `redirection`, `strict-transport-security`… */
  tests: Record<string, ObservatoryTest>;
}

/** The grade in a form whose test failure says why: score, and each failed or penalized test with its result and points. */
export interface ObservatoryVerdict {
  grade: string;
  score: number;
  /** `name: result (modifier)` of every test that failed or took points off. */
  failed: string[];
}

/** Reads the verdict off a report (see {@link ObservatoryVerdict}). */
export function verdictOf(report: ObservatoryReport): ObservatoryVerdict {
  const failed = Object.entries(report.tests)
    .filter(([, test]) => !test.pass || test.scoreModifier < 0)
    .map(([name, test]) => `${name}: ${test.result} (${test.scoreModifier})`)
    .sort();
  return { grade: report.scan.grade, score: report.scan.score, failed };
}

/** One line for a failure message: `grade B (score 75); failed: content-security-policy: csp-not-implemented (-25)`. */
export function describeVerdict(verdict: ObservatoryVerdict): string {
  return `grade ${verdict.grade} (score ${verdict.score}); failed: ${verdict.failed.length === 0 ? 'none' : verdict.failed.join(', ')}`;
}

/**
 * Asserts an A+ with every test passed and none taking points off (the Observatory itself keeps A+
 * for a -5 under enough bonus points); the failure message gives the grade, the score and each
 * failed test with its result and points.
 */
export function expectObservatoryAPlus(report: ObservatoryReport): void {
  const verdict = verdictOf(report);
  expect(verdict, `HTTP Observatory: ${describeVerdict(verdict)}`).toEqual({ grade: 'A+', score: verdict.score, failed: [] });
  expect(verdict.score, `HTTP Observatory: ${describeVerdict(verdict)}`).toBeGreaterThanOrEqual(100);
}

/**
 * Runs in a child Node.js process: the scanner's exported `scan()` on `127.0.0.1:<port><path>`. Its
 * 1.4 releases take one string and request `http://` and `https://` + that string: a `host:port/path`
 * (the form later releases parse as a site) scans that path on that port with both schemes. Its CLI
 * does the same, but its wrapper replaces NODE_EXTRA_CA_CERTS with Mozilla's bundle, so the test
 * certificate would not be trusted. Prints the report as the CLI does, without the HTML score
 * descriptions.
 */
const SCAN_SCRIPT = `
import { scan } from '@mdn/mdn-http-observatory';
try {
  const result = await scan(process.env.OBSERVATORY_SITE);
  const tests = Object.fromEntries(Object.entries(result.tests).map(([name, { scoreDescription, ...test }]) => [name, test]));
  process.stdout.write(JSON.stringify({ scan: result.scan, tests }));
} catch (error) {
  process.stdout.write(JSON.stringify({ error: error instanceof Error ? error.message : String(error) }));
  process.exitCode = 1;
}
`;

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

let caFile: string | undefined;

/** The test certificate as a CA file for NODE_EXTRA_CA_CERTS: the scanner verifies TLS, as against a public site. */
function trustedCaFile(): string {
  if (caFile === undefined) {
    caFile = join(mkdtempSync(join(tmpdir(), 'palisade-observatory-')), 'ca.pem');
    writeFileSync(caFile, TEST_TLS.cert);
  }
  return caFile;
}

/**
 * The scanner's postinstall downloads Chromium's HSTS preload list into its `conf/`; an install that
 * reaches only the npm registry leaves it absent, and every scan of an HTTPS site then throws
 * ENOENT. The list only says whether a host name is preloaded, and no list holds an IP address such
 * as 127.0.0.1: an empty one gives the scanner the same answer. A downloaded list is left alone.
 */
function ensureHstsPreloadList(): void {
  const pkg = dirname(createRequire(import.meta.url).resolve('@mdn/mdn-http-observatory/package.json'));
  const list = join(pkg, 'conf', 'hsts-preload.json');
  if (!existsSync(list)) writeFileSync(list, '{}\n');
}

/**
 * Scans `http://127.0.0.1:<port><path>` and `https://127.0.0.1:<port><path>` with Mozilla's
 * HTTP Observatory (`@mdn/mdn-http-observatory`, its whole test suite and grading), trusting the
 * test certificate. Rejects with the scanner's message when it cannot grade the site.
 */
export async function observatoryScan(target: ObservatoryTarget): Promise<ObservatoryReport> {
  ensureHstsPreloadList();
  const env = { PATH: process.env.PATH ?? '', NODE_EXTRA_CA_CERTS: trustedCaFile(), OBSERVATORY_SITE: `127.0.0.1:${target.port}${target.path}` };
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', SCAN_SCRIPT], { cwd: ROOT, env, timeout: 60_000 }, (error, out, err) => {
      if (error && out === '') reject(new Error(`HTTP Observatory scan failed: ${error.message}\n${err}`));
      else resolve(out);
    });
  });
  const parsed = JSON.parse(stdout) as ObservatoryReport | { error: string };
  if ('error' in parsed) throw new Error(`HTTP Observatory could not scan ${target.path}: ${parsed.error}`);
  return parsed;
}
