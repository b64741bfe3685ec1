/**
 * The whole client as the program wires it (supervisor, view, the real
 * clock and markup, the terminal in piped mode) against a scripted server,
 * with in-memory streams for stdin and stdout. For what no honest server
 * sends: the client must stay up, so a throw anywhere on the way from the
 * socket to the screen fails the test as an unhandled error.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { createInterface } from 'node:readline';
import { clock } from '../../../src/client/format.ts';
import { renderMarkup } from '../../../src/client/markup.ts';
import { ChatSupervisor } from '../../../src/client/reconnect.ts';
import { createStyle } from '../../../src/client/style.ts';
import { ChatTerminal } from '../../../src/client/terminal.ts';
import { FakeServer, type FakePeer } from './fake-server.ts';

const WAIT_MS = 10_000;

let server: FakeServer;
const supervisors: ChatSupervisor[] = [];

beforeEach(async () => {
  server = await FakeServer.start();
});

afterEach(async () => {
  for (const supervisor of supervisors.splice(0)) supervisor.close();
  await server.close();
});

interface Program {
  readonly input: PassThrough;
  readonly lines: string[];
  readonly exit: Promise<number>;
  readonly peer: FakePeer;
  waitFor(match: RegExp): Promise<string>;
}

/** The client program's parts, piped, registered as alice with a well-behaved scripted server. */
async function program(): Promise<Program> {
  const supervisor = new ChatSupervisor({ host: server.host, port: server.port, name: 'alice', reconnect: false, quitTimeoutMs: 1_000 });
  supervisors.push(supervisor);
  const input = new PassThrough();
  const output = new PassThrough();
  const terminal = new ChatTerminal(supervisor, {
    input,
    output,
    interactive: false,
    render: { style: createStyle({ color: false }), text: (t) => renderMarkup(t, { styles: false, emoji: false }), stamp: clock('UTC') },
  });
  const lines: string[] = [];
  const watchers = new Set<() => void>();
  createInterface({ input: output }).on('line', (line) => {
    lines.push(line);
    for (const watch of [...watchers]) watch();
  });
  const waitFor = (match: RegExp) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const found = lines.find((l) => match.test(l));
        if (found === undefined) return;
        watchers.delete(check);
        clearTimeout(timer);
        resolve(found);
      };
      const timer = setTimeout(() => {
        watchers.delete(check);
        reject(new Error(`no line ${match} within ${WAIT_MS} ms; got ${JSON.stringify(lines)}`));
      }, WAIT_MS);
      watchers.add(check);
      check();
    });
  const exit = terminal.run();
  await supervisor.start();
  const peer = await server.accept();
  peer.behave(['bob']);
  peer.greet();
  await waitFor(/^You are alice\. /);
  return { input, lines, exit, peer, waitFor };
}

describe('the client against a hostile server', () => {
  it('[MSG-6] stays up when a <time> is beyond what a Date holds, in MSG, ECHO, HIST and TOPIC, and goes on', async () => {
    const { input, lines, exit, peer, waitFor } = await program();
    const far = '9000000000000000';
    peer.send(`MSG m1 1 ${far} bob #lobby say :from the far future`);
    peer.send(`ECHO m2 2 ${far} alice #lobby say :mine, far away`);
    peer.send(`TOPIC #lobby bob ${far} :a topic from then`);
    peer.send('JOIN #far alice');
    peer.send('ROOM #far 1 :');
    peer.send(`HIST m3 1 ${far} bob #far say :history from then`);
    peer.send('ENDHIST #far 1');
    peer.send('MSG m4 3 1764236524870 bob #lobby say :still here?');
    await waitFor(/bob: still here\?$/);
    expect(lines.join('\n')).not.toMatch(/far future|far away|from then/);
    // Still answering, and leaves cleanly.
    input.write('exit\n');
    expect(await exit).toBe(0);
    expect(peer.received).toContain('QUIT');
  });
});
