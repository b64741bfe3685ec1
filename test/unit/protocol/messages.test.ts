import { describe, expect, it } from 'vitest';
import {
  LeaveReason,
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

const chat: ChatMessage = { id: 'm4xk2a-1f', seq: 31, time: 1764236523001, from: 'alice', text: 'hi everyone' };

describe('versions', () => {
  it('speaks version 1', () => {
    expect(PROTOCOL_VERSION).toBe('1');
    expect(SUPPORTED_VERSIONS).toContain('1');
  });
});

describe('serverLine', () => {
  it('writes the greeting as LINECHAT <versions> <server-name> <key=value>... :<text>', () => {
    const line = serverLine.greeting(['1', '2'], 'linechat', limitKeys(DEFAULT_LIMITS), 'Welcome to linechat.');
    expect(line).toBe('LINECHAT 1,2 linechat LINE=2048 READCAP=16384 NAMELEN=24 :Welcome to linechat.\n');
  });

  it('[LIMIT-1] announces every limit with its value in the greeting', () => {
    const limits = { line: 100, readCap: 1000, nameLength: 9 };
    const event = decode(serverLine.greeting(SUPPORTED_VERSIONS, 'srv', limitKeys(limits), 'hi there'));
    expect(event?.type).toBe('greeting');
    if (event?.type !== 'greeting') return;
    expect(Object.fromEntries(event.keys)).toEqual({ LINE: '100', READCAP: '1000', NAMELEN: '9' });
    expect(event.versions).toEqual([...SUPPORTED_VERSIONS]);
    expect(event.serverName).toBe('srv');
    expect(event.text).toBe('hi there');
  });

  it('writes MSG <id> <seq> <time> <from> :<text>', () => {
    expect(serverLine.message(false, chat)).toBe('MSG m4xk2a-1f 31 1764236523001 alice :hi everyone\n');
  });

  it('writes MSG and ECHO of one message together, differing only in the command word [MSG-3]', () => {
    expect(serverLine.messageAndEcho(chat)).toEqual([
      'MSG m4xk2a-1f 31 1764236523001 alice :hi everyone\n',
      'ECHO m4xk2a-1f 31 1764236523001 alice :hi everyone\n',
    ]);
    expect(() => serverLine.messageAndEcho({ ...chat, text: 'a\rb' })).toThrow(TypeError);
  });

  it('writes ECHO with the same fields as MSG', () => {
    expect(serverLine.message(true, chat)).toBe('ECHO m4xk2a-1f 31 1764236523001 alice :hi everyone\n');
  });

  it('keeps a message text byte for byte, spaces, colons and emoji included', () => {
    for (const text of ['', ' ', ':', '  two  ', ':-) \u{1F469}\u200d\u{1F4BB}', 'one', '\ta\t']) {
      expect(decode(serverLine.message(false, { ...chat, text }))).toEqual({ type: 'message', own: false, ...chat, text });
    }
  });

  it('writes every other server line in the shape of SPEC §11', () => {
    expect(serverLine.welcome('alice', 'Hello alice, 2 users online.')).toBe('WELCOME alice :Hello alice, 2 users online.\n');
    expect(serverLine.join('bob')).toBe('JOIN bob\n');
    expect(serverLine.leave('bob', LeaveReason.Quit, 'see you')).toBe('LEAVE bob quit :see you\n');
    expect(serverLine.leave('bob', LeaveReason.Lost, '')).toBe('LEAVE bob lost\n');
    expect(serverLine.nick('alice', 'Alice')).toBe('NICK alice Alice\n');
    expect(serverLine.user('alice')).toBe('USER alice\n');
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
      serverLine.welcome('a', ''),
      serverLine.message(true, chat),
      serverLine.leave('a', LeaveReason.Shutdown, ''),
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
    expect(decode(serverLine.welcome('alice', 'hi'))).toEqual({ type: 'welcome', name: 'alice', text: 'hi' });
    expect(decode(serverLine.welcome('alice', ''))).toEqual({ type: 'welcome', name: 'alice', text: '' });
    expect(decode(serverLine.join('bob'))).toEqual({ type: 'join', name: 'bob' });
    for (const reason of Object.values(LeaveReason)) {
      expect(decode(serverLine.leave('bob', reason, 'a b'))).toEqual({ type: 'leave', name: 'bob', reason, text: 'a b' });
      expect(decode(serverLine.leave('bob', reason, ''))).toEqual({ type: 'leave', name: 'bob', reason, text: '' });
    }
    expect(decode(serverLine.nick('a', 'b'))).toEqual({ type: 'nick', from: 'a', to: 'b' });
    expect(decode(serverLine.user('a'))).toEqual({ type: 'user', name: 'a' });
    expect(decode(serverLine.endWho(0))).toEqual({ type: 'endwho', count: 0 });
    expect(decode(serverLine.ping('x:y'))).toEqual({ type: 'ping', token: 'x:y' });
    expect(decode(serverLine.pong('x'))).toEqual({ type: 'pong', token: 'x' });
    expect(decode(serverLine.bye('bye now'))).toEqual({ type: 'bye', text: 'bye now' });
    expect(decode(serverLine.bye(''))).toEqual({ type: 'bye', text: '' });
    expect(decode(serverLine.shutdown(''))).toEqual({ type: 'shutdown', text: '' });
    expect(decode(serverLine.message(true, chat))).toEqual({ type: 'message', own: true, ...chat });
  });

  it('throws rather than write a line the receiver would reject', () => {
    expect(() => serverLine.nick('a b', 'c')).toThrow(TypeError);
    expect(() => serverLine.welcome('alice', 'evil\u001b[2J')).toThrow(TypeError);
    expect(() => serverLine.message(false, { ...chat, text: 'a\nb' })).toThrow(TypeError);
  });
});

describe('clientLine', () => {
  it('writes the client lines of SPEC §11', () => {
    expect(clientLine.hello('1')).toBe('HELLO 1\n');
    expect(clientLine.hello('1', 'alice')).toBe('HELLO 1 alice\n');
    expect(clientLine.say('hi everyone')).toBe('SAY :hi everyone\n');
    expect(clientLine.nick('bob')).toBe('NICK bob\n');
    expect(clientLine.who()).toBe('WHO\n');
    expect(clientLine.ping('t')).toBe('PING t\n');
    expect(clientLine.pong('t')).toBe('PONG t\n');
    expect(clientLine.quit('see you')).toBe('QUIT :see you\n');
    expect(clientLine.quit('')).toBe('QUIT\n');
  });

  it('[LINE-3] sends a one-word text as a middle, which the server reads as the same text', () => {
    expect(clientLine.say('hi')).toBe('SAY hi\n');
    expect(read(clientLine.say('hi'))).toEqual(read('SAY :hi\n'));
  });

  it('sends any text, even one that looks like a command or starts with ":"', () => {
    for (const text of ['/quit', ':quit', 'QUIT', 'SAY :x', ' ', ':']) {
      expect(read(clientLine.say(text))).toEqual({ command: 'SAY', params: [text] });
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
    expect(decodeServerMessage(m('LEAVE', 'bob', 'abducted'))).toEqual({ type: 'leave', name: 'bob', reason: 'abducted', text: '' });
  });

  it('tolerates extra parameters', () => {
    expect(decodeServerMessage(m('JOIN', 'bob', 'extra'))).toEqual({ type: 'join', name: 'bob' });
    expect(decodeServerMessage(m('ENDWHO', '3', 'extra'))).toEqual({ type: 'endwho', count: 3 });
  });

  it('returns undefined for missing parameters', () => {
    for (const msg of [
      m('WELCOME'),
      m('MSG', 'id', '1', '2', 'bob'),
      m('ECHO'),
      m('JOIN'),
      m('LEAVE', 'bob'),
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
    for (const command of ['FOO', 'SAY', 'HELLO', 'WHO', 'QUIT', 'msg']) {
      expect(decodeServerMessage(m(command, 'a', 'b', 'c', 'd', 'e')), command).toBeUndefined();
    }
  });

  it('reads <seq> and <time> as decimal integers only', () => {
    const msg = (seq: string, time = '1') => decodeServerMessage(m('MSG', 'id', seq, time, 'bob', 'hi'));
    expect(msg('0')).toMatchObject({ seq: 0 });
    expect(msg('9007199254740991')).toMatchObject({ seq: Number.MAX_SAFE_INTEGER });
    for (const bad of ['', '-1', '+1', '01', '1.0', '1e3', '0x10', ' 1', '١', 'NaN', 'Infinity', '12345678901234567']) {
      expect(msg(bad), JSON.stringify(bad)).toBeUndefined();
      expect(msg('1', bad), JSON.stringify(bad)).toBeUndefined();
    }
  });

  it('refuses numbers beyond 2^53 - 1 rather than round them', () => {
    expect(decodeServerMessage(m('MSG', 'id', '9007199254740993', '1', 'bob', 'hi'))).toBeUndefined();
    expect(decodeServerMessage(m('ECHO', 'id', '1', '9999999999999999', 'bob', 'hi'))).toBeUndefined();
    expect(decodeServerMessage(m('ENDWHO', '9007199254740992'))).toBeUndefined();
  });

  it('reads ENDWHO <count> as a decimal integer only', () => {
    expect(decodeServerMessage(m('ENDWHO', '-1'))).toBeUndefined();
    expect(decodeServerMessage(m('ENDWHO', '007'))).toBeUndefined();
    expect(decodeServerMessage(m('ENDWHO', '12'))).toEqual({ type: 'endwho', count: 12 });
  });
});
