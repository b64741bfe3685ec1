/**
 * The client connection against a scripted server: every byte the "server"
 * sends is chosen here, and every wait is on a line or an event.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { ChatConnection, type ConnectionOptions } from '../../../src/client/connection.ts';
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

/** Runs the handshake by hand: greeting, HELLO, WELCOME, WHO. */
async function join(
  name = 'alice',
  others: string[] = ['bob'],
  options: Partial<ConnectionOptions> = {},
): Promise<{ probe: Probe; peer: FakePeer; connection: ChatConnection }> {
  const { probe, peer } = await open({ name, ...options });
  peer.greet();
  expect(await peer.expect('HELLO')).toBe(`HELLO 1 ${name}`);
  peer.send(`WELCOME ${name} :Hello ${name}`);
  expect(await peer.expect('WHO')).toBe('WHO');
  for (const user of [...others, name].sort()) peer.send(`USER ${user}`);
  peer.send(`ENDWHO ${others.length + 1}`);
  await probe.next('ready');
  return { probe, peer, connection: probe.connection };
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
    });
  });

  it('[SESSION-2] ignores greeting keys it does not know, however they are written', async () => {
    const { probe, peer } = await open({ name: 'alice' });
    peer.greet('FUTURE=yes LINE=96 X == =1 NAMELEN=24 READCAP=16384 TLS');
    expect(await peer.expect('HELLO')).toBe('HELLO 1 alice');
    peer.behave();
    peer.send('WELCOME alice :hi');
    await probe.next('ready');
    // LINE was still read among the unknown keys: 96 bytes per SAY line.
    const pieces = probe.connection.say('x'.repeat(200));
    expect(pieces).toBe(3);
  });

  it('sends HELLO 1 without a name when none is given, and marks the name as server-chosen', async () => {
    const { probe, peer } = await open();
    peer.greet('LINE=2048 READCAP=16384 NAMELEN=24 FUTURE=yes');
    expect(await peer.expect('HELLO')).toBe('HELLO 1');
    peer.send('WELCOME guest-4821 :Hello');
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
      peer.send('WELCOME guest-1234 :Hello');
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
    peer.send('WELCOME alice :hi');
    await peer.expect('WHO');
    peer.send('ENDWHO 1');
    peer.send('PING later_2');
    expect(await peer.expect('PONG')).toBe('PONG later_2');
  });

  it('[MSG-3] [MSG-8] matches ECHO and ERR to the SAYs in the order they were sent, and settles after the last', async () => {
    const { probe, peer, connection } = await join();
    const order: string[] = [];
    connection.say('first');
    connection.say('second');
    connection.nick('bob');
    connection.say('third');
    expect(connection.pending.map((r) => r.command)).toEqual(['SAY', 'SAY', 'NICK', 'SAY']);
    void connection.settled().then(() => order.push('settled'));
    expect(await peer.expect('SAY')).toBe('SAY first');
    expect(await peer.expect('SAY')).toBe('SAY second');
    expect(await peer.expect('NICK')).toBe('NICK bob');
    expect(await peer.expect('SAY')).toBe('SAY third');

    peer.send('ERR BAD_CHAR SAY :Forbidden character');
    const rejected = await probe.next('error');
    expect(rejected.request).toEqual({ command: 'SAY', text: 'first' });
    order.push('err-first');
    peer.send('ECHO m1 1 1764236523001 alice :second');
    expect((await probe.next('message')).message.text).toBe('second');
    order.push('echo-second');
    peer.send('ERR NAME_IN_USE NICK :The name bob is in use');
    expect((await probe.next('error', (e) => e.code === 'NAME_IN_USE')).request).toEqual({ command: 'NICK', text: 'bob' });
    order.push('err-nick');
    expect(connection.pending.map((r) => r.command)).toEqual(['SAY']);
    peer.send('ECHO m2 2 1764236523002 alice :third');
    await connection.settled();
    expect(order).toEqual(['err-first', 'echo-second', 'err-nick', 'settled']);
    expect(connection.pending).toEqual([]);
  });

  it('[ERR-2] [ERR-4] does not blame a pending SAY for a fatal, connection-level ERR', async () => {
    const { probe, peer, connection } = await join();
    connection.say('innocent');
    await peer.expect('SAY innocent');
    peer.send('ERR SLOW_CONSUMER * :Too much output is waiting to be read');
    expect(await probe.next('error')).toMatchObject({ code: 'SLOW_CONSUMER', request: undefined });
    expect(connection.pending).toEqual([{ command: 'SAY', text: 'innocent' }]);
    peer.send('ERR SOMETHING_NEW SAY :from a newer server');
    expect(await probe.next('error', (e) => e.code === 'SOMETHING_NEW')).toMatchObject({ request: { command: 'SAY', text: 'innocent' } });
  });

  it('[MSG-2] reports messages from others, joins, leaves and renames, including its own', async () => {
    const { probe, peer, connection } = await join('alice');
    peer.send('MSG m9 9 1764236523009 bob :hello alice');
    expect(await probe.next('message')).toMatchObject({ own: false, message: { from: 'bob', text: 'hello alice', seq: 9 } });
    peer.send('JOIN carol');
    expect(await probe.next('join')).toEqual({ type: 'join', name: 'carol' });
    peer.send('LEAVE carol quit :see you');
    expect(await probe.next('leave')).toEqual({ type: 'leave', name: 'carol', reason: 'quit', text: 'see you' });
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
    for (const line of [
      'ERR BAD_PARAMS SAY :Wrong parameters',
      'ERR UNKNOWN_COMMAND * :huh',
      'MSG m1 1 1 bob :are you a bot? reply!',
      'JOIN carol',
      'LEAVE carol lost :Connection closed',
      'NICK bob robert',
      'USER zed',
      'ENDWHO 1',
      'PONG unasked',
      'WELCOME alice :again',
      'LINECHAT 1 again LINE=2048 READCAP=16384 NAMELEN=24 :hello again',
      'BOGUS line',
    ]) {
      peer.send(line);
    }
    peer.send('PING barrier');
    await peer.expect('PONG barrier');
    expect(peer.received.slice(before)).toEqual(['PONG barrier']);
    expect(probe.events.filter((e) => e.type === 'message' || e.type === 'join' || e.type === 'leave')).toHaveLength(3);
  });

  it('[PRES-3] reports a WHO list', async () => {
    const { probe, peer, connection } = await join('alice');
    connection.who();
    await peer.expect('WHO');
    peer.send('USER alice');
    peer.send('USER zed');
    peer.send('ENDWHO 2');
    expect(await probe.next('who')).toEqual({ type: 'who', users: ['alice', 'zed'] });
  });

  it('[LIMIT-5] splits a message longer than the announced LINE into several SAYs at grapheme boundaries', async () => {
    const { probe, peer } = await open({ name: 'alice' });
    const connection = probe.connection;
    peer.behave();
    peer.greet('LINE=64 READCAP=128 NAMELEN=24');
    await probe.next('ready');
    const text = 'Grüße 👩‍👩‍👧 '.repeat(12);
    expect(connection.say(text)).toBeGreaterThan(1);
    await connection.settled();
    const says = peer.received.filter((l) => l.startsWith('SAY '));
    expect(says.length).toBeGreaterThan(1);
    for (const line of says) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(64);
    expect(says.map((l) => l.replace(/^SAY :?/, '')).join('')).toBe(text);
  });

  it('[CLIENT-1] keeps lines with control characters or bad UTF-8 (to be shown neutralised) and ignores unknown commands [ERR-4]', async () => {
    const { probe, peer } = await join('alice');
    peer.send('FROBNICATE x y');
    peer.write(Buffer.concat([Buffer.from('MSG m1 1 1 ev\u001bil :a\u001b[2J\u009b'), Buffer.from([0xff, 0x0a])]));
    const event = await probe.next('message');
    expect(event.message.from).toBe('ev\u001bil');
    expect(event.message.text).toBe('a\u001b[2J\u009b\uFFFD');
    expect(probe.events.filter((e) => e.type === 'warning' || e.type === 'error')).toEqual([]);
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
    connection.say('lost in transit');
    await peer.expect('SAY');
    const settled = connection.settled();
    peer.destroy();
    await settled;
    expect(connection.isClosed).toBe(true);
  });
});
