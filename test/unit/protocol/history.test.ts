import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  formatRef,
  historyQueryParams,
  parseHistoryQuery,
  parseRef,
  type HistoryQuery,
  type HistoryRef,
} from '../../../src/protocol/history.ts';
import { clientLine } from '../../../src/protocol/messages.ts';
import { parseLine } from '../../../src/protocol/parser.ts';

const MAX = 500;
const parse = (line: string, max = MAX) => parseHistoryQuery(line.split(' '), max);

describe('parseRef / formatRef', () => {
  it('[HIST-2] reads id=<id> and time=<ms>', () => {
    expect(parseRef('id=k3f9-1f')).toEqual({ by: 'id', id: 'k3f9-1f' });
    expect(parseRef('id=A_z-09')).toEqual({ by: 'id', id: 'A_z-09' });
    expect(parseRef('time=0')).toEqual({ by: 'time', time: 0 });
    expect(parseRef('time=1764236520114')).toEqual({ by: 'time', time: 1764236520114 });
    expect(parseRef('time=9007199254740991')).toEqual({ by: 'time', time: Number.MAX_SAFE_INTEGER });
  });

  it('[HIST-2] [MSG-4] takes an id of 1 to 64 characters from A-Z a-z 0-9 - _ only', () => {
    expect(parseRef(`id=${'a'.repeat(64)}`)).toEqual({ by: 'id', id: 'a'.repeat(64) });
    for (const bad of ['id=', `id=${'a'.repeat(65)}`, 'id=a.b', 'id=a b', 'id=é', 'id=a=b', 'id=a\n']) {
      expect(parseRef(bad), JSON.stringify(bad)).toBeUndefined();
    }
  });

  it('[HIST-2] takes a time as a decimal integer only, never rounded', () => {
    for (const bad of ['time=', 'time=-1', 'time=+1', 'time=01', 'time=1.5', 'time=1e3', 'time=0x10', 'time= 1', 'time=9007199254740993']) {
      expect(parseRef(bad), JSON.stringify(bad)).toBeUndefined();
    }
  });

  it('rejects anything that is not id= or time=', () => {
    for (const bad of ['', 'k3f9-1f', 'ID=x', 'Time=1', 'msgid=x', 'timestamp=1', '=x']) {
      expect(parseRef(bad), JSON.stringify(bad)).toBeUndefined();
    }
  });

  it('writes a ref back to the text it was read from', () => {
    for (const text of ['id=x', 'id=k3f9-1f', 'time=0', 'time=1764236520114']) expect(formatRef(parseRef(text)!)).toBe(text);
  });
});

describe('parseHistoryQuery', () => {
  it('[HIST-2] reads each selector, in any ASCII case', () => {
    expect(parse('LATEST 50')).toEqual({ kind: 'latest', limit: 50 });
    expect(parse('latest 50')).toEqual({ kind: 'latest', limit: 50 });
    expect(parse('BEFORE id=x 10')).toEqual({ kind: 'before', ref: { by: 'id', id: 'x' }, limit: 10 });
    expect(parse('After time=5 1')).toEqual({ kind: 'after', ref: { by: 'time', time: 5 }, limit: 1 });
    expect(parse('BETWEEN id=a time=9 500')).toEqual({
      kind: 'between',
      from: { by: 'id', id: 'a' },
      to: { by: 'time', time: 9 },
      limit: 500,
    });
  });

  it('[HIST-2] takes a limit from 1 to HISTLIMIT and nothing else', () => {
    expect(parse('LATEST 1')).toEqual({ kind: 'latest', limit: 1 });
    expect(parse(`LATEST ${MAX}`)).toEqual({ kind: 'latest', limit: MAX });
    expect(parse('LATEST 7', 7)).toEqual({ kind: 'latest', limit: 7 });
    for (const bad of ['0', `${MAX + 1}`, '-1', '01', '1.0', '1e2', 'all', '', '9007199254740993']) {
      expect(typeof parse(`LATEST ${bad}`), JSON.stringify(bad)).toBe('string');
    }
    expect(typeof parse('LATEST 8', 7)).toBe('string');
  });

  it('[HIST-2] wants exactly the refs each selector takes', () => {
    for (const bad of ['', 'LATEST', 'LATEST id=x 5', 'BEFORE 5', 'BEFORE id=x', 'AFTER id=x id=y 5', 'BETWEEN id=x 5', 'BETWEEN id=x id=y id=z 5']) {
      expect(typeof parse(bad), JSON.stringify(bad)).toBe('string');
    }
    expect(typeof parseHistoryQuery([], MAX)).toBe('string');
  });

  it('[HIST-2] rejects an unknown selector and a malformed ref, saying what is wrong', () => {
    for (const bad of ['AROUND id=x 5', 'NEWEST 5', 'BEFORE x 5', 'AFTER id= 5', 'BETWEEN time=1 time=x 5', 'toString 5', '__proto__ 5']) {
      const problem = parse(bad);
      expect(typeof problem, JSON.stringify(bad)).toBe('string');
      expect((problem as string).length).toBeGreaterThan(0);
    }
  });
});

const ref: fc.Arbitrary<HistoryRef> = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/).map((id): HistoryRef => ({ by: 'id', id })),
  fc.maxSafeNat().map((time): HistoryRef => ({ by: 'time', time })),
);
const limit = fc.integer({ min: 1, max: MAX });
const query: fc.Arbitrary<HistoryQuery> = fc.oneof(
  limit.map((l): HistoryQuery => ({ kind: 'latest', limit: l })),
  fc.tuple(ref, limit).map(([r, l]): HistoryQuery => ({ kind: 'before', ref: r, limit: l })),
  fc.tuple(ref, limit).map(([r, l]): HistoryQuery => ({ kind: 'after', ref: r, limit: l })),
  fc.tuple(ref, ref, limit).map(([a, b, l]): HistoryQuery => ({ kind: 'between', from: a, to: b, limit: l })),
);

describe('historyQueryParams', () => {
  it('[HIST-2] writes the selector word in upper case, the refs and the limit', () => {
    expect(historyQueryParams({ kind: 'latest', limit: 50 })).toEqual(['LATEST', '50']);
    expect(historyQueryParams({ kind: 'between', from: { by: 'id', id: 'a' }, to: { by: 'time', time: 3 }, limit: 2 })).toEqual([
      'BETWEEN',
      'id=a',
      'time=3',
      '2',
    ]);
  });

  it('[HIST-2] is the inverse of parseHistoryQuery', () => {
    fc.assert(
      fc.property(query, (q) => {
        expect(parseHistoryQuery(historyQueryParams(q), MAX)).toEqual(q);
      }),
    );
  });

  it('[HIST-2] survives the wire: a HISTORY line parses back to the same target and query', () => {
    fc.assert(
      fc.property(query, fc.constantFrom('#lobby', '*', 'bob', '#Rust-2'), (q, target) => {
        const line = clientLine.history(target, q);
        const result = parseLine(Buffer.from(line.slice(0, -1)));
        expect(result.kind).toBe('message');
        if (result.kind !== 'message') return;
        expect(result.message.command).toBe('HISTORY');
        const [sentTarget, ...selector] = result.message.params;
        expect(sentTarget).toBe(target);
        expect(parseHistoryQuery(selector, MAX)).toEqual(q);
      }),
    );
  });
});
