/**
 * Hub: messages to rooms and to users (SPEC §6) and HISTORY (§7), over the
 * memory store or a TestStore. Rooms are in hub-rooms.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { privateKey } from '../../../src/server/history/store.ts';
import type { HistoryQuery } from '../../../src/protocol/history.ts';
import { TestStore, clear, fakeUser, makeHub, memoryStore, online, params, protocolError, testClock, type FakeUser } from './fakes.ts';

type Hub = ReturnType<typeof makeHub>;

/** SAY from `user`: to `target`, or the lobby. */
const say = (hub: Hub, user: FakeUser, text: string, target?: string) => hub.say(user.session, target, 'say', text, 'SAY');

/** A hub with alice and bob online in the lobby, what they received dropped. */
function two(options: Parameters<typeof makeHub>[0] = {}) {
  const hub = makeHub(options);
  const alice = online(hub, 'alice');
  const bob = online(hub, 'bob');
  clear(alice, bob);
  return { hub, alice, bob };
}

const latest = (limit = 100): HistoryQuery => ({ kind: 'latest', limit });
const texts = (messages: ReadonlyArray<{ text: string }>) => messages.map((m) => m.text);

describe('Hub.say to a room [MSG-1] [MSG-2] [MSG-3]', () => {
  it('sends MSG to every other member and ECHO with the same parameters to the sender; nobody else hears it', () => {
    const clock = testClock(1_000_000);
    const hub = makeHub({ clock });
    const alice = online(hub, 'alice');
    const bob = online(hub, 'bob');
    const carol = online(hub, 'carol');
    const stranger = fakeUser(); // not registered [PRES-4]
    hub.join(alice.session, '#rust');
    hub.join(bob.session, '#rust');
    clear(alice, bob, carol);

    const message = say(hub, alice, 'hi rustaceans', '#RUST');
    expect(message).toMatchObject({ id: 'test-1', seq: 1, time: 1_000_000, from: 'alice', to: '#rust', kind: 'say', text: 'hi rustaceans' });
    expect(alice.conn.take()).toEqual(['ECHO test-1 1 1000000 alice #rust say :hi rustaceans']);
    expect(bob.conn.take()).toEqual(['MSG test-1 1 1000000 alice #rust say :hi rustaceans']);
    expect(carol.conn.take()).toEqual([]);
    expect(stranger.conn.take()).toEqual([]);
  });

  it('sends a message without a target to the lobby [MSG-1] [ROOM-2]', () => {
    const { hub, alice, bob } = two();
    say(hub, alice, 'hello all');
    expect(params(bob.conn.take()[0]!).slice(3)).toEqual(['alice', '#lobby', 'say', 'hello all']);
    expect(alice.conn.take()[0]).toMatch(/^ECHO /);
  });

  it('answers NOT_IN_ROOM for a message without a target on a hub without a lobby', () => {
    const { hub, alice } = two({ lobby: undefined });
    expect(protocolError(() => say(hub, alice, 'anyone?'))).toMatchObject({ code: 'NOT_IN_ROOM', command: 'SAY' });
  });

  it('answers NOT_IN_ROOM when the sender is not a member, NO_SUCH_ROOM when the room does not exist, BAD_ROOM for a bad name; nothing is sent or stored [MSG-1]', () => {
    const { hub, alice, bob } = two();
    hub.join(bob.session, '#rust');
    hub.part(alice.session, '#lobby', '');
    clear(alice, bob);
    expect(protocolError(() => say(hub, alice, 'x', '#rust'))).toMatchObject({ code: 'NOT_IN_ROOM', command: 'SAY' });
    expect(protocolError(() => say(hub, alice, 'x'))).toMatchObject({ code: 'NOT_IN_ROOM', command: 'SAY' });
    expect(protocolError(() => say(hub, alice, 'x', '#nowhere'))).toMatchObject({ code: 'NO_SUCH_ROOM', command: 'SAY' });
    expect(protocolError(() => say(hub, alice, 'x', '#no.way'))).toMatchObject({ code: 'BAD_ROOM', command: 'SAY' });
    expect(protocolError(() => hub.say(alice.session, '#rust', 'me', 'x', 'ME'))).toMatchObject({ code: 'NOT_IN_ROOM', command: 'ME' });
    expect(alice.conn.take()).toEqual([]);
    expect(bob.conn.take()).toEqual([]);
    // Nothing used a number: the next message is the first.
    expect(say(hub, bob, 'first', '#rust')).toMatchObject({ id: 'test-1', seq: 1 });
  });

  it.each([
    ['plain', 'hello'],
    ['leading colon', ':colon first'],
    ['spaces kept exactly', '  two  leading, trailing  '],
    ['only spaces', '   '],
    ['multi-byte UTF-8', 'héllo wörld ✓ 𝄞'],
    ['a tab', 'a\tb'],
    ['a room name', '#rust'],
  ])('relays the text byte for byte (%s) [MSG-2]', (_label, text) => {
    const { hub, alice, bob } = two();
    say(hub, alice, text);
    const [mine] = alice.conn.take();
    const [theirs] = bob.conn.take();
    expect(params(mine!)[6]).toBe(text);
    expect(Buffer.from(params(theirs!)[6]!)).toEqual(Buffer.from(text));
  });

  it('uses the sender\'s current name after a rename', () => {
    const { hub, alice, bob } = two();
    hub.rename(alice.session, 'Alicia');
    clear(alice, bob);
    say(hub, alice, 'x');
    expect(params(bob.conn.take()[0]!)[3]).toBe('Alicia');
  });

  it('sends ECHO alone when the sender is the only member [MSG-3]', () => {
    const { hub, alice, bob } = two();
    hub.join(alice.session, '#alone');
    clear(alice);
    say(hub, alice, 'anyone?', '#alone');
    expect(alice.conn.take()).toHaveLength(1);
    expect(bob.conn.take()).toEqual([]);
  });
});

