import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { COMMANDS, HELP_LINES, cleanOutgoing, interpret, splitText } from '../../../src/client/input.ts';

describe('interpret: what a typed line means', () => {
  it('"exit" exactly leaves, like the original client', () => {
    expect(interpret('exit')).toEqual({ kind: 'quit', reason: '' });
    expect(interpret('Exit')).toEqual({ kind: 'say', text: 'Exit' });
    expect(interpret('exit now')).toEqual({ kind: 'say', text: 'exit now' });
  });

  it('[CLIENT-4] any text can be sent, including the word exit and command look-alikes', () => {
    expect(interpret('/say exit')).toEqual({ kind: 'say', text: 'exit' });
    expect(interpret('/say /quit')).toEqual({ kind: 'say', text: '/quit' });
    expect(interpret('/SAY  two spaces kept ')).toEqual({ kind: 'say', text: ' two spaces kept ' });
    expect(interpret('//who')).toEqual({ kind: 'say', text: '/who' });
    expect(interpret('///')).toEqual({ kind: 'say', text: '//' });
  });

  it('knows /quit, /nick and /help, case-insensitively', () => {
    expect(interpret('/quit')).toEqual({ kind: 'quit', reason: '' });
    expect(interpret('/QUIT see you ')).toEqual({ kind: 'quit', reason: 'see you' });
    expect(interpret('/nick robert')).toEqual({ kind: 'nick', name: 'robert' });
    expect(interpret('/help')).toEqual({ kind: 'help' });
    expect(interpret('/HELP')).toEqual({ kind: 'help' });
  });

  it('/join <#room>', () => {
    expect(interpret('/join #rust')).toEqual({ kind: 'join', room: '#rust' });
    expect(interpret('/JOIN   #Rust  ')).toEqual({ kind: 'join', room: '#Rust' });
    expect(interpret('/join')).toEqual({ kind: 'usage', usage: '/join <#room>' });
    expect(interpret('/join rust')).toEqual({ kind: 'usage', usage: '/join <#room>' });
    expect(interpret('/join #a #b')).toEqual({ kind: 'usage', usage: '/join <#room>' });
  });

  it('/part [#room] [reason]: a first word with # is the room, the rest the reason', () => {
    expect(interpret('/part')).toEqual({ kind: 'part', room: undefined, reason: '' });
    expect(interpret('/part #rust')).toEqual({ kind: 'part', room: '#rust', reason: '' });
    expect(interpret('/part #rust off to lunch ')).toEqual({ kind: 'part', room: '#rust', reason: 'off to lunch' });
    expect(interpret('/part off to lunch')).toEqual({ kind: 'part', room: undefined, reason: 'off to lunch' });
  });

  it('/rooms, /who [#room]', () => {
    expect(interpret('/rooms')).toEqual({ kind: 'rooms' });
    expect(interpret('/rooms x')).toEqual({ kind: 'usage', usage: '/rooms' });
    expect(interpret('/who')).toEqual({ kind: 'who', room: undefined });
    expect(interpret('/who #rust')).toEqual({ kind: 'who', room: '#rust' });
    expect(interpret('/who bob')).toEqual({ kind: 'usage', usage: '/who [#room]' });
  });

  it('/msg <name> <text> keeps the text as typed; /me <action>', () => {
    expect(interpret('/msg bob hi  there ')).toEqual({ kind: 'msg', target: 'bob', text: 'hi  there ' });
    expect(interpret('/msg #rust hi')).toEqual({ kind: 'msg', target: '#rust', text: 'hi' });
    expect(interpret('/msg bob')).toEqual({ kind: 'usage', usage: '/msg <name> <text>' });
    expect(interpret('/msg bob    ')).toEqual({ kind: 'usage', usage: '/msg <name> <text>' });
    expect(interpret('/msg')).toEqual({ kind: 'usage', usage: '/msg <name> <text>' });
    expect(interpret('/me waves  slowly')).toEqual({ kind: 'me', text: 'waves  slowly' });
    expect(interpret('/me')).toEqual({ kind: 'usage', usage: '/me <action>' });
  });

  it('/topic [text], /history [n]', () => {
    expect(interpret('/topic')).toEqual({ kind: 'topic', text: undefined });
    expect(interpret('/topic  Rust talk: ask away ')).toEqual({ kind: 'topic', text: 'Rust talk: ask away' });
    expect(interpret('/history')).toEqual({ kind: 'history', count: 20 });
    expect(interpret('/history 5')).toEqual({ kind: 'history', count: 5 });
    for (const bad of ['/history 0', '/history -1', '/history x', '/history 1.5', '/history 05', '/history 9999999']) {
      expect(interpret(bad)).toMatchObject({ kind: 'usage' });
    }
  });

  it('/switch <#room|name> and /query <name> change the active target', () => {
    expect(interpret('/switch #rust')).toEqual({ kind: 'switch', target: '#rust' });
    expect(interpret('/switch bob')).toEqual({ kind: 'switch', target: 'bob' });
    expect(interpret('/query bob')).toEqual({ kind: 'switch', target: 'bob' });
    expect(interpret('/query #rust')).toEqual({ kind: 'usage', usage: '/query <name>' });
    expect(interpret('/switch')).toEqual({ kind: 'usage', usage: '/switch <#room|name>' });
  });

  it('reports misuse and unknown commands without sending anything', () => {
    expect(interpret('/nick')).toEqual({ kind: 'usage', usage: '/nick <name>' });
    expect(interpret('/nick a b')).toEqual({ kind: 'usage', usage: '/nick <name>' });
    expect(interpret('/say   ')).toEqual({ kind: 'usage', usage: '/say <text>' });
    expect(interpret('/frobnicate now')).toEqual({ kind: 'unknown', command: '/frobnicate' });
    expect(interpret('/')).toEqual({ kind: 'unknown', command: '/' });
  });

  it('every command is in the completion list and the help', () => {
    for (const command of COMMANDS) {
      expect(interpret(command).kind).not.toBe('unknown');
      expect(HELP_LINES.some((l) => l.trimStart().startsWith(command + ' ') || l.trimStart().startsWith(command + '\u0020'))).toBe(true);
    }
  });

  it('ignores blank lines', () => {
    expect(interpret('')).toEqual({ kind: 'nothing' });
    expect(interpret('   \t ')).toEqual({ kind: 'nothing' });
  });
});

