/**
 * The real client program (`src/client.ts`), driven the scriptable way: stdin
 * and stdout are pipes, so there is no prompt and one line per event. It runs
 * against the real server (or CHAT_SERVER) and, for what no honest server
 * would send, against a scripted fake server. Every wait is on an output
 * line or a protocol event, never on time.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { startServer, type ServerProcess } from '../support/server-process.ts';
import { itOwnServer, openTarget, type Target } from '../support/target.ts';
import { ClientPool, uniqueName } from '../support/line-client.ts';
import { FakeServer } from '../unit/client/fake-server.ts';
import { chatBody, chatLine, startClientProgram, type ClientProgram } from './client-program.ts';

const TIMEOUT = 30_000;

const programs: ClientProgram[] = [];
const fakes: FakeServer[] = [];
let target: Target;
let pool: ClientPool;

function runClient(args: readonly string[], env: NodeJS.ProcessEnv = {}): ClientProgram {
  const program = startClientProgram(args, env);
  programs.push(program);
  return program;
}

/** A client of the target server, registered and listed. */
async function joined(name: string): Promise<ClientProgram> {
  const program = runClient(['--host', target.host, '--port', String(target.port), '--name', name]);
  await program.waitFor(new RegExp(`^You are ${name}\\. `));
  return program;
}

async function fakeServer(): Promise<FakeServer> {
  const server = await FakeServer.start();
  fakes.push(server);
  return server;
}

async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// Everything [CLIENT-1] forbids on the user's terminal, as decoded text.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029]/;

beforeAll(async () => {
  target = await openTarget();
  pool = new ClientPool(() => target);
}, TIMEOUT);

afterEach(async () => {
  await Promise.all(programs.splice(0).map((p) => p.kill()));
  await Promise.all(fakes.splice(0).map((f) => f.close()));
  await pool.closeAll();
});

afterAll(async () => {
  await target?.close();
});

