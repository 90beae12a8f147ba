import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LoadRequest, LoadResult } from '../load.js';

const LOAD_ENTRY = fileURLToPath(new URL('../load.js', import.meta.url));

/** Callbacks for the load generator's progress lines. */
export interface LoadEvents {
  /** autocannon has opened its connections and started. */
  onStart?: () => void;
  /** Requests completed in the last second (only with `ticks`). */
  onTick?: (requests: number) => void;
}

const running = new Set<ChildProcess>();

/** Kills the load generators still running (the harness is being interrupted). */
export function killLoadGenerators(): void {
  for (const child of running) child.kill('SIGKILL');
}

/** Runs autocannon in a separate Node process (`bench/dist/load.js`) and resolves with its result. */
export function runLoad(request: LoadRequest, events: LoadEvents = {}): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.NODE_OPTIONS;
    const child = spawn(process.execPath, [LOAD_ENTRY, JSON.stringify(request)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let buffered = '';
    let stderr = '';
    let result: LoadResult | undefined;
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-10_000)));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (line.length === 0) continue;
        const message = JSON.parse(line) as { type: string; requests?: number };
        if (message.type === 'start') events.onStart?.();
        else if (message.type === 'tick') events.onTick?.(message.requests ?? 0);
        else if (message.type === 'result') result = message as LoadResult;
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      running.delete(child);
      if (result && code === 0) resolve(result);
      else reject(new Error(`The load generator failed (exit ${code ?? signal}).\n${stderr.trim()}`));
    });
  });
}
