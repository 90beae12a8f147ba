#!/usr/bin/env node
// Entry point of `npm run bench:page`: compiles bench/page.ts (and what it imports, not the servers:
// no library build needed) into bench/dist, runs it, then formats the page with Prettier. Plain
// JavaScript, like bench/bench.mjs.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

const built = spawnSync(process.execPath, [TSC, '-p', 'bench/tsconfig.page.json'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
if (built.status !== 0) {
  process.stderr.write(`[bench:page] tsc -p bench/tsconfig.page.json failed (exit ${built.status ?? built.signal})\n`);
  process.exit(1);
}
const { main } = await import(pathToFileURL(join(ROOT, 'bench', 'dist', 'page.js')).href);
try {
  const argv = process.argv.slice(2);
  process.exitCode = await main(argv, ROOT);
  // The page is checked by `npm run format:check` like every other file: aligned tables.
  const out = argv.includes('--out') ? resolve(ROOT, argv[argv.indexOf('--out') + 1]) : join(ROOT, 'docs', 'benchmark.md');
  if (process.exitCode === 0 && existsSync(out)) {
    const prettier = await import('prettier');
    const options = (await prettier.resolveConfig(out)) ?? {};
    writeFileSync(out, await prettier.format(readFileSync(out, 'utf8'), { ...options, filepath: out }));
  }
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
