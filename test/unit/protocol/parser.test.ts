import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { commandOf, findForbidden, parseLine, parseText } from '../../../src/protocol/parser.ts';
import type { ParseResult } from '../../../src/protocol/parser.ts';
import { isErrorCode } from '../../../src/protocol/errors.ts';

// --- lines.json ------------------------------------------------------------

type Expectation =
  | { command: string; params: string[] }
  | { empty: true }
  | { error: string; command: string };

type LineCase = { desc: string; rule: string; expect: Expectation } & ({ text: string } | { hex: string });

function inputOf(c: LineCase): Buffer {
  if ('text' in c) return Buffer.from(c.text, 'utf8');
  const digits = c.hex.replaceAll(' ', '');
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(digits)) throw new Error(`bad hex in vector: ${c.hex}`);
  return Buffer.from(digits, 'hex');
}

/** The language-neutral view of a parse result, as lines.json writes it. */
function neutral(result: ParseResult): Expectation {
  switch (result.kind) {
    case 'message':
      return { command: result.message.command, params: [...result.message.params] };
    case 'empty':
      return { empty: true };
    case 'error':
      return { error: result.code, command: result.command };
  }
}

const lineCases = JSON.parse(readFileSync(new URL('../../vectors/lines.json', import.meta.url), 'utf8')) as LineCase[];

describe('lines.json vectors', () => {
  it('is a well-formed vector file', () => {
    expect(lineCases.length).toBeGreaterThan(100);
    for (const c of lineCases) {
      expect(c.rule).toMatch(/^\[[A-Z]+-\d+\]$/);
      expect('text' in c !== 'hex' in c).toBe(true);
      if ('text' in c) expect(Buffer.from(c.text, 'utf8').toString('utf8')).toBe(c.text); // no lone surrogates
      if ('error' in c.expect) expect(isErrorCode(c.expect.error)).toBe(true);
      inputOf(c);
    }
  });

  for (const c of lineCases) {
    it(`${c.rule} ${c.desc}`, () => {
      const bytes = inputOf(c);
      expect(neutral(parseLine(bytes))).toEqual(c.expect);
      // The same bytes at an offset inside a larger buffer parse the same.
      const host = Buffer.concat([Buffer.from('SAY :x\n'), bytes, Buffer.from('\nQUIT\n')]);
      expect(neutral(parseLine(host.subarray(7, 7 + bytes.length)))).toEqual(c.expect);
    });
  }
});

// --- hand-written ----------------------------------------------------------

const parse = (s: string) => neutral(parseLine(Buffer.from(s, 'utf8')));
const parseHex = (h: string) => neutral(parseLine(Buffer.from(h, 'hex')));

