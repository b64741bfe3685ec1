/**
 * Hub: who is online, names, presence and WHO. Rooms are in
 * hub-rooms.test.ts, messages and history in hub-messages.test.ts. Every
 * hub here has a lobby unless a test says otherwise, and `online()` joins
 * it as HELLO does ([SESSION-5]).
 */
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../../src/protocol/errors.ts';
import { nameProblem } from '../../../src/protocol/names.ts';
import { SessionState } from '../../../src/server/session.ts';
import { clear, fakeUser, makeHub, online, protocolError, replay, testClock } from './fakes.ts';

/** The names WHO lists, in its order. */
const names = (list: ReadonlyArray<{ name: string }>) => list.map((u) => u.name);

describe('Hub.register', () => {
  it('registers under the requested name and sends nothing by itself: the lobby join is HELLO\'s [SESSION-4] [SESSION-5]', () => {
    const hub = makeHub();
    const alice = online(hub, 'alice');
    clear(alice);
    const bob = fakeUser();
    expect(hub.register(bob.session, 'Bob')).toBe('Bob');
    expect(bob.session.state).toBe(SessionState.Registered);
    expect(bob.session.name).toBe('Bob');
    expect(hub.online).toBe(2);
    expect(bob.session.rooms.size).toBe(0);
    expect(alice.conn.take()).toEqual([]);
    expect(bob.conn.take()).toEqual([]);
  });

  it('assigns a guest name of the form guest-<digits> when none is given [SESSION-4]', () => {
    const hub = makeHub({ random: replay(0.5) });
    const user = fakeUser();
    const name = hub.register(user.session, undefined);
    expect(name).toBe('guest-5500');
    expect(name).toMatch(/^guest-\d+$/);
    expect(nameProblem(name, 24)).toBeUndefined();
    expect(names(hub.who())).toEqual(['guest-5500']);
  });

  it('draws guest numbers from the whole four-digit range', () => {
    const hub = makeHub({ random: replay(0, 0.999999) });
    expect(hub.register(fakeUser().session, undefined)).toBe('guest-1000');
    expect(hub.register(fakeUser().session, undefined)).toBe('guest-9999');
  });

  it('assigns a guest name that is free, also without regard to case [SESSION-4] [NAME-2]', () => {
    // random() = 0 always proposes guest-1000 first; it is taken as Guest-1000.
    const hub = makeHub({ random: replay(0) });
    online(hub, 'Guest-1000');
    const name = hub.register(fakeUser().session, undefined);
    expect(name).not.toBe('guest-1000');
    expect(name).toMatch(/^guest-\d+$/);
    expect(hub.online).toBe(2);
  });

  it('retries another number when a guest name is taken', () => {
    const hub = makeHub({ random: replay(0, 0, 0.5) });
    expect(hub.register(fakeUser().session, undefined)).toBe('guest-1000');
    expect(hub.register(fakeUser().session, undefined)).toBe('guest-5500');
  });

  it('widens guest numbers when they keep colliding', () => {
    const hub = makeHub({ random: replay(0) });
    expect(hub.register(fakeUser().session, undefined)).toBe('guest-1000');
    expect(hub.register(fakeUser().session, undefined)).toBe('guest-10000');
    expect(hub.register(fakeUser().session, undefined)).toBe('guest-100000');
  });

  it('never assigns a guest name longer than NAMELEN, failing with BAD_NAME HELLO instead [SESSION-4]', () => {
    const hub = makeHub({ nameLength: 10, random: replay(0) });
    for (let i = 0; i < 5; i++) {
      const user = fakeUser();
      try {
        expect(hub.register(user.session, undefined).length).toBeLessThanOrEqual(10);
      } catch (error) {
        expect(error).toMatchObject({ code: 'BAD_NAME', command: 'HELLO' });
        expect(user.session.state).toBe(SessionState.Greeting);
      }
    }
    for (const name of names(hub.who())) expect(name.length).toBeLessThanOrEqual(10);
  });

  it('fails with BAD_NAME when NAMELEN is too short for any guest name', () => {
    const hub = makeHub({ nameLength: 5 });
    const error = protocolError(() => hub.register(fakeUser().session, undefined));
    expect(error.code).toBe('BAD_NAME');
    expect(hub.online).toBe(0);
  });

  it('assigns a guest name that fits a NAMELEN below 10 [SESSION-4]', () => {
    const hub = makeHub({ nameLength: 9 });
    const name = hub.register(fakeUser().session, undefined);
    expect(name).toMatch(/^guest-\d+$/);
    expect(name.length).toBeLessThanOrEqual(9);
  });

  it.each([
    ['', 'empty'],
    ['1abc', 'starts with a digit'],
    ['-abc', 'starts with a dash'],
    ['#abc', 'is a room name'],
    ['al ice', 'holds a space'],
    ['alice!', 'holds punctuation'],
    ['ålice', 'holds a non-ASCII letter'],
    ['you', 'is reserved'],
    ['YoU', 'is reserved in any case'],
    ['a'.repeat(25), 'is longer than NAMELEN'],
  ])('rejects %j (%s) with BAD_NAME HELLO and changes nothing [NAME-1] [SESSION-6]', (name) => {
    const hub = makeHub();
    const alice = online(hub, 'alice');
    clear(alice);
    const user = fakeUser();
    const error = protocolError(() => hub.register(user.session, name));
    expect(error.code).toBe('BAD_NAME');
    expect(error.command).toBe('HELLO');
    expect(user.session.state).toBe(SessionState.Greeting);
    expect(names(hub.who())).toEqual(['alice']);
    expect(alice.conn.take()).toEqual([]);
  });

  it('accepts a name of exactly NAMELEN characters with every allowed character [NAME-1]', () => {
    const hub = makeHub({ nameLength: 8 });
    expect(hub.register(fakeUser().session, 'aZ0_-9yY')).toBe('aZ0_-9yY');
  });

  it.each(['alice', 'ALICE', 'Alice', 'aLiCe'])(
    'rejects %j with NAME_IN_USE HELLO while Alice is online [NAME-2] [SESSION-6]',
    (name) => {
      const hub = makeHub();
      online(hub, 'Alice');
      const user = fakeUser();
      const error = protocolError(() => hub.register(user.session, name));
      expect(error.code).toBe('NAME_IN_USE');
      expect(error.command).toBe('HELLO');
      expect(user.session.state).toBe(SessionState.Greeting);
      expect(hub.online).toBe(1);
    },
  );

  it('shows a name in the case its owner chose [NAME-2]', () => {
    const hub = makeHub();
    online(hub, 'McAlice');
    expect(names(hub.who())).toEqual(['McAlice']);
  });
});

