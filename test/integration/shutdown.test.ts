/**
 * Shutdown and restart (SPEC §9; REFERENCES §1 #7, #8): these tests control
 * the server process, so each starts its own and they are skipped in
 * conformance mode.
 */
import { createServer, type Server } from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect } from 'vitest';
import { ClientPool, LineClient, type Received } from '../support/line-client.ts';
import { runServerCli, startServer, type ServerProcess } from '../support/server-process.ts';
import { settle } from '../support/suite.ts';
import { itOwnServer } from '../support/target.ts';

/**
 * Flood control off ([FLOOD-1]), for the tests that fill a send queue with
 * 300 lines from one client: with a burst of 20 and 10 lines/s that would
 * take half a minute.
 */
const VOLUME = ['--flood-rate', '0'];

/** SPEC [SHUT-3] and the brief: a graceful stop takes at most this long. */
const STOP_MS = 2_000;

const servers: ServerProcess[] = [];
const pools: ClientPool[] = [];
const blockers: Server[] = [];

afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.closeAll()));
  await Promise.all(servers.splice(0).map((s) => s.stop(2_000)));
  await Promise.all(blockers.splice(0).map((b) => new Promise((resolve) => b.close(resolve))));
});

async function start(args: readonly string[] = []): Promise<{ server: ServerProcess; pool: ClientPool }> {
  const server = await startServer(args);
  servers.push(server);
  const pool = new ClientPool(() => server);
  pools.push(pool);
  return { server, pool };
}

async function user(pool: ClientPool, name: string): Promise<LineClient> {
  const client = await pool.connect();
  await client.register(name);
  return client;
}

const isFrom = (name: string | undefined) => (m: Received) => m.command === 'MSG' && m.params[3] === name;

/** Sends the signal and resolves with the exit status and how long the exit took. */
async function stopWith(server: ServerProcess, signal: NodeJS.Signals) {
  const t0 = performance.now();
  server.child.kill(signal);
  const exit = await server.exited;
  return { ...exit, ms: performance.now() - t0 };
}

