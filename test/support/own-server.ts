/**
 * For tests of the server's own policies (flood control, keepalive, limits,
 * shutdown under load), which need a server started with particular flags:
 * each test starts its own server process, and everything it started (the
 * server, its clients, any other process) is stopped after the test, even
 * when the test failed. Never used in conformance mode (`itOwnServer`).
 */
import { afterEach } from 'vitest';
import { ClientPool, type LineClient } from './line-client.ts';
import { startServer, type ServerProcess } from './server-process.ts';

export interface OwnServer {
  readonly server: ServerProcess;
  readonly pool: ClientPool;
}

export interface OwnServers {
  /** Starts the server with `args` (on 127.0.0.1, port 0) and a pool of clients for it. */
  start(args?: readonly string[]): Promise<OwnServer>;
  /** Runs `cleanup` after the test, before the clients and servers are closed. */
  defer(cleanup: () => Promise<void> | void): void;
}

/** Registers the afterEach that closes what each test started. */
export function useOwnServers(): OwnServers {
  const servers: ServerProcess[] = [];
  const pools: ClientPool[] = [];
  const cleanups: Array<() => Promise<void> | void> = [];

  afterEach(async () => {
    const errors: unknown[] = [];
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (error) {
        errors.push(error);
      }
    }
    await Promise.all(pools.splice(0).map((p) => p.closeAll()));
    // SIGTERM, then SIGKILL after 2 s: a test that failed mid-way must not leave a server behind.
    await Promise.all(servers.splice(0).map((s) => s.stop(2_000)));
    if (errors.length > 0) throw errors[0];
  });

  return {
    async start(args = []) {
      const server = await startServer(args);
      servers.push(server);
      const pool = new ClientPool(() => server);
      pools.push(pool);
      return { server, pool };
    },
    defer(cleanup) {
      cleanups.push(cleanup);
    },
  };
}

/** Connects and registers as `name`. */
export async function user(pool: ClientPool, name: string, key?: string): Promise<LineClient> {
  const client = await pool.connect();
  await client.register(name, key);
  return client;
}

/** The next line the server prints on stdout after this call that matches `pattern`. */
export function nextOutput(server: ServerProcess, pattern: RegExp, timeoutMs = 10_000): Promise<string> {
  // A plain 'data' listener beside the ServerProcess's own reader: a second
  // readline would pause the stream when closed, and a server whose stdout
  // pipe is full blocks.
  const stdout = server.child.stdout!;
  return new Promise((resolve, reject) => {
    let partial = '';
    const onData = (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop()!;
      const line = lines.find((l) => pattern.test(l));
      if (line !== undefined) done(() => resolve(line));
    };
    const done = (settle: () => void) => {
      clearTimeout(timer);
      stdout.off('data', onData);
      settle();
    };
    const timer = setTimeout(
      () => done(() => reject(new Error(`server did not print ${pattern} within ${timeoutMs} ms`))),
      timeoutMs,
    );
    stdout.on('data', onData);
    void server.exited.then(() => done(() => reject(new Error(`server exited before printing ${pattern}`))));
  });
}

/**
 * What the server holds now, from its SIGUSR2 report:
 * `Stats: connections=N online=N addresses=N sockets=N timers=N rss=N`.
 */
export async function serverStats(server: ServerProcess): Promise<Record<string, number>> {
  const printed = nextOutput(server, /Stats: /);
  server.child.kill('SIGUSR2');
  const line = await printed;
  return Object.fromEntries([...line.matchAll(/(\w+)=(\d+)/g)].map(([, key, value]) => [key!, Number(value)]));
}

/**
 * Asks for the server's stats until `done` holds for them (each answer is
 * awaited, nothing sleeps) and returns the last ones. Connections close
 * asynchronously on the server after the client has seen its end, so a
 * count may need a report or two to drop.
 */
export async function statsUntil(
  server: ServerProcess,
  done: (stats: Record<string, number>) => boolean,
  attempts = 50,
): Promise<Record<string, number>> {
  let stats: Record<string, number> = {};
  for (let i = 0; i < attempts; i++) {
    stats = await serverStats(server);
    if (done(stats)) return stats;
  }
  return stats;
}

/**
 * Something that happens again and again (a message arrived, a count
 * moved): `next()` resolves at the next `notify()`. For loops that wait for
 * progress instead of polling or sleeping.
 */
export class Signal {
  #waiters: Array<() => void> = [];

  notify(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }

  next(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}
