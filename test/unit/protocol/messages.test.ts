import { describe, expect, it } from 'vitest';
import {
  LeaveReason,
  MAX_TIME,
  PROTOCOL_VERSION,
  SUPPORTED_VERSIONS,
  clientLine,
  decodeServerMessage,
  serverLine,
} from '../../../src/protocol/messages.ts';
import type { ChatMessage, ServerEvent } from '../../../src/protocol/messages.ts';
import { parseLine } from '../../../src/protocol/parser.ts';
import type { Message } from '../../../src/protocol/parser.ts';
import { DEFAULT_LIMITS, limitKeys } from '../../../src/protocol/limits.ts';
import { ERRORS } from '../../../src/protocol/errors.ts';

/** A wire line (with its LF) back to a message, as a client reads it. */
function read(line: string): Message {
  expect(line.endsWith('\n')).toBe(true);
  const result = parseLine(Buffer.from(line.slice(0, -1), 'utf8'));
  if (result.kind !== 'message') throw new Error(`not a message: ${JSON.stringify(result)}`);
  return result.message;
}

const decode = (line: string): ServerEvent | undefined => decodeServerMessage(read(line));
const m = (command: string, ...params: string[]): Message => ({ command, params });

const chat: ChatMessage = { id: 'm4xk2a-1f', seq: 31, time: 1764236523001, from: 'alice', to: '#lobby', kind: 'say', text: 'hi everyone' };
const privately: ChatMessage = { id: 'm4xk2a-1g', seq: 1, time: 1764236525002, from: 'alice', to: 'bob', kind: 'me', text: 'waves' };

describe('versions', () => {
  it('speaks version 1', () => {
    expect(PROTOCOL_VERSION).toBe('1');
    expect(SUPPORTED_VERSIONS).toContain('1');
  });
});

