/**
 * The client connection against a scripted server: every byte the "server"
 * sends is chosen here, and every wait is on a line or an event.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { ChatConnection, MAX_HELD_WHILE_JOINING, type ConnectionOptions } from '../../../src/client/connection.ts';
import { ConnectError, type ClientEvent } from '../../../src/client/events.ts';
import { EventProbe, FakeServer, type FakePeer } from './fake-server.ts';

/** A connection plus everything it reported, with a way to wait for an event (each handed out once). */
class Probe extends EventProbe<ClientEvent> {
  constructor(readonly connection: ChatConnection) {
    super(connection);
  }
}

let server: FakeServer;
const connections: ChatConnection[] = [];

beforeEach(async () => {
  server = await FakeServer.start();
});

afterEach(async () => {
  await Promise.all(connections.splice(0).map((c) => c.close()));
  await server.close();
});

async function open(options: Partial<ConnectionOptions> = {}): Promise<{ probe: Probe; peer: FakePeer }> {
  const connection = new ChatConnection({ host: server.host, port: server.port, ...options });
  connections.push(connection);
  const probe = new Probe(connection);
  await connection.open();
  const peer = await server.accept();
  return { probe, peer };
}

/** Runs the handshake by hand: greeting, HELLO, WELCOME, the lobby's JOIN, ROOM and empty replay, WHO. */
async function join(
  name = 'alice',
  others: string[] = ['bob'],
  options: Partial<ConnectionOptions> = {},
): Promise<{ probe: Probe; peer: FakePeer; connection: ChatConnection }> {
  const { probe, peer } = await open({ name, ...options });
  peer.greet();
  expect(await peer.expect('HELLO')).toBe(`HELLO 1 ${name}`);
  peer.send(`WELCOME ${name} key-${name} :Hello ${name}`);
  peer.send(`JOIN #lobby ${name}`);
  peer.send(`ROOM #lobby ${others.length + 1} :Say hello`);
  peer.send('ENDHIST #lobby 0');
  expect(await peer.expect('WHO')).toBe('WHO');
  for (const user of [...others, name].sort()) peer.send(`USER ${user} 0`);
  peer.send(`ENDWHO ${others.length + 1}`);
  await probe.next('ready');
  // Handed out here, so that a test waiting for the next one gets its own.
  await probe.next('join');
  await probe.next('room');
  await probe.next('history');
  return { probe, peer, connection: probe.connection };
}

/** A MSG, ECHO or HIST line. */
function chat(command: 'MSG' | 'ECHO' | 'HIST', id: string, seq: number, from: string, to: string, text: string, kind = 'say'): string {
  return `${command} ${id} ${seq} ${1764236523000 + seq} ${from} ${to} ${kind} :${text}`;
}