describe('parseLine', () => {
  it('[LINE-1] compares command words without regard to ASCII case', () => {
    for (const word of ['say', 'Say', 'SAY', 'sAY', 'saY']) {
      expect(parse(`${word} :hi`)).toEqual({ command: 'SAY', params: ['hi'] });
    }
  });

  it('[LINE-2] separates parameters by one or more spaces; a ":" parameter runs to the end', () => {
    expect(parse('HELLO 1 alice')).toEqual({ command: 'HELLO', params: ['1', 'alice'] });
    expect(parse('HELLO  1     alice')).toEqual({ command: 'HELLO', params: ['1', 'alice'] });
    expect(parse('SAY :a  b :c ')).toEqual({ command: 'SAY', params: ['a  b :c '] });
    expect(parse('SAY :')).toEqual({ command: 'SAY', params: [''] });
    expect(parse('PING a:b:')).toEqual({ command: 'PING', params: ['a:b:'] });
  });

  it('[LINE-3] treats a trailing parameter exactly like a middle one with the same value', () => {
    expect(parse('NICK :alice')).toEqual(parse('NICK alice'));
    expect(parse('HELLO 1 :alice')).toEqual(parse('HELLO 1 alice'));
  });

  it('[LINE-4] drops spaces before the command and after the last middle, keeps them in a trailing', () => {
    expect(parse('   NICK alice   ')).toEqual({ command: 'NICK', params: ['alice'] });
    expect(parse('SAY :  hi  ')).toEqual({ command: 'SAY', params: ['  hi  '] });
    expect(parse(' WHO ')).toEqual({ command: 'WHO', params: [] });
  });

  it('[LINE-5] rejects a first word that is not 1*32ALPHA with UNKNOWN_COMMAND and "*"', () => {
    for (const line of ['123', ':x', 'h\u00e9llo', 'S4Y hi', 'A'.repeat(33), 'SAY:hi', '\tSAY']) {
      expect(parse(line)).toEqual({ error: 'UNKNOWN_COMMAND', command: '*' });
    }
    expect(parse('A'.repeat(32))).toEqual({ command: 'A'.repeat(32), params: [] });
  });

  it('[FRAME-5] reports an empty or space-only line as empty', () => {
    expect(parse('')).toEqual({ empty: true });
    expect(parse(' ')).toEqual({ empty: true });
    expect(parse(' '.repeat(2048))).toEqual({ empty: true });
    expect(parseLine(new Uint8Array(0))).toEqual({ kind: 'empty' });
  });

  it('[FRAME-7] rejects overlong forms, surrogates and code points above U+10FFFF with BAD_UTF8', () => {
    for (const bad of ['c0af', 'e080af', 'f08080af', 'eda080', 'edbfbf', 'f4908080', 'f7bfbfbf', 'e282', 'ff', '80']) {
      expect(parseHex('5341593a20' + bad)).toEqual({ error: 'BAD_UTF8', command: '*' });
      expect(parseHex('534159203a' + bad)).toEqual({ error: 'BAD_UTF8', command: 'SAY' });
    }
    expect(parseHex('534159203af48fbfbf')).toEqual({ command: 'SAY', params: ['\u{10FFFF}'] });
  });

  it('[FRAME-8] rejects NUL, C0 other than TAB, DEL and C1 with BAD_CHAR', () => {
    for (let cp = 0; cp <= 0x9f; cp++) {
      const result = parse(`SAY :a${String.fromCodePoint(cp)}b`);
      const forbidden = cp < 0x20 ? cp !== 0x09 : cp >= 0x7f;
      if (forbidden) expect(result, `U+${cp.toString(16)}`).toEqual({ error: 'BAD_CHAR', command: 'SAY' });
      else expect(result, `U+${cp.toString(16)}`).toEqual({ command: 'SAY', params: [`a${String.fromCodePoint(cp)}b`] });
    }
  });

  it('[FRAME-8] treats a lone CR as a forbidden character', () => {
    expect(parse('SAY :a\rb')).toEqual({ error: 'BAD_CHAR', command: 'SAY' });
    expect(parse('SAY :a\r')).toEqual({ error: 'BAD_CHAR', command: 'SAY' });
  });

  it('[FRAME-8] allows bidi controls, separators and emoji (clients neutralise them)', () => {
    const text = '\u202e\u2066\u2028\u{1F469}\u200d\u{1F4BB}\uFEFF';
    expect(parse(`SAY :${text}`)).toEqual({ command: 'SAY', params: [text] });
  });

  it('[FRAME-9] reports only the first failure: UTF-8, then characters, then grammar', () => {
    // invalid UTF-8 + NUL + bad command word
    expect(parseHex('3132330020ff')).toEqual({ error: 'BAD_UTF8', command: '*' });
    // NUL + bad command word
    expect(parseHex('31323300')).toEqual({ error: 'BAD_CHAR', command: '*' });
    // bad command word only
    expect(parse('123')).toEqual({ error: 'UNKNOWN_COMMAND', command: '*' });
  });

  it('[ERR-1] names the offending command in upper case, or "*" when there is none', () => {
    expect(parseHex('73617920ff')).toEqual({ error: 'BAD_UTF8', command: 'SAY' });
    expect(parse('nick a\u0000')).toEqual({ error: 'BAD_CHAR', command: 'NICK' });
    expect(parse('\u0000')).toEqual({ error: 'BAD_CHAR', command: '*' });
  });

  it('returns a detail for people on every error', () => {
    const result = parseLine(Buffer.from('SAY :\u0007'));
    expect(result.kind).toBe('error');
    if (result.kind === 'error') expect(result.detail.length).toBeGreaterThan(0);
  });

  it('accepts a plain Uint8Array view with an offset into a larger buffer', () => {
    const backing = new TextEncoder().encode('\u00ff\u00ffsay :hi\u0000\u0000');
    const view = new Uint8Array(backing.buffer, 4, 7);
    expect(neutral(parseLine(view))).toEqual({ command: 'SAY', params: ['hi'] });
  });
});