describe('Hub.say: ME [MSG-9]', () => {
  it('is checked and delivered exactly like SAY, with kind me, to a room or a user', () => {
    const { hub, alice, bob } = two();
    hub.say(alice.session, undefined, 'me', 'waves', 'ME');
    expect(bob.conn.take()).toEqual(['MSG test-1 1 1764236523000 alice #lobby me waves']);
    expect(alice.conn.take()).toEqual(['ECHO test-1 1 1764236523000 alice #lobby me waves']);
    hub.say(alice.session, 'bob', 'me', 'nods quietly', 'ME');
    expect(bob.conn.take()).toEqual(['MSG test-2 1 1764236523000 alice bob me :nods quietly']);
    expect(protocolError(() => hub.say(alice.session, 'nobody', 'me', 'x', 'ME'))).toMatchObject({ code: 'NO_SUCH_USER', command: 'ME' });
  });
});

describe('Hub.say to a user [MSG-10]', () => {
  it('sends MSG with <to> the recipient\'s name to that user only, and ECHO to the sender', () => {
    const hub = makeHub();
    const alice = online(hub, 'alice');
    const bob = online(hub, 'Bob');
    const carol = online(hub, 'carol');
    clear(alice, bob, carol);
    const message = say(hub, alice, 'psst', 'BOB');
    expect(message).toMatchObject({ seq: 1, from: 'alice', to: 'Bob', target: privateKey('alice', 'bob') });
    expect(bob.conn.take()).toEqual([`MSG ${message.id} 1 ${message.time} alice Bob say psst`]);
    expect(alice.conn.take()).toEqual([`ECHO ${message.id} 1 ${message.time} alice Bob say psst`]);
    expect(carol.conn.take()).toEqual([]);
  });

  it('reaches a user who shares no room with the sender [ROOM-4] [MSG-10]', () => {
    const { hub, alice, bob } = two();
    hub.part(alice.session, '#lobby', '');
    hub.part(bob.session, '#lobby', '');
    clear(alice, bob);
    say(hub, alice, 'still there?', 'bob');
    expect(bob.conn.take()).toHaveLength(1);
  });

  it('counts <seq> per conversation, the same whichever of the two sends [MSG-5]', () => {
    const hub = makeHub();
    const alice = online(hub, 'alice');
    const bob = online(hub, 'bob');
    const carol = online(hub, 'carol');
    say(hub, alice, 'lobby 1');
    expect(say(hub, alice, 'a to b', 'bob').seq).toBe(1);
    expect(say(hub, bob, 'b to a', 'ALICE').seq).toBe(2);
    expect(say(hub, alice, 'a to c', 'carol').seq).toBe(1);
    expect(say(hub, carol, 'c to b', 'bob').seq).toBe(1);
    expect(say(hub, alice, 'a to b again', 'bob').seq).toBe(3);
    expect(say(hub, alice, 'lobby 2').seq).toBe(2);
  });

  it('acknowledges and delivers a message to one\'s own name once, as the ECHO [MSG-10]', () => {
    const { hub, alice, bob } = two();
    const message = say(hub, alice, 'note to self', 'ALICE');
    expect(message.to).toBe('alice');
    expect(alice.conn.take()).toEqual([`ECHO ${message.id} 1 ${message.time} alice alice say :note to self`]);
    expect(bob.conn.take()).toEqual([]);
  });

  it('answers NO_SUCH_USER for a name that is not online, registered or not, and stores nothing [MSG-1]', () => {
    const { hub, alice, bob } = two();
    const stranger = fakeUser();
    const gone = online(hub, 'gone');
    hub.remove(gone.session, 'quit', '');
    clear(alice, bob);
    for (const name of ['nobody', 'gone', 'not a name', 'you']) {
      expect(protocolError(() => say(hub, alice, 'x', name))).toMatchObject({ code: 'NO_SUCH_USER', command: 'SAY' });
    }
    expect(stranger.conn.take()).toEqual([]);
    expect(alice.conn.take()).toEqual([]);
    expect(say(hub, alice, 'first')).toMatchObject({ id: 'test-1' });
  });
});