describe('serverLine', () => {
  it('writes the greeting as LINECHAT <versions> <server-name> <key=value>... :<text>', () => {
    const line = serverLine.greeting(['1', '2'], 'linechat', limitKeys(DEFAULT_LIMITS), 'Welcome to linechat.');
    expect(line).toBe('LINECHAT 1,2 linechat LINE=2048 READCAP=16384 NAMELEN=24 ROOMLEN=32 TOPICLEN=300 HISTLIMIT=500 :Welcome to linechat.\n');
  });

  it('[LIMIT-1] announces every limit with its value in the greeting', () => {
    const limits = { line: 100, readCap: 1000, nameLength: 9, roomLength: 12, topicLength: 50, historyPage: 7 };
    const event = decode(serverLine.greeting(SUPPORTED_VERSIONS, 'srv', [...limitKeys(limits), ['LOBBY', '#hall']], 'hi there'));
    expect(event?.type).toBe('greeting');
    if (event?.type !== 'greeting') return;
    expect(Object.fromEntries(event.keys)).toEqual({
      LINE: '100',
      READCAP: '1000',
      NAMELEN: '9',
      ROOMLEN: '12',
      TOPICLEN: '50',
      HISTLIMIT: '7',
      LOBBY: '#hall',
    });
    expect(event.versions).toEqual([...SUPPORTED_VERSIONS]);
    expect(event.serverName).toBe('srv');
    expect(event.text).toBe('hi there');
  });

  it('[MSG-2] writes MSG <id> <seq> <time> <from> <to> <kind> :<text>', () => {
    expect(serverLine.message(false, chat)).toBe('MSG m4xk2a-1f 31 1764236523001 alice #lobby say :hi everyone\n');
    expect(serverLine.message(false, privately)).toBe('MSG m4xk2a-1g 1 1764236525002 alice bob me waves\n');
  });

  it('[HIST-3] writes HIST with the parameters of MSG, and ENDHIST <target> <count>', () => {
    expect(serverLine.history(chat)).toBe('HIST m4xk2a-1f 31 1764236523001 alice #lobby say :hi everyone\n');
    expect(serverLine.endHistory('#lobby', 0)).toBe('ENDHIST #lobby 0\n');
    expect(serverLine.endHistory('*', 12)).toBe('ENDHIST * 12\n');
  });

  it('writes MSG and ECHO of one message together, differing only in the command word [MSG-3]', () => {
    expect(serverLine.messageAndEcho(chat)).toEqual([
      'MSG m4xk2a-1f 31 1764236523001 alice #lobby say :hi everyone\n',
      'ECHO m4xk2a-1f 31 1764236523001 alice #lobby say :hi everyone\n',
    ]);
    expect(() => serverLine.messageAndEcho({ ...chat, text: 'a\rb' })).toThrow(TypeError);
  });

  it('writes ECHO with the same fields as MSG', () => {
    expect(serverLine.message(true, chat)).toBe('ECHO m4xk2a-1f 31 1764236523001 alice #lobby say :hi everyone\n');
  });

  it('keeps a message text byte for byte, spaces, colons and emoji included', () => {
    for (const text of ['', ' ', ':', '  two  ', ':-) \u{1F469}\u200d\u{1F4BB}', 'one', '\ta\t']) {
      expect(decode(serverLine.message(false, { ...chat, text }))).toEqual({ type: 'message', own: false, ...chat, text });
      expect(decode(serverLine.history({ ...chat, text }))).toEqual({ type: 'history', ...chat, text });
    }
  });

  it('writes every other server line in the shape of SPEC §14', () => {
    expect(serverLine.welcome('alice', 'Qm9vBl2yTq8kWcN3aF0x1g', 'Hello alice, 2 users online.')).toBe(
      'WELCOME alice Qm9vBl2yTq8kWcN3aF0x1g :Hello alice, 2 users online.\n',
    );
    expect(serverLine.join('#rust', 'bob')).toBe('JOIN #rust bob\n');
    expect(serverLine.leave('#rust', 'bob', LeaveReason.Quit, 'see you')).toBe('LEAVE #rust bob quit :see you\n');
    expect(serverLine.leave('#rust', 'bob', LeaveReason.Lost, '')).toBe('LEAVE #rust bob lost\n');
    expect(serverLine.leave('#rust', 'bob', LeaveReason.Part, 'bye')).toBe('LEAVE #rust bob part bye\n');
    expect(serverLine.room('#rust', 3, 'Say hello')).toBe('ROOM #rust 3 :Say hello\n');
    expect(serverLine.room('#rust', 0, '')).toBe('ROOM #rust 0 :\n');
    expect(serverLine.endRooms(2)).toBe('ENDROOMS 2\n');
    expect(serverLine.topic('#rust', 'alice', 1764236523001, 'the book')).toBe('TOPIC #rust alice 1764236523001 :the book\n');
    expect(serverLine.topic('#rust', '*', 0, '')).toBe('TOPIC #rust * 0 :\n');
    expect(serverLine.nick('alice', 'Alice')).toBe('NICK alice Alice\n');
    expect(serverLine.user('alice', 0)).toBe('USER alice 0\n');
    expect(serverLine.user('alice', 3600)).toBe('USER alice 3600\n');
    expect(serverLine.endWho(2)).toBe('ENDWHO 2\n');
    expect(serverLine.ping('t1')).toBe('PING t1\n');
    expect(serverLine.pong('t1')).toBe('PONG t1\n');
    expect(serverLine.bye('see you')).toBe('BYE :see you\n');
    expect(serverLine.bye('')).toBe('BYE\n');
    expect(serverLine.shutdown('Server is shutting down')).toBe('SHUTDOWN :Server is shutting down\n');
  });

  it('[ERR-1] writes ERR <code> <command> :<text>, with "*" for no command', () => {
    expect(serverLine.error('BAD_NAME', 'HELLO', 'Invalid name')).toBe('ERR BAD_NAME HELLO :Invalid name\n');
    expect(serverLine.error('BAD_UTF8', '*', ERRORS.BAD_UTF8.text)).toBe(`ERR BAD_UTF8 * :${ERRORS.BAD_UTF8.text}\n`);
    for (const code of Object.keys(ERRORS)) {
      expect(decode(serverLine.error(code, 'SAY', 'x'))).toEqual({ type: 'error', code, command: 'SAY', text: 'x' });
    }
  });

  it('[FRAME-3] ends every server line with one LF', () => {
    const lines = [
      serverLine.greeting(['1'], 'n', [], 't'),
      serverLine.welcome('a', 'k', ''),
      serverLine.message(true, chat),
      serverLine.leave('#r', 'a', LeaveReason.Shutdown, ''),
      serverLine.history(chat),
      serverLine.endHistory('#r', 0),
      serverLine.room('#r', 0, ''),
      serverLine.topic('#r', '*', 0, ''),
      serverLine.user('a', 1),
      serverLine.bye(''),
      serverLine.shutdown(''),
      serverLine.error('BAD_PARAMS', 'SAY', ''),
    ];
    for (const line of lines) {
      expect(line.indexOf('\n')).toBe(line.length - 1);
      expect(line).not.toContain('\r');
    }
  });

  it('decodes back to what it wrote, for every server line', () => {
    expect(decode(serverLine.welcome('alice', 'k-1_Z', 'hi'))).toEqual({ type: 'welcome', name: 'alice', key: 'k-1_Z', text: 'hi' });
    expect(decode(serverLine.welcome('alice', 'k', ''))).toEqual({ type: 'welcome', name: 'alice', key: 'k', text: '' });
    expect(decode(serverLine.join('#rust', 'bob'))).toEqual({ type: 'join', room: '#rust', name: 'bob' });
    for (const reason of Object.values(LeaveReason)) {
      expect(decode(serverLine.leave('#r', 'bob', reason, 'a b'))).toEqual({ type: 'leave', room: '#r', name: 'bob', reason, text: 'a b' });
      expect(decode(serverLine.leave('#r', 'bob', reason, ''))).toEqual({ type: 'leave', room: '#r', name: 'bob', reason, text: '' });
    }
    expect(decode(serverLine.room('#r', 2, 'a topic'))).toEqual({ type: 'room', room: '#r', members: 2, topic: 'a topic' });
    expect(decode(serverLine.room('#r', 0, ''))).toEqual({ type: 'room', room: '#r', members: 0, topic: '' });
    expect(decode(serverLine.endRooms(4))).toEqual({ type: 'endrooms', count: 4 });
    expect(decode(serverLine.topic('#r', 'bob', 17, ': x'))).toEqual({ type: 'topic', room: '#r', setter: 'bob', time: 17, text: ': x' });
    expect(decode(serverLine.topic('#r', '*', 0, ''))).toEqual({ type: 'topic', room: '#r', setter: '*', time: 0, text: '' });
    expect(decode(serverLine.history(privately))).toEqual({ type: 'history', ...privately });
    expect(decode(serverLine.endHistory('bob', 3))).toEqual({ type: 'endhistory', target: 'bob', count: 3 });
    expect(decode(serverLine.nick('a', 'b'))).toEqual({ type: 'nick', from: 'a', to: 'b' });
    expect(decode(serverLine.user('a', 42))).toEqual({ type: 'user', name: 'a', idle: 42 });
    expect(decode(serverLine.endWho(0))).toEqual({ type: 'endwho', count: 0 });
    expect(decode(serverLine.ping('x:y'))).toEqual({ type: 'ping', token: 'x:y' });
    expect(decode(serverLine.pong('x'))).toEqual({ type: 'pong', token: 'x' });
    expect(decode(serverLine.bye('bye now'))).toEqual({ type: 'bye', text: 'bye now' });
    expect(decode(serverLine.bye(''))).toEqual({ type: 'bye', text: '' });
    expect(decode(serverLine.shutdown(''))).toEqual({ type: 'shutdown', text: '' });
    expect(decode(serverLine.message(true, chat))).toEqual({ type: 'message', own: true, ...chat });
    expect(decode(serverLine.message(false, privately))).toEqual({ type: 'message', own: false, ...privately });
  });

  it('throws rather than write a line the receiver would reject', () => {
    expect(() => serverLine.nick('a b', 'c')).toThrow(TypeError);
    expect(() => serverLine.welcome('alice', 'k', 'evil\u001b[2J')).toThrow(TypeError);
    expect(() => serverLine.welcome('alice', 'two words', 'hi')).toThrow(TypeError);
    expect(() => serverLine.message(false, { ...chat, text: 'a\nb' })).toThrow(TypeError);
  });
});

