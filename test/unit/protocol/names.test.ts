import { describe, expect, it } from 'vitest';
import { foldName, nameProblem } from '../../../src/protocol/names.ts';
import { DEFAULT_LIMITS } from '../../../src/protocol/limits.ts';

const MAX = DEFAULT_LIMITS.nameLength;
const valid = (name: string, max = MAX) => nameProblem(name, max) === undefined;

describe('nameProblem', () => {
  it('[NAME-1] accepts names of letters, digits, "-" and "_" that begin with a letter', () => {
    for (const name of ['a', 'Z', 'alice', 'Bob', 'a1', 'a-b', 'a_b', 'x--__9', 'guest-4821', 'youth', 'you1', 'yo', 'your']) {
      expect(valid(name), name).toBe(true);
    }
  });

  it('[NAME-1] rejects an empty name', () => {
    expect(valid('')).toBe(false);
  });

  it('[NAME-1] accepts exactly NAMELEN characters and rejects NAMELEN+1', () => {
    expect(valid('a'.repeat(MAX))).toBe(true);
    expect(valid('a'.repeat(MAX + 1))).toBe(false);
    expect(valid('ab', 2)).toBe(true);
    expect(valid('abc', 2)).toBe(false);
    expect(valid('a', 1)).toBe(true);
  });

  it('[NAME-1] rejects names that do not begin with a letter', () => {
    for (const name of ['1a', '-a', '_a', '9']) expect(valid(name), name).toBe(false);
  });

  it('[NAME-1] rejects every character outside A-Z a-z 0-9 - _', () => {
    for (const name of ['a b', 'a.b', 'a:b', 'a*', 'a\tb', 'a\nb', 'al\u00efce', 'a\u200bb', '\u212aelvin', '\uff41', 'a\u{1F600}', 'a/b', 'a@b']) {
      expect(valid(name), JSON.stringify(name)).toBe(false);
    }
  });

  it('[NAME-1] rejects a trailing newline (no "$ before final newline" slip)', () => {
    expect(valid('alice\n')).toBe(false);
  });

  it('[NAME-1] rejects the reserved name "you" in any case', () => {
    for (const name of ['you', 'You', 'YOU', 'yOu']) expect(valid(name), name).toBe(false);
  });

  it('explains every rejection with a non-empty text', () => {
    for (const name of ['', 'a'.repeat(MAX + 1), '1a', 'you']) {
      expect(nameProblem(name, MAX)?.length ?? 0).toBeGreaterThan(0);
    }
  });
});

describe('foldName', () => {
  it('[NAME-2] maps A-Z to a-z and leaves everything else alone', () => {
    expect(foldName('Alice')).toBe('alice');
    expect(foldName('ALICE')).toBe('alice');
    expect(foldName('aLiCe-_09')).toBe('alice-_09');
    expect(foldName('alice')).toBe('alice');
  });

  it('[NAME-2] makes names equal exactly when they differ only in ASCII case', () => {
    expect(foldName('Alice')).toBe(foldName('aLICE'));
    expect(foldName('alice')).not.toBe(foldName('alice_'));
  });

  it('[NAME-2] does not fold non-ASCII letters', () => {
    expect(foldName('\u212a')).toBe('\u212a'); // KELVIN SIGN, whose toLowerCase() is "k"
    expect(foldName('\u0130')).toBe('\u0130'); // LATIN CAPITAL I WITH DOT ABOVE
    expect(foldName('\u00c9')).toBe('\u00c9');
  });
});