describe('Hub.rename', () => {
  it('sends NICK <old> <new> to the renamed client and everyone sharing a room with it, once each [NAME-3]', () => {
    const hub = makeHub();
    const alice = online(hub, 'alice');
    const bob = online(hub, 'bob');
    const carol = online(hub, 'carol');
    const dave = online(hub, 'dave');
    const stranger = fakeUser(); // connected, not registered [PRES-4]
    // alice and bob share #lobby and #rust; carol shares only #lobby; dave shares nothing with alice.
    hub.join(alice.session, '#rust');
    hub.join(bob.session, '#rust');
    hub.part(dave.session, '#lobby', '');
    hub.join(dave.session, '#elsewhere');
    clear(alice, bob, carol, dave);
    expect(hub.rename(alice.session, 'alicia')).toBe('alice');
    expect(alice.session.name).toBe('alicia');
    expect(alice.conn.take()).toEqual(['NICK alice alicia']);
    expect(bob.conn.take()).toEqual(['NICK alice alicia']);
    expect(carol.conn.take()).toEqual(['NICK alice alicia']);
    expect(dave.conn.take()).toEqual([]);
    expect(stranger.conn.take()).toEqual([]);
    expect(names(hub.who())).toEqual(['alicia', 'bob', 'carol', 'dave']);
  });

  it('tells only the renamed client when it shares no room with anyone [NAME-3]', () => {
    const hub = makeHub();
    const alice = online(hub, 'alice');
    const bob = online(hub, 'bob');
    hub.part(alice.session, '#lobby', '');
    clear(alice, bob);
    hub.rename(alice.session, 'alicia');
    expect(alice.conn.take()).toEqual(['NICK alice alicia']);
    expect(bob.conn.take()).toEqual([]);
  });

  it('shows the new name in later lines about its rooms', () => {
    const hub = makeHub();
    const alice = online(hub, 'alice');
    const bob = online(hub, 'bob');
    hub.rename(alice.session, 'alicia');
    clear(alice, bob);
    hub.part(alice.session, '#lobby', 'bye');
    expect(bob.conn.take()).toEqual(['LEAVE #lobby alicia part bye']);
  });

  it('frees the old name at once and takes the new one [NAME-2]', () => {
    const hub = makeHub();
    const alice = online(hub, 'alice');
    hub.rename(alice.session, 'alicia');
    expect(hub.register(fakeUser().session, 'ALICE')).toBe('ALICE');
    expect(() => hub.register(fakeUser().session, 'Alicia')).toThrow(ProtocolError);
  });

  it('allows changing only the case and announces it like any rename [NAME-4]', () => {
    const hub = makeHub();
    const alice = online(hub, 'alice');
    const bob = online(hub, 'bob');
    clear(alice, bob);
    expect(hub.rename(alice.session, 'Alice')).toBe('alice');
    expect(alice.conn.take()).toEqual(['NICK alice Alice']);
    expect(bob.conn.take()).toEqual(['NICK alice Alice']);
    expect(names(hub.who())).toEqual(['Alice', 'bob']);
    expect(hub.online).toBe(2);
  });

  it('ignores a rename to exactly the current name without any line [NAME-4]', () => {
    const hub = makeHub();
    const alice = online(hub, 'alice');
    const bob = online(hub, 'bob');
    clear(alice, bob);
    expect(hub.rename(alice.session, 'alice')).toBeUndefined();
    expect(alice.conn.take()).toEqual([]);
    expect(bob.conn.take()).toEqual([]);
    expect(names(hub.who())).toEqual(['alice', 'bob']);
  });

  it.each(['Bob', 'BOB', 'bob'])('rejects %j with NAME_IN_USE NICK while bob is online and changes nothing [NAME-3]', (name) => {
    const hub = makeHub();
    const alice = online(hub, 'alice');
    const bob = online(hub, 'bob');
    clear(alice, bob);
    const error = protocolError(() => hub.rename(alice.session, name));
    expect(error.code).toBe('NAME_IN_USE');
    expect(error.command).toBe('NICK');
    expect(alice.session.name).toBe('alice');
    expect(names(hub.who())).toEqual(['alice', 'bob']);
    expect(alice.conn.take()).toEqual([]);
    expect(bob.conn.take()).toEqual([]);
  });

  it.each(['9lives', 'you', 'YOU', 'x'.repeat(25), 'a b', '', '#room'])(
    'rejects %j with BAD_NAME NICK and changes nothing [NAME-3]',
    (name) => {
      const hub = makeHub();
      const alice = online(hub, 'alice');
      clear(alice);
      const error = protocolError(() => hub.rename(alice.session, name));
      expect(error.code).toBe('BAD_NAME');
      expect(error.command).toBe('NICK');
      expect(alice.session.name).toBe('alice');
      expect(names(hub.who())).toEqual(['alice']);
      expect(alice.conn.take()).toEqual([]);
    },
  );
});

