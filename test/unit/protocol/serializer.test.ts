import { describe, expect, it } from 'vitest';
import { formatLine, isMiddle } from '../../../src/protocol/serializer.ts';
import { parseLine } from '../../../src/protocol/parser.ts';

describe('formatLine', () => {
  it('[FRAME-3] ends every line with a single LF and never sends CR', () => {
    for (const line of [formatLine('WHO'), formatLine('SAY', 'hi there'), formatLine('SAY', ''), formatLine('PING', 'x')]) {
      expect(line.endsWith('\n')).toBe(true);
      expect(line.endsWith('\n\n')).toBe(false);
      expect(line.indexOf('\n')).toBe(line.length - 1);
      expect(line.includes('\r')).toBe(false);
    }
  });

  it('[LINE-2] writes the command and middle parameters separated by one space', () => {
    expect(formatLine('WHO')).toBe('WHO\n');
    expect(formatLine('HELLO', '1', 'alice')).toBe('HELLO 1 alice\n');
    expect(formatLine('PING', 'a:b')).toBe('PING a:b\n');
    expect(formatLine('PING', 'a\tb')).toBe('PING a\tb\n');
  });

  it('[LINE-3] writes the last parameter as trailing when it is empty, holds a space or begins with ":"', () => {
    expect(formatLine('SAY', '')).toBe('SAY :\n');
    expect(formatLine('SAY', 'hello world')).toBe('SAY :hello world\n');
    expect(formatLine('SAY', ':-)')).toBe('SAY ::-)\n');
    expect(formatLine('SAY', ' ')).toBe('SAY : \n');
    expect(formatLine('SAY', 'hi  ')).toBe('SAY :hi  \n');
    expect(formatLine('ERR', 'BAD_NAME', 'HELLO', 'Invalid name')).toBe('ERR BAD_NAME HELLO :Invalid name\n');
  });

  it('[LINE-3] writes a last parameter that can be a middle as a middle', () => {
    expect(formatLine('SAY', 'hi')).toBe('SAY hi\n');
    expect(formatLine('NICK', 'alice')).toBe('NICK alice\n');
  });

  it('[LINE-3] refuses a parameter before the last that would need to be trailing', () => {
    expect(() => formatLine('LEAVE', '', 'quit')).toThrow(TypeError);
    expect(() => formatLine('LEAVE', 'a b', 'quit')).toThrow(TypeError);
    expect(() => formatLine('LEAVE', ':x', 'quit')).toThrow(TypeError);
  });

  it('[LINE-1] sends command words in upper case, and only well-formed ones', () => {
    for (const bad of ['say', 'Say', '', 'S4Y', 'A'.repeat(33), 'SAY ', ':SAY', 'SÄY']) {
      expect(() => formatLine(bad), JSON.stringify(bad)).toThrow(TypeError);
    }
    expect(formatLine('A'.repeat(32))).toBe('A'.repeat(32) + '\n');
  });

  it('[FRAME-8] refuses every control character the receiver would reject, and allows TAB', () => {
    for (let cp = 0; cp <= 0xa0; cp++) {
      const ch = String.fromCodePoint(cp);
      const forbidden = cp < 0x20 ? cp !== 0x09 : cp >= 0x7f && cp <= 0x9f;
      // As a middle, as a trailing, and before the last parameter (where a
      // space would be a different error).
      const cases: string[][] = [[`a${ch}b`], [`a ${ch}`]];
      if (cp !== 0x20) cases.push([`x${ch}`, 'y']);
      for (const params of cases) {
        if (forbidden) expect(() => formatLine('SAY', ...params), `U+${cp.toString(16)} in ${JSON.stringify(params)}`).toThrow(TypeError);
        else expect(() => formatLine('SAY', ...params)).not.toThrow();
      }
    }
  });

  it('[FRAME-8] produces lines the parser accepts, bidi and emoji included', () => {
    const text = ':\u202e\u{1F469}\u200d\u{1F4BB}  \t';
    const line = formatLine('SAY', text);
    const bytes = Buffer.from(line.slice(0, -1), 'utf8');
    expect(parseLine(bytes)).toEqual({ kind: 'message', message: { command: 'SAY', params: [text] } });
  });
});

describe('isMiddle', () => {
  it('[LINE-2] is true for a non-empty value without space that does not begin with ":"', () => {
    expect(isMiddle('alice')).toBe(true);
    expect(isMiddle('a:b')).toBe(true);
    expect(isMiddle('a:')).toBe(true);
    expect(isMiddle('\t')).toBe(true);
    expect(isMiddle('\u{1F600}')).toBe(true);
  });

  it('[LINE-2] is false for an empty value, a value with a space, or one beginning with ":"', () => {
    expect(isMiddle('')).toBe(false);
    expect(isMiddle(' ')).toBe(false);
    expect(isMiddle('a b')).toBe(false);
    expect(isMiddle('a ')).toBe(false);
    expect(isMiddle(':')).toBe(false);
    expect(isMiddle(':a')).toBe(false);
  });
});
