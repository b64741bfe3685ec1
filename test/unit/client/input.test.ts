import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { cleanOutgoing, interpret, splitText } from '../../../src/client/input.ts';

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

  it('knows /quit, /nick, /who and /help, case-insensitively', () => {
    expect(interpret('/quit')).toEqual({ kind: 'quit', reason: '' });
    expect(interpret('/QUIT see you ')).toEqual({ kind: 'quit', reason: 'see you' });
    expect(interpret('/nick robert')).toEqual({ kind: 'nick', name: 'robert' });
    expect(interpret('/who')).toEqual({ kind: 'who' });
    expect(interpret('/help')).toEqual({ kind: 'help' });
  });

  it('reports misuse and unknown commands without sending anything', () => {
    expect(interpret('/nick')).toEqual({ kind: 'usage', usage: '/nick <name>' });
    expect(interpret('/nick a b')).toEqual({ kind: 'usage', usage: '/nick <name>' });
    expect(interpret('/say   ')).toEqual({ kind: 'usage', usage: '/say <text>' });
    expect(interpret('/frobnicate now')).toEqual({ kind: 'unknown', command: '/frobnicate' });
    expect(interpret('/')).toEqual({ kind: 'unknown', command: '/' });
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
