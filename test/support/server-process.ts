/**
 * Runs the real server as a child process on `--port 0`, the way a user
 * would, and reads the address it prints. Used by the integration tests and
 * the benchmarks; never used in conformance mode.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

export const SERVER_ENTRY = fileURLToPath(new URL('../../src/server.ts', import.meta.url));
export const CLIENT_ENTRY = fileURLToPath(new URL('../../src/client.ts', import.meta.url));

/** `node --import tsx <entry>`: what `npx tsx` runs, without npx's start-up cost. */
export function tsxArgs(entry: string, args: readonly string[]): string[] {
  return ['--import', 'tsx', entry, ...args];
}

export interface ServerProcess {
  readonly host: string;
  readonly port: number;
  readonly child: ChildProcess;
  /** Every line the server printed so far, stdout and stderr. */
  readonly output: string[];
  /**
   * Resolves with the first printed line matching `pattern`, looking only at
   * lines from index `since` of `output` on (default 0: any line so far, then
   * the next one printed). Pass `output.length` to wait for a new line only.
   */
  waitForOutput(pattern: RegExp, timeoutMs?: number, since?: number): Promise<string>;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const STARTED = /Server started on (\S+):(\d+)/;

export interface StartOptions {
  /**
   * A command that runs the server as its last arguments and exec()s it, so
   * the server keeps the child's pid: for example `['taskset', '-c', '0']`
   * to pin the server to one CPU (the benchmarks). Default: none.
   */
  readonly prefix?: readonly string[];
  /** Options for node itself, before the script: for example `--cpu-prof` (the benchmarks). */
  readonly nodeArgs?: readonly string[];
}

export async function startServer(
  args: readonly string[] = [],
  timeoutMs = 20_000,
  options: StartOptions = {},
): Promise<ServerProcess> {
  const hasHost = args.includes('--host');
  const hasPort = args.includes('--port');
  const argv = [
    process.execPath,
    ...(options.nodeArgs ?? []),
    ...tsxArgs(SERVER_ENTRY, ['start', ...(hasHost ? [] : ['--host', '127.0.0.1']), ...(hasPort ? [] : ['--port', '0']), ...args]),
  ];
  const [command, ...commandArgs] = [...(options.prefix ?? []), ...argv];
  const child = spawn(command!, commandArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const watchers = new Set<(line: string) => void>();
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => {
      output.push(line);
      for (const watch of [...watchers]) watch(line);
    });
  }
  const exited = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));

  const waitForOutput = (pattern: RegExp, waitMs = 10_000, since = 0) =>
    new Promise<string>((resolve, reject) => {
      const seen = output.slice(since).find((line) => pattern.test(line));
      if (seen !== undefined) return resolve(seen);
      const timer = setTimeout(() => {
        watchers.delete(watch);
        reject(new Error(`server did not print ${pattern} within ${waitMs} ms; output:\n${output.join('\n')}`));
      }, waitMs);
      const watch = (line: string) => {
        if (!pattern.test(line)) return;
        clearTimeout(timer);
        watchers.delete(watch);
        resolve(line);
      };
      watchers.add(watch);
      void exited.then(() => {
        if (!watchers.has(watch)) return;
        clearTimeout(timer);
        watchers.delete(watch);
        reject(new Error(`server exited before printing ${pattern}; output:\n${output.join('\n')}`));
      });
    });

  const stop = async (graceMs = 5_000) => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    }
    return exited;
  };

  try {
    const line = await waitForOutput(STARTED, timeoutMs);
    const [, host, port] = STARTED.exec(line)!;
    return { host: host!, port: Number(port), child, output, waitForOutput, exited, stop };
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
}

export interface CliRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `node --import tsx src/server.ts <args>` to completion and returns
 * its exit status and output. The process is killed if it has not exited
 * after `timeoutMs` (then `signal` is SIGKILL). `LINECHAT_*` variables of the
 * caller's environment are not passed on, so only `env` configures it.
 */
export async function runServerCli(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CliRun> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('LINECHAT_')));
  const child = spawn(process.execPath, tsxArgs(SERVER_ENTRY, args), {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...env, ...options.env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 15_000);
  try {
    const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
    return { code, signal, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}
