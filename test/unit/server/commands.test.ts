import { describe, expect, it } from 'vitest';
import { ERRORS, ProtocolError, type ErrorCode } from '../../../src/protocol/errors.ts';
import { parseText } from '../../../src/protocol/parser.ts';
import { COMMANDS, dispatch, replyError } from '../../../src/server/commands.ts';
import { SessionState } from '../../../src/server/session.ts';
import { clear, fakeUser, makeContext, makeHub, msg, online, type FakeUser, type TestContext } from './fakes.ts';

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
  it('takes the parameter counts of SPEC §11', () => {
    const counts = Object.fromEntries(Object.entries(COMMANDS).map(([k, v]) => [k, [v.min, v.max, v.needs]]));
    expect(counts).toEqual({
      HELLO: [1, 2, 'greeting'],
      NICK: [1, 1, 'registered'],
      SAY: [1, 1, 'registered'],
      WHO: [0, 0, 'registered'],
      PING: [1, 1, 'any'],
      PONG: [1, 1, 'any'],
      QUIT: [0, 1, 'any'],
    });
  });
});

describe('dispatch: unknown commands', () => {
  it.each(['FOO', 'JOIN', 'MSG', 'ECHO', 'WELCOME', 'LEAVE'])(
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
    expect(run(ctx, user, 'ping abc', 'Ping def', 'hello 1 alice')).toEqual([
      'PONG abc',
      'PONG def',
      expect.stringMatching(/^WELCOME alice /),
    ]);
  });
});

describe('dispatch: parameter counts [LINE-6]', () => {
  it.each([
    ['NICK', 'NICK'],
    ['NICK a b', 'NICK'],
    ['SAY', 'SAY'],
    ['SAY two words', 'SAY'],
    ['WHO now', 'WHO'],
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
    expect(ctx.hub.who()).toEqual(['alice', 'bob']);
    expect(alice.conn.isClosed).toBe(false);
    expect(ctx.disconnects).toEqual([]);
  });

  it('hints at the trailing parameter when a text was sent without a colon', () => {
    const { ctx, alice } = two();
    expect(err(run(ctx, alice, 'SAY hello world')[0]).text).toContain(':');
  });

  it.each(['HELLO', 'HELLO 1 alice extra'])('answers %j before registration with ERR BAD_PARAMS HELLO [LINE-6]', (line) => {
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
  it.each(['NICK bob', 'SAY :hello', 'WHO'])('answers %j with ERR NOT_REGISTERED before HELLO [SESSION-7]', (line) => {
    const { ctx, user } = setup();
    const bystander = online(ctx.hub, 'bystander');
    clear(bystander);
    const [reply, ...rest] = run(ctx, user, line);
    expect(rest).toEqual([]);
    expect(err(reply)).toMatchObject({ code: 'NOT_REGISTERED', command: line.split(' ')[0] });
    expect(user.session.state).toBe(SessionState.Greeting);
    expect(user.conn.isClosed).toBe(false);
    expect(bystander.conn.take()).toEqual([]);
  });

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
    expect(run(ctx, user, 'HELLO 1 alice')).toHaveLength(1);
    expect(user.session.state).toBe(SessionState.Registered);
  });
});

describe('dispatch: HELLO', () => {
  it('registers and answers WELCOME <name>, then JOIN reaches the others [SESSION-5]', () => {
    const { ctx, alice, bob } = two();
    const carol = fakeUser();
    const [welcome, ...rest] = run(ctx, carol, 'HELLO 1 Carol');
    expect(rest).toEqual([]);
    const parsed = msg(welcome!);
    expect(parsed.command).toBe('WELCOME');
    expect(parsed.params[0]).toBe('Carol');
    expect(parsed.params).toHaveLength(2);
    expect(alice.conn.take()).toEqual(['JOIN Carol']);
    expect(bob.conn.take()).toEqual(['JOIN Carol']);
    expect(ctx.logs.some((l) => l.includes('Carol'))).toBe(true);
  });

  it('registers a guest when no name is given [SESSION-4]', () => {
    const { ctx, user } = setup();
    const [welcome] = run(ctx, user, 'HELLO 1');
    expect(msg(welcome!).params[0]).toMatch(/^guest-\d+$/);
    expect(ctx.hub.who()).toEqual([user.session.name]);
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
    expect(ctx.hub.who()).toEqual(['alice', 'bob']);
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
  it('sends NICK <old> <new> to everyone, the renamed one included [NAME-3]', () => {
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
  it('sends ECHO to the sender and MSG to the others with the same id, seq and time [MSG-2] [MSG-3]', () => {
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
    expect(e.params[3]).toBe('alice');
    expect(e.params[4]).toBe('hello there ');
  });

  it('answers an empty text with ERR BAD_PARAMS SAY and relays nothing [MSG-1]', () => {
    const { ctx, alice, bob } = two();
    expect(err(run(ctx, alice, 'SAY :')[0])).toMatchObject({ code: 'BAD_PARAMS', command: 'SAY' });
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

describe('dispatch: WHO', () => {
  it('answers USER per registered client ordered without regard to case, then ENDWHO <count> [PRES-3]', () => {
    const { ctx, alice } = two();
    online(ctx.hub, 'Zoe');
    online(ctx.hub, 'Bea');
    fakeUser(); // not registered [PRES-4]
    clear(alice);
    expect(run(ctx, alice, 'WHO')).toEqual(['USER alice', 'USER Bea', 'USER bob', 'USER Zoe', 'ENDWHO 4']);
  });

  it('sends the whole answer as one chunk of whole lines', () => {
    const { ctx, alice } = two();
    alice.conn.chunks.length = 0;
    run(ctx, alice, 'WHO');
    expect(alice.conn.chunks).toEqual(['USER alice\nUSER bob\nENDWHO 2\n']);
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
    expect(bob.conn.take()).toEqual(['LEAVE alice quit :see you']);
    expect(ctx.hub.who()).toEqual(['bob']);
  });

  it('answers a QUIT without reason with a bare BYE and LEAVE <name> quit', () => {
    const { ctx, alice, bob } = two();
    expect(run(ctx, alice, 'QUIT')).toEqual(['BYE']);
    expect(ctx.disconnects).toMatchObject([{ reason: 'quit', text: '', lastLine: 'BYE\n' }]);
    expect(bob.conn.take()).toEqual(['LEAVE alice quit']);
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
      expect(bob.conn.take()).toEqual([`LEAVE alice error ${code}`]);
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
    expect(bob.conn.take()).toEqual(['LEAVE alice timeout :No reply to PING within 60 s']);
  });

  it('PING_TIMEOUT before registration closes without announcing anyone [PRES-4]', () => {
    const { ctx, alice } = two();
    const stranger = fakeUser();
    replyError(ctx, stranger.session, new ProtocolError('PING_TIMEOUT', '*'));
    expect(stranger.conn.closedWith).toBe(`ERR PING_TIMEOUT * :${ERRORS.PING_TIMEOUT.text}\n`);
    expect(alice.conn.take()).toEqual([]);
  });

  it('the fatal codes are exactly those SPEC §10 marks fatal', () => {
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
