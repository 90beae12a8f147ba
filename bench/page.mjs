#!/usr/bin/env node
// Entry point of `npm run bench:page`: compiles bench/page.ts (and what it imports, not the servers:
// no library build needed) into bench/dist, then runs it. Plain JavaScript, like bench/bench.mjs.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
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
  process.exitCode = await main(process.argv.slice(2), ROOT);
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
