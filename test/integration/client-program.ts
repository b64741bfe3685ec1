/**
 * The client program (`src/client.ts`) as a child process with piped stdio,
 * for the integration tests: its output as lines, waits on those lines
 * (never on time), and a kill that is safe to call in any teardown.
 *
 * It runs with TZ=UTC and no colour settings from the caller's environment,
 * so what it prints does not depend on where the tests run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { CLIENT_ENTRY, tsxArgs } from '../support/server-process.ts';

const WAIT_MS = 15_000;

/** The `[HH:MM] ` (or `[YYYY-MM-DD HH:MM] `) a chat line starts with. */
const STAMP = String.raw`\[(?:\d{4}-\d\d-\d\d )?\d\d:\d\d\] `;

/** A chat line whose text after the time is exactly `body`: `chatLine('You: hi')` matches `[09:42] You: hi`. */
export function chatLine(body: string): RegExp {
  return new RegExp(`^${STAMP}${body.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'u');
}

/** `line` without its time stamp, or undefined when it is not a chat line. */
export function chatBody(line: string): string | undefined {
  const match = new RegExp(`^${STAMP}(.*)$`, 'su').exec(line);
  return match?.[1];
}

/** One run of the client program with piped stdio. */
export class ClientProgram {
  readonly lines: string[] = [];
  readonly stdout: Buffer[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #watchers = new Set<() => void>();
  #exited = false;

  constructor(readonly child: ChildProcess) {
    child.stdout!.on('data', (chunk: Buffer) => this.stdout.push(chunk));
    child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString('utf8')));
    child.stdin!.on('error', () => {});
    createInterface({ input: child.stdout! }).on('line', (line) => {
      this.lines.push(line);
      this.#wake();
    });
    this.exited = once(child, 'exit').then(([code, signal]) => {
      this.#exited = true;
      this.#wake();
      return { code: code as number | null, signal: signal as NodeJS.Signals | null };
    });
  }

  #wake(): void {
    for (const watch of [...this.#watchers]) watch();
  }

  /**
   * The first output line, at any time so far or later, that matches; or,
   * given a function, waits until it returns true of the output so far.
   */
  waitFor(match: string | RegExp | (() => boolean), timeoutMs = WAIT_MS): Promise<string> {
    const find =
      typeof match === 'function'
        ? () => (match() ? (this.lines.at(-1) ?? '') : undefined)
        : (() => {
            const test = typeof match === 'string' ? (l: string) => l === match : (l: string) => match.test(l);
            return () => this.lines.find(test);
          })();
    return new Promise((resolve, reject) => {
      const check = () => {
        const line = find();
        if (line !== undefined) return done(() => resolve(line));
        if (this.#exited) done(() => reject(new Error(`client exited before printing ${String(match)}:\n${this.transcript()}`)));
      };
      const timer = setTimeout(
        () => done(() => reject(new Error(`client did not print ${String(match)} within ${timeoutMs} ms:\n${this.transcript()}`))),
        timeoutMs,
      );
      const done = (settle: () => void) => {
        clearTimeout(timer);
        this.#watchers.delete(check);
        settle();
      };
      this.#watchers.add(check);
      check();
    });
  }

  count(line: string | RegExp): number {
    return this.lines.filter((l) => (typeof line === 'string' ? l === line : line.test(l))).length;
  }

  /** The first chat line that reads `[HH:MM] <body>`. */
  waitForChat(body: string, timeoutMs = WAIT_MS): Promise<string> {
    return this.waitFor(chatLine(body), timeoutMs);
  }

  send(line: string): void {
    this.child.stdin!.write(line + '\n');
  }

  end(): void {
    this.child.stdin!.end();
  }

  transcript(): string {
    return `stdout:\n${this.lines.join('\n')}\nstderr:\n${this.stderr}`;
  }

  /** SIGKILL works on a stopped (SIGSTOP) process too, so this is safe in any teardown. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** Starts `src/client.ts` with `args` (and `env` on top of a clean environment); stdin, stdout and stderr are pipes. */
export function startClientProgram(args: readonly string[], env: NodeJS.ProcessEnv = {}): ClientProgram {
  const child = spawn(process.execPath, tsxArgs(CLIENT_ENTRY, args), {
    stdio: ['pipe', 'pipe', 'pipe'],
    // Empty counts as unset, so a developer's own settings cannot leak in.
    env: {
      ...process.env,
      LINECHAT_HOST: '',
      LINECHAT_PORT: '',
      LINECHAT_NAME: '',
      LINECHAT_NO_RECONNECT: '',
      LINECHAT_RECONNECT_TIMEOUT: '',
      LINECHAT_NO_COLOR: '',
      NO_COLOR: '',
      FORCE_COLOR: '',
      TZ: 'UTC',
      ...env,
    },
  });
  return new ClientProgram(child);
}
