import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { codePointWidth, displayWidth, echoedRows } from '../../../src/client/width.ts';

describe('display width, as readline lays out the input line', () => {
  it('counts ASCII as 1, CJK and emoji as 2, combining marks and ZWJ as 0', () => {
    expect(displayWidth('hello')).toBe(5);
    expect(displayWidth('日本語')).toBe(6);
    expect(displayWidth('😀')).toBe(2);
    expect(displayWidth('e\u0301')).toBe(1);
    expect(codePointWidth('\u200d')).toBe(0);
    expect(displayWidth('ｆｕｌｌ')).toBe(8);
    expect(displayWidth('한국')).toBe(4);
  });

  it('counts a ZWJ sequence as readline does, code point by code point', () => {
    // 👩‍👩‍👧 is three emoji joined by two ZWJs: readline gives it 6 columns.
    expect(displayWidth('👩‍👩‍👧')).toBe(6);
    expect(displayWidth('🎉')).toBe(2);
  });

  it('computes the rows a submitted line filled, wrapped lines included', () => {
    expect(echoedRows('You: hi', 80)).toBe(1);
    expect(echoedRows('You: ' + 'x'.repeat(74), 80)).toBe(1);
    // Exactly full: readline gives the cursor a fresh row.
    expect(echoedRows('You: ' + 'x'.repeat(75), 80)).toBe(2);
    expect(echoedRows('You: ' + 'x'.repeat(76), 80)).toBe(2);
    expect(echoedRows('You: ' + 'x'.repeat(300), 80)).toBe(4);
    expect(echoedRows('x', Infinity)).toBe(1);
  });

  it('counts a prompt that names the room like any text (colour codes are stripped before)', () => {
    expect(echoedRows('#lobby> ' + 'x'.repeat(71), 80)).toBe(1);
    expect(echoedRows('#lobby> ' + 'x'.repeat(72), 80)).toBe(2);
    expect(echoedRows('#lobby> 🎉 ' + 'x'.repeat(68), 80)).toBe(1);
    expect(echoedRows('#lobby> 🎉 ' + 'x'.repeat(69), 80)).toBe(2);
  });

  it('moves a wide character that would start in the last column to the next row', () => {
    // 9 columns used, a wide char cannot start in column 10 of 10.
    expect(echoedRows('You: abcd日', 10)).toBe(2);
    expect(echoedRows('You: abc日', 10)).toBe(2); // exactly full
    expect(echoedRows('You: ab日', 10)).toBe(1);
  });

  it('property: rows grow with the text and never fall below what its width needs', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', '日', '😀', 'e\u0301', ' '), maxLength: 300 }), fc.integer({ min: 4, max: 200 }), (t, cols) => {
        const rows = echoedRows(t, cols);
        expect(rows).toBeGreaterThanOrEqual(Math.floor(displayWidth(t) / cols) + 1);
        expect(echoedRows(t + 'a', cols)).toBeGreaterThanOrEqual(rows);
      }),
    );
  });
});