describe('clientLine', () => {
  it('writes the client lines of SPEC §11', () => {
    expect(clientLine.hello('1')).toBe('HELLO 1\n');
    expect(clientLine.hello('1', 'alice')).toBe('HELLO 1 alice\n');
    expect(clientLine.hello('1', 'alice', 'Qm9vBl2yTq8kWcN3aF0x1g')).toBe('HELLO 1 alice Qm9vBl2yTq8kWcN3aF0x1g\n');
    expect(clientLine.say(undefined, 'hi everyone')).toBe('SAY :hi everyone\n');
    expect(clientLine.say('#rust', 'hi everyone')).toBe('SAY #rust :hi everyone\n');
    expect(clientLine.say('bob', 'psst')).toBe('SAY bob psst\n');
    expect(clientLine.me(undefined, 'waves')).toBe('ME waves\n');
    expect(clientLine.me('#rust', 'waves at all')).toBe('ME #rust :waves at all\n');
    expect(clientLine.nick('bob')).toBe('NICK bob\n');
    expect(clientLine.join('#rust')).toBe('JOIN #rust\n');
    expect(clientLine.part('#rust')).toBe('PART #rust\n');
    expect(clientLine.part('#rust', 'off to lunch')).toBe('PART #rust :off to lunch\n');
    expect(clientLine.rooms()).toBe('ROOMS\n');
    expect(clientLine.topic('#rust')).toBe('TOPIC #rust\n');
    expect(clientLine.topic('#rust', 'the book')).toBe('TOPIC #rust :the book\n');
    expect(clientLine.topic('#rust', '')).toBe('TOPIC #rust :\n');
    expect(clientLine.who()).toBe('WHO\n');
    expect(clientLine.who('#rust')).toBe('WHO #rust\n');
    expect(clientLine.history('#rust', { kind: 'latest', limit: 50 })).toBe('HISTORY #rust LATEST 50\n');
    expect(clientLine.history('*', { kind: 'after', ref: { by: 'id', id: 'k3f9-1f' }, limit: 100 })).toBe(
      'HISTORY * AFTER id=k3f9-1f 100\n',
    );
    expect(clientLine.history('bob', { kind: 'between', from: { by: 'time', time: 5 }, to: { by: 'id', id: 'x' }, limit: 1 })).toBe(
      'HISTORY bob BETWEEN time=5 id=x 1\n',
    );
    expect(clientLine.ping('t')).toBe('PING t\n');
    expect(clientLine.pong('t')).toBe('PONG t\n');
    expect(clientLine.quit('see you')).toBe('QUIT :see you\n');
    expect(clientLine.quit('')).toBe('QUIT\n');
  });

  it('[LINE-3] sends a one-word text as a middle, which the server reads as the same text', () => {
    expect(clientLine.say(undefined, 'hi')).toBe('SAY hi\n');
    expect(read(clientLine.say(undefined, 'hi'))).toEqual(read('SAY :hi\n'));
    expect(read(clientLine.say('#rust', 'hi'))).toEqual(read('SAY #rust :hi\n'));
  });

  it('sends any text, even one that looks like a command or starts with ":"', () => {
    for (const text of ['/quit', ':quit', 'QUIT', 'SAY :x', ' ', ':']) {
      expect(read(clientLine.say(undefined, text))).toEqual({ command: 'SAY', params: [text] });
      expect(read(clientLine.say('#r', text))).toEqual({ command: 'SAY', params: ['#r', text] });
    }
  });
});