describe('Hub.remove', () => {
  it('takes a registered session offline and sends LEAVE <room> <name> <reason> to the other members of each of its rooms [PRES-1]', () => {
    const hub = makeHub();
    const alice = online(hub, 'alice');
    const bob = online(hub, 'bob');
    const carol = online(hub, 'carol');
    const stranger = fakeUser();
    hub.join(alice.session, '#rust');
    hub.join(carol.session, '#rust');
    clear(alice, bob, carol);
    expect(hub.remove(alice.session, 'quit', 'see you')).toBe(true);
    expect(alice.session.state).toBe(SessionState.Gone);
    expect(alice.session.rooms.size).toBe(0);
    expect(bob.conn.take()).toEqual(['LEAVE #lobby alice quit :see you']);
    expect(carol.conn.take()).toEqual(['LEAVE #lobby alice quit :see you', 'LEAVE #rust alice quit :see you']);
    expect(alice.conn.take()).toEqual([]);
    expect(stranger.conn.take()).toEqual([]);
  });

  it('omits the text parameter when the text is empty [PRES-1]', () => {
    const hub = makeHub();
    const alice = online(hub, 'alice');
    const bob = online(hub, 'bob');
    clear(bob);
    hub.remove(alice.session, 'quit', '');
    expect(bob.conn.take()).toEqual(['LEAVE #lobby alice quit']);
  });

  it.each(['lost', 'timeout', 'error', 'shutdown'] as const)('announces reason %s [PRES-1]', (reason) => {
    const hub = makeHub();
    const alice = online(hub, 'Alice');
    const bob = online(hub, 'bob');
    clear(bob);
    hub.remove(alice.session, reason, 'the reason');
    expect(bob.conn.take()).toEqual([`LEAVE #lobby Alice ${reason} :the reason`]);
  });

  it('announces nothing for a client in no room, yet takes it offline [PRES-1] [ROOM-4]', () => {
    const hub = makeHub();
    const alice = online(hub, 'alice');
    const bob = online(hub, 'bob');
    hub.part(alice.session, '#lobby', '');
    clear(bob);
    expect(hub.remove(alice.session, 'lost', 'Connection closed')).toBe(true);
    expect(bob.conn.take()).toEqual([]);
    expect(names(hub.who())).toEqual(['bob']);
  });

  it('removes from WHO and from its rooms, and frees the name at once [PRES-2]', () => {
    const hub = makeHub();
    const alice = online(hub, 'Alice');
    const bob = online(hub, 'bob');
    hub.join(alice.session, '#rust');
    hub.join(bob.session, '#rust');
    hub.remove(alice.session, 'lost', 'Connection closed');
    expect(names(hub.who())).toEqual(['bob']);
    expect(names(hub.who('#rust'))).toEqual(['bob']);
    expect(names(hub.who('#lobby'))).toEqual(['bob']);
    expect(hub.rooms().find((r) => r.name === '#rust')?.members).toBe(1);
    expect(hub.online).toBe(1);
    expect(hub.register(fakeUser().session, 'alice')).toBe('alice');
  });

  it('lets a room it was alone in disappear [ROOM-6]', () => {
    const hub = makeHub();
    const alice = online(hub, 'alice');
    hub.join(alice.session, '#solo');
    hub.remove(alice.session, 'quit', '');
    expect(hub.rooms().map((r) => r.name)).toEqual(['#lobby']);
  });

  it('does not announce a session that never registered, and marks it gone [PRES-4]', () => {
    const hub = makeHub();
    const bob = online(hub, 'bob');
    const stranger = fakeUser();
    clear(bob);
    expect(hub.remove(stranger.session, 'lost', 'Connection closed')).toBe(false);
    expect(stranger.session.state).toBe(SessionState.Gone);
    expect(bob.conn.take()).toEqual([]);
    expect(hub.online).toBe(1);
  });

  it('announces a session only once', () => {
    const hub = makeHub();
    const alice = online(hub, 'alice');
    const bob = online(hub, 'bob');
    clear(bob);
    expect(hub.remove(alice.session, 'quit', '')).toBe(true);
    expect(hub.remove(alice.session, 'lost', '')).toBe(false);
    expect(bob.conn.take()).toEqual(['LEAVE #lobby alice quit']);
  });

  it('does not remove another user who took the name after a rename', () => {
    const hub = makeHub();
    const alice = online(hub, 'alice');
    hub.rename(alice.session, 'alicia');
    const other = online(hub, 'alice');
    hub.remove(alice.session, 'quit', '');
    expect(names(hub.who())).toEqual(['alice']);
    expect(other.session.state).toBe(SessionState.Registered);
  });
});

