import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isSafe, sanitize } from '../../../src/client/sanitize.ts';

// Everything [CLIENT-1] says a terminal must never receive from a peer.
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029]/;

describe('sanitize [CLIENT-1]', () => {
  it('[CLIENT-1] shows ESC and other C0 controls in caret notation', () => {
    expect(sanitize('\u001b[2J')).toBe('^[[2J');
    expect(sanitize('a\u0000b\u0007c\rd\ne')).toBe('a^@b^Gc^Md^Je');
    expect(sanitize('\u001b]52;c;aGk=\u0007')).toBe('^[]52;c;aGk=^G');
    expect(sanitize('\u001b[10;10H\u001b[1A')).toBe('^[[10;10H^[[1A');
  });

  it('[CLIENT-1] shows DEL as ^? and turns TAB into a space', () => {
    expect(sanitize('x\u007fy')).toBe('x^?y');
    expect(sanitize('a\tb')).toBe('a b');
  });

  it('[CLIENT-1] replaces C1 controls (CSI U+009B, OSC U+009D, NEL U+0085) with U+FFFD', () => {
    expect(sanitize('\u009b2J\u009d0;title\u009c\u0085')).toBe('\uFFFD2J\uFFFD0;title\uFFFD\uFFFD');
  });

  it('[CLIENT-1] replaces bidi embedding, override and isolate controls', () => {
    for (const code of [0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069]) {
      expect(sanitize(`a${String.fromCharCode(code)}b`)).toBe('a\uFFFDb');
    }
  });

  it('[CLIENT-1] replaces the line and paragraph separators, so a text cannot forge a line', () => {
    expect(sanitize('hi\u2028bob: fake line\u2029')).toBe('hi\uFFFDbob: fake line\uFFFD');
  });

  it('replaces unpaired surrogates but keeps emoji and other text intact', () => {
    expect(sanitize('\ud83d')).toBe('\uFFFD');
    expect(sanitize('x\ude00')).toBe('x\uFFFD');
    const fine = 'héllo 日本語 👩‍👩‍👧 e\u0301 ع ‎ :) \u00a0';
    expect(sanitize(fine)).toBe(fine);
    expect(isSafe(fine)).toBe(true);
  });

  it('[CLIENT-1] property: output never holds a forbidden character, and safe text is unchanged', () => {
    const anyText = fc.string({ unit: 'binary', maxLength: 200 });
    fc.assert(
      fc.property(anyText, (text) => {
        const out = sanitize(text);
        expect(FORBIDDEN.test(out)).toBe(false);
        expect(isSafe(out)).toBe(true);
        expect(sanitize(out)).toBe(out);
        if (isSafe(text)) expect(out).toBe(text);
      }),
      { numRuns: 2000 },
    );
  });
});