describe('decodeServerMessage', () => {
  it('keeps greeting keys it does not know, and keys without "="', () => {
    const event = decodeServerMessage(m('LINECHAT', '1,2', 'srv', 'LINE=10', 'FUTURE=x=y', 'FLAG', 'text'));
    expect(event?.type === 'greeting' && Object.fromEntries(event.keys)).toEqual({ LINE: '10', FUTURE: 'x=y', FLAG: '' });
    expect(event?.type === 'greeting' && event.versions).toEqual(['1', '2']);
  });

  it('reads a greeting with no keys, and rejects one too short', () => {
    expect(decodeServerMessage(m('LINECHAT', '1', 'srv', 'hello'))).toEqual({
      type: 'greeting',
      versions: ['1'],
      serverName: 'srv',
      keys: new Map(),
      text: 'hello',
    });
    expect(decodeServerMessage(m('LINECHAT', '1', 'srv'))).toBeUndefined();
  });

  it('decodes error codes it does not know, for clients to act on', () => {
    expect(decodeServerMessage(m('ERR', 'FUTURE_CODE', '*', 'x'))).toEqual({
      type: 'error',
      code: 'FUTURE_CODE',
      command: '*',
      text: 'x',
    });
    expect(decodeServerMessage(m('ERR', 'FUTURE_CODE', 'SAY'))).toEqual({ type: 'error', code: 'FUTURE_CODE', command: 'SAY', text: '' });
  });

  it('decodes leave reasons it does not know, as they are', () => {
    expect(decodeServerMessage(m('LEAVE', '#r', 'bob', 'abducted'))).toEqual({ type: 'leave', room: '#r', name: 'bob', reason: 'abducted', text: '' });
  });

  it('[MSG-9] reads a kind it does not know as say', () => {
    expect(decodeServerMessage(m('MSG', 'id', '1', '2', 'bob', '#r', 'sings', 'la la'))).toMatchObject({ kind: 'say', text: 'la la' });
    expect(decodeServerMessage(m('HIST', 'id', '1', '2', 'bob', '#r', 'me', 'waves'))).toMatchObject({ type: 'history', kind: 'me' });
  });

  it('reads a USER without an idle time as 0 seconds idle, and a malformed one not at all', () => {
    expect(decodeServerMessage(m('USER', 'bob'))).toEqual({ type: 'user', name: 'bob', idle: 0 });
    expect(decodeServerMessage(m('USER', 'bob', '-1'))).toBeUndefined();
    expect(decodeServerMessage(m('USER', 'bob', 'soon'))).toBeUndefined();
  });

  it('tolerates extra parameters', () => {
    expect(decodeServerMessage(m('JOIN', '#r', 'bob', 'extra'))).toEqual({ type: 'join', room: '#r', name: 'bob' });
    expect(decodeServerMessage(m('ENDWHO', '3', 'extra'))).toEqual({ type: 'endwho', count: 3 });
    expect(decodeServerMessage(m('MSG', 'id', '1', '2', 'bob', '#r', 'say', 'hi', 'extra'))).toMatchObject({ text: 'hi' });
  });

  it('returns undefined for missing parameters', () => {
    for (const msg of [
      m('WELCOME'),
      m('WELCOME', 'alice'),
      m('MSG', 'id', '1', '2', 'bob', '#r', 'say'),
      m('MSG', 'id', '1', '2', 'bob', 'hi'),
      m('ECHO'),
      m('HIST', 'id', '1', '2', 'bob', '#r'),
      m('ENDHIST', '#r'),
      m('JOIN', 'bob'),
      m('LEAVE', '#r', 'bob'),
      m('ROOM', '#r'),
      m('ENDROOMS'),
      m('TOPIC', '#r', 'bob'),
      m('NICK', 'a'),
      m('USER'),
      m('ENDWHO'),
      m('PING'),
      m('PONG'),
      m('ERR', 'BAD_NAME'),
    ]) {
      expect(decodeServerMessage(msg), msg.command).toBeUndefined();
    }
  });

  it('returns undefined for commands this version does not know, and for client commands', () => {
    for (const command of ['FOO', 'SAY', 'HELLO', 'WHO', 'QUIT', 'PART', 'ROOMS', 'HISTORY', 'msg']) {
      expect(decodeServerMessage(m(command, 'a', 'b', 'c', 'd', 'e')), command).toBeUndefined();
    }
  });

  it('reads <seq> and <time> as decimal integers only', () => {
    const msg = (seq: string, time = '1') => decodeServerMessage(m('MSG', 'id', seq, time, 'bob', '#r', 'say', 'hi'));
    expect(msg('0')).toMatchObject({ seq: 0 });
    expect(msg('9007199254740991')).toMatchObject({ seq: Number.MAX_SAFE_INTEGER });
    for (const bad of ['', '-1', '+1', '01', '1.0', '1e3', '0x10', ' 1', '١', 'NaN', 'Infinity', '12345678901234567']) {
      expect(msg(bad), JSON.stringify(bad)).toBeUndefined();
      expect(msg('1', bad), JSON.stringify(bad)).toBeUndefined();
    }
  });

  it('refuses numbers beyond 2^53 - 1 rather than round them', () => {
    expect(decodeServerMessage(m('MSG', 'id', '9007199254740993', '1', 'bob', '#r', 'say', 'hi'))).toBeUndefined();
    expect(decodeServerMessage(m('ECHO', 'id', '1', '9999999999999999', 'bob', '#r', 'say', 'hi'))).toBeUndefined();
    expect(decodeServerMessage(m('ENDWHO', '9007199254740992'))).toBeUndefined();
  });

  it('[MSG-6] refuses a <time> after the last instant a Date can hold (8.64e15 ms), in MSG, ECHO, HIST and TOPIC', () => {
    expect(MAX_TIME).toBe(8.64e15);
    expect(new Date(MAX_TIME).getTime()).toBe(MAX_TIME);
    expect(new Date(MAX_TIME + 1).getTime()).toBeNaN();
    for (const command of ['MSG', 'ECHO', 'HIST']) {
      const at = (time: string) => decodeServerMessage(m(command, 'id', '1', time, 'bob', '#r', 'say', 'hi'));
      expect(at('8640000000000000'), command).toMatchObject({ time: MAX_TIME });
      for (const bad of ['8640000000000001', '9000000000000000', '9007199254740991']) expect(at(bad), `${command} ${bad}`).toBeUndefined();
    }
    expect(decodeServerMessage(m('TOPIC', '#r', 'bob', '8640000000000000', 'x'))).toMatchObject({ time: MAX_TIME });
    expect(decodeServerMessage(m('TOPIC', '#r', 'bob', '8640000000000001', 'x'))).toBeUndefined();
    expect(decodeServerMessage(m('TOPIC', '#r', 'bob', '9007199254740991', 'x'))).toBeUndefined();
    // <seq> is a count, not a time: it may go up to 2^53 - 1.
    expect(decodeServerMessage(m('MSG', 'id', '9007199254740991', '1', 'bob', '#r', 'say', 'hi'))).toMatchObject({ seq: Number.MAX_SAFE_INTEGER });
  });

  it('reads ENDWHO, ENDROOMS and ENDHIST counts, ROOM members and TOPIC times as decimal integers only', () => {
    expect(decodeServerMessage(m('ENDWHO', '-1'))).toBeUndefined();
    expect(decodeServerMessage(m('ENDWHO', '007'))).toBeUndefined();
    expect(decodeServerMessage(m('ENDWHO', '12'))).toEqual({ type: 'endwho', count: 12 });
    expect(decodeServerMessage(m('ENDROOMS', '1.5'))).toBeUndefined();
    expect(decodeServerMessage(m('ENDHIST', '#r', 'x'))).toBeUndefined();
    expect(decodeServerMessage(m('ROOM', '#r', '-2', ''))).toBeUndefined();
    expect(decodeServerMessage(m('TOPIC', '#r', 'bob', '1e3', 'x'))).toBeUndefined();
  });
});