describe('Hub.removeAll', () => {
  it('takes everyone offline without a LEAVE [SHUT-2]', () => {
    const hub = makeHub();
    const users = ['alice', 'bob', 'carol'].map((n) => online(hub, n));
    hub.join(users[0]!.session, '#rust');
    hub.join(users[1]!.session, '#rust');
    clear(...users);
    hub.removeAll();
    expect(hub.online).toBe(0);
    expect(hub.who()).toEqual([]);
    for (const user of users) {
      expect(user.session.state).toBe(SessionState.Gone);
      expect(user.session.rooms.size).toBe(0);
      expect(user.conn.take()).toEqual([]);
    }
  });
});

describe('Hub.who', () => {
  it('lists every registered client ordered by name without regard to case [PRES-3]', () => {
    const hub = makeHub();
    for (const name of ['dave', 'Carol', 'bob', 'Alice', 'eve', 'Bobby']) online(hub, name);
    fakeUser(); // connected, not registered [PRES-4]
    expect(names(hub.who())).toEqual(['Alice', 'bob', 'Bobby', 'Carol', 'dave', 'eve']);
  });

  it('lists everyone online, in a room or not, and with a room only its members [PRES-3]', () => {
    const hub = makeHub();
    const alice = online(hub, 'alice');
    const bob = online(hub, 'bob');
    online(hub, 'carol');
    hub.part(bob.session, '#lobby', '');
    hub.join(alice.session, '#rust');
    hub.join(bob.session, '#Rust');
    expect(names(hub.who())).toEqual(['alice', 'bob', 'carol']);
    expect(names(hub.who('#lobby'))).toEqual(['alice', 'carol']);
    expect(names(hub.who('#RUST'))).toEqual(['alice', 'bob']);
  });

  it('answers NO_SUCH_ROOM WHO for a room that does not exist, BAD_ROOM WHO for a bad name [PRES-3] [ROOM-1]', () => {
    const hub = makeHub();
    online(hub, 'alice');
    expect(protocolError(() => hub.who('#nowhere'))).toMatchObject({ code: 'NO_SUCH_ROOM', command: 'WHO' });
    expect(protocolError(() => hub.who('#no way'))).toMatchObject({ code: 'BAD_ROOM', command: 'WHO' });
    expect(protocolError(() => hub.who('lobby'))).toMatchObject({ code: 'BAD_ROOM', command: 'WHO' });
  });

  it('reports whole seconds since each client last sent SAY or ME, or registered [PRES-3]', () => {
    const clock = testClock(1_000_000);
    const hub = makeHub({ clock });
    const alice = online(hub, 'alice');
    clock.now += 1_500;
    const bob = online(hub, 'bob');
    clock.now += 2_999;
    expect(hub.who()).toEqual([
      { name: 'alice', idle: 4 },
      { name: 'bob', idle: 2 },
    ]);
    hub.say(alice.session, undefined, 'say', 'hello', 'SAY');
    clock.now += 1_000;
    hub.say(bob.session, undefined, 'me', 'waves', 'ME');
    clock.now += 61_000;
    expect(hub.who()).toEqual([
      { name: 'alice', idle: 62 },
      { name: 'bob', idle: 61 },
    ]);
  });

  it('does not count a rejected message, nor other commands, as speaking [PRES-3]', () => {
    const clock = testClock(1_000_000);
    const hub = makeHub({ clock });
    const alice = online(hub, 'alice');
    clock.now += 10_000;
    protocolError(() => hub.say(alice.session, '#nowhere', 'say', 'x', 'SAY'));
    protocolError(() => hub.say(alice.session, 'nobody', 'say', 'x', 'SAY'));
    hub.join(alice.session, '#rust');
    hub.topic(alice.session, '#rust', 'a topic');
    hub.rename(alice.session, 'alicia');
    expect(hub.who()).toEqual([{ name: 'alicia', idle: 10 }]);
  });

  it('never reports a negative idle time when the clock steps back', () => {
    const clock = testClock(1_000_000);
    const hub = makeHub({ clock });
    online(hub, 'alice');
    clock.now -= 60_000;
    expect(hub.who()).toEqual([{ name: 'alice', idle: 0 }]);
  });

  it('follows renames in the order [PRES-3]', () => {
    const hub = makeHub();
    const zed = online(hub, 'zed');
    online(hub, 'Mike');
    hub.rename(zed.session, 'Abe');
    expect(names(hub.who())).toEqual(['Abe', 'Mike']);
  });

  it('is empty when nobody is online', () => {
    expect(makeHub().who()).toEqual([]);
  });
});