describe('parseText', () => {
  it('[LINE-2] parses an already decoded line', () => {
    expect(parseText('ECHO id 1 2 bob :hi there')).toEqual({
      kind: 'message',
      message: { command: 'ECHO', params: ['id', '1', '2', 'bob', 'hi there'] },
    });
  });

  it('[FRAME-5] reports a space-only string as empty', () => {
    expect(parseText('   ')).toEqual({ kind: 'empty' });
  });

  it('[LINE-5] reports a malformed command word with "*"', () => {
    const result = parseText('9x');
    expect(result.kind === 'error' && [result.code, result.command]).toEqual(['UNKNOWN_COMMAND', '*']);
  });
});

describe('commandOf', () => {
  const of = (s: string | number[]) => commandOf(typeof s === 'string' ? Buffer.from(s, 'latin1') : Uint8Array.from(s));

  it('[ERR-1] is the first word in upper case when it is 1 to 32 ASCII letters', () => {
    expect(of('say hi')).toBe('SAY');
    expect(of('  Nick')).toBe('NICK');
    expect(of('q')).toBe('Q');
    expect(of('a'.repeat(32) + ' x')).toBe('A'.repeat(32));
  });

  it('[ERR-1] is "*" when there is no well-formed first word', () => {
    expect(of('')).toBe('*');
    expect(of('   ')).toBe('*');
    expect(of('a'.repeat(33))).toBe('*');
    expect(of('a'.repeat(33) + ' x')).toBe('*');
    expect(of('S4Y')).toBe('*');
    expect(of(':SAY')).toBe('*');
    expect(of('SAY\t')).toBe('*');
    expect(of('SAY:')).toBe('*');
    expect(of([0x53, 0x41, 0x59, 0xff])).toBe('*');
    expect(of([0xff, 0x20, 0x53])).toBe('*');
  });

  it('works on raw bytes that are not UTF-8 after the command word', () => {
    expect(of([0x73, 0x61, 0x79, 0x20, 0xff, 0xfe])).toBe('SAY');
  });

  it('reads only its own view of a larger buffer', () => {
    const backing = Buffer.from('xxxx nick yyyy');
    expect(commandOf(backing.subarray(4, 9))).toBe('NICK');
    expect(commandOf(backing.subarray(5, 7))).toBe('NI');
  });
});

describe('findForbidden', () => {
  const find = (s: string) => findForbidden(Buffer.from(s, 'utf8'));

  it('[FRAME-8] finds the first forbidden character with its byte offset and code point', () => {
    expect(find('ab\u0000c\u0007')).toEqual({ offset: 2, codePoint: 0 });
    expect(find('\u00e9\u007f')).toEqual({ offset: 2, codePoint: 0x7f });
    expect(find('a\u0085')).toEqual({ offset: 1, codePoint: 0x85 });
    expect(find('\r')).toEqual({ offset: 0, codePoint: 0x0d });
  });

  it('[FRAME-8] finds nothing in a line of allowed characters', () => {
    expect(find('')).toBeUndefined();
    expect(find('SAY :\ta\u00a0\u00bf\u0400\u2080\u202e\u{1F600}')).toBeUndefined();
  });

  it('does not mistake a lone C2 at the end for a C1 control', () => {
    expect(findForbidden(Uint8Array.of(0x61, 0xc2))).toBeUndefined();
  });
});