describe('Hub.say: numbering and time [MSG-4] [MSG-5] [MSG-6] [MSG-7]', () => {
  it('counts <seq> per room by one, ids unique, and every member sees the room in seq order', () => {
    const clock = testClock(5);
    const hub = makeHub({ clock });
    const alice = online(hub, 'alice');
    const bob = online(hub, 'bob');
    hub.join(alice.session, '#b');
    hub.join(bob.session, '#b');
    clear(alice, bob);
    const seen: Array<{ id: string; seq: number; to: string }> = [];
    for (let i = 0; i < 60; i++) {
      clock.now += i % 3; // time may stand still; seq may not
      seen.push(say(hub, i % 2 === 0 ? alice : bob, `m${i}`, i % 3 === 0 ? '#b' : undefined));
    }
    for (const room of ['#lobby', '#b']) {
      const seqs = seen.filter((m) => m.to === room).map((m) => m.seq);
      expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    }
    expect(new Set(seen.map((m) => m.id)).size).toBe(60);
    for (const { id } of seen) expect(id).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    const order = (lines: string[], room: string) => lines.map(params).filter((p) => p[4] === room).map((p) => Number(p[1]));
    const a = alice.conn.take();
    const b = bob.conn.take();
    for (const room of ['#lobby', '#b']) {
      expect(order(a, room)).toEqual(order(b, room));
      expect(order(a, room)).toEqual(seen.filter((m) => m.to === room).map((m) => m.seq));
    }
  });

  it('stamps <time> from the clock in whole milliseconds, and never lets it decrease when the clock steps back [MSG-6]', () => {
    const clock = testClock(1_764_236_523_000);
    const { hub, alice, bob } = two({ clock });
    expect(say(hub, alice, 'a').time).toBe(1_764_236_523_000);
    clock.now += 250;
    expect(say(hub, bob, 'b', 'alice').time).toBe(1_764_236_523_250);
    clock.now -= 60_000; // NTP stepped the clock back a minute
    expect(say(hub, alice, 'c').time).toBe(1_764_236_523_250);
    expect(say(hub, alice, 'd', 'bob').time).toBe(1_764_236_523_250);
    clock.now += 60_001;
    expect(say(hub, alice, 'e').time).toBe(1_764_236_523_251);
  });

  it('starts no earlier than the newest message the store already holds, after a restart [MSG-6] [STORE-2]', () => {
    const clock = testClock(1_000);
    const store = new TestStore({ persistent: true });
    store.newest = 5_000; // the last run's clock was ahead
    const { hub, alice } = two({ clock, store });
    expect(say(hub, alice, 'after restart').time).toBe(5_000);
  });
});

