import { describe, expect, it } from 'vitest';
import { foldName, isRoomName, nameProblem, roomProblem } from '../../../src/protocol/names.ts';
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

const ROOM_MAX = DEFAULT_LIMITS.roomLength;
const validRoom = (room: string, max = ROOM_MAX) => roomProblem(room, max) === undefined;

describe('roomProblem', () => {
  it('[ROOM-1] accepts # then a letter or digit, then letters, digits, "-" and "_"', () => {
    for (const room of ['#a', '#Z', '#9', '#lobby', '#Rust', '#0day', '#a-b_c', '#x--__9', '#2024-plans']) {
      expect(validRoom(room), room).toBe(true);
    }
  });

  it('[ROOM-1] rejects a name without the leading #, or with nothing after it', () => {
    for (const room of ['', '#', 'lobby', 'a#b', '##a', ' #a']) expect(validRoom(room), JSON.stringify(room)).toBe(false);
  });

  it('[ROOM-1] rejects a name whose first character after # is "-" or "_"', () => {
    for (const room of ['#-a', '#_a', '#-', '#_']) expect(validRoom(room), room).toBe(false);
  });

  it('[ROOM-1] rejects every character outside A-Z a-z 0-9 - _ (ASCII only)', () => {
    for (const room of ['#a b', '#a.b', '#a:b', '#a,b', '#a#b', '#a*', '#a\tb', '#a\nb', '#caf\u00e9', '#\u212a', '#a\u{1F600}', '#a/b', '#a@b']) {
      expect(validRoom(room), JSON.stringify(room)).toBe(false);
    }
  });

  it('[ROOM-1] accepts exactly ROOMLEN characters with the # and rejects ROOMLEN+1', () => {
    expect(validRoom('#' + 'a'.repeat(ROOM_MAX - 1))).toBe(true);
    expect(validRoom('#' + 'a'.repeat(ROOM_MAX))).toBe(false);
    expect(validRoom('#a', 2)).toBe(true);
    expect(validRoom('#ab', 2)).toBe(false);
  });

  it('[ROOM-1] rejects a trailing newline', () => {
    expect(validRoom('#rust\n')).toBe(false);
  });

  it('explains every rejection with a non-empty text', () => {
    for (const room of ['', 'rust', '#', '#' + 'a'.repeat(ROOM_MAX), '#-a', '#a b']) {
      expect(roomProblem(room, ROOM_MAX)?.length ?? 0, JSON.stringify(room)).toBeGreaterThan(0);
    }
  });
});

describe('isRoomName', () => {
  it('[ROOM-1] takes a target that begins with # as a room and any other as a user name', () => {
    for (const target of ['#lobby', '#', '#bad name', '#-x']) expect(isRoomName(target), target).toBe(true);
    for (const target of ['alice', 'a#b', '*', '', ' #x']) expect(isRoomName(target), target).toBe(false);
  });

  it('[ROOM-1] room names fold like user names: they compare without regard to ASCII case', () => {
    expect(foldName('#Rust')).toBe(foldName('#rUST'));
    expect(foldName('#Rust')).toBe('#rust');
    expect(foldName('#rust')).not.toBe(foldName('#rust_'));
  });
});