describe('graceful shutdown', () => {
  itOwnServer('[SHUT-1] [SHUT-3] REFERENCES §1 #7: on SIGTERM every client, registered or not, gets SHUTDOWN as its last line, and the server exits 0 within 2 s', async () => {
    const { server, pool } = await start();
    const greeted = await pool.connect();
    const refused = await pool.connect();
    refused.send('HELLO 999 nobody');
    await refused.expect('ERR');
    const users = [await user(pool, 'alice'), await user(pool, 'Bob'), await user(pool, 'carol')];
    await settle(greeted, refused, ...users);
    users[0]!.send('SAY :last words');
    await users[0]!.expect('ECHO');

    const stopping = stopWith(server, 'SIGTERM');
    for (const client of [greeted, refused, ...users]) {
      const last = await client.untilClosed(5_000);
      const shutdown = last.at(-1);
      expect(shutdown, `last line to ${client.name ?? 'an unregistered client'}`).toMatchObject({ command: 'SHUTDOWN' });
      expect(shutdown!.params).toHaveLength(1);
      expect(last.filter((m) => m.command === 'SHUTDOWN')).toHaveLength(1);
      expect(client.wire.unterminated).toBe(0);
    }
    const exit = await stopping;
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(exit.ms, 'time from SIGTERM to exit').toBeLessThan(STOP_MS);
  });

  itOwnServer('[SHUT-1] [SHUT-3] on SIGINT too every client gets SHUTDOWN and the server exits 0 within 2 s', async () => {
    const { server, pool } = await start();
    const clients = [await pool.connect(), await user(pool, 'dave')];
    await settle(...clients);
    const stopping = stopWith(server, 'SIGINT');
    for (const client of clients) expect((await client.untilClosed(5_000)).at(-1)?.command).toBe('SHUTDOWN');
    const exit = await stopping;
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(exit.ms).toBeLessThan(STOP_MS);
  });

  itOwnServer('[SHUT-1] [MSG-7] SHUTDOWN comes after every line already queued for a client, even one that was not reading', async () => {
    const { server, pool } = await start(VOLUME);
    const sender = await user(pool, 'sender');
    const slow = await user(pool, 'slow');
    await settle(sender, slow);
    slow.socket.pause();
    // About 600 kB for the slow client: below the server's 1 MiB send queue,
    // so it is queued, not cut off.
    const count = 300;
    const filler = 'f'.repeat(1_900);
    sender.write(Array.from({ length: count }, (_, i) => `SAY :${i} ${filler}\n`).join(''));
    const echoes = (await sender.barrier()).filter((m) => m.command === 'ECHO');
    expect(echoes).toHaveLength(count);

    const stopping = stopWith(server, 'SIGTERM');
    // Shutdown has begun once the reading client has its SHUTDOWN.
    expect((await sender.untilClosed(5_000)).at(-1)?.command).toBe('SHUTDOWN');
    slow.socket.resume();
    const all = await slow.untilClosed(5_000);
    const got = all.filter(isFrom('sender')).map((m) => Number(m.params[6]!.split(' ')[0]));
    expect(got).toEqual(Array.from({ length: count }, (_, i) => i));
    expect(all.at(-1)?.command).toBe('SHUTDOWN');
    expect((await stopping).code).toBe(0);
  });

  itOwnServer('[SHUT-3] the server stops accepting connections as soon as shutdown starts', async () => {
    const { server, pool } = await start(VOLUME);
    const reader = await user(pool, 'reader');
    const sender = await user(pool, 'sender');
    const slow = await user(pool, 'stuck');
    await settle(reader, sender, slow);
    // A client that does not read keeps the server in its shutdown phase.
    slow.socket.pause();
    sender.write(Array.from({ length: 300 }, (_, i) => `SAY :${i} ${'s'.repeat(1_900)}\n`).join(''));
    await sender.barrier();

    const stopping = stopWith(server, 'SIGTERM');
    expect((await reader.untilClosed(5_000)).at(-1)?.command).toBe('SHUTDOWN');
    const attempt = await LineClient.connect(server.host, server.port).then(
      (client) => {
        void client.destroy();
        return client.greeting;
      },
      (error: Error) => error,
    );
    expect(attempt, 'a connection made during shutdown got a greeting').toBeInstanceOf(Error);
    slow.socket.resume();
    expect((await stopping).code).toBe(0);
  });

  itOwnServer('[SHUT-3] the server exits 0 within 2 s even when a client does not read', async () => {
    const { server, pool } = await start(VOLUME);
    const sender = await user(pool, 'sender');
    const stuck = await user(pool, 'stuck');
    await settle(sender, stuck);
    stuck.socket.pause();
    sender.write(Array.from({ length: 300 }, (_, i) => `SAY :${i} ${'s'.repeat(1_900)}\n`).join(''));
    await sender.barrier();
    const exit = await stopWith(server, 'SIGTERM');
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(exit.ms, 'time from SIGTERM to exit with a client that does not read').toBeLessThan(STOP_MS);
  });
});

describe('restart and port errors', () => {
  itOwnServer('REFERENCES §1 #8: a restart on the same port right after a shutdown works', async () => {
    const { server: first, pool } = await start();
    const a = await user(pool, 'alice');
    const b = await user(pool, 'bob');
    a.send('SAY :before restart');
    await b.expect(isFrom('alice'));
    // The server closes first, so its side of each connection is in TIME_WAIT.
    const exit = await stopWith(first, 'SIGTERM');
    expect(exit.code).toBe(0);
    await Promise.all([a.closed, b.closed]);

    const { server: second, pool: pool2 } = await start(['--port', String(first.port)]);
    expect(second.port).toBe(first.port);
    const c = await user(pool2, 'alice');
    c.send('SAY :after restart');
    expect((await c.expect('ECHO')).params[6]).toBe('after restart');
  });

  itOwnServer('a port already in use gives a one-line error naming it, a non-zero exit, and no stack trace', async () => {
    const blocker = createServer();
    blockers.push(blocker);
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const port = (blocker.address() as { port: number }).port;
    const run = await runServerCli(['start', '--host', '127.0.0.1', '--port', String(port)]);
    expect(run.signal).toBeNull();
    expect(run.code).not.toBe(0);
    expect(run.code).not.toBeNull();
    const lines = run.stderr.trim().split('\n');
    expect(lines, run.stderr).toHaveLength(1);
    expect(lines[0]).toContain(String(port));
    expect(run.stderr + run.stdout).not.toMatch(/^\s+at /m);
    expect(run.stdout).not.toMatch(/Server started/);
  });
});