describe('ChatConnection handshake [SESSION-1] [SESSION-4] [SESSION-6]', () => {
  it('sends HELLO 1 <name> after the greeting, then WHO, and reports ready with the user list', async () => {
    const { probe } = await join('alice', ['carol', 'bob']);
    expect(probe.events.find((e) => e.type === 'ready')).toEqual({
      type: 'ready',
      name: 'alice',
      assigned: false,
      users: ['alice', 'bob', 'carol'],
      serverName: 'fake',
      joined: ['#lobby'],
    });
  });

  it('[SESSION-2] ignores greeting keys it does not know, however they are written', async () => {
    const { probe, peer } = await open({ name: 'alice' });
    peer.greet('FUTURE=yes LINE=96 X == =1 NAMELEN=24 READCAP=16384 TLS');
    expect(await peer.expect('HELLO')).toBe('HELLO 1 alice');
    peer.behave();
    peer.send('WELCOME alice key-alice :hi');
    await probe.next('ready');
    // LINE was still read among the unknown keys: 96 bytes per SAY line.
    const pieces = probe.connection.say(undefined, 'x'.repeat(200));
    expect(pieces).toBe(3);
  });

  it('[LIMIT-1] [ROOM-2] reads the room and history limits and the lobby from the greeting, with the SPEC defaults when absent', async () => {
    const { probe, peer } = await open({ name: 'alice' });
    peer.behave();
    peer.greet('LINE=512 READCAP=1024 NAMELEN=16 ROOMLEN=20 TOPICLEN=100 HISTLIMIT=50 MAXJOIN=5 REPLAY=0 LOBBY=#Hall');
    await probe.next('ready');
    expect(probe.connection.limits).toEqual({
      line: 512,
      nameLength: 16,
      roomLength: 20,
      topicLength: 100,
      historyPage: 50,
      maxJoin: 5,
      replay: 0,
    });
    expect(probe.connection.lobby).toBe('#Hall');

    const { probe: plain, peer: old } = await open({ name: 'bob' });
    old.behave([], { lobby: undefined });
    old.greet('LINE=2048 READCAP=16384 NAMELEN=24 LOBBY=not-a-room');
    await plain.next('ready');
    expect(plain.connection.limits).toMatchObject({ roomLength: 32, topicLength: 300, historyPage: 500, maxJoin: 50, replay: 20 });
    expect(plain.connection.lobby).toBeUndefined();
  });

  it('[SESSION-5] [ROOM-2] holds the lobby join and its replay until the first WHO is answered, then reports them after ready, in order', async () => {
    const { probe, peer } = await open({ name: 'alice' });
    peer.greet();
    await peer.expect('HELLO 1 alice');
    peer.send('WELCOME alice key-alice :hi');
    peer.send('JOIN #lobby alice');
    peer.send('ROOM #lobby 2 :Say hello');
    peer.send(chat('HIST', 'h1', 1, 'bob', '#lobby', 'anyone around?'));
    peer.send(chat('HIST', 'h2', 2, 'bob', '#lobby', 'hello?'));
    peer.send('ENDHIST #lobby 2');
    peer.send(chat('MSG', 'm3', 3, 'bob', '#lobby', 'live, before WHO'));
    await peer.expect('WHO');
    peer.send('PING barrier');
    await peer.expect('PONG barrier');
    expect(probe.events).toEqual([]);
    peer.send('USER alice 0');
    peer.send('USER bob 12');
    peer.send('ENDWHO 2');
    await probe.next('message');
    expect(probe.events.map((e) => e.type)).toEqual(['ready', 'join', 'room', 'history', 'message']);
    expect(probe.events[0]).toMatchObject({ type: 'ready', users: ['alice', 'bob'], joined: ['#lobby'] });
    expect(probe.events[1]).toEqual({ type: 'join', room: '#lobby', name: 'alice', own: true });
    expect(probe.events[2]).toEqual({ type: 'room', room: '#lobby', members: 2, topic: 'Say hello' });
    const history = probe.events[3] as Extract<ClientEvent, { type: 'history' }>;
    expect(history).toMatchObject({ target: '#lobby', request: undefined });
    expect(history.messages.map((m) => [m.id, m.seq, m.from, m.to, m.kind, m.text])).toEqual([
      ['h1', 1, 'bob', '#lobby', 'say', 'anyone around?'],
      ['h2', 2, 'bob', '#lobby', 'say', 'hello?'],
    ]);
  });

  it('[SESSION-5] holds at most MAX_HELD_WHILE_JOINING while joining: past it the oldest go, our own join stays, and a warning says how many', async () => {
    const { probe, peer } = await open({ name: 'alice' });
    peer.greet();
    await peer.expect('HELLO 1 alice');
    const flood = MAX_HELD_WHILE_JOINING + 10;
    const lines = ['WELCOME alice key-alice :hi', 'JOIN #lobby alice', 'ROOM #lobby 2 :', 'ENDHIST #lobby 0'];
    for (let i = 1; i <= flood; i++) lines.push(chat('MSG', `m${i}`, i, 'bob', '#lobby', `flood ${i}`));
    peer.write(lines.join('\n') + '\n');
    await peer.expect('WHO');
    peer.send('USER alice 0');
    peer.send('ENDWHO 1');
    peer.send('PING barrier');
    await peer.expect('PONG barrier');
    // Held: the JOIN, the ROOM, the empty replay and the messages; 13 over the bound, the oldest but our JOIN dropped.
    const dropped = 3 + flood - MAX_HELD_WHILE_JOINING;
    expect(probe.events.slice(0, 3)).toEqual([
      expect.objectContaining({ type: 'ready', joined: ['#lobby'] }),
      { type: 'warning', text: `The server sent more than could be kept while joining; ${dropped} of its events are not shown.` },
      { type: 'join', room: '#lobby', name: 'alice', own: true },
    ]);
    const messages = probe.all('message');
    expect(messages).toHaveLength(MAX_HELD_WHILE_JOINING - 1);
    expect(messages[0]!.message.id).toBe(`m${flood - messages.length + 1}`);
    expect(messages.at(-1)!.message.id).toBe(`m${flood}`);
    expect(probe.events).toHaveLength(3 + messages.length);
  });

  it('[SESSION-5] holds no more own joins than the bound either, dropping the newest', async () => {
    const { probe, peer } = await open({ name: 'alice' });
    peer.greet();
    await peer.expect('HELLO 1 alice');
    const lines = ['WELCOME alice key-alice :hi'];
    for (let i = 1; i <= MAX_HELD_WHILE_JOINING + 5; i++) lines.push(`JOIN #r${i} alice`);
    peer.write(lines.join('\n') + '\n');
    await peer.expect('WHO');
    peer.send('ENDWHO 0');
    const ready = await probe.next('ready');
    expect(ready.joined).toHaveLength(MAX_HELD_WHILE_JOINING);
    expect(ready.joined.at(-1)).toBe(`#r${MAX_HELD_WHILE_JOINING}`);
    expect(probe.all('warning')[0]!.text).toContain('; 5 of its events are not shown');
  });

  it('sends HELLO 1 without a name when none is given, and marks the name as server-chosen', async () => {
    const { probe, peer } = await open();
    peer.greet('LINE=2048 READCAP=16384 NAMELEN=24 FUTURE=yes');
    expect(await peer.expect('HELLO')).toBe('HELLO 1');
    peer.send('WELCOME guest-4821 key-guest-4821 :Hello');
    await peer.expect('WHO');
    peer.send('USER guest-4821');
    peer.send('ENDWHO 1');
    expect(await probe.next('ready')).toMatchObject({ name: 'guest-4821', assigned: true });
  });

  for (const code of ['NAME_IN_USE', 'BAD_NAME']) {
    it(`[SESSION-6] falls back to a server-chosen name after ERR ${code} HELLO, and says why`, async () => {
      const { probe, peer } = await open({ name: 'bob' });
      peer.greet();
      await peer.expect('HELLO 1 bob');
      peer.send(`ERR ${code} HELLO :The name bob is not available`);
      expect(await peer.expect('HELLO')).toBe('HELLO 1');
      expect(await probe.next('name-rejected')).toEqual({ type: 'name-rejected', name: 'bob', code, text: 'The name bob is not available' });
      peer.send('WELCOME guest-1234 key-guest-1234 :Hello');
      await peer.expect('WHO');
      peer.send('ENDWHO 0');
      expect(await probe.next('ready')).toMatchObject({ name: 'guest-1234', assigned: true });
    });
  }

  it('gives up when even the server-chosen name is refused', async () => {
    const { probe, peer } = await open({ name: 'bob' });
    peer.greet();
    await peer.expect('HELLO 1 bob');
    peer.send('ERR NAME_IN_USE HELLO :taken');
    await peer.expect('HELLO 1');
    peer.send('ERR BAD_NAME HELLO :No guest name is free');
    const closed = await probe.next('closed');
    expect(closed.cause).toBe('failed');
    expect(closed.reason).toContain('No guest name is free (BAD_NAME)');
  });

  it('[SESSION-3] refuses a server that does not speak version 1', async () => {
    const { probe, peer } = await open();
    peer.send('LINECHAT 2,3 future LINE=2048 READCAP=16384 NAMELEN=24 :hi');
    const closed = await probe.next('closed');
    expect(closed).toMatchObject({ cause: 'failed' });
    expect(closed.reason).toContain('version 2, 3');
    expect(peer.received).toEqual([]);
  });

  it('gives up when the server never greets', async () => {
    const { probe } = await open({ handshakeTimeoutMs: 100 });
    const closed = await probe.next('closed');
    expect(closed.cause).toBe('failed');
    expect(closed.reason).toMatch(/no answer from the server/);
  });

  it('reports a refused connection in one line', async () => {
    const probeServer = createServer().listen(0, '127.0.0.1');
    await once(probeServer, 'listening');
    const { port } = probeServer.address() as { port: number };
    await new Promise((resolve) => probeServer.close(resolve));
    const connection = new ChatConnection({ host: '127.0.0.1', port });
    const failure = await connection.open().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(ConnectError);
    expect((failure as Error).message).toBe(`Could not connect to 127.0.0.1:${port}: connection refused`);
  });
});