describe('client program against the server', () => {
  it('[CLIENT-2] [MSG-2] [MSG-3] two clients chat in the lobby: own lines once as "[HH:MM] You:", others as "[HH:MM] <name>:"', async () => {
    const [a, b] = [uniqueName('a'), uniqueName('b')];
    const alice = await joined(a);
    expect(alice.lines.slice(0, 2)).toEqual(['Connected to the server!', "Type 'exit' to disconnect"]);
    const bob = await joined(b);
    expect(await bob.waitFor(/^You are /)).toMatch(new RegExp(`^You are ${b}\\. \\d+ users online: .*\\b${a}\\b`));
    await bob.waitFor(/^\* You are in #lobby \(\d+ users?\)/);
    await alice.waitFor(`* ${b} joined #lobby`);

    alice.send('hello from alice');
    await bob.waitForChat(`${a}: hello from alice`);
    await alice.waitForChat('You: hello from alice');
    bob.send('hi alice 👋 日本');
    await alice.waitForChat(`${b}: hi alice 👋 日本`);
    await bob.waitForChat('You: hi alice 👋 日本');

    const renamed = uniqueName('r');
    bob.send(`/nick ${renamed}`);
    await alice.waitFor(`* ${b} is now known as ${renamed}`);
    await bob.waitFor(`* You are now known as ${renamed}`);

    alice.end();
    expect((await alice.exited).code).toBe(0);
    await bob.waitFor(`* ${a} left (quit)`);
    bob.end();
    expect((await bob.exited).code).toBe(0);
    expect(alice.count(chatLine('You: hello from alice'))).toBe(1);
    expect(bob.count(chatLine('You: hi alice 👋 日本'))).toBe(1);
    expect(alice.lines.some((l) => l.includes('hello from alice') && chatBody(l) !== 'You: hello from alice')).toBe(false);
  }, TIMEOUT);

  it('[QUIT-1] "exit" as an input line quits cleanly with exit code 0; later lines are not sent', async () => {
    const watcher = await pool.user();
    const name = uniqueName('x');
    const program = await joined(name);
    await watcher.expect((m) => m.command === 'JOIN' && m.params[1] === name);
    program.send('exit');
    program.send('this must not be sent');
    expect(await program.exited).toEqual({ code: 0, signal: null });
    const leave = await watcher.expect('LEAVE');
    expect(leave.params.slice(0, 3)).toEqual(['#lobby', name, 'quit']);
    const rest = await watcher.barrier();
    expect(rest.filter((m) => m.command === 'MSG')).toEqual([]);
    expect(program.stderr).toBe('');
  }, TIMEOUT);

  it('[CLIENT-4] "/say exit" sends the word exit, and "//who" sends "/who"', async () => {
    const watcher = await pool.user();
    const name = uniqueName('s');
    const program = await joined(name);
    program.send('/say exit');
    program.send('//who');
    const first = await watcher.expect('MSG');
    const second = await watcher.expect('MSG');
    expect([first.params[3], first.params[4], first.params[6]]).toEqual([name, '#lobby', 'exit']);
    expect(second.params[6]).toBe('/who');
    await program.waitForChat('You: exit');
    await program.waitForChat('You: /who');
    program.send('/who');
    await program.waitFor(/^\d+ users online: /);
    program.end();
    expect((await program.exited).code).toBe(0);
  }, TIMEOUT);

  it('[CLIENT-1] neutralises bidi overrides, isolates and U+2028 that the server relays', async () => {
    const peer = await pool.user();
    const program = await joined(uniqueName('v'));
    // Controls are refused by the server itself ([FRAME-8]), so they never reach a client from here.
    peer.send('SAY :\u001b[2J');
    expect((await peer.expect('ERR')).params[0]).toBe('BAD_CHAR');
    peer.send('SAY :\u202eevil\u202c \u2067isolated\u2069 \u2028forged: line\u2029 end');
    await program.waitForChat(`${peer.name}: \uFFFDevil\uFFFD \uFFFDisolated\uFFFD \uFFFDforged: line\uFFFD end`);
    const out = Buffer.concat(program.stdout).toString('utf8');
    expect(UNSAFE.test(out)).toBe(false);
  }, TIMEOUT);

  it('[SESSION-6] falls back to a server-chosen name when the name is taken, and says how to rename', async () => {
    const taken = await pool.user();
    const program = runClient(['--host', target.host, '--port', String(target.port), '--name', taken.name!]);
    await program.waitFor(/^! .* \(NAME_IN_USE\)$/);
    await program.waitFor('* Joining with a name chosen by the server instead.');
    const named = await program.waitFor(/^\* The server named you guest-\d+\. Type \/nick <name> to choose your own name\.$/);
    const guest = /guest-\d+/.exec(named)![0];
    await program.waitFor(new RegExp(`^You are ${guest}\\. \\d+ users online: `));
  }, TIMEOUT);

  it('[PRES-1] [QUIT-3] shows "left (connection lost)" when a peer client process is killed', async () => {
    const [a, b] = [uniqueName('k'), uniqueName('w')];
    const victim = await joined(a);
    const witness = await joined(b);
    await victim.waitFor(`* ${b} joined #lobby`);
    victim.child.kill('SIGKILL');
    await witness.waitFor(`* ${a} left (connection lost)`);
  }, TIMEOUT);

  it('an unknown /command prints help and is not sent', async () => {
    const watcher = await pool.user();
    const program = await joined(uniqueName('u'));
    program.send('/frobnicate now');
    program.send('after');
    await program.waitFor(/^! Unknown command \/frobnicate; nothing was sent\./);
    await program.waitFor('  /nick <name>            change your name');
    const msg = await watcher.expect('MSG');
    expect(msg.params[6]).toBe('after');
  }, TIMEOUT);

  itOwnServer('[CLIENT-3] [SHUT-1] with --no-reconnect says so at once and exits 1 when the server shuts down', async () => {
    const server: ServerProcess = await startServer();
    try {
      const program = runClient(['--host', server.host, '--port', String(server.port), '--name', 'alice', '--no-reconnect']);
      await program.waitFor(/^You are alice\. /);
      await server.stop();
      await program.waitFor(/^\* Server is shutting down/);
      await program.waitFor('Disconnected from the server.');
      expect(await program.exited).toEqual({ code: 1, signal: null });
    } finally {
      await server.stop();
    }
  }, TIMEOUT);

  itOwnServer('[CLIENT-3] with LINECHAT_NO_RECONNECT=1 exits 1 at once when the server process dies', async () => {
    const server: ServerProcess = await startServer();
    try {
      const program = runClient(['--host', server.host, '--port', String(server.port)], { LINECHAT_NO_RECONNECT: '1' });
      await program.waitFor(/^You are guest-\d+\. /);
      server.child.kill('SIGKILL');
      await program.waitFor(/^(Disconnected from the server\.|Connection lost: .+)$/);
      expect((await program.exited).code).toBe(1);
      expect(program.lines.some((l) => l.startsWith('* Reconnecting'))).toBe(false);
    } finally {
      await server.stop();
    }
  }, TIMEOUT);
});

describe('client program in rooms and private conversations', () => {
  it('[ROOM-3] [ROOM-4] [ROOM-5] [ROOM-7] [PRES-3] /join makes a room active, lines name their room, /who /rooms /topic answer, /part goes back to the lobby', async () => {
    const bob = await pool.user();
    const room = `#${uniqueName('r')}`;
    bob.send(`JOIN ${room}`);
    await bob.joined(room);
    const name = uniqueName('a');
    const alice = await joined(name);
    alice.send(`/join ${room}`);
    await alice.waitFor(`* You are in ${room} (2 users)`);
    alice.send('in the room');
    const said = await bob.expect((m) => m.command === 'MSG' && m.params[3] === name);
    expect(said.params.slice(4)).toEqual([room, 'say', 'in the room']);
    // In two rooms now: every line names its room.
    await alice.waitForChat(`${room} You: in the room`);
    bob.send(`SAY ${room} :hi ${name}`);
    await alice.waitForChat(`${room} ${bob.name}: hi ${name}`);
    bob.send('SAY #lobby :lobby talk');
    await alice.waitForChat(`#lobby ${bob.name}: lobby talk`);

    alice.send(`/who ${room}`);
    const sorted = [name, bob.name!].sort((x, y) => (x.toLowerCase() < y.toLowerCase() ? -1 : 1));
    await alice.waitFor(`2 users in ${room}: ${sorted.join(', ')}`);
    alice.send('/rooms');
    await alice.waitFor(`  ${room} (2 users)`);
    alice.send('/topic Rust and more');
    await alice.waitFor(`* You set the topic of ${room}: Rust and more`);
    expect((await bob.expect('TOPIC')).params).toEqual([room, name, expect.stringMatching(/^\d+$/), 'Rust and more']);
    alice.send('/topic');
    await alice.waitFor(new RegExp(`^\\* Topic of ${room}: Rust and more \\(set by ${name} at \\d\\d:\\d\\d\\)$`));

    alice.send('/part bye all');
    expect((await bob.expect('LEAVE')).params).toEqual([room, name, 'part', 'bye all']);
    await alice.waitFor(`* You left ${room} (bye all)`);
    alice.send('back in the lobby');
    expect((await bob.expect((m) => m.command === 'MSG' && m.params[3] === name)).params.slice(4)).toEqual(['#lobby', 'say', 'back in the lobby']);
    await alice.waitForChat('You: back in the lobby');
    alice.end();
    expect((await alice.exited).code).toBe(0);
  }, TIMEOUT);

  it('[MSG-9] [MSG-10] [CLIENT-14] /msg and /query talk privately, both ways set apart; /me is an action', async () => {
    const bob = await pool.user();
    const name = uniqueName('a');
    const alice = await joined(name);
    alice.send(`/msg ${bob.name} psst`);
    expect((await bob.expect('MSG')).params.slice(3)).toEqual([name, bob.name, 'say', 'psst']);
    await alice.waitForChat(`(private) You → ${bob.name}: psst`);
    bob.send(`SAY ${name} :psst back`);
    await alice.waitForChat(`(private) ${bob.name} → you: psst back`);
    alice.send('/me waves');
    expect((await bob.expect('MSG')).params.slice(3)).toEqual([name, '#lobby', 'me', 'waves']);
    await alice.waitForChat(`* ${name} waves`);
    alice.send(`/query ${bob.name}`);
    await alice.waitFor(`* Talking privately with ${bob.name}; /switch <#room> to go back.`);
    alice.send('just us');
    expect((await bob.expect('MSG')).params.slice(4)).toEqual([bob.name, 'say', 'just us']);
    alice.send('/msg nobody-here hello?');
    await alice.waitFor(/^! Message to nobody-here not sent: .* \(NO_SUCH_USER\)$/);
    alice.end();
    expect((await alice.exited).code).toBe(0);
  }, TIMEOUT);

  it('[HIST-4] [HIST-2] [CLIENT-13] a join replays recent messages as history, and /history n shows the last n again', async () => {
    const bob = await pool.user();
    const room = `#${uniqueName('h')}`;
    bob.send(`JOIN ${room}`);
    await bob.joined(room);
    for (const text of ['one', 'two', 'three']) {
      bob.send(`SAY ${room} :${text}`);
      await bob.expect('ECHO');
    }
    const alice = await joined(uniqueName('a'));
    alice.send(`/join ${room}`);
    for (const text of ['one', 'two', 'three']) await alice.waitForChat(`(history) ${room} ${bob.name}: ${text}`);
    alice.send('/history 2');
    await alice.waitFor(`* History of ${room}, 2 messages:`);
    await alice.waitFor(() => alice.count(chatLine(`(history) ${room} ${bob.name}: three`)) === 2);
    expect(alice.count(chatLine(`(history) ${room} ${bob.name}: one`))).toBe(1);
    expect(alice.count(chatLine(`(history) ${room} ${bob.name}: two`))).toBe(2);
  }, TIMEOUT);

  it('[CLIENT-12] [MARKUP-1] into a pipe: no escape codes, and markup and shortcodes shown exactly as typed', async () => {
    const bob = await pool.user();
    const alice = await joined(uniqueName('a'));
    const text = 'this is *bold*, _it_, `code` and :tada: 🎉 👩‍👩‍👧';
    bob.send(`SAY :${text}`);
    await alice.waitForChat(`${bob.name}: ${text}`);
    expect(Buffer.concat(alice.stdout).includes(0x1b)).toBe(false);
  }, TIMEOUT);
});

describe('client program options and connection errors', () => {
  it('a bad option value gives a one-line error and exit code 2', async () => {
    const program = runClient(['--port', 'abc']);
    expect((await program.exited).code).toBe(2);
    expect(program.stderr).toBe('linechat: --port must be a port number from 1 to 65535, got "abc" (see --help)\n');
    expect(program.lines).toEqual([]);
  }, TIMEOUT);

  it('a refused connection gives a one-line error, no stack trace, and exit code 1', async () => {
    const port = await closedPort();
    const program = runClient(['--port', String(port)]);
    expect((await program.exited).code).toBe(1);
    expect(program.stderr).toBe(`Could not connect to 127.0.0.1:${port}: connection refused\n`);
  }, TIMEOUT);

  it('--help prints usage and exits 0', async () => {
    const program = runClient(['--help']);
    expect((await program.exited).code).toBe(0);
    expect(program.lines[0]).toMatch(/^Usage: /);
  }, TIMEOUT);
});

describe('client program against a scripted server', () => {
  it('[CLIENT-1] prints escape sequences, C1 and bidi controls in names, rooms, topics and texts harmlessly', async () => {
    const fake = await fakeServer();
    const program = runClient(['--port', String(fake.port), '--name', 'alice', '--no-reconnect']);
    const peer = await fake.accept();
    peer.send('LINECHAT 1 ev\u001b[2Jil LINE=2048 READCAP=16384 NAMELEN=24 LOBBY=#lobby :\u001b]0;title\u0007');
    await peer.expect('HELLO 1 alice');
    peer.send('WELCOME alice :\u001b[2J');
    peer.send('JOIN #lobby alice');
    peer.send('ROOM #lobby 2 :\u001b]0;topic\u0007 here');
    peer.send('HIST h1 1 1 m\u001b[31mallory #lobby say :old\u001b[2J');
    peer.send('ENDHIST #lobby 1');
    await peer.expect('WHO');
    peer.send('USER alice 0');
    peer.send('USER m\u001b[31mallory 7');
    peer.send('ENDWHO 2');
    const t = Date.now();
    const hostile = [
      `MSG m1 1 ${t} mallory #lobby say :clear\u001b[2J\u001b[3J\u001bc done`,
      `MSG m2 2 ${t} mallory #lobby say :clip\u001b]52;c;cm0gLXJmIH4K\u0007 osc`,
      `MSG m3 3 ${t} mallory #lobby say :move\u001b[10;10H\u001b[1A\u001b[2K\r\bcsi`,
      `MSG m4 4 ${t} mallory #lobby say :c1\u009b2J\u009d0;t\u009c\u0085 \u007f`,
      `MSG m5 5 ${t} m\u001b[8mal\u202elory #lobby say :bidi\u202e\u2066x\u2069\u2028y\u2029`,
      `MSG m6 1 ${t} mallory #r\u001b[2Jx say :room`,
      `MSG m7 1 ${t} mal\u001b[1mlory alice me :winks\u001b[5m`,
      'JOIN #lobby e\u001b]0;pwned\u0007ve',
      'NICK m\u001b[31mallory \u009bbob',
      'TOPIC #lobby \u001b[1mx 1 :\u001b]52;c;eA==\u0007t',
      'LEAVE #lobby e\u001b[2Jve \u001b[1m :\u001b[5mblink',
      'ERR BAD\u001b[2J SAY :\u001b[2Jerror',
      'SHUTDOWN :\u001b]52;c;eA==\u0007going',
    ];
    for (const line of hostile) peer.send(line);
    // A raw C1 byte that is not UTF-8 at all.
    peer.write(Buffer.concat([Buffer.from(`MSG m8 8 ${t} mallory #lobby say :raw`), Buffer.from([0x9b, 0x32, 0x4a, 0x0a])]));
    await program.waitFor(/ mallory: raw/);
    peer.socket.end();
    expect((await program.exited).code).toBe(1);

    const bytes = Buffer.concat(program.stdout);
    expect(bytes.includes(0x1b)).toBe(false);
    for (let i = 0; i + 1 < bytes.length; i++) {
      // C1 controls in UTF-8 are C2 80..C2 9F.
      expect(bytes[i] === 0xc2 && bytes[i + 1]! >= 0x80 && bytes[i + 1]! <= 0x9f).toBe(false);
    }
    const out = bytes.toString('utf8');
    expect(UNSAFE.test(out)).toBe(false);
    const bodies = program.lines.map((l) => chatBody(l) ?? l);
    expect(bodies).toContain('(history) m^[[31mallory: old^[[2J');
    expect(bodies).toContain('mallory: clear^[[2J^[[3J^[c done');
    expect(bodies).toContain('mallory: clip^[]52;c;cm0gLXJmIH4K^G osc');
    expect(bodies).toContain('mallory: move^[[10;10H^[[1A^[[2K^M^Hcsi');
    expect(bodies).toContain('mallory: c1\uFFFD2J\uFFFD0;t\uFFFD\uFFFD ^?');
    expect(bodies).toContain('m^[[8mal\uFFFDlory: bidi\uFFFD\uFFFDx\uFFFD\uFFFDy\uFFFD');
    expect(bodies).toContain('#r^[[2Jx mallory: room');
    expect(bodies).toContain('(private) * mal^[[1mlory winks^[[5m');
    expect(bodies).toContain('* You are in #lobby (2 users): ^[]0;topic^G here');
    expect(bodies).toContain('* e^[]0;pwned^Gve joined #lobby');
    expect(bodies).toContain('* ^[[1mx set the topic of #lobby: ^[]52;c;eA==^Gt');
    expect(bodies).toContain('* e^[[2Jve left (^[[1m: ^[[5mblink)');
    expect(bodies).toContain('You are alice. 2 users online: alice, m^[[31mallory');
    expect(bodies).toContain('* Server is shutting down: ^[]52;c;eA==^Ggoing');
    expect(program.lines.at(-1)).toBe('Disconnected from the server.');
  }, TIMEOUT);

  it('[CLIENT-5] answers the server\'s PING with PONG', async () => {
    const fake = await fakeServer();
    const program = runClient(['--port', String(fake.port), '--name', 'alice']);
    const peer = await fake.accept();
    peer.behave();
    peer.greet();
    await program.waitFor(/^You are alice\. /);
    peer.send('PING tok-123');
    expect(await peer.expect('PONG')).toBe('PONG tok-123');
  }, TIMEOUT);

  it('[MSG-8] at end of input waits for the ECHO or ERR of every SAY before QUIT, then exits 0', async () => {
    const fake = await fakeServer();
    const program = runClient(['--port', String(fake.port), '--name', 'alice']);
    const peer = await fake.accept();
    peer.greet();
    await peer.expect('HELLO');
    peer.send('WELCOME alice :hi');
    peer.send('JOIN #lobby alice');
    peer.send('ENDHIST #lobby 0');
    await peer.expect('WHO');
    peer.send('ENDWHO 0');
    program.send('one');
    program.send('two');
    program.send('three');
    program.end();
    await peer.expect('SAY #lobby one');
    await peer.expect('SAY #lobby two');
    await peer.expect('SAY #lobby three');
    // Answer slowly, with a PING barrier between replies: a QUIT sent too
    // early would arrive before one of the PONGs.
    peer.send(`ECHO m1 1 ${Date.now()} alice #lobby say :one`);
    peer.send('PING p1');
    await peer.expect('PONG p1');
    peer.send('ERR BAD_PARAMS SAY :Wrong parameters');
    peer.send('PING p2');
    await peer.expect('PONG p2');
    peer.send(`ECHO m3 3 ${Date.now()} alice #lobby say :three`);
    await peer.expect('QUIT');
    peer.send('BYE');
    peer.socket.end();
    expect((await program.exited).code).toBe(0);
    expect(peer.received.slice(-6)).toEqual(['SAY #lobby one', 'SAY #lobby two', 'SAY #lobby three', 'PONG p1', 'PONG p2', 'QUIT']);
    expect(program.lines.slice(-3).map((l) => chatBody(l) ?? l)).toEqual(['You: one', '! Message not sent: Wrong parameters (BAD_PARAMS)', 'You: three']);
  }, TIMEOUT);

  it('[LIMIT-5] [FRAME-8] splits a line over the announced LINE limit into several messages and cleans controls before sending', async () => {
    const fake = await fakeServer();
    const program = runClient(['--port', String(fake.port), '--name', 'alice']);
    const peer = await fake.accept();
    peer.behave();
    peer.greet('LINE=64 READCAP=128 NAMELEN=24');
    await program.waitFor(/^You are alice\. /);
    const text = 'Grüße 👩‍👩‍👧 日本語 '.repeat(8);
    program.send(text + '\u001b[31m\tend');
    program.end();
    expect((await program.exited).code).toBe(0);
    const says = peer.received.filter((l) => l.startsWith('SAY'));
    expect(says.length).toBeGreaterThan(1);
    for (const line of says) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(64);
    const sent = says.map((l) => l.replace(/^SAY #lobby :?/, '')).join('');
    expect(sent).toBe(text + '[31m end');
    const shown = program.lines.flatMap((l) => {
      const body = chatBody(l);
      return body?.startsWith('You: ') ? [body.slice(5)] : [];
    });
    expect(shown.join('')).toBe(sent);
  }, TIMEOUT);

  it('[CLIENT-3] with --no-reconnect reports a reset connection at once and exits 1', async () => {
    const fake = await fakeServer();
    const program = runClient(['--port', String(fake.port), '--no-reconnect']);
    const peer = await fake.accept();
    peer.behave();
    peer.greet();
    await program.waitFor(/^You are guest-4821\. /);
    peer.socket.resetAndDestroy();
    await program.waitFor('Connection lost: connection reset by the server');
    expect((await program.exited).code).toBe(1);
  }, TIMEOUT);
});
