/**
 * Hub: rooms (SPEC §5). The lobby, JOIN and PART, ROOMS, TOPIC, the limits
 * on joins and rooms, and which rooms outlive their members. Sessions and
 * WHO are in hub.test.ts, messages and history in hub-messages.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { SessionState } from '../../../src/server/session.ts';
import { ManualFanoutScheduler, TestStore, clear, fakeUser, makeHub, online, params, protocolError, testClock } from './fakes.ts';

const roomNames = (hub: ReturnType<typeof makeHub>) => hub.rooms().map((r) => r.name);

describe('the lobby [ROOM-2]', () => {
  it('exists from the start, persistent, with no members', () => {
    const hub = makeHub();
    expect(hub.lobby).toBe('#lobby');
    expect(hub.rooms()).toEqual([{ name: '#lobby', members: 0, topic: { text: '', setter: '*', time: 0 } }]);
  });

  it('is joined like any room: JOIN to the members, then ROOM and the replay to the joiner [SESSION-5] [ROOM-3] [HIST-4]', () => {
    const hub = makeHub();
    const alice = online(hub, 'alice');
    expect(alice.conn.take()).toEqual(['JOIN #lobby alice', 'ROOM #lobby 1 :', 'ENDHIST #lobby 0']);
    const bob = online(hub, 'bob');
    expect(alice.conn.take()).toEqual(['JOIN #lobby bob']);
    expect(bob.conn.take()).toEqual(['JOIN #lobby bob', 'ROOM #lobby 2 :', 'ENDHIST #lobby 0']);
  });

  it('may be left like any other room, and joined again; it never disappears [ROOM-2] [ROOM-6]', () => {
    const hub = makeHub();
    const alice = online(hub, 'alice');
    clear(alice);
    hub.part(alice.session, '#lobby', '');
    expect(alice.conn.take()).toEqual(['LEAVE #lobby alice part']);
    expect(hub.rooms()).toEqual([{ name: '#lobby', members: 0, topic: { text: '', setter: '*', time: 0 } }]);
    expect(alice.session.state).toBe(SessionState.Registered);
    hub.join(alice.session, '#LOBBY');
    expect(alice.conn.take()).toEqual(['JOIN #lobby alice', 'ROOM #lobby 1 :', 'ENDHIST #lobby 0']);
  });

  it('keeps its topic while empty [ROOM-6]', () => {
    const hub = makeHub();
    const alice = online(hub, 'alice');
    hub.topic(alice.session, '#lobby', 'Say hello');
    hub.part(alice.session, '#lobby', '');
    expect(hub.rooms()[0]).toMatchObject({ name: '#lobby', members: 0, topic: { text: 'Say hello', setter: 'alice' } });
  });

  it('is absent on a hub without one', () => {
    const hub = makeHub({ lobby: undefined });
    expect(hub.lobby).toBeUndefined();
    expect(hub.rooms()).toEqual([]);
    const alice = online(hub, 'alice');
    expect(alice.conn.take()).toEqual([]);
    expect(alice.session.rooms.size).toBe(0);
  });

  it('takes the case of the configured name, and a stored lobby keeps its topic', () => {
    const store = new TestStore({
      persistent: true,
      rooms: [{ key: '#hall', name: '#Hall', topic: 'Welcome all', setter: 'root', topicTime: 5 }],
    });
    const hub = makeHub({ lobby: '#HALL', store });
    expect(hub.rooms()).toEqual([{ name: '#Hall', members: 0, topic: { text: 'Welcome all', setter: 'root', time: 5 } }]);
    const alice = online(hub, 'alice');
    expect(alice.conn.take()).toEqual(['JOIN #Hall alice', 'ROOM #Hall 1 :Welcome all', 'ENDHIST #Hall 0']);
  });
});

describe('Hub.join [ROOM-3]', () => {
  it('creates a room in the case of the name that created it; later joins in any case find it [ROOM-1]', () => {
    const hub = makeHub();
    const alice = online(hub, 'alice');
    const bob = online(hub, 'bob');
    clear(alice, bob);
    hub.join(alice.session, '#Rust-Lang');
    expect(alice.conn.take()).toEqual(['JOIN #Rust-Lang alice', 'ROOM #Rust-Lang 1 :', 'ENDHIST #Rust-Lang 0']);
    hub.join(bob.session, '#rust-LANG');
    expect(alice.conn.take()).toEqual(['JOIN #Rust-Lang bob']);
    expect(bob.conn.take()).toEqual(['JOIN #Rust-Lang bob', 'ROOM #Rust-Lang 2 :', 'ENDHIST #Rust-Lang 0']);
    expect(roomNames(hub)).toEqual(['#lobby', '#Rust-Lang']);
  });

  it('tells the members of that room only, not the rest of the server [ROOM-3]', () => {
    const hub = makeHub();
    const alice = online(hub, 'alice');
    const bob = online(hub, 'bob');
    const carol = online(hub, 'carol');
    hub.join(alice.session, '#rust');
    clear(alice, bob, carol);
    hub.join(bob.session, '#rust');
    expect(alice.conn.take()).toEqual(['JOIN #rust bob']);
    expect(carol.conn.take()).toEqual([]);
  });

  it('sends the joiner JOIN, ROOM and the replay as one chunk, so nothing comes between them [ROOM-3] [HIST-3]', () => {
    const hub = makeHub();
    const alice = online(hub, 'alice');
    alice.conn.chunks.length = 0;
    hub.join(alice.session, '#rust');
    expect(alice.conn.chunks).toEqual(['JOIN #rust alice\nROOM #rust 1 :\nENDHIST #rust 0\n']);
  });

  it('replays the last REPLAY messages of the room, oldest first, as HIST lines [HIST-4]', () => {
    const clock = testClock(1_000);
    const hub = makeHub({ clock, replay: 3 });
    const alice = online(hub, 'alice');
    hub.join(alice.session, '#rust');
    for (let i = 1; i <= 5; i++) {
      clock.now += 1;
      hub.say(alice.session, '#rust', i === 5 ? 'me' : 'say', `m${i}`, 'SAY');
    }
    hub.say(alice.session, undefined, 'say', 'in the lobby', 'SAY');
    const bob = online(hub, 'bob');
    clear(bob);
    hub.join(bob.session, '#rust');
    const lines = bob.conn.take();
    expect(lines[0]).toBe('JOIN #rust bob');
    expect(lines[1]).toBe('ROOM #rust 2 :');
    expect(lines.slice(2, -1).map((l) => params(l).slice(1))).toEqual([
      ['3', '1003', 'alice', '#rust', 'say', 'm3'],
      ['4', '1004', 'alice', '#rust', 'say', 'm4'],
      ['5', '1005', 'alice', '#rust', 'me', 'm5'],
    ]);
    expect(lines.slice(2, -1).every((l) => l.startsWith('HIST '))).toBe(true);
    expect(lines.at(-1)).toBe('ENDHIST #rust 3');
  });

  it('replays nothing with REPLAY 0, and still ends with an empty batch [HIST-4]', () => {
    const hub = makeHub({ replay: 0 });
    const alice = online(hub, 'alice');
    hub.say(alice.session, undefined, 'say', 'x', 'SAY');
    const bob = online(hub, 'bob');
    expect(bob.conn.take()).toEqual(['JOIN #lobby bob', 'ROOM #lobby 2 :', 'ENDHIST #lobby 0']);
  });

  it('shows the topic in ROOM [ROOM-3] [ROOM-5]', () => {
    const hub = makeHub();
    const alice = online(hub, 'alice');
    hub.join(alice.session, '#rust');
    hub.topic(alice.session, '#rust', 'the book: ch. 4');
    const bob = online(hub, 'bob');
    clear(bob);
    hub.join(bob.session, '#rust');
    expect(bob.conn.take()[1]).toBe('ROOM #rust 2 :the book: ch. 4');
  });

  it('answers ALREADY_IN_ROOM JOIN for a room the client is in, in any case, and changes nothing [ROOM-3]', () => {
    const hub = makeHub();
    const alice = online(hub, 'alice');
    const bob = online(hub, 'bob');
    clear(alice, bob);
    for (const room of ['#lobby', '#LOBBY']) {
      expect(protocolError(() => hub.join(alice.session, room))).toMatchObject({ code: 'ALREADY_IN_ROOM', command: 'JOIN' });
    }
    expect(alice.conn.take()).toEqual([]);
    expect(bob.conn.take()).toEqual([]);
    expect(hub.rooms()[0]?.members).toBe(2);
  });

  it.each(['rust', '#', '#-x', '#_x', '#a b', '#a.b', '#caf\u00e9', '#' + 'a'.repeat(32)])(
    'answers BAD_ROOM JOIN for %j and creates nothing [ROOM-1]',
    (room) => {
      const hub = makeHub();
      const alice = online(hub, 'alice');
      clear(alice);
      expect(protocolError(() => hub.join(alice.session, room))).toMatchObject({ code: 'BAD_ROOM', command: 'JOIN' });
      expect(roomNames(hub)).toEqual(['#lobby']);
      expect(alice.conn.take()).toEqual([]);
    },
  );

  it('accepts a room name of exactly ROOMLEN characters, # included [ROOM-1]', () => {
    const hub = makeHub({ roomLength: 8 });
    const alice = online(hub, 'alice');
    hub.join(alice.session, '#abcdefg');
    expect(protocolError(() => hub.join(alice.session, '#abcdefgh')).code).toBe('BAD_ROOM');
  });

  it('answers TOO_MANY_ROOMS JOIN to a client already in MAXJOIN rooms, the lobby counted, and changes nothing [ROOM-3]', () => {
    const hub = makeHub({ maxJoins: 3 });
    const alice = online(hub, 'alice');
    const bob = online(hub, 'bob');
    hub.join(bob.session, '#full');
    hub.join(alice.session, '#a');
    hub.join(alice.session, '#b');
    clear(alice, bob);
    for (const room of ['#full', '#c']) {
      expect(protocolError(() => hub.join(alice.session, room))).toMatchObject({ code: 'TOO_MANY_ROOMS', command: 'JOIN' });
    }
    expect(alice.conn.take()).toEqual([]);
    expect(bob.conn.take()).toEqual([]);
    expect(roomNames(hub)).toEqual(['#a', '#b', '#full', '#lobby']);
    // Leaving one makes room for another.
    hub.part(alice.session, '#a', '');
    hub.join(alice.session, '#full');
    expect(alice.session.rooms.size).toBe(3);
  });

  it('answers ALREADY_IN_ROOM rather than TOO_MANY_ROOMS for a room the client is in', () => {
    const hub = makeHub({ maxJoins: 1 });
    const alice = online(hub, 'alice');
    expect(protocolError(() => hub.join(alice.session, '#lobby')).code).toBe('ALREADY_IN_ROOM');
  });

  it('answers TOO_MANY_ROOMS JOIN for a new room once the server holds maxRooms, the lobby counted; existing rooms can still be joined [ROOM-3]', () => {
    const hub = makeHub({ maxRooms: 3 });
    const alice = online(hub, 'alice');
    const bob = online(hub, 'bob');
    hub.join(alice.session, '#a');
    hub.join(alice.session, '#b');
    clear(alice, bob);
    expect(protocolError(() => hub.join(bob.session, '#c'))).toMatchObject({ code: 'TOO_MANY_ROOMS', command: 'JOIN' });
    expect(roomNames(hub)).toEqual(['#a', '#b', '#lobby']);
    expect(bob.conn.take()).toEqual([]);
    hub.join(bob.session, '#a');
    // A room that disappears frees its place.
    hub.part(alice.session, '#b', '');
    hub.join(bob.session, '#c');
    expect(roomNames(hub)).toEqual(['#a', '#c', '#lobby']);
  });

  it('holds the JOIN for the others up to the presence hold, the joiner\'s own replies not [PRES-5]', () => {
    const scheduler = new ManualFanoutScheduler();
    const hub = makeHub({ scheduler });
    const alice = online(hub, 'alice');
    const bob = online(hub, 'bob');
    scheduler.fireOldest();
    scheduler.endTurn();
    clear(alice, bob);
    hub.join(bob.session, '#rust');
    hub.join(alice.session, '#rust');
    expect(alice.conn.take()).toEqual(['JOIN #rust alice', 'ROOM #rust 2 :', 'ENDHIST #rust 0']);
    expect(bob.conn.take()).toEqual(['JOIN #rust bob', 'ROOM #rust 1 :', 'ENDHIST #rust 0']);
    expect(scheduler.pending.map((t) => t.ms)).toEqual([50]);
    scheduler.fire();
    scheduler.endTurn();
    expect(bob.conn.take()).toEqual(['JOIN #rust alice']);
  });
});

describe('Hub.part [ROOM-4]', () => {
  it('sends LEAVE <room> <name> part [:<reason>] to every member, the leaver included [ROOM-4]', () => {
    const hub = makeHub();
    const alice = online(hub, 'alice');
    const bob = online(hub, 'bob');
    const carol = online(hub, 'carol');
    hub.join(alice.session, '#rust');
    hub.join(bob.session, '#rust');
    clear(alice, bob, carol);
    hub.part(alice.session, '#RUST', 'off to lunch');
    expect(alice.conn.take()).toEqual(['LEAVE #rust alice part :off to lunch']);
    expect(bob.conn.take()).toEqual(['LEAVE #rust alice part :off to lunch']);
    expect(carol.conn.take()).toEqual([]);
    hub.part(bob.session, '#rust', '');
    expect(bob.conn.take()).toEqual(['LEAVE #rust bob part']);
  });

  it('answers NOT_IN_ROOM PART for a room the client is not in, or that does not exist [ROOM-4]', () => {
    const hub = makeHub();
    const alice = online(hub, 'alice');
    const bob = online(hub, 'bob');
    hub.join(bob.session, '#rust');
    clear(alice, bob);
    for (const room of ['#rust', '#nowhere']) {
      expect(protocolError(() => hub.part(alice.session, room, ''))).toMatchObject({ code: 'NOT_IN_ROOM', command: 'PART' });
    }
    expect(protocolError(() => hub.part(alice.session, 'rust', ''))).toMatchObject({ code: 'BAD_ROOM', command: 'PART' });
    expect(alice.conn.take()).toEqual([]);
    expect(bob.conn.take()).toEqual([]);
  });

  it('leaves a client in no room online: it stays in WHO and keeps its name [ROOM-4]', () => {
    const hub = makeHub();
    const alice = online(hub, 'alice');
    hub.part(alice.session, '#lobby', '');
    expect(alice.session.rooms.size).toBe(0);
    expect(hub.who()).toEqual([{ name: 'alice', idle: 0 }]);
    expect(protocolError(() => hub.register(fakeUser().session, 'ALICE')).code).toBe('NAME_IN_USE');
  });

  it('makes a room without members disappear, topic and all, unless it is persistent [ROOM-6]', () => {
    const hub = makeHub();
    const alice = online(hub, 'alice');
    hub.join(alice.session, '#Temp');
    hub.topic(alice.session, '#temp', 'soon gone');
    hub.say(alice.session, '#temp', 'say', 'a message', 'SAY');
    hub.part(alice.session, '#temp', '');
    expect(roomNames(hub)).toEqual(['#lobby']);
    expect(protocolError(() => hub.topic(alice.session, '#temp', undefined)).code).toBe('NO_SUCH_ROOM');
    expect(protocolError(() => hub.who('#temp')).code).toBe('NO_SUCH_ROOM');
    // Created again, it is a new room: the case of its new creator, no topic.
    const bob = online(hub, 'bob');
    clear(bob);
    hub.join(bob.session, '#TEMP');
    expect(bob.conn.take()[1]).toBe('ROOM #TEMP 1 :');
  });
});

describe('Hub.rooms [ROOM-5]', () => {
  it('lists every room ordered by name without regard to case, with its members and topic', () => {
    const clock = testClock(7_000);
    const hub = makeHub({ clock });
    const alice = online(hub, 'alice');
    const bob = online(hub, 'bob');
    hub.join(alice.session, '#zeta');
    hub.join(alice.session, '#Beta');
    hub.join(bob.session, '#beta');
    hub.join(bob.session, '#alpha');
    hub.topic(bob.session, '#alpha', 'first');
    expect(hub.rooms()).toEqual([
      { name: '#alpha', members: 1, topic: { text: 'first', setter: 'bob', time: 7_000 } },
      { name: '#Beta', members: 2, topic: { text: '', setter: '*', time: 0 } },
      { name: '#lobby', members: 2, topic: { text: '', setter: '*', time: 0 } },
      { name: '#zeta', members: 1, topic: { text: '', setter: '*', time: 0 } },
    ]);
  });
});

describe('Hub.topic [ROOM-7]', () => {
  it('answers a query with TOPIC <room> * 0 : for a room that never had a topic, from any client', () => {
    const hub = makeHub();
    const alice = online(hub, 'alice');
    const bob = online(hub, 'bob');
    hub.join(alice.session, '#rust');
    clear(alice, bob);
    hub.topic(bob.session, '#RUST', undefined); // not a member: asking is allowed
    expect(bob.conn.take()).toEqual(['TOPIC #rust * 0 :']);
    expect(alice.conn.take()).toEqual([]);
  });

  it('sets the topic for every member, the setter included, stamped with the server clock; others are not told [ROOM-7]', () => {
    const clock = testClock(1_764_236_520_000);
    const hub = makeHub({ clock });
    const alice = online(hub, 'alice');
    const bob = online(hub, 'bob');
    const carol = online(hub, 'carol');
    hub.join(alice.session, '#rust');
    hub.join(bob.session, '#rust');
    clear(alice, bob, carol);
    hub.topic(alice.session, '#Rust', 'the book: ch. 4');
    const line = 'TOPIC #rust alice 1764236520000 :the book: ch. 4';
    expect(alice.conn.take()).toEqual([line]);
    expect(bob.conn.take()).toEqual([line]);
    expect(carol.conn.take()).toEqual([]);
    hub.topic(carol.session, '#rust', undefined);
    expect(carol.conn.take()).toEqual([line]);
  });

  it('clears the topic with an empty text, which is still announced [ROOM-7]', () => {
    const clock = testClock(50_000);
    const hub = makeHub({ clock });
    const alice = online(hub, 'alice');
    const bob = online(hub, 'bob');
    hub.topic(alice.session, '#lobby', 'hello');
    clear(alice, bob);
    clock.now += 1;
    hub.topic(bob.session, '#lobby', '');
    expect(alice.conn.take()).toEqual(['TOPIC #lobby bob 50001 :']);
    expect(bob.conn.take()).toEqual(['TOPIC #lobby bob 50001 :']);
    expect(hub.rooms()[0]?.topic).toEqual({ text: '', setter: 'bob', time: 50_001 });
  });

  it('lets only a member set it: NOT_IN_ROOM TOPIC otherwise, and NO_SUCH_ROOM TOPIC to a query about no room [ROOM-7]', () => {
    const hub = makeHub();
    const alice = online(hub, 'alice');
    const bob = online(hub, 'bob');
    hub.join(bob.session, '#rust');
    clear(alice, bob);
    expect(protocolError(() => hub.topic(alice.session, '#rust', 'mine now'))).toMatchObject({ code: 'NOT_IN_ROOM', command: 'TOPIC' });
    expect(protocolError(() => hub.topic(alice.session, '#nowhere', 'x'))).toMatchObject({ code: 'NOT_IN_ROOM', command: 'TOPIC' });
    expect(protocolError(() => hub.topic(alice.session, '#nowhere', undefined))).toMatchObject({
      code: 'NO_SUCH_ROOM',
      command: 'TOPIC',
    });
    expect(protocolError(() => hub.topic(alice.session, 'rust', undefined))).toMatchObject({ code: 'BAD_ROOM', command: 'TOPIC' });
    expect(bob.conn.take()).toEqual([]);
    expect(hub.rooms().find((r) => r.name === '#rust')?.topic.text).toBe('');
  });

  it('takes a topic of exactly TOPICLEN bytes and answers BAD_PARAMS TOPIC to a longer one [ROOM-7]', () => {
    const hub = makeHub({ topicLength: 10 });
    const alice = online(hub, 'alice');
    clear(alice);
    hub.topic(alice.session, '#lobby', 'é'.repeat(5)); // 10 bytes
    expect(alice.conn.take()).toHaveLength(1);
    expect(protocolError(() => hub.topic(alice.session, '#lobby', 'é'.repeat(5) + 'x'))).toMatchObject({
      code: 'BAD_PARAMS',
      command: 'TOPIC',
    });
    expect(hub.rooms()[0]?.topic.text).toBe('é'.repeat(5));
  });

  it('stamps topics like messages: never earlier than the last stamp when the clock steps back [MSG-6] [ROOM-7]', () => {
    const clock = testClock(100_000);
    const hub = makeHub({ clock });
    const alice = online(hub, 'alice');
    hub.say(alice.session, undefined, 'say', 'x', 'SAY');
    clock.now -= 5_000;
    clear(alice);
    hub.topic(alice.session, '#lobby', 'set later');
    expect(alice.conn.take()).toEqual(['TOPIC #lobby alice 100000 :set later']);
  });
});

describe('persistent rooms with a database [ROOM-6] [STORE-2]', () => {
  it('keeps a room with a message in its history: listed with 0 members, saved once', () => {
    const store = new TestStore({ persistent: true });
    const hub = makeHub({ store });
    const alice = online(hub, 'alice');
    hub.join(alice.session, '#Keep');
    hub.say(alice.session, '#keep', 'say', 'one', 'SAY');
    hub.say(alice.session, '#keep', 'say', 'two', 'SAY');
    hub.part(alice.session, '#keep', '');
    expect(hub.rooms()).toContainEqual({ name: '#Keep', members: 0, topic: { text: '', setter: '*', time: 0 } });
    expect(store.saves).toEqual([{ key: '#keep', name: '#Keep', topic: '', setter: '*', topicTime: 0 }]);
  });

  it('keeps a room with a topic, saving it on every change', () => {
    const clock = testClock(9_000);
    const store = new TestStore({ persistent: true });
    const hub = makeHub({ store, clock });
    const alice = online(hub, 'alice');
    hub.join(alice.session, '#topical');
    hub.topic(alice.session, '#topical', 'first');
    hub.topic(alice.session, '#topical', 'second');
    hub.part(alice.session, '#topical', '');
    expect(hub.rooms().map((r) => r.name)).toEqual(['#lobby', '#topical']);
    expect(store.saves.map((r) => r.topic)).toEqual(['first', 'second']);
    expect(store.saved.get('#topical')).toEqual({ key: '#topical', name: '#topical', topic: 'second', setter: 'alice', topicTime: 9_000 });
  });

  it('lets a room with neither disappear, database or not', () => {
    const store = new TestStore({ persistent: true });
    const hub = makeHub({ store });
    const alice = online(hub, 'alice');
    hub.join(alice.session, '#quiet');
    hub.part(alice.session, '#quiet', '');
    expect(roomNames(hub)).toEqual(['#lobby']);
    expect(store.saves).toEqual([]);
  });

  it('lets a room whose topic was cleared, with no message, disappear [ROOM-6]', () => {
    const store = new TestStore({ persistent: true });
    const hub = makeHub({ store });
    const alice = online(hub, 'alice');
    hub.join(alice.session, '#x');
    hub.topic(alice.session, '#x', 'a topic');
    hub.topic(alice.session, '#x', '');
    hub.part(alice.session, '#x', '');
    expect(roomNames(hub)).toEqual(['#lobby']);
  });

  it('saves nothing, and keeps no empty room, without a database', () => {
    const store = new TestStore({ persistent: false });
    const hub = makeHub({ store });
    const alice = online(hub, 'alice');
    hub.join(alice.session, '#r');
    hub.topic(alice.session, '#r', 't');
    hub.say(alice.session, '#r', 'say', 'x', 'SAY');
    hub.part(alice.session, '#r', '');
    expect(store.saves).toEqual([]);
    expect(roomNames(hub)).toEqual(['#lobby']);
  });

  it('starts with the rooms of an earlier run that have a topic or history, their case and topic, with 0 members [STORE-2] [ROOM-6]', () => {
    const store = new TestStore({
      persistent: true,
      rooms: [
        { key: '#rust', name: '#Rust', topic: 'the book', setter: 'bob', topicTime: 1234 },
        { key: '#go', name: '#go', topic: '', setter: '*', topicTime: 0 },
        // Its topic was cleared and it had no message: nothing keeps it.
        { key: '#gone', name: '#gone', topic: '', setter: 'bob', topicTime: 99 },
      ],
    });
    store.inner.append({ target: '#go', from: 'bob', to: '#go', kind: 'say', text: 'kept', time: 1 });
    const hub = makeHub({ store });
    expect(hub.rooms()).toEqual([
      { name: '#go', members: 0, topic: { text: '', setter: '*', time: 0 } },
      { name: '#lobby', members: 0, topic: { text: '', setter: '*', time: 0 } },
      { name: '#Rust', members: 0, topic: { text: 'the book', setter: 'bob', time: 1234 } },
    ]);
    const alice = online(hub, 'alice');
    clear(alice);
    hub.join(alice.session, '#RUST');
    expect(alice.conn.take()[1]).toBe('ROOM #Rust 1 :the book');
    hub.part(alice.session, '#rust', '');
    // Stored rooms stay, and are not saved again for a message.
    expect(roomNames(hub)).toContain('#Rust');
    hub.join(alice.session, '#rust');
    hub.say(alice.session, '#rust', 'say', 'x', 'SAY');
    expect(store.saves).toEqual([]);
    // A stored room keeps its history when its topic is cleared ([ROOM-6]).
    hub.join(alice.session, '#go');
    hub.topic(alice.session, '#go', '');
    hub.part(alice.session, '#go', '');
    expect(roomNames(hub)).toContain('#go');
  });

  it('counts stored rooms against maxRooms', () => {
    const store = new TestStore({
      persistent: true,
      rooms: [{ key: '#old', name: '#old', topic: 'x', setter: 'a', topicTime: 1 }],
    });
    const hub = makeHub({ store, maxRooms: 2 });
    const alice = online(hub, 'alice');
    expect(protocolError(() => hub.join(alice.session, '#new')).code).toBe('TOO_MANY_ROOMS');
    hub.join(alice.session, '#old');
  });
});

describe('one order per room [ROOM-8]', () => {
  it('gives every member the lines about a room in the same order, whatever was held', () => {
    const scheduler = new ManualFanoutScheduler();
    const clock = testClock(1_000);
    const hub = makeHub({ scheduler, clock });
    const users = ['alice', 'bob', 'carol'].map((n) => online(hub, n));
    scheduler.fireOldest();
    scheduler.endTurn();
    for (const u of users) hub.join(u.session, '#r');
    while (scheduler.fireOldest()) scheduler.endTurn();
    scheduler.endTurn();
    clear(...users);
    const [alice, bob, carol] = users as [(typeof users)[0], (typeof users)[0], (typeof users)[0]];
    const dave = online(hub, 'dave');
    hub.join(dave.session, '#r'); // held JOIN
    hub.say(alice.session, '#r', 'say', 'one', 'SAY'); // takes the JOIN along
    hub.topic(bob.session, '#r', 'new topic');
    hub.part(carol.session, '#r', 'bye'); // held LEAVE
    hub.say(bob.session, '#r', 'say', 'two', 'SAY');
    scheduler.endTurn();
    const about = (lines: string[]) => lines.filter((l) => / #r /.test(l) || l.startsWith('TOPIC #r')).map((l) => l.replace(/^(MSG|ECHO) /, 'MSG '));
    const seenByAlice = about(alice.conn.take());
    const seenByBob = about(bob.conn.take());
    expect(seenByAlice).toEqual(seenByBob);
    expect(seenByAlice.map((l) => l.split(' ')[0])).toEqual(['JOIN', 'MSG', 'TOPIC', 'LEAVE', 'MSG']);
  });
});
