import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseMarkup, renderMarkup } from '../../src/client/markup.ts';
import { isSafe, sanitize } from '../../src/client/sanitize.ts';

// Everything [CLIENT-1] says a terminal must never receive from a peer, ESC included.
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029]/;
/** Exactly the sequences the renderer emits: bold, italic and code, on and off. */
const OWN_SGR = /\x1b\[(1|22|3|23|7|27)m/g;
const STYLES: Record<string, readonly [name: string, on: boolean]> = {
  '1': ['bold', true],
  '22': ['bold', false],
  '3': ['italic', true],
  '23': ['italic', false],
  '7': ['code', true],
  '27': ['code', false],
};

/** Pieces that markup and the terminal care about, to build dense inputs from. */
const MARKUP_UNITS = [
  '*', '_', '`', '\\', ':', ' ', '\t', '\n', 'a', 'Z', '1', 'é', 'e\u0301', '日', '\u00a0', '.',
  'smile', 'wave', 'skin-tone-3', 'skin-tone-9', '+1', 'flag-fr', 'notanemoji', 'family',
  '\x1b', '\x1b[1m', '\x1b[0m', '\x1b]0;t\x07', '\x9b', '\x7f', '\u202e', '\u2066', '\u2028', '\ud83d', '\ude00', '\u{1F44B}',
];

/** Arbitrary text: full Unicode, controls, lone surrogates, and dense markup. */
const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.string({ unit: 'binary-ascii', maxLength: 80 }),
  // Any UTF-16 code unit, so lone surrogates too.
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit)), maxLength: 80 }),
  fc.string({ unit: fc.constantFrom(...MARKUP_UNITS), maxLength: 60 }),
  fc.string({ unit: fc.oneof(fc.constantFrom(...MARKUP_UNITS), fc.string({ unit: 'binary', maxLength: 3 })), maxLength: 40 }),
);
const options = fc.record({ styles: fc.boolean(), emoji: fc.boolean() });
const RUNS = { numRuns: 3000 };

describe('renderMarkup properties [MARKUP-7] [CLIENT-1]', () => {
  it('[MARKUP-7] [CLIENT-1] emits no control character, ESC or bidi control but its own SGR', () => {
    fc.assert(
      fc.property(anyText, options, (text, opts) => {
        const out = renderMarkup(text, opts);
        const rest = out.replace(OWN_SGR, '');
        expect(FORBIDDEN.test(rest)).toBe(false);
        expect(isSafe(rest)).toBe(true);
        if (!opts.styles) expect(out).toBe(rest);
      }),
      RUNS,
    );
  });

  it('[MARKUP-1] with styles and emoji off, shows exactly sanitize(text)', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        expect(renderMarkup(text, { styles: false, emoji: false })).toBe(sanitize(text));
      }),
      RUNS,
    );
  });

  it('[MARKUP-7] opens a style only when it is off, closes it only when on, and ends with all off', () => {
    fc.assert(
      fc.property(anyText, fc.boolean(), (text, emoji) => {
        const on = new Set<string>();
        for (const [, code] of renderMarkup(text, { styles: true, emoji }).matchAll(OWN_SGR)) {
          const [style, opens] = STYLES[code!]!;
          expect(on.has(style)).toBe(!opens);
          if (opens) on.add(style);
          else on.delete(style);
        }
        expect([...on]).toEqual([]);
      }),
      RUNS,
    );
  });

  it('[MARKUP-7] styled output is the sanitised span texts with SGR between them', () => {
    fc.assert(
      fc.property(anyText, fc.boolean(), (text, emoji) => {
        const shown = parseMarkup(text, { emoji }).map((span) => span.text).join('');
        expect(renderMarkup(text, { styles: true, emoji }).replace(OWN_SGR, '')).toBe(sanitize(shown));
      }),
      RUNS,
    );
  });
});

describe('parseMarkup properties [MARKUP-2] [MARKUP-3] [MARKUP-4]', () => {
  /**
   * What a user relies on: markup only ever hides characters they typed as
   * markup. With emoji off, the span texts are the input with some characters
   * deleted, every deleted character is `*`, `_`, `` ` `` or `\`, each of
   * `*`, `_` and `` ` `` is deleted in pairs (an opener and its closer), and
   * a `\` is deleted only as an escape, so no more often than `\` is followed
   * by `*`, `_`, `` ` `` or `:` in the input.
   */
  it('[MARKUP-4] never throws and hides nothing but delimiters and escape backslashes', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        expect(() => parseMarkup(text)).not.toThrow();
        const shown = parseMarkup(text, { emoji: false }).map((span) => span.text).join('');
        const deleted = deletions(text, shown);
        expect(deleted).toBeDefined();
        for (const char of deleted!) expect('*_`\\').toContain(char);
        for (const delimiter of ['*', '_', '`']) expect(count(deleted!, delimiter) % 2).toBe(0);
        expect(count(deleted!, '\\')).toBeLessThanOrEqual(text.match(/\\[*_`:]/g)?.length ?? 0);
      }),
      RUNS,
    );
  });

  it('[MARKUP-2] text without delimiters or backslashes parses to itself', () => {
    const noMarkup = anyText.map((text) => text.replace(/[*_`\\]/g, ''));
    fc.assert(
      fc.property(noMarkup, (text) => {
        expect(parseMarkup(text, { emoji: false }).map((span) => span.text).join('')).toBe(text);
      }),
      RUNS,
    );
  });
});

/**
 * The characters deleted from `from` to leave `to`, in order, or undefined
 * when `to` is not `from` with characters deleted. Greedy matching finds
 * whether `to` is a subsequence, and which characters were deleted (as a
 * multiset, all the checks need) does not depend on the alignment.
 */
function deletions(from: string, to: string): string | undefined {
  let deleted = '';
  let j = 0;
  for (let i = 0; i < from.length; i++) {
    if (j < to.length && from[i] === to[j]) j++;
    else deleted += from[i];
  }
  return j === to.length ? deleted : undefined;
}

function count(text: string, char: string): number {
  return text.split(char).length - 1;
}