describe('cleanOutgoing [FRAME-8]', () => {
  it('turns tabs into spaces and drops controls the server would reject', () => {
    expect(cleanOutgoing('a\tb')).toBe('a b');
    expect(cleanOutgoing('\u001b[31mred\u001b[0m\u0007\u007f\u009b')).toBe('[31mred[0m');
    expect(cleanOutgoing('bidi \u202e and emoji 😀 stay')).toBe('bidi \u202e and emoji 😀 stay');
  });

  it('property: the result never holds a character [FRAME-8] forbids', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        // eslint-disable-next-line no-control-regex
        expect(/[\u0000-\u001f\u007f-\u009f]/.test(cleanOutgoing(text))).toBe(false);
      }),
    );
  });
});

describe('splitText [LIMIT-5]', () => {
  const bytes = (s: string) => Buffer.byteLength(s);
  const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  const graphemeStarts = (s: string) => new Set([...[...segmenter.segment(s)].map((g) => g.index), s.length]);

  it('keeps a short text whole', () => {
    expect(splitText('hello', 100)).toEqual(['hello']);
  });

  it('splits at grapheme boundaries, never inside an emoji sequence or before an accent', () => {
    const family = '👩‍👩‍👧'; // 18 bytes
    const pieces = splitText(family.repeat(3), 40);
    expect(pieces).toEqual([family + family, family]);
    expect(splitText('e\u0301'.repeat(4), 6)).toEqual(['e\u0301e\u0301', 'e\u0301e\u0301']);
  });

  it('splits a grapheme longer than the limit between code points, never inside one', () => {
    const zalgo = 'a' + '\u0301'.repeat(10); // 21 bytes, one grapheme
    const pieces = splitText(zalgo, 8);
    expect(pieces.join('')).toBe(zalgo);
    for (const piece of pieces) expect(bytes(piece)).toBeLessThanOrEqual(8);
    expect(pieces.every((p) => Buffer.from(p).toString('utf8') === p)).toBe(true);
  });

  it('property: pieces join back to the text, fit the limit, are non-empty and end on grapheme boundaries', () => {
    const text = fc.string({ unit: fc.constantFrom('a', ' ', 'é', 'e\u0301', '日', '😀', '👩‍👩‍👧', '🇫🇷', 'x'), maxLength: 120 });
    fc.assert(
      fc.property(text, fc.integer({ min: 30, max: 200 }), (t, max) => {
        const pieces = splitText(t, max);
        expect(pieces.join('')).toBe(t);
        const starts = graphemeStarts(t);
        let at = 0;
        for (const piece of pieces) {
          if (t !== '') expect(piece.length).toBeGreaterThan(0);
          expect(bytes(piece)).toBeLessThanOrEqual(max);
          expect(starts.has(at)).toBe(true);
          at += piece.length;
        }
      }),
      { numRuns: 500 },
    );
  });

  it('rejects an unusable limit', () => {
    expect(() => splitText('x', 3)).toThrow(RangeError);
  });
});
