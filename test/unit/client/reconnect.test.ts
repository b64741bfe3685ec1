/**
 * The reconnecting supervisor against a scripted server. Every backoff timer
 * runs through a ManualScheduler, fired by the test, and jitter comes from
 * an injected random value, so nothing here sleeps; every other wait is on
 * an event or a received line.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DEFAULT_BACKOFF, backoffDelay } from '../../../src/client/backoff.ts';
import { ConnectError, type Outgoing, type SessionEvent } from '../../../src/client/events.ts';
import { Outbox } from '../../../src/client/outbox.ts';
import { ChatSupervisor, type SupervisorOptions } from '../../../src/client/reconnect.ts';
import { EventProbe, FakeServer, ManualScheduler, type FakePeer } from './fake-server.ts';

describe('backoffDelay [CLIENT-6]', () => {
  const ceiling = () => 1;

  it('grows by the factor from the base, then stays at the cap', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffDelay(n, DEFAULT_BACKOFF, ceiling));
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 15000, 15000, 15000]);
  });

  it('stays at the cap however many attempts fail, without overflowing', () => {
    for (const attempt of [50, 1100, 1e6, Number.MAX_SAFE_INTEGER]) {
      expect(backoffDelay(attempt, DEFAULT_BACKOFF, ceiling)).toBe(15000);
    }
  });

  it('uses full jitter: the random value scales the whole ceiling', () => {
    expect(backoffDelay(1, DEFAULT_BACKOFF, () => 0)).toBe(0);
    expect(backoffDelay(3, DEFAULT_BACKOFF, () => 0.5)).toBe(1000);
    expect(backoffDelay(9, DEFAULT_BACKOFF, () => 0.25)).toBe(3750);
  });

  it('stays within [0, min(cap, base × factor^(n−1))] for any attempt and random value', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, r) => {
        const delay = backoffDelay(attempt, DEFAULT_BACKOFF, () => r);
        const top = Math.min(15000, 500 * 2 ** (attempt - 1));
        return Number.isInteger(delay) && delay >= 0 && delay < Math.max(top, 1);
      }),
    );
  });

  it('cannot be pushed out of range by a broken random source', () => {
    expect(backoffDelay(2, DEFAULT_BACKOFF, () => 7)).toBe(1000);
    expect(backoffDelay(2, DEFAULT_BACKOFF, () => -1)).toBe(0);
    expect(backoffDelay(2, DEFAULT_BACKOFF, () => NaN)).toBe(0);
  });
});

/** A message typed by the user; the lobby unless a target (undefined included) is given. */
function text(t: string, ...rest: [target?: string | undefined, kind?: 'say' | 'me']): Outgoing {
  const target = rest.length === 0 ? '#lobby' : rest[0];
  return { target, kind: rest[1] ?? 'say', text: t };
}

describe('Outbox [CLIENT-8]', () => {
  it('keeps messages in order, each with its target and kind, up to a number of lines, and refuses the next', () => {
    const outbox = new Outbox({ lines: 2, bytes: 1000 });
    expect(outbox.add(text('a', '#rust'))).toBeUndefined();
    expect(outbox.add(text('b', 'bob', 'me'))).toBeUndefined();
    expect(outbox.add(text('c'))).toBe('lines');
    expect(outbox.take()).toEqual([text('a', '#rust'), text('b', 'bob', 'me')]);
    expect(outbox.size).toBe(0);
    expect(outbox.add(text('c'))).toBeUndefined();
  });

  it('counts UTF-8 bytes of the text, accepting exactly the limit', () => {
    const outbox = new Outbox({ lines: 100, bytes: 10 });
    expect(outbox.add(text('ééé'))).toBeUndefined(); // 6 bytes
    expect(outbox.add(text('12345'))).toBe('bytes');
    expect(outbox.add(text('1234', '#a-long-room-name'))).toBeUndefined();
    expect(outbox.add(text('x'))).toBe('bytes');
    outbox.take();
    expect(outbox.add(text('x'.repeat(11)))).toBe('bytes');
  });
});

type Probe = EventProbe<SessionEvent>;

let server: FakeServer;
const servers: FakeServer[] = [];
const supervisors: ChatSupervisor[] = [];