describe('Hub.say: storage failures [STORE-3]', () => {
  it('answers STORAGE_FAILED with the command, delivers nothing, and counts nothing as spoken', () => {
    const clock = testClock(10_000);
    const store = new TestStore();
    const { hub, alice, bob } = two({ clock, store });
    clock.now += 5_000;
    store.failAppend = true;
    for (const [target, kind, command] of [
      [undefined, 'say', 'SAY'],
      ['bob', 'say', 'SAY'],
      ['#lobby', 'me', 'ME'],
    ] as const) {
      const error = protocolError(() => hub.say(alice.session, target, kind, 'lost', command));
      expect(error).toMatchObject({ code: 'STORAGE_FAILED', command });
      expect(error.cause).toMatchObject({ name: 'StorageError' });
    }
    expect(alice.conn.take()).toEqual([]);
    expect(bob.conn.take()).toEqual([]);
    expect(hub.who().find((u) => u.name === 'alice')?.idle).toBe(5);
    store.failAppend = false;
    expect(say(hub, alice, 'works again')).toMatchObject({ seq: 1 });
  });

  it('answers STORAGE_FAILED when a room cannot be stored before its first message or its topic, and stores, shows and changes nothing [STORE-3] [ROOM-7]', () => {
    const store = new TestStore({ persistent: true });
    const { hub, alice, bob } = two({ store });
    hub.join(alice.session, '#new');
    hub.join(bob.session, '#new');
    alice.conn.take();
    bob.conn.take();
    store.failSaveRoom = true;
    expect(protocolError(() => hub.say(alice.session, '#new', 'say', 'first', 'SAY'))).toMatchObject({ code: 'STORAGE_FAILED', command: 'SAY' });
    expect(protocolError(() => hub.topic(alice.session, '#new', 'a topic'))).toMatchObject({ code: 'STORAGE_FAILED', command: 'TOPIC' });
    expect(alice.conn.take()).toEqual([]);
    expect(bob.conn.take()).toEqual([]);
    expect(store.page(['#new'], { kind: 'latest', limit: 10 })).toEqual([]);
    expect(hub.rooms().find((r) => r.name === '#new')?.topic.text).toBe('');
    store.failSaveRoom = false;
    expect(say(hub, alice, 'works again', '#new')).toMatchObject({ seq: 1 });
  });

  it('lets an error that is not a StorageError through, for the server to report as INTERNAL_ERROR', () => {
    const store = new TestStore();
    store.append = () => {
      throw new TypeError('bug');
    };
    const { hub, alice } = two({ store });
    expect(() => say(hub, alice, 'x')).toThrow(TypeError);
  });
});

