/**
 * Starting and stopping each server under test, each on 127.0.0.1 and a
 * free port, pinned by `prefix` (taskset) when given. The bench installs
 * nothing: a peer that is not installed reports the line that would install
 * it, and is skipped.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { startServer, tsxArgs } from '../../test/support/server-process.ts';
import type { ServerKind } from './wire.ts';

export interface RunningServer {
  readonly port: number;
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

export interface ServerSpec {
  readonly kind: ServerKind;
  /** What the table calls it. */
  readonly label: string;
  /** undefined when installed, else the command that installs it. */
  missing(): string | undefined;
  /** The version string, for the results file. */
  version(): string;
  /** `nodeArgs` are for linechat only: the profile passes `--cpu-prof` through them. */
  start(prefix: readonly string[], nodeArgs?: readonly string[]): Promise<RunningServer>;
}

/**
 * linechat's options for the benchmark, each documented in README:
 * flood control off for the publisher (it sends far more than 10 lines/s),
 * room for 10,000 receivers from one address, no keepalive PINGs during a
 * run, and no log line per message (the peers log none either).
 */
export const LINECHAT_BENCH_ARGS = [
  '--flood-rate', '0',
  '--max-connections', '19000',
  '--max-per-ip', '19000',
  '--ping-interval', '3600',
  '--log-messages', 'off',
];

const NAIVE_ENTRY = fileURLToPath(new URL('./naive-relay.ts', import.meta.url));

function installed(command: string, args: string[]): string | undefined {
  const probe = spawnSync(command, args, { encoding: 'utf8' });
  return probe.status === 0 ? `${probe.stdout}${probe.stderr}`.split('\n')[0]!.trim() : undefined;
}

/** A port that was free a moment ago, for servers that cannot take port 0. */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address !== 'object') throw new Error('no port');
  return address.port;
}

async function stopChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Resolves once something accepts connections on `port`, polling. */
async function accepting(port: number, child: ChildProcess, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const probe = createConnection({ host: '127.0.0.1', port }, () => {
        probe.destroy();
        resolve(true);
      });
      probe.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${what} did not accept connections on port ${port} within ${timeoutMs} ms`);
}

/**
 * Starts a peer that listens on `port`, and waits until it accepts. If it
 * never does, it is killed and `cleanup` runs, as it does after `stop()`.
 */
async function startPeer(prefix: readonly string[], argv: readonly string[], port: number, what: string, cleanup: () => void = () => {}): Promise<RunningServer> {
  const [command, ...args] = [...prefix, ...argv];
  // Output is not needed; a pipe nobody reads could block the server.
  const child = spawn(command!, args, { stdio: 'ignore' });
  try {
    await accepting(port, child, what);
  } catch (error) {
    child.kill('SIGKILL');
    cleanup();
    throw error;
  }
  return {
    port,
    pid: child.pid,
    stop: async () => {
      await stopChild(child);
      cleanup();
    },
  };
}

export const SERVERS: readonly ServerSpec[] = [
  {
    kind: 'linechat',
    label: 'linechat',
    missing: () => undefined,
    version: () => `linechat (node ${process.version})`,
    async start(prefix, nodeArgs = []) {
      const server = await startServer(LINECHAT_BENCH_ARGS, 20_000, { prefix, nodeArgs });
      return {
        port: server.port,
        pid: server.child.pid,
        stop: async () => {
          await server.stop();
        },
      };
    },
  },
  {
    kind: 'naive',
    label: 'naive Node relay',
    missing: () => undefined,
    version: () => `bench/fanout/naive-relay.ts (node ${process.version})`,
    async start(prefix) {
      const port = await freePort();
      return startPeer(prefix, [process.execPath, ...tsxArgs(NAIVE_ENTRY, ['--port', String(port)])], port, 'the naive relay');
    },
  },
  {
    kind: 'redis',
    label: 'Redis pub/sub',
    missing: () => (installed('redis-server', ['--version']) === undefined ? 'apt-get install -y redis-server' : undefined),
    version: () => installed('redis-server', ['--version']) ?? 'redis-server',
    async start(prefix) {
      const port = await freePort();
      const argv = [
        'redis-server',
        '--port', String(port),
        '--bind', '127.0.0.1',
        '--save', '',
        '--appendonly', 'no',
        '--protected-mode', 'no',
        '--maxclients', '19000',
        '--daemonize', 'no',
        '--loglevel', 'warning',
      ];
      return startPeer(prefix, argv, port, 'redis-server');
    },
  },
  {
    kind: 'ngircd',
    label: 'ngircd',
    missing: () => (installed('ngircd', ['--version']) === undefined ? 'apt-get install -y ngircd' : undefined),
    version: () => installed('ngircd', ['--version']) ?? 'ngircd',
    async start(prefix) {
      const port = await freePort();
      const dir = mkdtempSync(join(tmpdir(), 'linechat-bench-ngircd-'));
      const config = join(dir, 'ngircd.conf');
      // 127.0.0.1 only; no DNS, ident or PAM lookups; flood penalties off
      // (MaxPenaltyTime = 0); no connection limits; keepalive far beyond a run.
      writeFileSync(
        config,
        [
          '[Global]',
          'Name = bench.linechat.invalid',
          'Info = linechat benchmark peer',
          'Listen = 127.0.0.1',
          `Ports = ${port}`,
          `PidFile = ${join(dir, 'ngircd.pid')}`,
          `MotdPhrase = bench`,
          '[Limits]',
          'MaxConnections = 0',
          'MaxConnectionsIP = 0',
          'MaxJoins = 0',
          'MaxNickLength = 16',
          'MaxPenaltyTime = 0',
          'PingTimeout = 3600',
          'PongTimeout = 3600',
          '[Options]',
          'DNS = no',
          'Ident = no',
          'PAM = no',
          '',
        ].join('\n'),
      );
      return startPeer(prefix, ['ngircd', '--nodaemon', '--config', config], port, 'ngircd', () => rmSync(dir, { recursive: true, force: true }));
    },
  },
];
