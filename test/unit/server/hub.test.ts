import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../../src/protocol/errors.ts';
import { nameProblem } from '../../../src/protocol/names.ts';
import { parseText } from '../../../src/protocol/parser.ts';
import { SessionState } from '../../../src/server/session.ts';
import { clear, fakeUser, makeHub, online, replay, testClock } from './fakes.ts';

/** Runs `fn` and returns the ProtocolError it throws. */
function protocolError(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ProtocolError);
    return error as ProtocolError;
  }
  throw new Error('expected a ProtocolError, nothing was thrown');
}

function params(line: string): readonly string[] {
  const result = parseText(line);
  if (result.kind !== 'message') throw new Error(`not a message: ${line}`);
  return result.message.params;
}

describe('Hub.register', () => {
  it('registers under the requested name and announces JOIN to the others only [SESSION-5]', () => {
    const hub = makeHub();
    const alice = online(hub, 'alice');
    clear(alice);
    const bob = fakeUser();
    expect(hub.register(bob.session, 'Bob')).toBe('Bob');
    expect(bob.session.state).toBe(SessionState.Registered);
    expect(bob.session.name).toBe('Bob');
    expect(hub.online).toBe(2);
    expect(alice.conn.take()).toEqual(['JOIN Bob']);
    expect(bob.conn.take()).toEqual([]);
  });

  it('assigns a guest name of the form guest-<digits> when none is given [SESSION-4]', () => {
    const hub = makeHub({ random: replay(0.5) });
    const user = fakeUser();
    const name = hub.register(user.session, undefined);
    expect(name).toBe('guest-5500');
    expect(name).toMatch(/^guest-\d+$/);
    expect(nameProblem(name, 24)).toBeUndefined();
    expect(hub.who()).toEqual(['guest-5500']);
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
    for (const name of hub.who()) expect(name.length).toBeLessThanOrEqual(10);
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
    expect(hub.who()).toEqual(['alice']);
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
    expect(hub.who()).toEqual(['McAlice']);
  });
});

describe('Hub.rename', () => {
  it('renames and sends NICK <old> <new> to every registered client, the renamed one included [NAME-3]', () => {
    const hub = makeHub();
    const alice = online(hub, 'alice');
    const bob = online(hub, 'bob');
    const carol = fakeUser(); // connected, not registered
    clear(alice, bob);
    expect(hub.rename(alice.session, 'alicia')).toBe('alice');
    expect(alice.session.name).toBe('alicia');
    expect(alice.conn.take()).toEqual(['NICK alice alicia']);
    expect(bob.conn.take()).toEqual(['NICK alice alicia']);
    expect(carol.conn.take()).toEqual([]);
    expect(hub.who()).toEqual(['alicia', 'bob']);
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
    expect(hub.who()).toEqual(['Alice', 'bob']);
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
    expect(hub.who()).toEqual(['alice', 'bob']);
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
    expect(hub.who()).toEqual(['alice', 'bob']);
    expect(alice.conn.take()).toEqual([]);
    expect(bob.conn.take()).toEqual([]);
  });

  it.each(['9lives', 'you', 'YOU', 'x'.repeat(25), 'a b', ''])(
    'rejects %j with BAD_NAME NICK and changes nothing [NAME-3]',
    (name) => {
      const hub = makeHub();
      const alice = online(hub, 'alice');
      clear(alice);
      const error = protocolError(() => hub.rename(alice.session, name));
      expect(error.code).toBe('BAD_NAME');
      expect(error.command).toBe('NICK');
      expect(alice.session.name).toBe('alice');
      expect(hub.who()).toEqual(['alice']);
      expect(alice.conn.take()).toEqual([]);
    },
  );
});