describe('Hub.history [HIST-2] [HIST-5]', () => {
  function chatter() {
    const clock = testClock(1_000);
    const hub = makeHub({ clock });
    const alice = online(hub, 'alice');
    const bob = online(hub, 'bob');
    const carol = online(hub, 'carol');
    hub.join(alice.session, '#rust');
    hub.join(bob.session, '#rust');
    const script: Array<[FakeUser, string, string | undefined]> = [
      [alice, 'lobby 1', undefined],
      [bob, 'rust 1', '#rust'],
      [alice, 'a to b', 'bob'],
      [carol, 'c to b', 'bob'],
      [bob, 'b to a', 'alice'],
      [carol, 'lobby 2', undefined],
      [alice, 'rust 2', '#rust'],
    ];
    const sent = script.map(([user, text, target]) => {
      clock.now += 10;
      return say(hub, user, text, target);
    });
    clear(alice, bob, carol);
    return { hub, alice, bob, carol, sent, clock };
  }

  it('pages a room the client is in, oldest first, with the parameters the messages had [HIST-3]', () => {
    const { hub, alice, sent } = chatter();
    const page = hub.history(alice.session, '#RUST', latest());
    expect(page).toEqual([sent[1], sent[6]]);
    expect(texts(hub.history(alice.session, '#lobby', latest(1)))).toEqual(['lobby 2']);
  });

  it('answers NOT_IN_ROOM HISTORY for a room the client is not in or that does not exist, BAD_ROOM for a bad name [HIST-5]', () => {
    const { hub, carol } = chatter();
    expect(protocolError(() => hub.history(carol.session, '#rust', latest()))).toMatchObject({ code: 'NOT_IN_ROOM', command: 'HISTORY' });
    expect(protocolError(() => hub.history(carol.session, '#nowhere', latest()))).toMatchObject({ code: 'NOT_IN_ROOM', command: 'HISTORY' });
    expect(protocolError(() => hub.history(carol.session, '#no way', latest()))).toMatchObject({ code: 'BAD_ROOM', command: 'HISTORY' });
  });

  it('pages the private conversation between the client\'s name and a user name, online or not, in any case [HIST-5]', () => {
    const { hub, alice, bob } = chatter();
    expect(texts(hub.history(alice.session, 'BOB', latest()))).toEqual(['a to b', 'b to a']);
    expect(texts(hub.history(bob.session, 'alice', latest()))).toEqual(['a to b', 'b to a']);
    expect(texts(hub.history(bob.session, 'carol', latest()))).toEqual(['c to b']);
    expect(hub.history(alice.session, 'carol', latest())).toEqual([]);
    hub.remove(bob.session, 'quit', '');
    expect(texts(hub.history(alice.session, 'bob', latest()))).toEqual(['a to b', 'b to a']);
    expect(hub.history(alice.session, 'never-seen', latest())).toEqual([]);
    expect(protocolError(() => hub.history(alice.session, '9lives', latest()))).toMatchObject({ code: 'BAD_NAME', command: 'HISTORY' });
  });

  it('with *, merges every room the client is in and every private conversation of its name, in acceptance order [HIST-5]', () => {
    const { hub, alice, bob, carol } = chatter();
    expect(texts(hub.history(alice.session, '*', latest()))).toEqual(['lobby 1', 'rust 1', 'a to b', 'b to a', 'lobby 2', 'rust 2']);
    expect(texts(hub.history(bob.session, '*', latest()))).toEqual(['lobby 1', 'rust 1', 'a to b', 'c to b', 'b to a', 'lobby 2', 'rust 2']);
    // Never someone else's private message, never a room it is not in.
    expect(texts(hub.history(carol.session, '*', latest()))).toEqual(['lobby 1', 'c to b', 'lobby 2']);
    hub.part(alice.session, '#rust', '');
    expect(texts(hub.history(alice.session, '*', latest(3)))).toEqual(['a to b', 'b to a', 'lobby 2']);
  });

  it('follows the client\'s current name: private history is kept by the names as they were [HIST-1] [HIST-5]', () => {
    const { hub, alice } = chatter();
    hub.rename(alice.session, 'alicia');
    expect(hub.history(alice.session, 'bob', latest())).toEqual([]);
    expect(texts(hub.history(alice.session, '*', latest()))).toEqual(['lobby 1', 'rust 1', 'lobby 2', 'rust 2']);
    // Renaming back is the same holder again ([NAME-5]).
    hub.rename(alice.session, 'alice');
    expect(texts(hub.history(alice.session, 'bob', latest()))).toEqual(['a to b', 'b to a']);
  });

  it('gives a newcomer to a freed name none of its earlier private messages, only what came after it took the name [HIST-5] [NAME-5]', () => {
    const { hub, alice, bob } = chatter();
    hub.remove(alice.session, 'quit', '');
    const newcomer = online(hub, 'ALICE');
    expect(hub.history(newcomer.session, 'bob', latest())).toEqual([]);
    expect(texts(hub.history(newcomer.session, '*', latest()))).toEqual(['lobby 1', 'lobby 2']); // rooms are for members, not tenures
    say(hub, bob, 'welcome, new alice', 'ALICE');
    expect(texts(hub.history(newcomer.session, 'bob', latest()))).toEqual(['welcome, new alice']);
    // bob was there all along: he keeps the whole conversation with the name.
    expect(texts(hub.history(bob.session, 'alice', latest()))).toEqual(['a to b', 'b to a', 'welcome, new alice']);
    // So does a rename onto a freed name.
    const carolSession = online(hub, 'zed');
    hub.remove(bob.session, 'quit', '');
    hub.rename(carolSession.session, 'Bob');
    expect(hub.history(carolSession.session, 'alice', latest())).toEqual([]);
  });

  it('reads BEFORE, AFTER and BETWEEN with id refs as positions, whichever target the id belongs to; bounds are exclusive [HIST-2]', () => {
    const { hub, alice, sent } = chatter();
    const id = (i: number) => ({ by: 'id' as const, id: sent[i]!.id });
    expect(texts(hub.history(alice.session, '#lobby', { kind: 'before', ref: id(5), limit: 10 }))).toEqual(['lobby 1']);
    expect(texts(hub.history(alice.session, '#lobby', { kind: 'after', ref: id(0), limit: 10 }))).toEqual(['lobby 2']);
    // An id from the private conversation is a position in the lobby too.
    expect(texts(hub.history(alice.session, '#lobby', { kind: 'after', ref: id(2), limit: 10 }))).toEqual(['lobby 2']);
    expect(texts(hub.history(alice.session, '*', { kind: 'between', from: id(1), to: id(6), limit: 10 }))).toEqual([
      'a to b',
      'b to a',
      'lobby 2',
    ]);
    expect(texts(hub.history(alice.session, '*', { kind: 'between', from: id(1), to: id(6), limit: 2 }))).toEqual(['a to b', 'b to a']);
    expect(hub.history(alice.session, '*', { kind: 'between', from: id(6), to: id(1), limit: 10 })).toEqual([]);
    expect(texts(hub.history(alice.session, '*', { kind: 'before', ref: id(6), limit: 2 }))).toEqual(['b to a', 'lobby 2']);
  });

  it('reads time refs as exclusive bounds on <time> [HIST-2]', () => {
    const { hub, alice, sent } = chatter();
    const t = sent[5]!.time;
    expect(texts(hub.history(alice.session, '*', { kind: 'after', ref: { by: 'time', time: t }, limit: 10 }))).toEqual(['rust 2']);
    expect(texts(hub.history(alice.session, '#lobby', { kind: 'before', ref: { by: 'time', time: t }, limit: 10 }))).toEqual(['lobby 1']);
  });

  it('answers UNKNOWN_MESSAGE HISTORY for an id the server did not issue [HIST-2]', () => {
    const { hub, alice, sent } = chatter();
    for (const bad of ['nope', 'test-zz', 'test-0', 'other-1', `${sent[6]!.id}0`]) {
      for (const query of [
        { kind: 'before', ref: { by: 'id', id: bad }, limit: 5 },
        { kind: 'after', ref: { by: 'id', id: bad }, limit: 5 },
        { kind: 'between', from: { by: 'time', time: 0 }, to: { by: 'id', id: bad }, limit: 5 },
      ] as HistoryQuery[]) {
        expect(protocolError(() => hub.history(alice.session, '#lobby', query)), bad).toMatchObject({
          code: 'UNKNOWN_MESSAGE',
          command: 'HISTORY',
        });
      }
    }
  });

  it('keeps an id whose message is no longer kept usable as a position [HIST-2]', () => {
    const hub = makeHub({ store: memoryStore(2) });
    const alice = online(hub, 'alice');
    const first = say(hub, alice, 'one');
    say(hub, alice, 'two');
    say(hub, alice, 'three');
    say(hub, alice, 'four');
    expect(texts(hub.history(alice.session, '#lobby', latest()))).toEqual(['three', 'four']);
    expect(texts(hub.history(alice.session, '#lobby', { kind: 'after', ref: { by: 'id', id: first.id }, limit: 10 }))).toEqual([
      'three',
      'four',
    ]);
  });

  it('answers one error when both the target and a ref are wrong (SPEC fixes no order between them)', () => {
    const { hub, carol } = chatter();
    const error = protocolError(() => hub.history(carol.session, '#rust', { kind: 'after', ref: { by: 'id', id: 'nope' }, limit: 1 }));
    expect(['NOT_IN_ROOM', 'UNKNOWN_MESSAGE']).toContain(error.code);
  });
});

