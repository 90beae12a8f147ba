import { spawn } from 'node:child_process';

/** How a finished command ended and what it printed. */
export interface CommandResult {
  /** Exit code, or `null` when a signal ended it. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Options of {@link runCommand}. */
export interface CommandOptions {
  cwd: string;
  /** Kill the command (SIGKILL) after this many milliseconds. */
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
}

/** Runs a command to completion without a shell; never rejects on a non-zero exit. */
export function runCommand(command: string, args: readonly string[], options: CommandOptions): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      stderr += `\n[test] ${command} ${args.join(' ')}: killed after ${options.timeoutMs} ms\n`;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Renders a command's outcome for an assertion message. */
export function describeResult(label: string, result: CommandResult): string {
  const ending = result.signal === null ? `exit code ${result.code}` : `signal ${result.signal}`;
  return `${label}: ${ending}\n--- stdout ---\n${result.stdout.trim()}\n--- stderr ---\n${result.stderr.trim()}`;
}

/** Runs a command and throws (with its output) unless it exits with code 0; returns its stdout. */
export async function mustRun(command: string, args: readonly string[], options: CommandOptions): Promise<string> {
  const result = await runCommand(command, args, options);
  if (result.code !== 0) throw new Error(describeResult(`${command} ${args.join(' ')} (in ${options.cwd})`, result));
  return result.stdout;
}
