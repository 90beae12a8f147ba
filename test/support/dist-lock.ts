import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/** Root of the repository (where `npm run build` runs). */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

const LOCK_DIR = join(REPO_ROOT, 'node_modules', '.cache', 'palisade-dist.lock');
const OWNER_FILE = join(LOCK_DIR, 'owner');
const POLL_MS = 100;
/** A lock directory without an owner file older than this was left by a crash mid-acquire. */
const ORPHAN_MS = 10_000;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function isOrphan(): Promise<boolean> {
  try {
    return Date.now() - (await stat(LOCK_DIR)).mtimeMs > ORPHAN_MS;
  } catch {
    return false;
  }
}

async function ownerPid(): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(OWNER_FILE, 'utf8')).trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A cross-process lock on the repository's `dist` folders. The package test rebuilds the library
 * and packs it; the demo e2e suite rebuilds the library and the demo and then starts the demo from
 * them. When vitest runs both projects at once, an unserialised `tsc` rewriting `dist` could hand a
 * half-written file to `npm pack` or to a starting demo. Holders: the package test while it builds
 * and packs, the demo suite from its build until its last process is gone.
 *
 * The lock is a directory (created atomically) holding the owner's pid; a lock left by a dead
 * process (or an owner-less one older than 10 s) is taken over. Returns the release function.
 */
export async function acquireDistLock(timeoutMs: number): Promise<() => Promise<void>> {
  const deadline = Date.now() + timeoutMs;
  await mkdir(join(LOCK_DIR, '..'), { recursive: true });
  return attempt(deadline, timeoutMs);
}

async function attempt(deadline: number, timeoutMs: number): Promise<() => Promise<void>> {
  try {
    await mkdir(LOCK_DIR);
    await writeFile(OWNER_FILE, String(process.pid));
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      await rm(LOCK_DIR, { recursive: true, force: true });
    };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const pid = await ownerPid();
  const stale = pid === undefined ? await isOrphan() : pid !== process.pid && !isAlive(pid);
  if (stale) {
    await rm(LOCK_DIR, { recursive: true, force: true });
  } else if (Date.now() > deadline) {
    throw new Error(`Timed out after ${timeoutMs} ms waiting for ${LOCK_DIR} (held by pid ${pid ?? 'unknown'}); remove it if no test is running.`);
  } else {
    await delay(POLL_MS);
  }
  return attempt(deadline, timeoutMs);
}