describe('Hub: name tenures [NAME-5]', () => {
  it('gives each registration a key, kept across renames', () => {
    const hub = makeHub();
    const alice = online(hub, 'alice');
    const bob = online(hub, 'bob');
    expect(alice.session.key).toBe('key1');
    expect(bob.session.key).toBe('key2');
    hub.rename(alice.session, 'alicia');
    expect(alice.session.key).toBe('key1');
  });

  it('goes on when a later HELLO brings the key the name\'s last holder was given: its private history is its own again', () => {
    const hub = makeHub();
    const alice = online(hub, 'alice');
    const bob = online(hub, 'bob');
    say(hub, alice, 'before the drop', 'bob');
    hub.remove(alice.session, 'lost', 'Connection closed');
    const back = fakeUser();
    expect(hub.register(back.session, 'Alice', 'key1')).toBe('Alice');
    expect(back.session.key).toBe('key1');
    expect(texts(hub.history(back.session, 'bob', latest()))).toEqual(['before the drop']);
    expect(texts(hub.history(bob.session, 'alice', latest()))).toEqual(['before the drop']);
  });

  it('starts a new tenure, with a new key, for a registration without the key or with a wrong one', () => {
    const hub = makeHub();
    const alice = online(hub, 'alice');
    online(hub, 'bob');
    say(hub, alice, 'private', 'bob');
    hub.remove(alice.session, 'quit', '');
    const stranger = fakeUser();
    hub.register(stranger.session, 'alice', 'not-the-key');
    expect(stranger.session.key).not.toBe('key1');
    expect(stranger.session.key).not.toBe('not-the-key');
    expect(hub.history(stranger.session, 'bob', latest())).toEqual([]);
    // The name is the stranger's now: the first holder's key no longer takes it back.
    hub.remove(stranger.session, 'quit', '');
    const first = fakeUser();
    hub.register(first.session, 'alice', 'key1');
    expect(hub.history(first.session, 'bob', latest())).toEqual([]);
    // That attempt started a tenure of its own: now its key, and only its, takes the name back.
    hub.remove(first.session, 'quit', '');
    const late = fakeUser();
    hub.register(late.session, 'alice', stranger.session.key);
    expect(late.session.key).not.toBe(stranger.session.key);
    hub.remove(late.session, 'quit', '');
    const again = fakeUser();
    hub.register(again.session, 'alice', late.session.key);
    expect(again.session.key).toBe(late.session.key);
  });

  it('keeps keys only as hashes in the store', () => {
    const store = new TestStore();
    const hub = makeHub({ store });
    online(hub, 'alice');
    expect(store.tenures).toHaveLength(1);
    expect(store.tenures[0]!.name).toBe('alice');
    expect(store.tenures[0]!.tenure.keyHash).not.toContain('key1');
    expect(store.tenures[0]!.tenure.keyHash).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('answers STORAGE_FAILED HELLO or NICK when the tenure cannot be recorded, and changes nothing', () => {
    const store = new TestStore();
    const hub = makeHub({ store });
    const alice = online(hub, 'alice');
    store.failTenure = true;
    const user = fakeUser();
    expect(protocolError(() => hub.register(user.session, 'bob'))).toMatchObject({ code: 'STORAGE_FAILED', command: 'HELLO' });
    expect(user.session.state).toBe('greeting');
    expect(protocolError(() => hub.rename(alice.session, 'alicia'))).toMatchObject({ code: 'STORAGE_FAILED', command: 'NICK' });
    expect(alice.session.name).toBe('alice');
    expect(hub.who().map((u) => u.name)).toEqual(['alice']);
  });
});
