/**
 * Reconnection end to end: the real client program (piped, so one line per
 * event) against the real server process, which the test kills and starts
 * again on the same port. Every wait is on an output line or a protocol
 * message, never on time.
 *
 * When a test needs another user on the restarted server before the client
 * comes back, it stops the client process (SIGSTOP) while it restarts the
 * server and registers that user, then lets it go on (SIGCONT). The client's
 * next attempt can then only happen afterwards, whatever its backoff drew.
 */
import { afterEach, describe, expect } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type ServerProcess } from '../support/server-process.ts';
import { itOwnServer } from '../support/target.ts';
import { LineClient, uniqueName } from '../support/line-client.ts';
import { chatBody, chatLine, startClientProgram, type ClientProgram } from './client-program.ts';

const TIMEOUT = 45_000;
const ATTEMPT = /^\* Reconnecting in \d+\.\d s \(attempt \d+\)…$/;
const DROPPED = /^(Disconnected from the server\.|Connection lost: .+)$/;
const REFUSED = '* Could not reconnect: connection refused';

const servers: ServerProcess[] = [];
const programs: ClientProgram[] = [];
const clients: LineClient[] = [];
const dirs: string[] = [];

afterEach(async () => {
  // SIGKILL ends a stopped process too, so a test that failed mid-pause cannot leak one.
  await Promise.all(programs.splice(0).map((p) => p.kill()));
  await Promise.all(clients.splice(0).map((c) => c.destroy()));
  await Promise.all(servers.splice(0).map((s) => s.stop()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function server(port?: number, extra: string[] = []): Promise<ServerProcess> {
  const started = await startServer([...(port === undefined ? [] : ['--port', String(port)]), ...extra]);
  servers.push(started);
  return started;
}

/** A fresh SQLite file for a server's history, removed in teardown. */
function dbFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'linechat-client-'));
  dirs.push(dir);
  return join(dir, 'history.db');
}

async function user(at: ServerProcess, name: string): Promise<LineClient> {
  const client = await LineClient.connect(at.host, at.port);
  clients.push(client);
  await client.register(name);
  return client;
}

/** The client program, registered as `name` on `at`. */
async function joined(at: ServerProcess, name: string, extra: string[] = []): Promise<ClientProgram> {
  const program = startClientProgram(['--host', at.host, '--port', String(at.port), '--name', name, ...extra]);
  programs.push(program);
  await program.waitFor(new RegExp(`^You are ${name}\\. `));
  return program;
}

/** SIGKILLs the server and waits until the client has noticed and failed one attempt against the closed port. */
async function killAndWaitForRefusal(at: ServerProcess, program: ClientProgram): Promise<void> {
  at.child.kill('SIGKILL');
  await at.exited;
  await program.waitFor(DROPPED);
  await program.waitFor(ATTEMPT);
  await program.waitFor(REFUSED);
}

/** Runs `during` with the client process stopped, so it cannot reconnect before `during` is done. */
async function whilePaused<T>(program: ClientProgram, during: () => Promise<T>): Promise<T> {
  program.child.kill('SIGSTOP');
  try {
    return await during();
  } finally {
    program.child.kill('SIGCONT');
  }
}

const isMsg = (from: string, text: string) => (m: { command: string; params: readonly string[] }) =>
  m.command === 'MSG' && m.params[3] === from && m.params[6] === text;

describe('client program reconnects to a restarted server', () => {
  itOwnServer(
    '[CLIENT-6] [CLIENT-7] [CLIENT-8] after a SIGKILL and a restart on the same port: reconnects, keeps its name, delivers what was typed meanwhile, chats again',
    async () => {
      const first = await server();
      const alice = uniqueName('a');
      const program = await joined(first, alice);
      await killAndWaitForRefusal(first, program);

      program.send('typed during the outage');
      await program.waitFor('* Not connected; your message will be sent when the connection is back (1 queued).');

      const bobName = uniqueName('b');
      const bob = await whilePaused(program, async () => {
        const second = await server(first.port);
        expect(second.port).toBe(first.port);
        return user(second, bobName);
      });

      await program.waitFor(`* Reconnected as ${alice}.`);
      await bob.expect((m) => m.command === 'JOIN' && m.params[1] === alice);
      // Sent after reconnecting, once, and shown once its ECHO came ([CLIENT-2]).
      await bob.expect(isMsg(alice, 'typed during the outage'));
      await program.waitFor('* Sending 1 queued message.');
      await program.waitForChat('You: typed during the outage');

      bob.send('SAY :welcome back');
      await program.waitForChat(`${bobName}: welcome back`);
      program.send('glad to be back');
      await bob.expect(isMsg(alice, 'glad to be back'));

      program.end();
      expect(await program.exited).toEqual({ code: 0, signal: null });
      expect(program.count(chatLine('You: typed during the outage'))).toBe(1);
      const order = ['* Not connected; your message', `* Reconnected as ${alice}.`, 'You: typed during the outage'].map((prefix) =>
        program.lines.findIndex((l) => (chatBody(l) ?? l).startsWith(prefix)),
      );
      expect(order).toEqual([...order].sort((a, b) => a - b));
      expect(program.stderr).toBe('');
    },
    TIMEOUT,
  );

  itOwnServer(
    '[CLIENT-7] [SESSION-6] when its name was taken during the outage, joins under a server-chosen name and says which, and can take it back later',
    async () => {
      const first = await server();
      const alice = uniqueName('a');
      const program = await joined(first, alice);
      await killAndWaitForRefusal(first, program);

      const thief = await whilePaused(program, async () => user(await server(first.port), alice));

      await program.waitFor(/^! .* \(NAME_IN_USE\)$/);
      const back = await program.waitFor(/^\* Reconnected as guest-\d+: /);
      expect(back).toMatch(new RegExp(`^\\* Reconnected as guest-\\d+: the name ${alice} was not available\\. Type /nick ${alice} to try again\\.$`));

      await thief.destroy();
      program.send(`/nick ${alice}`);
      await program.waitFor(`* You are now known as ${alice}`);
      program.end();
      expect((await program.exited).code).toBe(0);
    },
    TIMEOUT,
  );

  itOwnServer(
    '[CLIENT-6] [SHUT-1] after a SHUTDOWN (SIGTERM) says so, then reconnects once the server is back',
    async () => {
      const first = await server();
      const alice = uniqueName('a');
      const program = await joined(first, alice);
      await first.stop();
      await program.waitFor(/^\* Server is shutting down/);
      await program.waitFor('Disconnected from the server.');
      await program.waitFor(ATTEMPT);
      await server(first.port);
      await program.waitFor(`* Reconnected as ${alice}.`);
      program.end();
      expect((await program.exited).code).toBe(0);
    },
    TIMEOUT,
  );

  itOwnServer(
    '[CLIENT-6] [QUIT-1] "exit" during the outage ends the client at once, without further attempts',
    async () => {
      const first = await server();
      const program = await joined(first, uniqueName('a'));
      await killAndWaitForRefusal(first, program);
      const attempts = program.lines.filter((l) => ATTEMPT.test(l)).length;
      program.send('exit');
      expect(await program.exited).toEqual({ code: 0, signal: null });
      // At most the attempt already announced when exit arrived; nothing after the exit.
      expect(program.lines.filter((l) => ATTEMPT.test(l)).length).toBeLessThanOrEqual(attempts + 1);
      expect(program.lines.some((l) => l.startsWith('* Reconnected'))).toBe(false);
    },
    TIMEOUT,
  );
});

describe('client program catches up on what it missed [HIST-6] [CLIENT-11]', () => {
  itOwnServer(
    '[CLIENT-11] [HIST-4] after a restart on the same database: rejoins its rooms and shows each message it missed once, marked as missed',
    async () => {
      const db = dbFile();
      const first = await server(undefined, ['--db', db, '--db-sync', 'normal']);
      const alice = uniqueName('a');
      const room = `#${uniqueName('r')}`;
      const program = await joined(first, alice);
      program.send(`/join ${room}`);
      await program.waitFor(`* You are in ${room} (1 user)`);
      program.send('seen before');
      await program.waitForChat(`${room} You: seen before`);
      await killAndWaitForRefusal(first, program);

      const bobName = uniqueName('b');
      const bob = await whilePaused(program, async () => {
        const second = await server(first.port, ['--db', db, '--db-sync', 'normal']);
        const peer = await user(second, bobName);
        peer.send(`JOIN ${room}`);
        await peer.joined(room);
        for (const text of ['missed in the room 1', 'missed in the room 2']) {
          peer.send(`SAY ${room} :${text}`);
          await peer.expect('ECHO');
        }
        peer.send('SAY #lobby :missed in the lobby');
        await peer.expect('ECHO');
        return peer;
      });

      await program.waitFor(`* Reconnected as ${alice}.`);
      await program.waitFor(`* Joining ${room} again.`);
      await program.waitForChat(`(missed) ${room} ${bobName}: missed in the room 2`);
      await program.waitForChat(`(missed) #lobby ${bobName}: missed in the lobby`);
      bob.send(`SAY ${room} :live again`);
      await program.waitForChat(`${room} ${bobName}: live again`);
      // Each once: the replay of the re-join and the catch-up brought them both.
      for (const text of ['missed in the room 1', 'missed in the room 2']) {
        expect(program.lines.filter((l) => l.endsWith(`${bobName}: ${text}`))).toHaveLength(1);
      }
      expect(program.lines.filter((l) => l.endsWith('You: seen before'))).toHaveLength(1);
      await program.waitFor(`* 2 messages missed in ${room}:`);
      // Text goes to the room it was talking in before the drop.
      program.send('still here');
      await bob.expect((m) => isMsg(alice, 'still here')(m) && m.params[4] === room);
      program.end();
      expect((await program.exited).code).toBe(0);
    },
    TIMEOUT,
  );

  itOwnServer(
    '[CLIENT-11] [HIST-2] after a restart without a database: says the server no longer knows its last message and shows the latest instead',
    async () => {
      const first = await server();
      const alice = uniqueName('a');
      const program = await joined(first, alice);
      const seer = await user(first, uniqueName('s'));
      seer.send('SAY :before the restart');
      await program.waitForChat(`${seer.name}: before the restart`);
      await killAndWaitForRefusal(first, program);
      const bobName = uniqueName('b');
      await whilePaused(program, async () => {
        const peer = await user(await server(first.port), bobName);
        peer.send('SAY :after the restart');
        await peer.expect('ECHO');
      });
      await program.waitFor(`* Reconnected as ${alice}.`);
      await program.waitFor(/^! The server does not know the last message seen in #lobby .*showing the latest messages of each room instead\.$/);
      await program.waitForChat(`(missed) ${bobName}: after the restart`);
      expect(program.lines.filter((l) => l.endsWith(`${bobName}: after the restart`))).toHaveLength(1);
      program.end();
      expect((await program.exited).code).toBe(0);
      // Said once, though every target's id was unknown.
      expect(program.lines.filter((l) => l.startsWith('! The server does not know'))).toHaveLength(1);
    },
    TIMEOUT,
  );
});

describe('piped client at end of input while the server is down [CLIENT-10]', () => {
  itOwnServer(
    '[CLIENT-10] [CLIENT-8] waits for the server to come back, delivers the queued line, waits for its ECHO and exits 0',
    async () => {
      const first = await server();
      const alice = uniqueName('a');
      const program = await joined(first, alice);
      await killAndWaitForRefusal(first, program);
      program.send('sent at the very end');
      await program.waitFor(/^\* Not connected; .*\(1 queued\)\.$/);
      program.end();

      const bob = await whilePaused(program, async () => user(await server(first.port), uniqueName('b')));
      await bob.expect(isMsg(alice, 'sent at the very end'));
      expect(await program.exited).toEqual({ code: 0, signal: null });
      expect(program.count(chatLine('You: sent at the very end'))).toBe(1);
      await bob.expect((m) => m.command === 'LEAVE' && m.params[1] === alice && m.params[2] === 'quit');
    },
    TIMEOUT,
  );

  itOwnServer(
    '[CLIENT-10] gives up with exit 1 when the server is not back within --reconnect-timeout, and names what was not sent',
    async () => {
      const first = await server();
      const program = await joined(first, uniqueName('a'), ['--reconnect-timeout', '1']);
      await killAndWaitForRefusal(first, program);
      program.send('nobody will read this');
      program.send('nor this');
      await program.waitFor(/^\* Not connected; .*\(2 queued\)\.$/);
      program.end();
      expect(await program.exited).toEqual({ code: 1, signal: null });
      const tail = program.lines.slice(-3);
      expect(tail).toEqual(['! The server did not come back within 1 s; giving up.', '! Not sent: nobody will read this', '! Not sent: nor this']);
    },
    TIMEOUT,
  );
});
