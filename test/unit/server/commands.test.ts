import { describe, expect, it } from 'vitest';
import { ERRORS, ProtocolError, type ErrorCode } from '../../../src/protocol/errors.ts';
import { parseText } from '../../../src/protocol/parser.ts';
import { COMMANDS, dispatch, replyError } from '../../../src/server/commands.ts';
import { SessionState } from '../../../src/server/session.ts';
import { TestStore, clear, fakeUser, makeContext, makeHub, msg, online, type FakeUser, type TestContext } from './fakes.ts';

/** Dispatches each line for `user`, as the server does after parsing. */
function run(ctx: TestContext, user: FakeUser, ...lines: string[]): string[] {
  for (const line of lines) dispatch(ctx, user.session, msg(line));
  return user.conn.take();
}

/** The parts of an ERR line: code, command, text. */
function err(line: string | undefined): { code: string; command: string; text: string } {
  const result = parseText(line ?? '');
  if (result.kind !== 'message' || result.message.command !== 'ERR') throw new Error(`not an ERR: ${line}`);
  const [code = '', command = '', text = ''] = result.message.params;
  expect(result.message.params).toHaveLength(3);
  return { code, command, text };
}

/** The names WHO lists, in order. */
const names = (ctx: TestContext) => ctx.hub.who().map((u) => u.name);

function setup() {
  const ctx = makeContext(makeHub());
  const user = fakeUser();
  return { ctx, user };
}

/** A context with `alice` and `bob` registered, their buffers cleared. */
function two() {
  const ctx = makeContext(makeHub());
  const alice = online(ctx.hub, 'alice');
  const bob = online(ctx.hub, 'bob');
  clear(alice, bob);
  return { ctx, alice, bob };
}

describe('the order of checks [LINE-7]', () => {
  it('[LINE-7] SAY without parameters before HELLO gets NOT_REGISTERED', () => {
    const { ctx, user } = setup();
    expect(run(ctx, user, 'SAY').map(err)).toEqual([expect.objectContaining({ code: 'NOT_REGISTERED', command: 'SAY' })]);
  });

  it('[LINE-7] HELLO without parameters after registration gets ALREADY_REGISTERED', () => {
    const { ctx, alice } = two();
    expect(run(ctx, alice, 'HELLO').map(err)).toEqual([
      expect.objectContaining({ code: 'ALREADY_REGISTERED', command: 'HELLO' }),
    ]);
  });
});

describe('the command table', () => {
  it('takes the parameter counts of SPEC §14', () => {
    const counts = Object.fromEntries(Object.entries(COMMANDS).map(([k, v]) => [k, [v.min, v.max, v.needs]]));
    expect(counts).toEqual({
      HELLO: [1, 3, 'greeting'],
      NICK: [1, 1, 'registered'],
      SAY: [1, 2, 'registered'],
      ME: [1, 2, 'registered'],
      JOIN: [1, 1, 'registered'],
      PART: [1, 2, 'registered'],
      ROOMS: [0, 0, 'registered'],
      TOPIC: [1, 2, 'registered'],
      WHO: [0, 1, 'registered'],
      // <target> and LATEST <limit> up to BETWEEN <ref> <ref> <limit>.
      HISTORY: [3, 5, 'registered'],
      PING: [1, 1, 'any'],
      PONG: [1, 1, 'any'],
      QUIT: [0, 1, 'any'],
    });
  });
});

