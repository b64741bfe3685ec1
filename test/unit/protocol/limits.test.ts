import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, SERVER_LINE_OVERHEAD, checkLimits, limitKeys } from '../../../src/protocol/limits.ts';
import type { Limits } from '../../../src/protocol/limits.ts';

/**
 * The size limits of the `| key | meaning | default |` table of SPEC.md §3.
 * The other rows (SENDQ … LOBBY) are server policies, announced by the
 * server from its own options.
 */
const SIZE_KEYS = new Set(['LINE', 'READCAP', 'NAMELEN', 'ROOMLEN', 'TOPICLEN', 'HISTLIMIT']);
function specDefaults(): Map<string, number> {
  const spec = readFileSync(new URL('../../../SPEC.md', import.meta.url), 'utf8');
  const section = spec.slice(spec.indexOf('## 3. Limits'), spec.indexOf('## 4.'));
  const rows = new Map<string, number>();
  for (const match of section.matchAll(/^\| `([A-Z]+)` \| [^|]+ \| (\d+) \|$/gm)) {
    if (SIZE_KEYS.has(match[1]!)) rows.set(match[1]!, Number(match[2]));
  }
  expect([...rows.keys()].sort()).toEqual([...SIZE_KEYS].sort());
  return rows;
}

describe('DEFAULT_LIMITS', () => {
  it('has the defaults of SPEC §3', () => {
    expect(Object.fromEntries(limitKeys(DEFAULT_LIMITS))).toEqual(Object.fromEntries(specDefaults()));
    expect(DEFAULT_LIMITS).toEqual({ line: 2048, readCap: 16384, nameLength: 24, roomLength: 32, topicLength: 300, historyPage: 500 });
  });

  it('is frozen', () => {
    expect(Object.isFrozen(DEFAULT_LIMITS)).toBe(true);
  });

  it('[LIMIT-4] satisfies READCAP > LINE and passes checkLimits', () => {
    expect(DEFAULT_LIMITS.readCap).toBeGreaterThan(DEFAULT_LIMITS.line);
    expect(checkLimits(DEFAULT_LIMITS)).toBe(DEFAULT_LIMITS);
  });
});

describe('limitKeys', () => {
  it('[LIMIT-1] names every limit of SPEC §3 with its value, in order', () => {
    const limits: Limits = { line: 100, readCap: 1000, nameLength: 7, roomLength: 9, topicLength: 80, historyPage: 3 };
    expect(limitKeys(limits)).toEqual([
      ['LINE', 100],
      ['READCAP', 1000],
      ['NAMELEN', 7],
      ['ROOMLEN', 9],
      ['TOPICLEN', 80],
      ['HISTLIMIT', 3],
    ]);
    expect(limitKeys(limits).map(([k]) => k).sort()).toEqual([...specDefaults().keys()].sort());
  });
});

describe('checkLimits', () => {
  const base: Limits = { line: 2048, readCap: 16384, nameLength: 24, roomLength: 32, topicLength: 300, historyPage: 500 };
  const least: Limits = { line: 64, readCap: 65, nameLength: 1, roomLength: 2, topicLength: 1, historyPage: 1 };

  it('[LIMIT-4] rejects READCAP equal to or below LINE', () => {
    expect(() => checkLimits({ ...base, readCap: base.line })).toThrow(RangeError);
    expect(() => checkLimits({ ...base, readCap: base.line - 1 })).toThrow(RangeError);
    expect(checkLimits({ ...base, readCap: base.line + 1 })).toEqual({ ...base, readCap: base.line + 1 });
  });

  it('returns the same object when the limits are usable', () => {
    const limits = { ...least };
    expect(checkLimits(limits)).toBe(limits);
  });

  it('rejects values below the minimums', () => {
    expect(() => checkLimits({ ...base, line: 63 })).toThrow(RangeError);
    expect(() => checkLimits({ ...least, readCap: 64 })).toThrow(RangeError);
    expect(() => checkLimits({ ...base, nameLength: 0 })).toThrow(RangeError);
    expect(() => checkLimits({ ...base, roomLength: 1 })).toThrow(RangeError);
    expect(() => checkLimits({ ...base, topicLength: 0 })).toThrow(RangeError);
    expect(() => checkLimits({ ...base, historyPage: 0 })).toThrow(RangeError);
  });

  it('[LIMIT-6] keeps room for a name and a room beside LINE, and a topic within LINE', () => {
    expect(checkLimits({ ...base, nameLength: 100, roomLength: 100 })).toBeDefined();
    expect(() => checkLimits({ ...base, nameLength: 100, roomLength: 101 })).toThrow(RangeError);
    expect(checkLimits({ ...base, topicLength: base.line })).toBeDefined();
    expect(() => checkLimits({ ...base, topicLength: base.line + 1 })).toThrow(RangeError);
  });

  it('rejects values that are not safe integers', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, 2048.5, -1, 2 ** 53]) {
      expect(() => checkLimits({ ...base, line: bad }), String(bad)).toThrow(RangeError);
      expect(() => checkLimits({ ...base, readCap: bad }), String(bad)).toThrow(RangeError);
      expect(() => checkLimits({ ...base, nameLength: bad }), String(bad)).toThrow(RangeError);
      expect(() => checkLimits({ ...base, roomLength: bad }), String(bad)).toThrow(RangeError);
      expect(() => checkLimits({ ...base, topicLength: bad }), String(bad)).toThrow(RangeError);
      expect(() => checkLimits({ ...base, historyPage: bad }), String(bad)).toThrow(RangeError);
    }
  });
});

describe('SERVER_LINE_OVERHEAD', () => {
  it('is the 512 bytes SPEC §3 allows server lines beyond LINE', () => {
    expect(SERVER_LINE_OVERHEAD).toBe(512);
  });
});
