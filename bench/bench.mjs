#!/usr/bin/env node
// Entry point of `npm run bench`: builds what the harness needs, then runs it (bench/run.ts).
//
// Plain JavaScript on purpose: it must run on a fresh clone before anything is compiled. It
//  1. takes the repository's dist lock (the protocol of test/support/dist-lock.ts: a directory
//     node_modules/.cache/palisade-dist.lock holding the owner's pid), so it never reads a `dist`
//     that a concurrent test run is rewriting;
//  2. builds the library (libs/palisade/dist, what `@palisade/nest` resolves to) when it is missing
//     or older than its sources, and compiles the harness (bench/dist) likewise;
//  3. runs the harness in this process, releasing the lock once every server has booted.
//
// Flags read here (the rest go to the harness): --rebuild (always build), --no-build (never build).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const LOCK_DIR = join(ROOT, 'node_modules', '.cache', 'palisade-dist.lock');
const LOCK_OWNER = join(LOCK_DIR, 'owner');
const LOCK_TIMEOUT_MS = Number(process.env.BENCH_LOCK_TIMEOUT_MS ?? 300_000);
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

const log = (line) => process.stderr.write(`[bench] ${line}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

async function acquireDistLock() {
  mkdirSync(join(LOCK_DIR, '..'), { recursive: true });
  return attemptLock(Date.now() + LOCK_TIMEOUT_MS, false);
}

/** One attempt at the lock; retries every 100 ms until `deadline`. */
async function attemptLock(deadline, announced) {
  try {
    mkdirSync(LOCK_DIR);
    writeFileSync(LOCK_OWNER, String(process.pid));
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      rmSync(LOCK_DIR, { recursive: true, force: true });
    };
    process.once('exit', release);
    return release;
  } catch (error) {
    if (error.code !== 'EEXIST') throw error;
  }
  let pid;
  try {
    pid = Number(readFileSync(LOCK_OWNER, 'utf8').trim()) || undefined;
  } catch {
    pid = undefined;
  }
  let stale;
  if (pid === undefined) {
    try {
      stale = Date.now() - statSync(LOCK_DIR).mtimeMs > 10_000;
    } catch {
      stale = false;
    }
  } else {
    stale = pid !== process.pid && !isAlive(pid);
  }
  if (stale) {
    rmSync(LOCK_DIR, { recursive: true, force: true });
    return attemptLock(deadline, announced);
  }
  if (Date.now() > deadline) {
    throw new Error(`timed out after ${LOCK_TIMEOUT_MS} ms waiting for ${LOCK_DIR} (held by pid ${pid ?? 'unknown'}); remove it if no test is running.`);
  }
  if (!announced) log(`waiting for the dist lock (held by pid ${pid ?? 'unknown'}: a test run is building)…`);
  await sleep(100);
  return attemptLock(deadline, true);
}

/** Newest modification time of the files under `dir` whose name passes `keep`. */
function newest(dir, keep) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'dist' || entry.name === 'results' || entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) latest = Math.max(latest, newest(path, keep));
    else if (keep(entry.name)) latest = Math.max(latest, statSync(path).mtimeMs);
  }
  return latest;
}

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
}

function tsc(project, label) {
  const started = Date.now();
  log(`building ${label} (tsc -p ${project})…`);
  const result = spawnSync(process.execPath, [TSC, '-p', project], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) throw new Error(`tsc -p ${project} failed (exit ${result.status ?? result.signal})`);
  log(`built ${label} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

const isLibSource = (name) => name.endsWith('.ts') && !name.endsWith('.spec.ts');

async function main() {
  const argv = process.argv.slice(2);
  const rebuild = argv.includes('--rebuild');
  const noBuild = argv.includes('--no-build');
  const harnessArgs = argv.filter((arg) => arg !== '--rebuild' && arg !== '--no-build');

  const release = await acquireDistLock();
  try {
    const libSources = Math.max(
      newest(join(ROOT, 'libs', 'palisade', 'src'), isLibSource),
      mtime(join(ROOT, 'libs', 'palisade', 'tsconfig.lib.json')),
      mtime(join(ROOT, 'tsconfig.json')),
    );
    const libBuilt = mtime(join(ROOT, 'libs', 'palisade', 'dist', 'index.js'));
    if (!noBuild && (rebuild || libBuilt < libSources)) tsc('libs/palisade/tsconfig.lib.json', 'the library (@palisade/nest)');
    else if (libBuilt < 0) throw new Error('libs/palisade/dist is missing; run without --no-build (or `npm run build:lib`).');

    const benchSources = Math.max(
      newest(join(ROOT, 'bench'), (name) => name.endsWith('.ts')),
      mtime(join(ROOT, 'tsconfig.json')),
    );
    const benchBuilt = mtime(join(ROOT, 'bench', 'dist', 'run.js'));
    if (!noBuild && (rebuild || benchBuilt < benchSources)) {
      rmSync(join(ROOT, 'bench', 'dist'), { recursive: true, force: true });
      tsc('bench/tsconfig.json', 'the harness (bench/dist)');
    } else if (benchBuilt < 0) throw new Error('bench/dist is missing; run without --no-build.');

    const entry = join(ROOT, 'bench', 'dist', 'run.js');
    if (!existsSync(entry)) throw new Error(`${entry} is missing after the build`);
    const { main: runHarness } = await import(pathToFileURL(entry).href);
    // The servers load `dist` while they boot; the lock is released once they all have.
    process.exitCode = await runHarness(harnessArgs, { onServersBooted: release });
  } finally {
    release();
  }
}

main().catch((error) => {
  log(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 1;
});