describe('ChatConnection while registered', () => {
  it('[CLIENT-5] [PING-1] answers PING with PONG and the same token, before and after registering', async () => {
    const { peer } = await open({ name: 'alice' });
    peer.greet();
    await peer.expect('HELLO');
    peer.send('PING early-1');
    expect(await peer.expect('PONG')).toBe('PONG early-1');
    peer.send('WELCOME alice key-alice :hi');
    await peer.expect('WHO');
    peer.send('ENDWHO 1');
    peer.send('PING later_2');
    expect(await peer.expect('PONG')).toBe('PONG later_2');
  });

  it('[MSG-3] [MSG-8] matches ECHO and ERR to the SAYs in the order they were sent, and settles after the last', async () => {
    const { probe, peer, connection } = await join();
    const order: string[] = [];
    connection.say('#lobby', 'first');
    connection.me('#lobby', 'second');
    connection.nick('bob');
    connection.say('carol', 'third');
    expect(connection.pending.map((r) => r.command)).toEqual(['SAY', 'ME', 'NICK', 'SAY']);
    void connection.settled().then(() => order.push('settled'));
    expect(await peer.expect('SAY')).toBe('SAY #lobby first');
    expect(await peer.expect('ME')).toBe('ME #lobby second');
    expect(await peer.expect('NICK')).toBe('NICK bob');
    expect(await peer.expect('SAY')).toBe('SAY carol third');

    peer.send('ERR BAD_CHAR SAY :Forbidden character');
    const rejected = await probe.next('error');
    expect(rejected.request).toEqual({ command: 'SAY', text: 'first', target: '#lobby' });
    order.push('err-first');
    peer.send(chat('ECHO', 'm1', 1, 'alice', '#lobby', 'second', 'me'));
    expect((await probe.next('message')).message).toMatchObject({ text: 'second', kind: 'me' });
    order.push('echo-second');
    peer.send('ERR NAME_IN_USE NICK :The name bob is in use');
    expect((await probe.next('error', (e) => e.code === 'NAME_IN_USE')).request).toEqual({ command: 'NICK', text: 'bob' });
    order.push('err-nick');
    expect(connection.pending.map((r) => r.command)).toEqual(['SAY']);
    peer.send(chat('ECHO', 'm2', 2, 'alice', 'carol', 'third'));
    await connection.settled();
    expect(order).toEqual(['err-first', 'echo-second', 'err-nick', 'settled']);
    expect(connection.pending).toEqual([]);
  });

  it('[ERR-2] [ERR-4] does not blame a pending SAY for a fatal, connection-level ERR', async () => {
    const { probe, peer, connection } = await join();
    connection.say(undefined, 'innocent');
    await peer.expect('SAY innocent');
    peer.send('ERR SLOW_CONSUMER * :Too much output is waiting to be read');
    expect(await probe.next('error')).toMatchObject({ code: 'SLOW_CONSUMER', request: undefined });
    expect(connection.pending).toEqual([{ command: 'SAY', text: 'innocent', target: undefined }]);
    peer.send('ERR SOMETHING_NEW SAY :from a newer server');
    expect(await probe.next('error', (e) => e.code === 'SOMETHING_NEW')).toMatchObject({ request: { command: 'SAY', text: 'innocent' } });
  });

  it('[MSG-2] [MSG-10] [PRES-1] reports messages from others, private ones too, joins, leaves and renames, including its own', async () => {
    const { probe, peer, connection } = await join('alice');
    peer.send(chat('MSG', 'm9', 9, 'bob', '#lobby', 'hello alice'));
    expect(await probe.next('message')).toMatchObject({ own: false, message: { from: 'bob', to: '#lobby', text: 'hello alice', seq: 9 } });
    peer.send(chat('MSG', 'p1', 1, 'bob', 'alice', 'psst'));
    expect(await probe.next('message')).toMatchObject({ own: false, message: { from: 'bob', to: 'alice', text: 'psst' } });
    peer.send('JOIN #lobby carol');
    expect(await probe.next('join')).toEqual({ type: 'join', room: '#lobby', name: 'carol', own: false });
    peer.send('LEAVE #lobby carol quit :see you');
    expect(await probe.next('leave')).toEqual({ type: 'leave', room: '#lobby', name: 'carol', reason: 'quit', text: 'see you', own: false });
    peer.send('NICK bob robert');
    expect(await probe.next('nick')).toEqual({ type: 'nick', from: 'bob', to: 'robert', own: false });
    connection.nick('Alice');
    await peer.expect('NICK Alice');
    peer.send('NICK alice Alice');
    expect(await probe.next('nick', (e) => e.own)).toEqual({ type: 'nick', from: 'alice', to: 'Alice', own: true });
    expect(connection.name).toBe('Alice');
    expect(connection.nick('Alice')).toBe(false);
  });

  it('[ERR-3] never answers ERR, LEAVE, JOIN, MSG or other notices with a line of its own', async () => {
    const { probe, peer } = await join('alice');
    const before = peer.received.length;
    const eventsBefore = probe.events.length;
    for (const line of [
      'ERR BAD_PARAMS SAY :Wrong parameters',
      'ERR UNKNOWN_COMMAND * :huh',
      'MSG m1 1 1 bob #lobby say :are you a bot? reply!',
      'MSG m2 1 1 bob alice say :private: reply!',
      'HIST h1 1 1 bob #lobby say :from history',
      'ENDHIST #lobby 1',
      'JOIN #lobby carol',
      'LEAVE #lobby carol lost :Connection closed',
      'NICK bob robert',
      'TOPIC #lobby bob 1 :new topic',
      'ROOM #lobby 3 :x',
      'ENDROOMS 1',
      'USER zed 0',
      'ENDWHO 1',
      'PONG unasked',
      'WELCOME alice key-alice :again',
      'LINECHAT 1 again LINE=2048 READCAP=16384 NAMELEN=24 :hello again',
      'BOGUS line',
    ]) {
      peer.send(line);
    }
    peer.send('PING barrier');
    await peer.expect('PONG barrier');
    expect(peer.received.slice(before)).toEqual(['PONG barrier']);
    const reported = probe.events.slice(eventsBefore).map((e) => e.type);
    expect(reported.filter((t) => t === 'message' || t === 'join' || t === 'leave' || t === 'history')).toHaveLength(5);
  });

  it('[PRES-3] reports a WHO list with idle times, of everyone or of a room', async () => {
    const { probe, peer, connection } = await join('alice');
    connection.who();
    await peer.expect('WHO');
    peer.send('USER alice 0');
    peer.send('USER zed 185');
    peer.send('ENDWHO 2');
    expect(await probe.next('who')).toEqual({
      type: 'who',
      room: undefined,
      users: [
        { name: 'alice', idle: 0 },
        { name: 'zed', idle: 185 },
      ],
    });
    connection.who('#rust');
    expect(await peer.expect('WHO')).toBe('WHO #rust');
    // A server without idle times is read as 0 seconds idle.
    peer.send('USER zed');
    peer.send('ENDWHO 1');
    expect(await probe.next('who')).toEqual({ type: 'who', room: '#rust', users: [{ name: 'zed', idle: 0 }] });
  });

  it('[LIMIT-5] splits a message longer than the announced LINE into several SAYs at grapheme boundaries', async () => {
    const { probe, peer } = await open({ name: 'alice' });
    const connection = probe.connection;
    peer.behave();
    peer.greet('LINE=64 READCAP=128 NAMELEN=24');
    await probe.next('ready');
    const text = 'Grüße 👩‍👩‍👧 '.repeat(12);
    expect(connection.say(undefined, text)).toBeGreaterThan(1);
    expect(connection.me('#a-long-room-name', text)).toBeGreaterThan(1);
    await connection.settled();
    const says = peer.received.filter((l) => l.startsWith('SAY '));
    const actions = peer.received.filter((l) => l.startsWith('ME '));
    expect(says.length).toBeGreaterThan(1);
    // The target's bytes count too.
    for (const line of [...says, ...actions]) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(64);
    expect(says.map((l) => l.replace(/^SAY :?/, '')).join('')).toBe(text);
    expect(actions.map((l) => l.replace(/^ME #a-long-room-name :?/, '')).join('')).toBe(text);
  });

  it('[CLIENT-1] keeps lines with control characters or bad UTF-8 (to be shown neutralised) and ignores unknown commands [ERR-4]', async () => {
    const { probe, peer } = await join('alice');
    peer.send('FROBNICATE x y');
    peer.write(Buffer.concat([Buffer.from('MSG m1 1 1 ev\u001bil #lobby say :a\u001b[2J\u009b'), Buffer.from([0xff, 0x0a])]));
    const event = await probe.next('message');
    expect(event.message.from).toBe('ev\u001bil');
    expect(event.message.text).toBe('a\u001b[2J\u009b\uFFFD');
    expect(probe.events.filter((e) => e.type === 'warning' || e.type === 'error')).toEqual([]);
  });
});

describe('ChatConnection rooms, topics and history [MSG-8]', () => {
  it('[ROOM-3] settles JOIN on its replay\'s ENDHIST and reports the JOIN, the ROOM line and the replay batch with the request', async () => {
    const { probe, peer, connection } = await join('alice');
    connection.join('#rust', 'mine');
    expect(await peer.expect('JOIN')).toBe('JOIN #rust');
    peer.send('JOIN #rust alice');
    peer.send('ROOM #rust 2 :Rust talk');
    peer.send(chat('HIST', 'r1', 1, 'bob', '#rust', 'borrowck!'));
    expect(connection.pending.map((r) => r.command)).toEqual(['JOIN']);
    peer.send('ENDHIST #rust 1');
    expect(await probe.next('join', (e) => e.room === '#rust')).toEqual({ type: 'join', room: '#rust', name: 'alice', own: true });
    expect(await probe.next('room', (e) => e.room === '#rust')).toEqual({ type: 'room', room: '#rust', members: 2, topic: 'Rust talk' });
    const batch = await probe.next('history', (e) => e.target === '#rust');
    expect(batch.request).toEqual({ command: 'JOIN', text: '#rust', target: '#rust', tag: 'mine' });
    expect(batch.messages.map((m) => m.id)).toEqual(['r1']);
    expect(connection.pending).toEqual([]);
  });

  it('[ROOM-4] settles PART on its own LEAVE, and tells its own leave from someone else\'s', async () => {
    const { probe, peer, connection } = await join('alice');
    connection.part('#rust', 'bye now');
    expect(await peer.expect('PART')).toBe('PART #rust :bye now');
    peer.send('LEAVE #rust bob part');
    expect(await probe.next('leave')).toMatchObject({ name: 'bob', own: false });
    expect(connection.pending.map((r) => r.command)).toEqual(['PART']);
    peer.send('LEAVE #Rust ALICE part :bye now');
    expect(await probe.next('leave')).toEqual({ type: 'leave', room: '#Rust', name: 'ALICE', reason: 'part', text: 'bye now', own: true });
    expect(connection.pending).toEqual([]);
  });

  it('[ROOM-5] gathers the ROOM lines of a ROOMS reply into one event, apart from the ROOM line of a join', async () => {
    const { probe, peer, connection } = await join('alice');
    connection.rooms();
    await peer.expect('ROOMS');
    peer.send('ROOM #lobby 3 :Say hello');
    peer.send('ROOM #rust 0 :');
    peer.send('ENDROOMS 2');
    expect(await probe.next('rooms')).toEqual({
      type: 'rooms',
      rooms: [
        { room: '#lobby', members: 3, topic: 'Say hello' },
        { room: '#rust', members: 0, topic: '' },
      ],
    });
    expect(probe.all('room')).toHaveLength(1); // the lobby's, from the handshake
  });

  it('[ROOM-7] tells the answer to its TOPIC from a change someone else made', async () => {
    const { probe, peer, connection } = await join('alice');
    peer.send('TOPIC #lobby bob 1764236523001 :set by bob');
    expect(await probe.next('topic')).toMatchObject({ room: '#lobby', setter: 'bob', text: 'set by bob', request: undefined });
    connection.topic('#lobby');
    expect(await peer.expect('TOPIC')).toBe('TOPIC #lobby');
    peer.send('TOPIC #LOBBY bob 1764236523001 :set by bob');
    expect((await probe.next('topic')).request).toEqual({ command: 'TOPIC', text: '', target: '#lobby', tag: 'read' });
    connection.topic('#lobby', 'new topic');
    expect(await peer.expect('TOPIC')).toBe('TOPIC #lobby :new topic');
    peer.send('TOPIC #lobby alice 1764236523002 :new topic');
    expect((await probe.next('topic')).request).toMatchObject({ tag: 'set', text: 'new topic' });
    expect(connection.pending).toEqual([]);
  });

  it('[ROOM-7] [MSG-8] takes a TOPIC for the answer only in its place in the queue: a change that arrives before the earlier replies is a change', async () => {
    const { probe, peer, connection } = await join('alice');
    connection.say('#lobby', 'first');
    connection.topic('#lobby');
    connection.topic('#rust');
    await peer.expect('TOPIC #rust');
    // bob changes the lobby's topic before the server reads our lines: not our answer, since the SAY is not answered yet.
    peer.send('TOPIC #lobby bob 1764236523001 :changed by bob');
    expect(await probe.next('topic')).toMatchObject({ room: '#lobby', setter: 'bob', request: undefined });
    expect(connection.pending.map((r) => r.command)).toEqual(['SAY', 'TOPIC', 'TOPIC']);
    peer.send(chat('ECHO', 'e1', 1, 'alice', '#lobby', 'first'));
    // Now our read of #lobby is next; a change in #rust is not its answer, nor (being second) the #rust read's.
    peer.send('TOPIC #rust carol 1764236523002 :changed by carol');
    expect(await probe.next('topic')).toMatchObject({ room: '#rust', request: undefined });
    peer.send('TOPIC #Lobby bob 1764236523001 :changed by bob');
    expect(await probe.next('topic')).toMatchObject({ room: '#Lobby', request: { command: 'TOPIC', target: '#lobby', tag: 'read' } });
    peer.send('TOPIC #rust carol 1764236523002 :changed by carol');
    expect(await probe.next('topic')).toMatchObject({ room: '#rust', request: { command: 'TOPIC', target: '#rust', tag: 'read' } });
    expect(connection.pending).toEqual([]);
    // With nothing asked, every TOPIC is a change.
    peer.send('TOPIC #lobby dave 1764236523003 :again');
    expect(await probe.next('topic')).toMatchObject({ setter: 'dave', request: undefined });
  });

  it('[HIST-2] [HIST-3] sends HISTORY with its selector and reports the batch with the request and its tag', async () => {
    const { probe, peer, connection } = await join('alice');
    connection.history('bob', { kind: 'latest', limit: 20 }, 'user');
    connection.history('#lobby', { kind: 'after', ref: { by: 'id', id: 'x9' }, limit: 500 }, 'catch-up');
    expect(await peer.expect('HISTORY')).toBe('HISTORY bob LATEST 20');
    expect(await peer.expect('HISTORY')).toBe('HISTORY #lobby AFTER id=x9 500');
    peer.send(chat('HIST', 'p1', 1, 'bob', 'alice', 'one'));
    peer.send(chat('HIST', 'p2', 2, 'alice', 'bob', 'two'));
    peer.send('ENDHIST bob 2');
    peer.send('ENDHIST #lobby 0');
    const first = await probe.next('history');
    expect(first).toMatchObject({ target: 'bob', request: { command: 'HISTORY', target: 'bob', tag: 'user' } });
    expect(first.messages.map((m) => m.text)).toEqual(['one', 'two']);
    expect(await probe.next('history')).toMatchObject({ target: '#lobby', messages: [], request: { tag: 'catch-up' } });
    expect(connection.pending).toEqual([]);
  });

  it('[HIST-3] does not take HIST lines for messages: they come only in their batch', async () => {
    const { probe, peer } = await join('alice');
    peer.send(chat('HIST', 'h1', 1, 'bob', '#lobby', 'old'));
    peer.send('PING barrier');
    await peer.expect('PONG barrier');
    expect(probe.all('message')).toEqual([]);
    expect(probe.all('history')).toHaveLength(1); // the lobby's, from the handshake
  });

  it('[ERR-2] an ERR answers the oldest request, whichever command it was', async () => {
    const { probe, peer, connection } = await join('alice');
    connection.join('#bad', 'mine');
    connection.history('#nope', { kind: 'latest', limit: 5 }, 'user');
    await peer.expect('HISTORY');
    peer.send('ERR BAD_ROOM JOIN :Invalid room name');
    peer.send('ERR NOT_IN_ROOM HISTORY :You are not in that room');
    expect((await probe.next('error')).request).toMatchObject({ command: 'JOIN', target: '#bad', tag: 'mine' });
    expect((await probe.next('error')).request).toMatchObject({ command: 'HISTORY', target: '#nope' });
  });
});

describe('ChatConnection ending [CLIENT-3] [QUIT-1]', () => {
  it('[CLIENT-3] notices at once when the server closes, without sending anything', async () => {
    const { probe, peer } = await join();
    const sentBefore = peer.received.length;
    peer.socket.end();
    expect(await probe.next('closed')).toEqual({ type: 'closed', cause: 'eof', reason: '' });
    expect(peer.received.length).toBe(sentBefore);
  });

  it('[CLIENT-3] notices a reset and says so', async () => {
    const { probe, peer } = await join();
    peer.socket.resetAndDestroy();
    expect(await probe.next('closed')).toEqual({ type: 'closed', cause: 'error', reason: 'connection reset by the server' });
  });

  it('[SHUT-1] reports SHUTDOWN, then the close', async () => {
    const { probe, peer } = await join();
    peer.send('SHUTDOWN :Server is going down');
    peer.socket.end();
    expect(await probe.next('shutdown')).toEqual({ type: 'shutdown', text: 'Server is going down' });
    expect((await probe.next('closed')).cause).toBe('eof');
  });

  it('[QUIT-1] quit sends QUIT, waits for BYE and the close, and counts as a quit', async () => {
    const { probe, peer, connection } = await join();
    const done = connection.quit('see you');
    expect(await peer.expect('QUIT')).toBe('QUIT :see you');
    peer.send('BYE :see you');
    await done;
    expect((await probe.next('closed')).cause).toBe('quit');
    await peer.closed;
  });

  it('quit does not wait for ever when the server never says BYE', async () => {
    const { probe, peer, connection } = await join('alice', [], { quitTimeoutMs: 100 });
    await Promise.all([connection.quit(''), peer.expect('QUIT')]);
    expect((await probe.next('closed')).cause).toBe('quit');
  });

  it('can be closed before or while connecting without hanging', async () => {
    const never = new ChatConnection({ host: server.host, port: server.port });
    await never.close();
    expect(never.isClosed).toBe(true);
    const cancelled = new ChatConnection({ host: server.host, port: server.port });
    const opening = cancelled.open().then(
      () => 'opened',
      (error: unknown) => (error instanceof ConnectError ? 'rejected' : 'other'),
    );
    await cancelled.quit();
    expect(await opening).toBe('rejected');
  });

  it('settled() resolves when the connection closes with requests unanswered', async () => {
    const { peer, connection } = await join();
    connection.say(undefined, 'lost in transit');
    await peer.expect('SAY');
    const settled = connection.settled();
    peer.destroy();
    await settled;
    expect(connection.isClosed).toBe(true);
  });
});