describe('Hub.say', () => {
  it('sends MSG to every other registered client and ECHO with the same id, seq and time to the sender [MSG-2] [MSG-3]', () => {
    const clock = testClock(1_000_000);
    const hub = makeHub({ clock, idPrefix: 'px' });
    const alice = online(hub, 'alice');
    const bob = online(hub, 'bob');
    const carol = online(hub, 'carol');
    const stranger = fakeUser(); // not registered [PRES-4]
    clear(alice, bob, carol);

    const message = hub.say(alice.session, 'hi everyone');
    expect(message).toEqual({ id: 'px-1', seq: 1, time: 1_000_000, from: 'alice', text: 'hi everyone' });

    const [echo, ...moreEcho] = alice.conn.take();
    expect(moreEcho).toEqual([]);
    expect(echo).toBe('ECHO px-1 1 1000000 alice :hi everyone');
    for (const other of [bob, carol]) {
      expect(other.conn.take()).toEqual(['MSG px-1 1 1000000 alice :hi everyone']);
    }
    expect(stranger.conn.take()).toEqual([]);
  });

  it.each([
    ['plain', 'hello'],
    ['leading colon', ':colon first'],
    ['spaces kept exactly', '  two  leading, trailing  '],
    ['only spaces', '   '],
    ['multi-byte UTF-8', 'héllo wörld ✓ 𝄞'],
    ['a tab', 'a\tb'],
  ])('relays the text byte for byte (%s) [MSG-2]', (_label, text) => {
    const hub = makeHub();
    const alice = online(hub, 'alice');
    const bob = online(hub, 'bob');
    clear(alice, bob);
    hub.say(alice.session, text);
    const [mine] = alice.conn.take();
    const [theirs] = bob.conn.take();
    expect(params(mine!)[4]).toBe(text);
    expect(params(theirs!)[4]).toBe(text);
    expect(Buffer.from(params(theirs!)[4]!)).toEqual(Buffer.from(text));
  });

  it('stamps seq strictly increasing by one across all senders, ids unique, time from the clock [MSG-4] [MSG-5] [MSG-6]', () => {
    const clock = testClock(5);
    const hub = makeHub({ clock });
    const alice = online(hub, 'alice');
    const bob = online(hub, 'bob');
    const seen: { id: string; seq: number; time: number }[] = [];
    for (let i = 0; i < 50; i++) {
      clock.now += i % 3; // time may stand still; seq may not
      seen.push(hub.say(i % 2 === 0 ? alice.session : bob.session, `m${i}`));
    }
    expect(seen.map((m) => m.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(new Set(seen.map((m) => m.id)).size).toBe(50);
    for (const { id } of seen) expect(id).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    expect(seen[49]!.time).toBe(clock.now);
    // Every receiver sees them in seq order [MSG-7].
    const seqs = (lines: string[]) => lines.map((l) => Number(params(l)[1]));
    const a = seqs(alice.conn.take().filter((l) => /^(MSG|ECHO) /.test(l)));
    const b = seqs(bob.conn.take().filter((l) => /^(MSG|ECHO) /.test(l)));
    expect(a).toEqual(seen.map((m) => m.seq));
    expect(b).toEqual(seen.map((m) => m.seq));
  });

  it('uses the sender\'s current name after a rename', () => {
    const hub = makeHub();
    const alice = online(hub, 'alice');
    const bob = online(hub, 'bob');
    hub.rename(alice.session, 'Alicia');
    clear(alice, bob);
    hub.say(alice.session, 'x');
    expect(params(bob.conn.take()[0]!)[3]).toBe('Alicia');
  });

  it('sends ECHO alone when nobody else is online [MSG-3]', () => {
    const hub = makeHub();
    const alice = online(hub, 'alice');
    clear(alice);
    hub.say(alice.session, 'anyone?');
    expect(alice.conn.take()).toHaveLength(1);
  });
});

describe('Hub.remove', () => {
  it('takes a registered session offline and sends LEAVE to the others only [PRES-1]', () => {
    const hub = makeHub();
    const alice = online(hub, 'alice');
    const bob = online(hub, 'bob');
    const stranger = fakeUser();
    clear(alice, bob);
    expect(hub.remove(alice.session, 'quit', 'see you')).toBe(true);
    expect(alice.session.state).toBe(SessionState.Gone);
    expect(bob.conn.take()).toEqual(['LEAVE alice quit :see you']);
    expect(alice.conn.take()).toEqual([]);
    expect(stranger.conn.take()).toEqual([]);
  });

  it('omits the text parameter when the text is empty [PRES-1]', () => {
    const hub = makeHub();
    const alice = online(hub, 'alice');
    const bob = online(hub, 'bob');
    clear(bob);
    hub.remove(alice.session, 'quit', '');
    expect(bob.conn.take()).toEqual(['LEAVE alice quit']);
  });

  it.each(['lost', 'timeout', 'error', 'shutdown'] as const)('announces reason %s [PRES-1]', (reason) => {
    const hub = makeHub();
    const alice = online(hub, 'Alice');
    const bob = online(hub, 'bob');
    clear(bob);
    hub.remove(alice.session, reason, 'the reason');
    expect(bob.conn.take()).toEqual([`LEAVE Alice ${reason} :the reason`]);
  });

  it('removes from WHO and frees the name at once [PRES-2]', () => {
    const hub = makeHub();
    const alice = online(hub, 'Alice');
    online(hub, 'bob');
    hub.remove(alice.session, 'lost', 'Connection closed');
    expect(hub.who()).toEqual(['bob']);
    expect(hub.online).toBe(1);
    expect(hub.register(fakeUser().session, 'alice')).toBe('alice');
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
    expect(bob.conn.take()).toEqual(['LEAVE alice quit']);
  });

  it('does not remove another user who took the name after a rename', () => {
    const hub = makeHub();
    const alice = online(hub, 'alice');
    hub.rename(alice.session, 'alicia');
    const other = online(hub, 'alice');
    hub.remove(alice.session, 'quit', '');
    expect(hub.who()).toEqual(['alice']);
    expect(other.session.state).toBe(SessionState.Registered);
  });
});

describe('Hub.removeAll', () => {
  it('takes everyone offline without a LEAVE [SHUT-2]', () => {
    const hub = makeHub();
    const users = ['alice', 'bob', 'carol'].map((n) => online(hub, n));
    clear(...users);
    hub.removeAll();
    expect(hub.online).toBe(0);
    expect(hub.who()).toEqual([]);
    for (const user of users) {
      expect(user.session.state).toBe(SessionState.Gone);
      expect(user.conn.take()).toEqual([]);
    }
  });
});

describe('Hub.who', () => {
  it('lists every registered client ordered by name without regard to case [PRES-3]', () => {
    const hub = makeHub();
    for (const name of ['dave', 'Carol', 'bob', 'Alice', 'eve', 'Bobby']) online(hub, name);
    fakeUser(); // connected, not registered [PRES-4]
    expect(hub.who()).toEqual(['Alice', 'bob', 'Bobby', 'Carol', 'dave', 'eve']);
  });

  it('follows renames in the order [PRES-3]', () => {
    const hub = makeHub();
    const zed = online(hub, 'zed');
    online(hub, 'Mike');
    hub.rename(zed.session, 'Abe');
    expect(hub.who()).toEqual(['Abe', 'Mike']);
  });

  it('is empty when nobody is online', () => {
    expect(makeHub().who()).toEqual([]);
  });
});

describe('Hub.broadcast', () => {
  it('sends one line to every registered session except the one named', () => {
    const hub = makeHub();
    const alice = online(hub, 'alice');
    const bob = online(hub, 'bob');
    const stranger = fakeUser();
    clear(alice, bob);
    hub.broadcast('PING x\n', alice.session);
    expect(alice.conn.take()).toEqual([]);
    expect(bob.conn.take()).toEqual(['PING x']);
    hub.broadcast('PING y\n');
    expect(alice.conn.take()).toEqual(['PING y']);
    expect(bob.conn.take()).toEqual(['PING y']);
    expect(stranger.conn.take()).toEqual([]);
  });
});