describe('dispatch: unknown commands', () => {
  it.each(['FOO', 'MSG', 'ECHO', 'HIST', 'ENDHIST', 'WELCOME', 'LEAVE', 'ROOM', 'USER', 'PRIVMSG'])(
    'answers %s with ERR UNKNOWN_COMMAND and keeps the connection [LINE-5]',
    (command) => {
      const { ctx, user } = setup();
      const [line, ...rest] = run(ctx, user, `${command} a b`);
      expect(rest).toEqual([]);
      expect(err(line)).toMatchObject({ code: 'UNKNOWN_COMMAND', command });
      expect(user.conn.isClosed).toBe(false);
      expect(ctx.disconnects).toEqual([]);
    },
  );

  it('matches command words without regard to case [LINE-1]', () => {
    const { ctx, user } = setup();
    expect(run(ctx, user, 'ping abc', 'Ping def', 'hello 1 alice', 'sAy :hi', 'jOiN #x')).toEqual([
      'PONG abc',
      'PONG def',
      expect.stringMatching(/^WELCOME alice /),
      'JOIN #lobby alice',
      'ROOM #lobby 1 :',
      'ENDHIST #lobby 0',
      expect.stringMatching(/^ECHO .* alice #lobby say hi$/),
      'JOIN #x alice',
      'ROOM #x 1 :',
      'ENDHIST #x 0',
    ]);
  });
});

describe('dispatch: parameter counts [LINE-6]', () => {
  it.each([
    ['NICK', 'NICK'],
    ['NICK a b', 'NICK'],
    ['SAY', 'SAY'],
    ['SAY #lobby two words', 'SAY'],
    ['ME', 'ME'],
    ['ME #lobby two words', 'ME'],
    ['JOIN', 'JOIN'],
    ['JOIN #a #b', 'JOIN'],
    ['PART', 'PART'],
    ['PART #lobby two words', 'PART'],
    ['ROOMS now', 'ROOMS'],
    ['TOPIC', 'TOPIC'],
    ['TOPIC #lobby two words', 'TOPIC'],
    ['WHO #lobby now', 'WHO'],
    ['HISTORY', 'HISTORY'],
    ['HISTORY #lobby', 'HISTORY'],
    ['HISTORY #lobby LATEST', 'HISTORY'],
    ['HISTORY #lobby BETWEEN id=a id=b 5 6', 'HISTORY'],
    ['PING', 'PING'],
    ['PING a b', 'PING'],
    ['PONG', 'PONG'],
    ['PONG a b', 'PONG'],
    ['QUIT two words', 'QUIT'],
  ])('answers %j with ERR BAD_PARAMS %s and has no other effect [LINE-6]', (line, command) => {
    const { ctx, alice, bob } = two();
    const [reply, ...rest] = run(ctx, alice, line);
    expect(rest).toEqual([]);
    expect(err(reply)).toMatchObject({ code: 'BAD_PARAMS', command });
    expect(bob.conn.take()).toEqual([]);
    expect(names(ctx)).toEqual(['alice', 'bob']);
    expect(ctx.hub.rooms().map((r) => [r.name, r.members])).toEqual([['#lobby', 2]]);
    expect(alice.conn.isClosed).toBe(false);
    expect(ctx.disconnects).toEqual([]);
  });

  it('hints at the trailing parameter when a text was sent without a colon', () => {
    const { ctx, alice } = two();
    expect(err(run(ctx, alice, 'SAY #lobby hello world')[0]).text).toContain(':');
  });

  it.each(['HELLO', 'HELLO 1 alice key extra'])('answers %j before registration with ERR BAD_PARAMS HELLO [LINE-6]', (line) => {
    const { ctx, user } = setup();
    expect(run(ctx, user, line).map(err)).toEqual([expect.objectContaining({ code: 'BAD_PARAMS', command: 'HELLO' })]);
    expect(user.session.state).toBe(SessionState.Greeting);
  });

  it('[LINE-7] checks the registration before the count', () => {
    const { ctx, user } = setup();
    expect(err(run(ctx, user, 'WHO x')[0]).code).toBe('NOT_REGISTERED');
  });
});

describe('dispatch: the greeting state [SESSION-7]', () => {
  it.each(['NICK bob', 'SAY :hello', 'SAY bob :hi', 'ME :waves', 'JOIN #lobby', 'PART #lobby', 'ROOMS', 'TOPIC #lobby', 'WHO', 'WHO #lobby', 'HISTORY * LATEST 5'])(
    'answers %j with ERR NOT_REGISTERED before HELLO [SESSION-7]',
    (line) => {
    const { ctx, user } = setup();
    const bystander = online(ctx.hub, 'bystander');
    clear(bystander);
    const [reply, ...rest] = run(ctx, user, line);
    expect(rest).toEqual([]);
    expect(err(reply)).toMatchObject({ code: 'NOT_REGISTERED', command: line.split(' ')[0] });
    expect(user.session.state).toBe(SessionState.Greeting);
    expect(user.conn.isClosed).toBe(false);
    expect(user.session.rooms.size).toBe(0);
    expect(bystander.conn.take()).toEqual([]);
  },
  );

  it('accepts PING before HELLO and answers PONG with the same token [SESSION-7] [PING-1]', () => {
    const { ctx, user } = setup();
    expect(run(ctx, user, 'PING tok-1')).toEqual(['PONG tok-1']);
  });

  it('accepts PONG before HELLO and ignores it without a reply [SESSION-7] [PING-2]', () => {
    const { ctx, user } = setup();
    expect(run(ctx, user, 'PONG nothing-asked')).toEqual([]);
    expect(user.conn.isClosed).toBe(false);
  });

  it('accepts QUIT before HELLO: BYE, close, and no LEAVE [SESSION-7] [QUIT-1] [PRES-4]', () => {
    const { ctx, user } = setup();
    const bystander = online(ctx.hub, 'bystander');
    clear(bystander);
    expect(run(ctx, user, 'QUIT :bye now')).toEqual(['BYE :bye now']);
    expect(user.conn.closedWith).toBe('BYE :bye now\n');
    expect(ctx.disconnects).toMatchObject([{ session: user.session, reason: 'quit', text: 'bye now' }]);
    expect(bystander.conn.take()).toEqual([]);
  });

  it('accepts HELLO before registration', () => {
    const { ctx, user } = setup();
    expect(run(ctx, user, 'HELLO 1 alice').map((l) => msg(l).command)).toEqual(['WELCOME', 'JOIN', 'ROOM', 'ENDHIST']);
    expect(user.session.state).toBe(SessionState.Registered);
  });
});

describe('dispatch: HELLO', () => {
  it('answers WELCOME <name>, then joins the lobby before the next line: JOIN, ROOM and the replay; the members see JOIN [SESSION-5] [ROOM-2]', () => {
    const { ctx, alice, bob } = two();
    run(ctx, alice, 'SAY :before carol');
    clear(alice, bob);
    const carol = fakeUser();
    const [welcome, ...rest] = run(ctx, carol, 'HELLO 1 Carol');
    const parsed = msg(welcome!);
    expect(parsed.command).toBe('WELCOME');
    expect(parsed.params[0]).toBe('Carol');
    expect(parsed.params).toHaveLength(3);
    expect(parsed.params[1]).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    expect(rest).toEqual(['JOIN #lobby Carol', 'ROOM #lobby 3 :', expect.stringMatching(/^HIST \S+ 1 \d+ alice #lobby say :before carol$/), 'ENDHIST #lobby 1']);
    expect(alice.conn.take()).toEqual(['JOIN #lobby Carol']);
    expect(bob.conn.take()).toEqual(['JOIN #lobby Carol']);
    expect(ctx.logs.some((l) => l.includes('Carol'))).toBe(true);
  });

  it('sends WELCOME as its own chunk, before the lobby join [SESSION-5]', () => {
    const { ctx, user } = setup();
    run(ctx, user, 'HELLO 1 alice');
    expect(user.conn.chunks).toEqual([expect.stringMatching(/^WELCOME alice \S+ :[^\n]*\n$/), 'JOIN #lobby alice\nROOM #lobby 1 :\nENDHIST #lobby 0\n']);
  });

  it('answers WELCOME alone on a server without a lobby [SESSION-5]', () => {
    const ctx = makeContext(makeHub({ lobby: undefined }));
    const user = fakeUser();
    expect(run(ctx, user, 'HELLO 1 alice').map((l) => msg(l).command)).toEqual(['WELCOME']);
    expect(user.session.rooms.size).toBe(0);
  });

  it('counts the others online in the WELCOME text', () => {
    const { ctx } = two();
    expect(msg(run(ctx, fakeUser(), 'HELLO 1 carol')[0]!).params[2]).toContain('2 other users');
    expect(msg(run(makeContext(), fakeUser(), 'HELLO 1 carol')[0]!).params[2]).toContain('0 other users');
  });

  it('gives the key in WELCOME <name> <key> :<text>, and takes the name back with it after a drop [NAME-5]', () => {
    const { ctx, alice, bob } = two();
    run(ctx, alice, 'SAY bob :before the drop');
    ctx.disconnect(alice.session, 'lost', 'Connection closed');
    const back = fakeUser();
    const [welcome] = run(ctx, back, 'HELLO 1 alice key1');
    expect(msg(welcome!).params.slice(0, 2)).toEqual(['alice', 'key1']);
    expect(run(ctx, back, 'HISTORY bob LATEST 5').filter((l) => l.startsWith('HIST '))).toHaveLength(1);
    // Without the key, a newcomer to the name reads none of it.
    ctx.disconnect(back.session, 'quit', '');
    const newcomer = fakeUser();
    run(ctx, newcomer, 'HELLO 1 alice');
    expect(run(ctx, newcomer, 'HISTORY bob LATEST 5')).toEqual(['ENDHIST bob 0']);
    expect(bob.conn.isClosed).toBe(false);
  });

  it.each(['HELLO 1 alice key.with.dots', 'HELLO 1 alice :two words', 'HELLO 1 alice :', `HELLO 1 alice ${'k'.repeat(65)}`])(
    'answers a malformed key, %j, with ERR BAD_PARAMS HELLO and stays in the greeting state [NAME-5]',
    (line) => {
      const { ctx, user } = setup();
      expect(run(ctx, user, line).map(err)).toEqual([expect.objectContaining({ code: 'BAD_PARAMS', command: 'HELLO' })]);
      expect(user.session.state).toBe(SessionState.Greeting);
      expect(msg(run(ctx, user, `HELLO 1 alice ${'k'.repeat(64)}`)[0]!).command).toBe('WELCOME');
    },
  );

  it('takes a wrong but well-formed key as no key: a new tenure with a new key, not an error [NAME-5]', () => {
    const { ctx, user } = setup();
    const [welcome] = run(ctx, user, 'HELLO 1 alice someone-elses-key');
    expect(msg(welcome!).command).toBe('WELCOME');
    expect(msg(welcome!).params[1]).not.toBe('someone-elses-key');
  });

  it('registers a guest when no name is given [SESSION-4]', () => {
    const { ctx, user } = setup();
    const [welcome, join] = run(ctx, user, 'HELLO 1');
    expect(msg(welcome!).params[0]).toMatch(/^guest-\d+$/);
    expect(msg(join!).params).toEqual(['#lobby', user.session.name]);
    expect(names(ctx)).toEqual([user.session.name]);
  });

  it('answers an unsupported version with ERR UNSUPPORTED_VERSION HELLO and stays in the greeting state [SESSION-3]', () => {
    const { ctx, user } = setup();
    for (const version of ['2', '0', '1.0', 'v1']) {
      expect(err(run(ctx, user, `HELLO ${version} alice`)[0])).toMatchObject({
        code: 'UNSUPPORTED_VERSION',
        command: 'HELLO',
      });
      expect(user.session.state).toBe(SessionState.Greeting);
    }
    expect(ctx.hub.online).toBe(0);
    // ...so the client can try another version.
    expect(msg(run(ctx, user, 'HELLO 1 alice')[0]!).command).toBe('WELCOME');
  });

  it('answers a second HELLO with ERR ALREADY_REGISTERED HELLO and changes nothing [SESSION-8]', () => {
    const { ctx, alice, bob } = two();
    for (const line of ['HELLO 1 other', 'HELLO 1', 'HELLO 2 x', 'HELLO 1 alice']) {
      const [reply, ...rest] = run(ctx, alice, line);
      expect(rest).toEqual([]);
      expect(err(reply)).toMatchObject({ code: 'ALREADY_REGISTERED', command: 'HELLO' });
    }
    expect(alice.session.name).toBe('alice');
    expect(names(ctx)).toEqual(['alice', 'bob']);
    expect(alice.session.rooms.size).toBe(1);
    expect(bob.conn.take()).toEqual([]);
  });

  it('answers a bad or taken name with BAD_NAME / NAME_IN_USE and allows another HELLO [SESSION-6]', () => {
    const { ctx } = two();
    const carol = fakeUser();
    expect(err(run(ctx, carol, 'HELLO 1 you')[0]).code).toBe('BAD_NAME');
    expect(err(run(ctx, carol, 'HELLO 1 :')[0]).code).toBe('BAD_NAME');
    expect(err(run(ctx, carol, 'HELLO 1 ALICE')[0])).toMatchObject({ code: 'NAME_IN_USE', command: 'HELLO' });
    expect(carol.session.state).toBe(SessionState.Greeting);
    expect(msg(run(ctx, carol, 'HELLO 1 carol')[0]!).params[0]).toBe('carol');
  });

  it('treats a trailing parameter like a middle one [LINE-3]', () => {
    const { ctx, user } = setup();
    expect(msg(run(ctx, user, 'HELLO :1 ')[0]!).command).toBe('ERR'); // "1 " is not "1"
    expect(msg(run(ctx, user, 'HELLO 1 :dave')[0]!).params[0]).toBe('dave');
  });
});

describe('dispatch: NICK', () => {
  it('sends NICK <old> <new> to the renamed one and everyone sharing a room with it [NAME-3]', () => {
    const { ctx, alice, bob } = two();
    expect(run(ctx, alice, 'NICK alicia')).toEqual(['NICK alice alicia']);
    expect(bob.conn.take()).toEqual(['NICK alice alicia']);
    expect(ctx.logs.some((l) => l.includes('alicia'))).toBe(true);
  });

  it('ignores a NICK to exactly the current name without a reply [NAME-4]', () => {
    const { ctx, alice, bob } = two();
    expect(run(ctx, alice, 'NICK alice')).toEqual([]);
    expect(bob.conn.take()).toEqual([]);
  });

  it('announces a case-only rename [NAME-4]', () => {
    const { ctx, alice, bob } = two();
    expect(run(ctx, alice, 'NICK ALICE')).toEqual(['NICK alice ALICE']);
    expect(bob.conn.take()).toEqual(['NICK alice ALICE']);
  });

  it('answers a taken or invalid name with ERR NAME_IN_USE / BAD_NAME NICK and changes nothing [NAME-3]', () => {
    const { ctx, alice, bob } = two();
    expect(err(run(ctx, alice, 'NICK Bob')[0])).toMatchObject({ code: 'NAME_IN_USE', command: 'NICK' });
    expect(err(run(ctx, alice, 'NICK 1bob')[0])).toMatchObject({ code: 'BAD_NAME', command: 'NICK' });
    expect(err(run(ctx, alice, 'NICK :')[0])).toMatchObject({ code: 'BAD_NAME', command: 'NICK' });
    expect(alice.session.name).toBe('alice');
    expect(bob.conn.take()).toEqual([]);
  });
});

describe('dispatch: SAY', () => {
  it('sends ECHO to the sender and MSG to the others with the same parameters, to the lobby without a target [MSG-1] [MSG-2] [MSG-3]', () => {
    const { ctx, alice, bob } = two();
    const [echo, ...rest] = run(ctx, alice, 'SAY :hello there ');
    expect(rest).toEqual([]);
    const [theirs, ...others] = bob.conn.take();
    expect(others).toEqual([]);
    const e = msg(echo!);
    const m = msg(theirs!);
    expect(e.command).toBe('ECHO');
    expect(m.command).toBe('MSG');
    expect(e.params).toEqual(m.params);
    expect(e.params.slice(3)).toEqual(['alice', '#lobby', 'say', 'hello there ']);
  });

  it('reads one parameter as the text, two as target and text [MSG-1] [LINE-3]', () => {
    const { ctx, alice, bob } = two();
    run(ctx, bob, 'JOIN #rust');
    clear(bob);
    // "SAY #rust" says "#rust" in the lobby.
    expect(msg(run(ctx, alice, 'SAY #rust')[0]!).params.slice(4)).toEqual(['#lobby', 'say', '#rust']);
    expect(msg(run(ctx, alice, 'SAY #lobby :#rust')[0]!).params.slice(4)).toEqual(['#lobby', 'say', '#rust']);
    expect(msg(run(ctx, alice, 'SAY bob psst')[0]!).params.slice(3)).toEqual(['alice', 'bob', 'say', 'psst']);
    expect(bob.conn.take().map((l) => msg(l).params.slice(4))).toEqual([
      ['#lobby', 'say', '#rust'],
      ['#lobby', 'say', '#rust'],
      ['bob', 'say', 'psst'],
    ]);
  });

  it('answers NOT_IN_ROOM, NO_SUCH_ROOM, BAD_ROOM and NO_SUCH_USER with the command word, and relays nothing [MSG-1]', () => {
    const { ctx, alice, bob } = two();
    run(ctx, bob, 'JOIN #rust');
    clear(bob);
    expect(run(ctx, alice, 'SAY #rust :x', 'SAY #nowhere :x', 'SAY #bad.name :x', 'SAY nobody :x', 'ME #rust :x').map(err)).toEqual([
      expect.objectContaining({ code: 'NOT_IN_ROOM', command: 'SAY' }),
      expect.objectContaining({ code: 'NO_SUCH_ROOM', command: 'SAY' }),
      expect.objectContaining({ code: 'BAD_ROOM', command: 'SAY' }),
      expect.objectContaining({ code: 'NO_SUCH_USER', command: 'SAY' }),
      expect.objectContaining({ code: 'NOT_IN_ROOM', command: 'ME' }),
    ]);
    expect(bob.conn.take()).toEqual([]);
  });

  it('answers STORAGE_FAILED SAY when the store cannot keep the message, and relays nothing [STORE-3]', () => {
    const store = new TestStore();
    const ctx = makeContext(makeHub({ store }));
    const alice = online(ctx.hub, 'alice');
    const bob = online(ctx.hub, 'bob');
    clear(alice, bob);
    store.failAppend = true;
    expect(run(ctx, alice, 'SAY :lost', 'ME :lost too', 'SAY bob :lost').map(err)).toEqual([
      expect.objectContaining({ code: 'STORAGE_FAILED', command: 'SAY' }),
      expect.objectContaining({ code: 'STORAGE_FAILED', command: 'ME' }),
      expect.objectContaining({ code: 'STORAGE_FAILED', command: 'SAY' }),
    ]);
    expect(bob.conn.take()).toEqual([]);
    expect(alice.conn.isClosed).toBe(false);
    expect(ctx.logs.some((l) => l.includes('lost'))).toBe(false);
  });

  it('logs each message with its id, sender, target and, for a room, its text; with logMessages off, none of it', () => {
    const { ctx, alice } = two();
    const [echo] = run(ctx, alice, 'SAY :a secret');
    expect(ctx.logs).toContain(`Message ${msg(echo!).params[0]} from alice to #lobby: a secret`);
    // A private message is logged without its text [MSG-10].
    const [pm] = run(ctx, alice, 'SAY bob :between us');
    expect(ctx.logs).toContain(`Message ${msg(pm!).params[0]} from alice to bob (private)`);
    expect(ctx.logs.some((l) => l.includes('between us'))).toBe(false);
    const quiet = makeContext();
    const q = online(quiet.hub, 'q');
    run({ ...quiet, logMessages: false }, q, 'SAY :a secret', 'SAY q :another');
    expect(quiet.logs.some((l) => l.includes('secret') || l.includes('another'))).toBe(false);
  });

  it('answers an empty text with ERR BAD_PARAMS SAY and relays nothing [MSG-1]', () => {
    const { ctx, alice, bob } = two();
    expect(err(run(ctx, alice, 'SAY :')[0])).toMatchObject({ code: 'BAD_PARAMS', command: 'SAY' });
    expect(err(run(ctx, alice, 'SAY bob :')[0])).toMatchObject({ code: 'BAD_PARAMS', command: 'SAY' });
    expect(err(run(ctx, alice, 'ME #lobby :')[0])).toMatchObject({ code: 'BAD_PARAMS', command: 'ME' });
    expect(bob.conn.take()).toEqual([]);
    // The rejected line used no seq: the next message is still 1.
    expect(msg(run(ctx, alice, 'SAY x')[0]!).params[1]).toBe('1');
  });

  it('answers every SAY with exactly one ECHO or ERR, in order [MSG-8]', () => {
    const { ctx, alice } = two();
    const replies = run(ctx, alice, 'SAY a', 'SAY :', 'SAY :b c', 'SAY', 'SAY d');
    expect(replies.map((l) => msg(l).command)).toEqual(['ECHO', 'ERR', 'ECHO', 'ERR', 'ECHO']);
    expect(replies.filter((l) => l.startsWith('ECHO')).map((l) => msg(l).params[1])).toEqual(['1', '2', '3']);
  });
});

describe('dispatch: ME [MSG-9]', () => {
  it('sends kind me, to the lobby or a target, exactly like SAY', () => {
    const { ctx, alice, bob } = two();
    expect(run(ctx, alice, 'ME :waves', 'ME bob :nods').map((l) => msg(l).params.slice(3))).toEqual([
      ['alice', '#lobby', 'me', 'waves'],
      ['alice', 'bob', 'me', 'nods'],
    ]);
    expect(bob.conn.take().map((l) => msg(l).command)).toEqual(['MSG', 'MSG']);
  });
});

describe('dispatch: WHO', () => {
  it('answers USER <name> <idle> per registered client ordered without regard to case, then ENDWHO <count> [PRES-3]', () => {
    const { ctx, alice } = two();
    online(ctx.hub, 'Zoe');
    online(ctx.hub, 'Bea');
    fakeUser(); // not registered [PRES-4]
    clear(alice);
    expect(run(ctx, alice, 'WHO')).toEqual(['USER alice 0', 'USER Bea 0', 'USER bob 0', 'USER Zoe 0', 'ENDWHO 4']);
  });

  it('with a room, lists its members only; NO_SUCH_ROOM WHO when there is none [PRES-3]', () => {
    const { ctx, alice, bob } = two();
    run(ctx, bob, 'JOIN #rust');
    expect(run(ctx, alice, 'WHO #RUST', 'WHO #lobby', 'WHO #nowhere')).toEqual([
      'USER bob 0',
      'ENDWHO 1',
      'USER alice 0',
      'USER bob 0',
      'ENDWHO 2',
      expect.stringMatching(/^ERR NO_SUCH_ROOM WHO :/),
    ]);
  });

  it('sends the whole answer as one chunk of whole lines', () => {
    const { ctx, alice } = two();
    alice.conn.chunks.length = 0;
    run(ctx, alice, 'WHO');
    expect(alice.conn.chunks).toEqual(['USER alice 0\nUSER bob 0\nENDWHO 2\n']);
  });
});

describe('dispatch: JOIN, PART, ROOMS and TOPIC', () => {
  it('JOIN answers JOIN, ROOM and the replay; ALREADY_IN_ROOM and BAD_ROOM carry the command word [ROOM-3]', () => {
    const { ctx, alice, bob } = two();
    expect(run(ctx, alice, 'JOIN #rust')).toEqual(['JOIN #rust alice', 'ROOM #rust 1 :', 'ENDHIST #rust 0']);
    expect(run(ctx, alice, 'JOIN #RUST', 'JOIN rust').map(err)).toEqual([
      expect.objectContaining({ code: 'ALREADY_IN_ROOM', command: 'JOIN' }),
      expect.objectContaining({ code: 'BAD_ROOM', command: 'JOIN' }),
    ]);
    expect(bob.conn.take()).toEqual([]);
  });

  it('PART answers LEAVE <room> <name> part [:<reason>] to the leaver and the members [ROOM-4]', () => {
    const { ctx, alice, bob } = two();
    expect(run(ctx, alice, 'PART #lobby :gone fishing')).toEqual(['LEAVE #lobby alice part :gone fishing']);
    expect(bob.conn.take()).toEqual(['LEAVE #lobby alice part :gone fishing']);
    expect(err(run(ctx, alice, 'PART #lobby')[0])).toMatchObject({ code: 'NOT_IN_ROOM', command: 'PART' });
    expect(run(ctx, bob, 'PART #lobby')).toEqual(['LEAVE #lobby bob part']);
  });

  it('ROOMS answers ROOM <room> <members> :<topic> per room ordered without regard to case, then ENDROOMS <count>, in one chunk [ROOM-5]', () => {
    const { ctx, alice, bob } = two();
    run(ctx, bob, 'JOIN #Zed', 'JOIN #alpha', 'TOPIC #alpha :first things');
    alice.conn.take();
    alice.conn.chunks.length = 0;
    expect(run(ctx, alice, 'ROOMS')).toEqual(['ROOM #alpha 1 :first things', 'ROOM #lobby 2 :', 'ROOM #Zed 1 :', 'ENDROOMS 3']);
    expect(alice.conn.chunks).toHaveLength(1);
  });

  it('TOPIC asks or sets; the errors carry the command word [ROOM-7]', () => {
    const { ctx, alice, bob } = two();
    expect(run(ctx, alice, 'TOPIC #lobby')).toEqual(['TOPIC #lobby * 0 :']);
    const [set] = run(ctx, alice, 'TOPIC #lobby :Say hello');
    expect(set).toMatch(/^TOPIC #lobby alice \d+ :Say hello$/);
    expect(bob.conn.take()).toEqual([set]);
    expect(run(ctx, bob, 'TOPIC #LOBBY')).toEqual([set]);
    expect(run(ctx, alice, 'TOPIC #nowhere', 'TOPIC #nowhere :x', 'TOPIC #lobby :' + 'x'.repeat(301)).map(err)).toEqual([
      expect.objectContaining({ code: 'NO_SUCH_ROOM', command: 'TOPIC' }),
      expect.objectContaining({ code: 'NOT_IN_ROOM', command: 'TOPIC' }),
      expect.objectContaining({ code: 'BAD_PARAMS', command: 'TOPIC' }),
    ]);
  });
});

describe('dispatch: HISTORY [HIST-2] [HIST-3]', () => {
  /** alice and bob in the lobby, with five messages there and one private one. */
  function talked() {
    const { ctx, alice, bob } = two();
    const ids = run(ctx, alice, 'SAY :one', 'SAY :two', 'SAY bob :private', 'SAY :three', 'SAY :four', 'SAY :five').map((l) => msg(l).params[0]!);
    clear(alice, bob);
    return { ctx, alice, bob, ids };
  }

  const histTexts = (lines: string[]) => lines.filter((l) => l.startsWith('HIST ')).map((l) => msg(l).params[6]);

  it('answers HIST lines, oldest first, then ENDHIST <target as written> <count>, all in one chunk', () => {
    const { ctx, alice } = talked();
    alice.conn.chunks.length = 0;
    const lines = run(ctx, alice, 'HISTORY #LOBBY LATEST 2');
    expect(lines).toEqual([
      expect.stringMatching(/^HIST \S+ 4 \d+ alice #lobby say four$/),
      expect.stringMatching(/^HIST \S+ 5 \d+ alice #lobby say five$/),
      'ENDHIST #LOBBY 2',
    ]);
    expect(alice.conn.chunks).toHaveLength(1);
  });

  it('reads each selector with id and time refs', () => {
    const { ctx, alice, ids } = talked();
    expect(histTexts(run(ctx, alice, `HISTORY #lobby BEFORE id=${ids[3]} 10`))).toEqual(['one', 'two']);
    expect(histTexts(run(ctx, alice, `history #lobby after id=${ids[1]} 2`))).toEqual(['three', 'four']);
    expect(histTexts(run(ctx, alice, `HISTORY * BETWEEN id=${ids[0]} id=${ids[4]} 10`))).toEqual(['two', 'private', 'three']);
    expect(histTexts(run(ctx, alice, 'HISTORY bob AFTER time=0 10'))).toEqual(['private']);
    expect(run(ctx, alice, 'HISTORY Bob LATEST 10').at(-1)).toBe('ENDHIST Bob 1');
  });

  it('answers an empty batch when nothing matches [HIST-3]', () => {
    const { ctx, alice, ids } = talked();
    expect(run(ctx, alice, `HISTORY #lobby AFTER id=${ids[5]} 10`)).toEqual(['ENDHIST #lobby 0']);
    expect(run(ctx, alice, 'HISTORY carol LATEST 10')).toEqual(['ENDHIST carol 0']);
  });

  it.each([
    ['HISTORY #lobby LATEST 0', 'BAD_PARAMS'],
    ['HISTORY #lobby LATEST 501', 'BAD_PARAMS'],
    ['HISTORY #lobby LATEST all', 'BAD_PARAMS'],
    ['HISTORY #lobby AROUND id=x 5', 'BAD_PARAMS'],
    ['HISTORY #lobby BEFORE x 5', 'BAD_PARAMS'],
    ['HISTORY #lobby BETWEEN id=x 5 5', 'BAD_PARAMS'],
    ['HISTORY #lobby AFTER id=nope 5', 'UNKNOWN_MESSAGE'],
    ['HISTORY #rust LATEST 5', 'NOT_IN_ROOM'],
    ['HISTORY #bad.room LATEST 5', 'BAD_ROOM'],
  ])('answers %j with ERR %s HISTORY and nothing else', (line, code) => {
    const { ctx, alice } = talked();
    const [reply, ...rest] = run(ctx, alice, line);
    expect(rest).toEqual([]);
    expect(err(reply)).toMatchObject({ code, command: 'HISTORY' });
  });

  it('takes a limit up to the context\'s HISTLIMIT', () => {
    const { ctx, alice } = talked();
    const small = { ...ctx, historyPage: 3 };
    expect(err(run(small, alice, 'HISTORY #lobby LATEST 4')[0]).code).toBe('BAD_PARAMS');
    expect(histTexts(run(small, alice, 'HISTORY #lobby LATEST 3'))).toEqual(['three', 'four', 'five']);
  });
});

describe('dispatch: PING and PONG [PING-2]', () => {
  it.each([
    ['x', true],
    ['a'.repeat(64), true],
    ['é'.repeat(32), true], // 64 bytes
    ['a'.repeat(65), false],
    ['é'.repeat(33), false], // 33 characters but 66 bytes
    ['', false],
  ])('PING with a token of %j: accepted=%s (1 to 64 bytes) [PING-2]', (token, ok) => {
    const { ctx, user } = setup();
    const line = token === '' ? 'PING :' : `PING ${token}`;
    const [reply, ...rest] = run(ctx, user, line);
    expect(rest).toEqual([]);
    if (ok) expect(msg(reply!)).toEqual({ command: 'PONG', params: [token] });
    else expect(err(reply)).toMatchObject({ code: 'BAD_PARAMS', command: 'PING' });
  });

  it('echoes a token with spaces or a leading colon exactly [PING-1]', () => {
    const { ctx, user } = setup();
    const [a, b] = run(ctx, user, 'PING :a b', 'PING ::x');
    expect(msg(a!).params).toEqual(['a b']);
    expect(msg(b!).params).toEqual([':x']);
  });

  it('answers PONG replies in line order with the other replies [PING-1]', () => {
    const { ctx, alice } = two();
    expect(run(ctx, alice, 'SAY a', 'PING t', 'WHO').map((l) => msg(l).command)).toEqual([
      'ECHO',
      'PONG',
      'USER',
      'USER',
      'ENDWHO',
    ]);
  });

  it('checks a PONG token like a PING token', () => {
    const { ctx, user } = setup();
    expect(run(ctx, user, 'PONG ' + 'a'.repeat(64))).toEqual([]);
    expect(err(run(ctx, user, 'PONG ' + 'a'.repeat(65))[0])).toMatchObject({ code: 'BAD_PARAMS', command: 'PONG' });
  });
});

describe('dispatch: QUIT [QUIT-1]', () => {
  it('answers BYE :<reason>, closes after it and announces LEAVE quit to the others [QUIT-1] [PRES-1]', () => {
    const { ctx, alice, bob } = two();
    expect(run(ctx, alice, 'QUIT :see you')).toEqual(['BYE :see you']);
    expect(alice.conn.closedWith).toBe('BYE :see you\n');
    expect(alice.session.state).toBe(SessionState.Gone);
    expect(bob.conn.take()).toEqual(['LEAVE #lobby alice quit :see you']);
    expect(names(ctx)).toEqual(['bob']);
  });

  it('answers a QUIT without reason with a bare BYE and LEAVE <name> quit', () => {
    const { ctx, alice, bob } = two();
    expect(run(ctx, alice, 'QUIT')).toEqual(['BYE']);
    expect(ctx.disconnects).toMatchObject([{ reason: 'quit', text: '', lastLine: 'BYE\n' }]);
    expect(bob.conn.take()).toEqual(['LEAVE #lobby alice quit']);
  });

  it('keeps a one-word reason (middle parameter) as the reason [LINE-3]', () => {
    const { ctx, alice } = two();
    expect(run(ctx, alice, 'QUIT later')).toEqual(['BYE later']);
  });
});

describe('dispatch: other failures', () => {
  it('rethrows an error that is not a ProtocolError, for the server to report', () => {
    const { ctx, alice } = two();
    const boom = new TypeError('boom');
    alice.conn.send = () => {
      throw boom;
    };
    expect(() => dispatch(ctx, alice.session, msg('WHO'))).toThrow(boom);
  });
});

describe('replyError [ERR-1] [ERR-2]', () => {
  const codes = Object.keys(ERRORS) as ErrorCode[];

  it.each(codes.filter((c) => !ERRORS[c].fatal))(
    'sends ERR %s and keeps the connection open (non-fatal) [ERR-2]',
    (code) => {
      const { ctx, alice, bob } = two();
      replyError(ctx, alice.session, new ProtocolError(code, 'SAY', 'some detail'));
      expect(alice.conn.take()).toEqual([`ERR ${code} SAY :some detail`]);
      expect(alice.conn.isClosed).toBe(false);
      expect(alice.session.state).toBe(SessionState.Registered);
      expect(ctx.disconnects).toEqual([]);
      expect(bob.conn.take()).toEqual([]);
    },
  );

  it.each(codes.filter((c) => ERRORS[c].fatal && c !== 'PING_TIMEOUT'))(
    'sends ERR %s as the last line, closes, and the user leaves with reason error [ERR-2]',
    (code) => {
      const { ctx, alice, bob } = two();
      replyError(ctx, alice.session, new ProtocolError(code, '*', 'some detail'));
      expect(ctx.disconnects).toEqual([
        { session: alice.session, reason: 'error', text: code, lastLine: `ERR ${code} * :some detail\n` },
      ]);
      expect(alice.conn.closedWith).toBe(`ERR ${code} * :some detail\n`);
      expect(bob.conn.take()).toEqual([`LEAVE #lobby alice error ${code}`]);
    },
  );

  it('sends ERR PING_TIMEOUT as the last line, closes, and the user leaves with reason timeout and the detail [PING-3] [PRES-1] [ERR-2]', () => {
    const { ctx, alice, bob } = two();
    replyError(ctx, alice.session, new ProtocolError('PING_TIMEOUT', '*', 'No reply to PING within 60 s'));
    const last = 'ERR PING_TIMEOUT * :No reply to PING within 60 s\n';
    expect(ctx.disconnects).toEqual([
      { session: alice.session, reason: 'timeout', text: 'No reply to PING within 60 s', lastLine: last },
    ]);
    expect(alice.conn.closedWith).toBe(last);
    expect(alice.session.state).toBe(SessionState.Gone);
    expect(bob.conn.take()).toEqual(['LEAVE #lobby alice timeout :No reply to PING within 60 s']);
  });

  it('PING_TIMEOUT before registration closes without announcing anyone [PRES-4]', () => {
    const { ctx, alice } = two();
    const stranger = fakeUser();
    replyError(ctx, stranger.session, new ProtocolError('PING_TIMEOUT', '*'));
    expect(stranger.conn.closedWith).toBe(`ERR PING_TIMEOUT * :${ERRORS.PING_TIMEOUT.text}\n`);
    expect(alice.conn.take()).toEqual([]);
  });

  it('the fatal codes are exactly those SPEC §13 marks fatal', () => {
    expect(codes.filter((c) => ERRORS[c].fatal).sort()).toEqual([
      'FLOOD',
      'INPUT_OVERFLOW',
      'INTERNAL_ERROR',
      'PING_TIMEOUT',
      'REGISTRATION_TIMEOUT',
      'SLOW_CONSUMER',
      'TOO_MANY_CONNECTIONS',
    ]);
  });

  it('uses the default text of a code when no detail was given [ERR-1]', () => {
    const { ctx, alice } = two();
    replyError(ctx, alice.session, new ProtocolError('BAD_CHAR', '*'));
    expect(err(alice.conn.take()[0])).toEqual({ code: 'BAD_CHAR', command: '*', text: ERRORS.BAD_CHAR.text });
  });
});