beforeEach(async () => {
  server = await FakeServer.start();
  servers.push(server);
});

afterEach(async () => {
  for (const supervisor of supervisors.splice(0)) supervisor.close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

interface Session {
  readonly supervisor: ChatSupervisor;
  readonly probe: Probe;
  readonly scheduler: ManualScheduler;
  readonly peer: FakePeer;
  /** The value the next jitter draw returns. */
  random: number;
}

/** A supervisor registered as alice with a well-behaved scripted server. */
async function joined(options: Partial<SupervisorOptions> = {}): Promise<Session> {
  const scheduler = new ManualScheduler();
  const session = { random: 0.5 } as { -readonly [K in keyof Session]: Session[K] };
  const supervisor = new ChatSupervisor(
    { host: server.host, port: server.port, name: 'alice', quitTimeoutMs: 1_000, ...options },
    { scheduler, random: () => session.random },
  );
  supervisors.push(supervisor);
  const probe = new EventProbe<SessionEvent>(supervisor);
  await supervisor.start();
  const peer = await server.accept();
  peer.behave(['bob']);
  peer.greet();
  await probe.next('ready');
  return Object.assign(session, { supervisor, probe, scheduler, peer });
}

/** Fires the pending backoff timer and answers the new connection like a good server. */
async function reconnect(session: Session, users: string[] = ['bob']): Promise<FakePeer> {
  session.scheduler.fire();
  const peer = await server.accept();
  peer.behave(users);
  peer.greet();
  await session.probe.next('reconnected');
  return peer;
}

/** Stops the fake server so attempts are refused; `restart` listens on the same port again. */
async function serverDown(): Promise<{ restart: () => Promise<void> }> {
  const port = server.port;
  await server.close();
  return {
    restart: async () => {
      server = await FakeServer.start(port);
      servers.push(server);
    },
  };
}

describe('ChatSupervisor reconnects [CLIENT-6] [CLIENT-7]', () => {
  it('[CLIENT-6] [CLIENT-7] says so when the server closes, waits a jittered delay, reconnects and takes its name back', async () => {
    const session = await joined();
    const { probe, scheduler } = session;
    session.peer.socket.end();
    expect(await probe.next('disconnected')).toEqual({ type: 'disconnected', cause: 'eof', reason: '' });
    expect(await probe.next('reconnecting')).toEqual({ type: 'reconnecting', attempt: 1, delayMs: 250 });
    // Nothing happens until the timer fires.
    expect(scheduler.delays).toEqual([250]);
    expect(server.peers).toHaveLength(1);

    const peer = await reconnect(session);
    // [NAME-5]: the key of the last WELCOME comes back with the name.
    expect(peer.received.slice(0, 2)).toEqual(['HELLO 1 alice key-alice', 'WHO']);
    // The lobby is joined by the server; no other room to join again.
    expect(probe.all('reconnected')).toEqual([{ type: 'reconnected', name: 'alice', wanted: 'alice', users: ['alice', 'bob'], rooms: [] }]);
    expect(probe.all('ready')).toHaveLength(1);
    expect(session.supervisor.isReady).toBe(true);
    expect(scheduler.delays).toEqual([]);
  });

  it('[CLIENT-6] backs off exponentially with full jitter while refused, up to the cap, and starts from the base again once back', async () => {
    const session = await joined();
    const { probe, scheduler } = session;
    session.random = 0.75;
    const down = await serverDown();
    await probe.next('disconnected');
    const delays = [(await probe.next('reconnecting')).delayMs];
    for (let attempt = 1; attempt <= 7; attempt++) {
      scheduler.fire();
      expect(await probe.next('attempt-failed')).toEqual({ type: 'attempt-failed', attempt, reason: 'connection refused' });
      const next = await probe.next('reconnecting');
      expect(next.attempt).toBe(attempt + 1);
      delays.push(next.delayMs);
    }
    expect(delays).toEqual([375, 750, 1500, 3000, 6000, 11250, 11250, 11250]);

    await down.restart();
    const peer = await reconnect(session);
    expect(peer.received[0]).toBe('HELLO 1 alice key-alice');
    peer.socket.end();
    expect(await probe.next('reconnecting')).toMatchObject({ attempt: 1, delayMs: 375 });
  });

  it('[CLIENT-6] treats SHUTDOWN like any drop: reports it, then reconnects', async () => {
    const session = await joined();
    session.peer.send('SHUTDOWN :Server stopping (SIGTERM)');
    session.peer.socket.end();
    expect(await session.probe.next('shutdown')).toEqual({ type: 'shutdown', text: 'Server stopping (SIGTERM)' });
    expect(await session.probe.next('disconnected')).toMatchObject({ cause: 'eof' });
    await session.probe.next('reconnecting');
    await reconnect(session);
  });

  it('[CLIENT-6] counts an attempt whose handshake fails as failed, with the reason, and tries again', async () => {
    const session = await joined();
    const { probe, scheduler } = session;
    const mute = await dropAndAccept(session);
    mute.socket.end();
    expect(await probe.next('attempt-failed')).toEqual({ type: 'attempt-failed', attempt: 1, reason: 'the server closed the connection' });
    await probe.next('reconnecting', (e) => e.attempt === 2);
    scheduler.fire();
    const future = await server.accept();
    future.send('LINECHAT 2 future LINE=2048 READCAP=16384 NAMELEN=24 :hi');
    expect((await probe.next('attempt-failed', (e) => e.attempt === 2)).reason).toContain('version 2');
    await probe.next('reconnecting', (e) => e.attempt === 3);
    scheduler.fire();
    const full = await server.accept();
    full.send('ERR TOO_MANY_CONNECTIONS * :The server is full (2 connections)');
    full.socket.end();
    expect(await probe.next('attempt-failed', (e) => e.attempt === 3)).toMatchObject({
      reason: 'The server is full (2 connections) (TOO_MANY_CONNECTIONS)',
    });
    expect(probe.all('error')).toEqual([]);
    await probe.next('reconnecting', (e) => e.attempt === 4);
    await reconnect(session);
  });

  it('[CLIENT-7] falls back to a server-chosen name when its name was taken meanwhile, and reports both names', async () => {
    const session = await joined();
    const { probe } = session;
    const peer = await dropAndAccept(session);
    peer.greet();
    await peer.expect('HELLO 1 alice');
    peer.send('ERR NAME_IN_USE HELLO :The name alice is in use');
    expect(await peer.expect('HELLO')).toBe('HELLO 1');
    peer.send('WELCOME guest-77 key-guest-77 :Hello');
    await peer.expect('WHO');
    peer.send('USER alice 0');
    peer.send('USER guest-77 0');
    peer.send('ENDWHO 2');
    expect(await probe.next('name-rejected')).toMatchObject({ name: 'alice', code: 'NAME_IN_USE' });
    // This server did not join us to the lobby by itself, so the client does.
    expect(await probe.next('reconnected')).toEqual({ type: 'reconnected', name: 'guest-77', wanted: 'alice', users: ['alice', 'guest-77'], rooms: ['#lobby'] });
    expect(await peer.expect('JOIN')).toBe('JOIN #lobby');
  });

  it('[CLIENT-7] takes back the name it had last, after a rename', async () => {
    const session = await joined();
    expect(session.supervisor.nick('Alicia')).toBe('sent');
    await session.peer.expect('NICK Alicia');
    session.peer.send('NICK alice Alicia');
    await session.probe.next('nick');
    const peer = await dropAndAccept(session);
    peer.greet();
    // The key belongs to the client, not to one name ([NAME-5]).
    expect(await peer.expect('HELLO')).toBe('HELLO 1 Alicia key-alice');
  });

  it('with reconnect off, a drop ends the session as before', async () => {
    const session = await joined({ reconnect: false });
    session.peer.socket.end();
    expect(await session.probe.next('disconnected')).toMatchObject({ cause: 'eof' });
    expect(await session.probe.next('ended')).toEqual({ type: 'ended', left: false, undelivered: 0 });
    expect(session.probe.all('reconnecting')).toEqual([]);
    expect(session.scheduler.delays).toEqual([]);
  });

  it('never retries a first connection that fails', async () => {
    const { port } = server;
    await server.close();
    const scheduler = new ManualScheduler();
    const supervisor = new ChatSupervisor({ host: '127.0.0.1', port, name: 'alice' }, { scheduler });
    await expect(supervisor.start()).rejects.toBeInstanceOf(ConnectError);
    expect(scheduler.delays).toEqual([]);
    expect(supervisor.isEnded).toBe(true);
  });
});

describe('ChatSupervisor leaving [CLIENT-6]', () => {
  it('[CLIENT-6] [QUIT-1] never reconnects after the user quits', async () => {
    const session = await joined();
    session.supervisor.quit('bye');
    expect(await session.peer.expect('QUIT')).toBe('QUIT bye');
    expect(await session.probe.next('ended')).toEqual({ type: 'ended', left: true, undelivered: 0 });
    expect(session.probe.all('disconnected')).toEqual([]);
    expect(session.probe.all('reconnecting')).toEqual([]);
    expect(session.scheduler.delays).toEqual([]);
    expect(server.peers).toHaveLength(1);
  });

  it('[CLIENT-6] [CLIENT-8] a quit while waiting to reconnect cancels the attempt and names the queued messages it drops', async () => {
    const session = await joined();
    session.peer.destroy();
    await session.probe.next('reconnecting');
    session.supervisor.say('#lobby', 'never sent');
    session.supervisor.quit();
    expect(await session.probe.next('unsent')).toEqual({ type: 'unsent', messages: [text('never sent')] });
    expect(await session.probe.next('ended')).toEqual({ type: 'ended', left: true, undelivered: 1 });
    expect(session.scheduler.delays).toEqual([]);
    expect(server.peers).toHaveLength(1);
  });

  it('[CLIENT-6] a quit during a reconnect attempt ends it and does not reconnect', async () => {
    const session = await joined();
    const peer = await dropAndAccept(session);
    peer.behave();
    session.supervisor.quit();
    await session.probe.next('ended');
    expect(session.probe.all('reconnected')).toEqual([]);
    expect(session.scheduler.delays).toEqual([]);
  });
});

describe('ChatSupervisor messages across a drop [CLIENT-8] [CLIENT-9]', () => {
  it('[CLIENT-8] queues what is typed while disconnected, refuses past the bound, then sends the queue in order once back', async () => {
    const session = await joined({ queueLimits: { lines: 3, bytes: 1024 } });
    const { supervisor, probe } = session;
    session.peer.destroy();
    await probe.next('reconnecting');
    supervisor.say(undefined, 'one');
    supervisor.say(undefined, 'two');
    supervisor.say(undefined, 'three');
    expect(probe.all('queued').map((e) => e.count)).toEqual([1, 2, 3]);
    supervisor.say(undefined, 'four');
    expect(probe.all('refused')).toEqual([{ type: 'refused', message: text('four', undefined), limit: 'lines', max: 3 }]);
    expect(supervisor.nick('bob')).toBe('offline');
    expect(supervisor.who()).toBe(false);

    const peer = await reconnect(session);
    expect(await probe.next('flushed')).toEqual({ type: 'flushed', count: 3 });
    await probe.next('message', (e) => e.message.text === 'three');
    expect(peer.received).toEqual(['HELLO 1 alice key-alice', 'WHO', 'SAY one', 'SAY two', 'SAY three']);
    expect(probe.all('message').map((e) => e.message.text)).toEqual(['one', 'two', 'three']);
    expect(supervisor.queued).toBe(0);
    supervisor.quit();
    // The refused one counts as not delivered.
    expect(await probe.next('ended')).toEqual({ type: 'ended', left: true, undelivered: 1 });
  });

  it('[CLIENT-8] refuses a message that would take the queue past its byte bound, and keeps the later ones that fit', async () => {
    const session = await joined({ queueLimits: { lines: 100, bytes: 8 } });
    session.peer.destroy();
    await session.probe.next('reconnecting');
    session.supervisor.say('#lobby', '12345');
    session.supervisor.say('#lobby', '123456');
    session.supervisor.say('#lobby', '678');
    expect(session.probe.all('refused')).toEqual([{ type: 'refused', message: text('123456'), limit: 'bytes', max: 8 }]);
    expect(session.probe.all('queued').map((e) => e.count)).toEqual([1, 2]);
  });

  it('[CLIENT-9] reports the SAYs that had no ECHO when the connection dropped, and does not resend them', async () => {
    const session = await joined();
    const { supervisor, probe } = session;
    // Answer by hand from here on: ECHO only the first.
    const scripted = await freshScriptedPeer(session);
    supervisor.say('#lobby', 'confirmed');
    supervisor.me('#lobby', 'in doubt');
    supervisor.say('bob', 'also in doubt');
    await scripted.expect('SAY bob :also in doubt');
    scripted.send('ECHO m1 1 1764236523001 alice #lobby say :confirmed');
    await probe.next('message');
    scripted.destroy();
    expect(await probe.next('disconnected')).toMatchObject({ cause: expect.stringMatching(/^(eof|error)$/) });
    expect(await probe.next('unconfirmed')).toEqual({ type: 'unconfirmed', messages: [text('in doubt', '#lobby', 'me'), text('also in doubt', 'bob')] });
    const events = probe.events.map((e) => e.type);
    expect(events.lastIndexOf('unconfirmed')).toBeLessThan(events.lastIndexOf('reconnecting'));

    const peer = await reconnect(session);
    supervisor.say(undefined, 'after');
    await peer.expect('SAY after');
    expect(peer.received.filter((l) => l.startsWith('SAY'))).toEqual(['SAY after']);
    supervisor.quit();
    expect(await probe.next('ended')).toEqual({ type: 'ended', left: true, undelivered: 2 });
  });
});

/** A MSG or HIST line at a time that grows with `t`. */
function chat(command: 'MSG' | 'HIST', id: string, seq: number, from: string, to: string, t: number): string {
  return `${command} ${id} ${seq} ${1764236523000 + t} ${from} ${to} say :text of ${id}`;
}

describe('ChatSupervisor catches up after a reconnect [HIST-6] [CLIENT-11]', () => {
  /** Alice saw l1 in #lobby, r1 in #rust and p1 from bob privately, then the connection dropped. */
  async function sawThenDropped(): Promise<{ session: Session; peer: FakePeer; shownBefore: number }> {
    const session = await joined();
    const { supervisor, probe, peer: first } = session;
    first.send(chat('MSG', 'l1', 1, 'bob', '#lobby', 1));
    expect(supervisor.join('#rust')).toBe(true);
    await probe.next('room', (e) => e.room === '#rust');
    first.send(chat('MSG', 'r1', 1, 'bob', '#rust', 2));
    first.send(chat('MSG', 'p1', 1, 'bob', 'alice', 3));
    await probe.next('message', (e) => e.message.id === 'p1');
    expect(supervisor.rooms).toEqual(['#lobby', '#rust']);
    const shownBefore = probe.all('message').length;
    const peer = await dropAndAccept(session);
    return { session, peer, shownBefore };
  }

  it('[HIST-4] [HIST-6] rejoins its rooms, asks for what came after the last id of each and then for private messages, and shows every missed message once, in order', async () => {
    const { session, peer, shownBefore } = await sawThenDropped();
    const { probe, supervisor } = session;
    // The lobby's replay holds l1 (seen) and l2 (missed).
    await registerByHand(peer, 'alice', [chat('HIST', 'l1', 1, 'bob', '#lobby', 1), chat('HIST', 'l2', 2, 'bob', '#lobby', 4)]);
    expect(await probe.next('reconnected')).toMatchObject({ rooms: ['#rust'] });
    expect(await peer.expect('JOIN')).toBe('JOIN #rust');
    expect(await peer.expect('HISTORY')).toBe('HISTORY #lobby AFTER id=l1 500');
    peer.send('JOIN #rust alice');
    peer.send('ROOM #rust 2 :');
    peer.send(chat('HIST', 'r1', 1, 'bob', '#rust', 2));
    peer.send(chat('HIST', 'r2', 2, 'bob', '#rust', 5));
    peer.send('ENDHIST #rust 2');
    peer.send(chat('HIST', 'l2', 2, 'bob', '#lobby', 4));
    peer.send(chat('HIST', 'l3', 3, 'carol', '#lobby', 6));
    peer.send('ENDHIST #lobby 2');
    expect(await peer.expect('HISTORY')).toBe('HISTORY #rust AFTER id=r1 500');
    peer.send(chat('HIST', 'r2', 2, 'bob', '#rust', 5));
    peer.send('ENDHIST #rust 1');
    expect(await peer.expect('HISTORY')).toBe('HISTORY * AFTER id=p1 500');
    for (const line of [chat('HIST', 'l2', 2, 'bob', '#lobby', 4), chat('HIST', 'r2', 2, 'bob', '#rust', 5), chat('HIST', 'p2', 2, 'bob', 'alice', 7)]) peer.send(line);
    peer.send('ENDHIST * 3');
    await probe.next('message', (e) => e.message.id === 'p2');

    const after = probe.all('message').slice(shownBefore);
    expect(after.map((e) => `${e.origin}:${e.message.id}`)).toEqual(['missed:l2', 'missed:l3', 'missed:r2', 'missed:p2']);
    expect(probe.all('batch').map((e) => `${e.target}:${e.count}`)).toEqual(['#lobby:2', '#rust:1', '*:1']);
    expect(supervisor.rooms).toEqual(['#lobby', '#rust']);
  });

  it('[HIST-6] [CLIENT-11] a private message that arrives during HISTORY * is shown after the older ones it missed, once', async () => {
    const { session, peer, shownBefore } = await sawThenDropped();
    const { probe } = session;
    await registerByHand(peer);
    await peer.expect('JOIN #rust');
    expect(await peer.expect('HISTORY')).toBe('HISTORY #lobby AFTER id=l1 500');
    // One arrives while the rooms still catch up, before `*` is asked.
    peer.send(chat('MSG', 'p4', 4, 'bob', 'alice', 9));
    peer.send('JOIN #rust alice');
    peer.send('ENDHIST #rust 0');
    peer.send('ENDHIST #lobby 0');
    expect(await peer.expect('HISTORY')).toBe('HISTORY #rust AFTER id=r1 500');
    peer.send('ENDHIST #rust 0');
    expect(await peer.expect('HISTORY')).toBe('HISTORY * AFTER id=p1 500');
    // Another while `*` is in flight (the server accepted it after the page).
    peer.send(chat('MSG', 'p5', 5, 'bob', 'alice', 10));
    peer.send('PING barrier');
    await peer.expect('PONG barrier');
    expect(probe.all('message').slice(shownBefore)).toEqual([]);
    for (const line of [chat('HIST', 'p2', 2, 'bob', 'alice', 7), chat('HIST', 'p3', 3, 'carol', 'alice', 8), chat('HIST', 'p4', 4, 'bob', 'alice', 9)]) peer.send(line);
    peer.send('ENDHIST * 3');
    await probe.next('message', (e) => e.message.id === 'p5');
    const after = probe.all('message').slice(shownBefore);
    expect(after.map((e) => `${e.origin}:${e.message.id}`)).toEqual(['missed:p2', 'missed:p3', 'live:p4', 'live:p5']);
    expect(probe.all('batch').at(-1)).toEqual({ type: 'batch', target: '*', origin: 'missed', count: 2, more: false });
    // Once caught up, private messages show at once again.
    peer.send(chat('MSG', 'p6', 6, 'bob', 'alice', 11));
    expect(await probe.next('message', (e) => e.message.id === 'p6')).toMatchObject({ origin: 'live' });
  });

  it('[HIST-2] pages while a page comes back full, from the last id of the page', async () => {
    const session = await joined();
    session.peer.send(chat('MSG', 'a0', 1, 'bob', '#lobby', 1));
    await session.probe.next('message');
    const peer = await dropAndAccept(session);
    peer.greet('LINE=2048 READCAP=16384 NAMELEN=24 HISTLIMIT=2 LOBBY=#lobby');
    await peer.expect('HELLO');
    peer.send('WELCOME alice key-alice :hi');
    peer.send('JOIN #lobby alice');
    peer.send('ENDHIST #lobby 0');
    await peer.expect('WHO');
    peer.send('ENDWHO 0');
    expect(await peer.expect('HISTORY')).toBe('HISTORY #lobby AFTER id=a0 2');
    peer.send(chat('HIST', 'a1', 2, 'bob', '#lobby', 2));
    peer.send(chat('HIST', 'a2', 3, 'bob', '#lobby', 3));
    peer.send('ENDHIST #lobby 2');
    expect(await peer.expect('HISTORY')).toBe('HISTORY #lobby AFTER id=a2 2');
    peer.send(chat('HIST', 'a3', 4, 'bob', '#lobby', 4));
    peer.send('ENDHIST #lobby 1');
    expect(await peer.expect('HISTORY')).toBe('HISTORY * AFTER id=a0 2');
    peer.send('ENDHIST * 0');
    await session.probe.next('message', (e) => e.message.id === 'a3');
    expect(session.probe.all('message').map((e) => e.message.id)).toEqual(['a0', 'a1', 'a2', 'a3']);
  });

  it('[HIST-2] UNKNOWN_MESSAGE (a server restarted without its history) falls back to the latest messages, and says so', async () => {
    const { session, peer } = await sawThenDropped();
    const { probe } = session;
    await registerByHand(peer);
    await peer.expect('JOIN #rust');
    expect(await peer.expect('HISTORY')).toBe('HISTORY #lobby AFTER id=l1 500');
    // Replies in order ([MSG-8]): the JOIN's first.
    peer.send('JOIN #rust alice');
    peer.send('ENDHIST #rust 0');
    peer.send('ERR UNKNOWN_MESSAGE HISTORY :No such message id');
    expect(await probe.next('history-reset')).toEqual({ type: 'history-reset', target: '#lobby' });
    expect(await peer.expect('HISTORY')).toBe('HISTORY #rust AFTER id=r1 500');
    expect(await peer.expect('HISTORY')).toBe('HISTORY #lobby LATEST 500');
    peer.send('ENDHIST #rust 0');
    peer.send(chat('HIST', 'n1', 1, 'dave', '#lobby', 10));
    peer.send('ENDHIST #lobby 1');
    expect(await probe.next('message', (e) => e.message.id === 'n1')).toMatchObject({ origin: 'missed' });
    // The error itself is the catch-up's business, not a line for the user.
    expect(probe.all('error')).toEqual([]);
  });

  it('[CLIENT-8] sends queued messages to their own targets, after joining the rooms again', async () => {
    const session = await joined();
    const { supervisor, probe } = session;
    supervisor.join('#rust');
    await probe.next('room', (e) => e.room === '#rust');
    session.peer.destroy();
    await probe.next('reconnecting');
    supervisor.say('#rust', 'to rust');
    supervisor.me('bob', 'waves');
    supervisor.say('#lobby', 'to the lobby');
    const peer = await reconnect(session);
    await probe.next('message', (e) => e.message.text === 'to the lobby');
    expect(peer.received.slice(2)).toEqual(['JOIN #rust', 'SAY #rust :to rust', 'ME bob waves', 'SAY #lobby :to the lobby']);
  });

  it('[ROOM-3] a room it cannot join again is forgotten, and the error says so', async () => {
    const session = await joined();
    session.supervisor.join('#rust');
    await session.probe.next('room', (e) => e.room === '#rust');
    const peer = await dropAndAccept(session);
    await registerByHand(peer);
    await peer.expect('JOIN #rust');
    peer.send('ERR TOO_MANY_ROOMS JOIN :Too many rooms');
    expect(await session.probe.next('error')).toMatchObject({ code: 'TOO_MANY_ROOMS', request: { command: 'JOIN', tag: 'restore' } });
    expect(session.supervisor.rooms).toEqual(['#lobby']);
  });
});

describe('ChatSupervisor at end of input [CLIENT-10]', () => {
  it('[CLIENT-10] while disconnected, waits for the server at most the timeout, then gives up and names what was not sent', async () => {
    const session = await joined({ reconnectTimeoutMs: 5_000 });
    const { supervisor, probe, scheduler } = session;
    session.peer.destroy();
    await probe.next('reconnecting');
    supervisor.say('#lobby', 'stuck');
    supervisor.endOfInput();
    expect(scheduler.delays).toEqual([250, 5_000]);
    scheduler.fire(5_000);
    expect(await probe.next('gave-up')).toEqual({ type: 'gave-up', afterMs: 5_000 });
    expect(await probe.next('unsent')).toEqual({ type: 'unsent', messages: [text('stuck')] });
    expect(await probe.next('ended')).toEqual({ type: 'ended', left: false, undelivered: 1 });
    expect(scheduler.delays).toEqual([]);
  });

  it('[CLIENT-10] [MSG-8] delivers the queue once the server is back, waits for every ECHO, then quits', async () => {
    const session = await joined({ reconnectTimeoutMs: 5_000 });
    const { supervisor, probe, scheduler } = session;
    session.peer.destroy();
    await probe.next('reconnecting');
    supervisor.say(undefined, 'late but sure');
    supervisor.endOfInput();
    scheduler.fire(250);
    const peer = await server.accept();
    await registerByHand(peer);
    await peer.expect('SAY :late but sure');
    // The deadline is off once connected, and no QUIT goes before the ECHO.
    expect(scheduler.delays).toEqual([]);
    peer.send('PING barrier');
    await peer.expect('PONG barrier');
    expect(peer.received.at(-1)).toBe('PONG barrier');
    peer.behave();
    peer.send('ECHO m1 1 1764236523001 alice #lobby say :late but sure');
    await peer.expect('QUIT');
    expect(await probe.next('ended')).toEqual({ type: 'ended', left: true, undelivered: 0 });
  });

  it('[CLIENT-10] while disconnected with nothing queued, ends at once without reconnecting', async () => {
    const session = await joined();
    session.peer.destroy();
    await session.probe.next('reconnecting');
    session.supervisor.endOfInput();
    expect(await session.probe.next('ended')).toEqual({ type: 'ended', left: true, undelivered: 0 });
    expect(session.scheduler.delays).toEqual([]);
    expect(server.peers).toHaveLength(1);
  });

  it('[CLIENT-9] [CLIENT-10] a drop while waiting for the last ECHOs ends the session, reporting them, with nothing left to send', async () => {
    const session = await joined();
    const scripted = await freshScriptedPeer(session);
    session.supervisor.say(undefined, 'maybe');
    await scripted.expect('SAY maybe');
    session.supervisor.endOfInput();
    scripted.destroy();
    expect(await session.probe.next('unconfirmed')).toEqual({ type: 'unconfirmed', messages: [text('maybe', undefined)] });
    expect(await session.probe.next('ended')).toEqual({ type: 'ended', left: true, undelivered: 1 });
    // Only the one that set up the scripted peer.
    expect(session.probe.all('reconnecting')).toHaveLength(1);
    expect(session.scheduler.delays).toEqual([]);
  });
});

/** Drops the current connection, fires the backoff timer and returns the server side of the next attempt. */
async function dropAndAccept(session: Session): Promise<FakePeer> {
  session.peer.destroy();
  await session.probe.next('reconnecting');
  session.scheduler.fire();
  return server.accept();
}

/** Registers a client by script, as a server with a lobby does: WELCOME, the lobby's JOIN, ROOM and replay, then the WHO reply. */
async function registerByHand(peer: FakePeer, name = 'alice', replay: string[] = []): Promise<void> {
  peer.greet();
  await peer.expect(`HELLO 1 ${name}`);
  peer.send(`WELCOME ${name} key-${name} :hi`);
  peer.send(`JOIN #lobby ${name}`);
  peer.send('ROOM #lobby 1 :');
  for (const line of replay) peer.send(line);
  peer.send(`ENDHIST #lobby ${replay.length}`);
  await peer.expect('WHO');
  peer.send(`USER ${name} 0`);
  peer.send('ENDWHO 1');
}

/**
 * Replaces the well-behaved peer with one the test answers by hand: drops
 * the connection, reconnects, and registers by script.
 */
async function freshScriptedPeer(session: Session): Promise<FakePeer> {
  const peer = await dropAndAccept(session);
  await registerByHand(peer);
  await session.probe.next('reconnected');
  return peer;
}
