/**
 * What every HistoryStore must do, whatever keeps the messages: numbering
 * ([MSG-4], [MSG-5]), pages ([HIST-2]), merged pages for `HISTORY *`
 * ([HIST-5]), ids back to positions, conversations by name, and the bound
 * per target. Each store's test file calls describeStoreContract with a
 * factory for fresh, empty stores.
 *
 * The bound per target may be kept loosely: a store may hold up to a tenth
 * more (the SQLite store prunes in steps), but never fewer than the bound,
 * and always the newest. Bounds under 20 are kept exactly by every store,
 * so the model-based property can predict what is kept.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { MessageKind } from '../../../../src/protocol/messages.ts';
import {
  isAfter,
  isBefore,
  privateKey,
  type Bound,
  type Draft,
  type HistoryStore,
  type StoreQuery,
  type StoredMessage,
} from '../../../../src/server/history/store.ts';

export interface StoreFactoryOptions {
  /** Messages kept per target; the contract always passes a bound ≥ 1. */
  readonly perTarget: number;
}

export type StoreFactory = (options: StoreFactoryOptions) => HistoryStore;

/** More than any test appends: no pruning. */
const UNBOUNDED = 1_000_000;

let clock = 1_700_000_000_000;

/** A draft for `target`, at a time after the previous draft's unless `time` is given. */
export function draft(target: string, text = `text ${clock}`, time = ++clock, kind: MessageKind = 'say'): Draft {
  const to = target.startsWith('@') ? target.split('@')[2]! : target;
  return { target, from: 'alice', to, kind, text, time };
}

const num = (n: number): Bound => ({ by: 'num', num: n });
const time = (t: number): Bound => ({ by: 'time', time: t });
const nums = (messages: readonly StoredMessage[]): number[] => messages.map((m) => m.num);

/** The digits part of an id stripped off: the prefix this store puts before every number. */
function prefixOf(m: StoredMessage): string {
  return m.id.slice(0, m.id.length - m.num.toString(36).length);
}

export function describeStoreContract(name: string, makeStore: StoreFactory): void {
  describe(`${name}: the HistoryStore contract`, () => {
    const open: HistoryStore[] = [];
    const fresh = (perTarget = UNBOUNDED): HistoryStore => {
      const store = makeStore({ perTarget });
      open.push(store);
      return store;
    };
    afterEach(() => {
      for (const store of open.splice(0)) store.close();
    });

    describe('numbering', () => {
      it('stamps num from 1 across all targets, seq from 1 within each, and keeps the draft as given [MSG-4] [MSG-5]', () => {
        const store = fresh();
        const dm = privateKey('bob', 'alice');
        const drafts = [draft('#a'), draft('#b'), draft('#a'), draft(dm), draft('#a', 'ünïcødé 🎉 :colon', clock, 'me')];
        const stamped = drafts.map((d) => store.append(d));
        expect(nums(stamped)).toEqual([1, 2, 3, 4, 5]);
        expect(stamped.map((m) => m.seq)).toEqual([1, 1, 2, 1, 3]);
        stamped.forEach((m, i) => expect(m).toMatchObject({ ...drafts[i]!, num: i + 1 }));
        expect(store.page(['#a'], { kind: 'latest', limit: 10 })).toEqual([stamped[0], stamped[2], stamped[4]]);
      });

      it('makes ids unique, 1 to 64 characters of A-Z a-z 0-9 - _, ending in num in base 36 [MSG-4]', () => {
        const store = fresh();
        const stamped = Array.from({ length: 50 }, (_, i) => store.append(draft(`#r${i % 3}`)));
        const prefix = prefixOf(stamped[0]!);
        for (const m of stamped) {
          expect(m.id).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
          expect(m.id).toBe(prefix + m.num.toString(36));
        }
        expect(new Set(stamped.map((m) => m.id)).size).toBe(50);
      });
    });

    describe('pages of one target [HIST-2]', () => {
      const queries: StoreQuery[] = [
        { kind: 'latest', limit: 5 },
        { kind: 'before', bound: num(100), limit: 5 },
        { kind: 'after', bound: num(0), limit: 5 },
        { kind: 'between', from: num(0), to: num(100), limit: 5 },
        { kind: 'before', bound: time(Number.MAX_SAFE_INTEGER), limit: 5 },
        { kind: 'after', bound: time(0), limit: 5 },
      ];

      it('are empty in an empty store and for an unknown target', () => {
        const store = fresh();
        for (const q of queries) expect(store.page(['#a'], q)).toEqual([]);
        store.append(draft('#a'));
        for (const q of queries) expect(store.page(['#nobody'], q)).toEqual([]);
        for (const q of queries) expect(store.page([], q)).toEqual([]);
      });

      it('give the last, the last before, the first after, and the first between, oldest first', () => {
        const store = fresh();
        const all = Array.from({ length: 10 }, () => store.append(draft('#a')));
        const n = (i: number) => all[i]!.num;
        expect(nums(store.page(['#a'], { kind: 'latest', limit: 3 }))).toEqual([n(7), n(8), n(9)]);
        expect(nums(store.page(['#a'], { kind: 'before', bound: num(n(5)), limit: 3 }))).toEqual([n(2), n(3), n(4)]);
        expect(nums(store.page(['#a'], { kind: 'after', bound: num(n(5)), limit: 3 }))).toEqual([n(6), n(7), n(8)]);
        expect(nums(store.page(['#a'], { kind: 'between', from: num(n(1)), to: num(n(8)), limit: 3 }))).toEqual([n(2), n(3), n(4)]);
        expect(nums(store.page(['#a'], { kind: 'between', from: num(n(1)), to: num(n(5)), limit: 30 }))).toEqual([n(2), n(3), n(4)]);
      });

      it('take limit 1 and limits larger than the target', () => {
        const store = fresh();
        const all = Array.from({ length: 4 }, () => store.append(draft('#a')));
        expect(store.page(['#a'], { kind: 'latest', limit: 1 })).toEqual([all[3]]);
        expect(store.page(['#a'], { kind: 'before', bound: num(all[3]!.num), limit: 1 })).toEqual([all[2]]);
        expect(store.page(['#a'], { kind: 'after', bound: num(all[0]!.num), limit: 1 })).toEqual([all[1]]);
        expect(store.page(['#a'], { kind: 'between', from: num(0), to: num(99), limit: 1 })).toEqual([all[0]]);
        expect(store.page(['#a'], { kind: 'latest', limit: 500 })).toEqual(all);
      });

      it('exclude the bounds, and accept bounds beyond either end', () => {
        const store = fresh();
        const all = Array.from({ length: 5 }, () => store.append(draft('#a')));
        const [first, , middle, , last] = all.map((m) => m.num) as [number, number, number, number, number];
        expect(nums(store.page(['#a'], { kind: 'before', bound: num(middle), limit: 10 }))).toEqual([first, first + 1]);
        expect(nums(store.page(['#a'], { kind: 'after', bound: num(middle), limit: 10 }))).toEqual([middle + 1, last]);
        expect(store.page(['#a'], { kind: 'before', bound: num(first), limit: 10 })).toEqual([]);
        expect(store.page(['#a'], { kind: 'after', bound: num(last), limit: 10 })).toEqual([]);
        expect(store.page(['#a'], { kind: 'before', bound: num(0), limit: 10 })).toEqual([]);
        expect(store.page(['#a'], { kind: 'after', bound: num(last + 1000), limit: 10 })).toEqual([]);
        expect(store.page(['#a'], { kind: 'before', bound: num(last + 1000), limit: 10 })).toEqual(all);
        expect(store.page(['#a'], { kind: 'after', bound: num(0), limit: 10 })).toEqual(all);
      });

      it('are empty between a bound and one not after it, and between neighbours', () => {
        const store = fresh();
        const all = Array.from({ length: 5 }, () => store.append(draft('#a')));
        const m = all[2]!.num;
        expect(store.page(['#a'], { kind: 'between', from: num(m), to: num(m), limit: 10 })).toEqual([]);
        expect(store.page(['#a'], { kind: 'between', from: num(m + 1), to: num(m - 1), limit: 10 })).toEqual([]);
        expect(store.page(['#a'], { kind: 'between', from: num(m), to: num(m + 1), limit: 10 })).toEqual([]);
        expect(store.page(['#a'], { kind: 'between', from: num(m - 1), to: num(m + 1), limit: 10 })).toEqual([all[2]]);
        const t = all[2]!.time;
        expect(store.page(['#a'], { kind: 'between', from: time(t), to: time(t), limit: 10 })).toEqual([]);
        expect(store.page(['#a'], { kind: 'between', from: time(t + 5), to: time(t - 5), limit: 10 })).toEqual([]);
      });

      it('bound by time, exclusive, with several messages at the same millisecond [MSG-6]', () => {
        const store = fresh();
        const at = [10, 10, 20, 20, 20, 30].map((t) => store.append(draft('#a', `at ${t}`, t)));
        const page = (q: StoreQuery) => store.page(['#a'], q).map((m) => m.text);
        expect(page({ kind: 'before', bound: time(20), limit: 10 })).toEqual(['at 10', 'at 10']);
        expect(page({ kind: 'after', bound: time(20), limit: 10 })).toEqual(['at 30']);
        expect(page({ kind: 'after', bound: time(10), limit: 2 })).toEqual(['at 20', 'at 20']);
        expect(page({ kind: 'before', bound: time(30), limit: 2 })).toEqual(['at 20', 'at 20']);
        expect(nums(store.page(['#a'], { kind: 'between', from: time(10), to: time(30), limit: 10 }))).toEqual(nums(at.slice(2, 5)));
        expect(page({ kind: 'between', from: time(9), to: time(11), limit: 10 })).toEqual(['at 10', 'at 10']);
        expect(page({ kind: 'before', bound: time(10), limit: 10 })).toEqual([]);
        expect(page({ kind: 'after', bound: time(30), limit: 10 })).toEqual([]);
        expect(page({ kind: 'after', bound: time(5), limit: 1 })).toEqual(['at 10']);
        expect(page({ kind: 'before', bound: time(99), limit: 1 })).toEqual(['at 30']);
        // One bound by num, the other by time.
        expect(nums(store.page(['#a'], { kind: 'between', from: num(at[0]!.num), to: time(20), limit: 10 }))).toEqual([at[1]!.num]);
      });

      it('take a num from another target as a position among its own messages [HIST-2]', () => {
        const store = fresh();
        const a1 = store.append(draft('#a'));
        const b1 = store.append(draft('#b'));
        const a2 = store.append(draft('#a'));
        const b2 = store.append(draft('#b'));
        expect(store.page(['#a'], { kind: 'after', bound: num(b1.num), limit: 10 })).toEqual([a2]);
        expect(store.page(['#a'], { kind: 'before', bound: num(b1.num), limit: 10 })).toEqual([a1]);
        expect(store.page(['#b'], { kind: 'between', from: num(a1.num), to: num(a2.num), limit: 10 })).toEqual([b1]);
        expect(store.page(['#b'], { kind: 'after', bound: num(a2.num), limit: 10 })).toEqual([b2]);
      });
    });

    describe('pages of several targets (HISTORY *) [HIST-5]', () => {
      it('merge in num order, keeping the newest for latest/before and the oldest for after/between', () => {
        const store = fresh();
        const dm = privateKey('alice', 'bob');
        const all = ['#a', dm, '#b', '#a', '#a', dm, '#b', dm, '#c'].map((t) => store.append(draft(t)));
        const targets = ['#a', dm, '#nobody'];
        const mine = all.filter((m) => m.target === '#a' || m.target === dm);
        expect(store.page(targets, { kind: 'latest', limit: 4 })).toEqual(mine.slice(-4));
        expect(store.page(targets, { kind: 'latest', limit: 100 })).toEqual(mine);
        expect(store.page(targets, { kind: 'before', bound: num(all[7]!.num), limit: 3 })).toEqual(mine.slice(2, 5));
        expect(store.page(targets, { kind: 'after', bound: num(all[0]!.num), limit: 3 })).toEqual(mine.slice(1, 4));
        expect(store.page(targets, { kind: 'between', from: num(0), to: num(all[5]!.num), limit: 2 })).toEqual(mine.slice(0, 2));
        expect(store.page(targets, { kind: 'after', bound: time(all[4]!.time), limit: 10 })).toEqual(mine.slice(4));
      });
    });

    describe('floors and tenures [NAME-5] [HIST-5]', () => {
      it('pages only above a floor, for every kind of query and for several targets', () => {
        const store = fresh();
        const dm = privateKey('alice', 'bob');
        const all = [dm, '#a', dm, dm, '#a', dm].map((t) => store.append(draft(t)));
        const floor = all[2]!.num;
        const above = all.filter((m) => m.target === dm && m.num > floor);
        expect(store.page([dm], { kind: 'latest', limit: 10 }, floor)).toEqual(above);
        expect(store.page([dm], { kind: 'before', bound: num(all[5]!.num), limit: 10 }, floor)).toEqual(above.slice(0, 1));
        expect(store.page([dm], { kind: 'after', bound: num(0), limit: 10 }, floor)).toEqual(above);
        expect(store.page([dm], { kind: 'between', from: num(0), to: num(all[5]!.num), limit: 10 }, floor)).toEqual(above.slice(0, 1));
        expect(store.page([dm, '#a'], { kind: 'latest', limit: 10 }, floor)).toEqual(all.filter((m) => m.num > floor));
        expect(store.page([dm], { kind: 'latest', limit: 10 }, all[5]!.num)).toEqual([]);
      });

      it('reports the last number issued, and keeps the latest tenure of each name', () => {
        const store = fresh();
        expect(store.lastNum()).toBe(0);
        expect(store.tenure('alice')).toBeUndefined();
        const m = store.append(draft('#a'));
        expect(store.lastNum()).toBe(m.num);
        store.saveTenure('alice', { keyHash: 'h1', floor: 0 });
        store.saveTenure('alice', { keyHash: 'h2', floor: m.num });
        store.saveTenure('bob', { keyHash: 'h3', floor: 0 });
        store.commit();
        expect(store.tenure('alice')).toEqual({ keyHash: 'h2', floor: m.num });
        expect(store.tenure('bob')).toEqual({ keyHash: 'h3', floor: 0 });
      });
    });

    describe('numOf', () => {
      it('gives back the num of every id the store issued, pruned ones too [HIST-2]', () => {
        const store = fresh(3);
        const all = Array.from({ length: 10 }, () => store.append(draft('#a')));
        for (const m of all) expect(store.numOf(m.id)).toBe(m.num);
      });

      it('is undefined for another prefix, malformed ids, and numbers not issued yet', () => {
        const store = fresh();
        const m = store.append(draft('#a'));
        const prefix = prefixOf(m);
        const other = prefix === '' ? 'x-' : (prefix[0] === 'Z' ? 'Y' : 'Z') + prefix.slice(1);
        const malformed = ['0', '01', 'A', '1!', '-1', 'zzzzzzzzzzzz'].map((digits) => prefix + digits);
        for (const id of [other + '1', '', prefix, ...malformed, '1 ' + m.id]) expect(store.numOf(id), id).toBeUndefined();
        expect(store.numOf(prefix + '2')).toBeUndefined();
        store.append(draft('#a'));
        expect(store.numOf(prefix + '2')).toBe(2);
      });
    });

    describe('conversationsOf', () => {
      it('lists the private keys a folded name takes part in, and no rooms [HIST-1]', () => {
        const store = fresh();
        const pairs = [['alice', 'bob'], ['Carol', 'alice'], ['bob', 'dave'], ['alice', 'bob'], ['eve', 'eve']] as const;
        for (const [a, b] of pairs) store.append(draft(privateKey(a, b)));
        store.append(draft('#a'));
        expect(store.conversationsOf('alice').sort()).toEqual(['@alice@bob', '@alice@carol']);
        expect(store.conversationsOf('bob').sort()).toEqual(['@alice@bob', '@bob@dave']);
        expect(store.conversationsOf('carol')).toEqual(['@alice@carol']);
        expect(store.conversationsOf('eve')).toEqual(['@eve@eve']);
        expect(store.conversationsOf('#a')).toEqual([]);
        expect(store.conversationsOf('zed')).toEqual([]);
      });
    });

    describe('the bound per target', () => {
      it.each([5, 20, 100])('keeps the newest messages of a target, at least %i and at most a tenth more [HIST-1]', (perTarget) => {
        const store = fresh(perTarget);
        const slack = Math.max(1, Math.floor(perTarget / 10)) - 1;
        const appended: StoredMessage[] = [];
        const other = store.append(draft('#other'));
        for (let i = 1; i <= perTarget * 3 + 7; i++) {
          appended.push(store.append(draft('#a')));
          const kept = store.page(['#a'], { kind: 'latest', limit: UNBOUNDED });
          expect(kept.length).toBeGreaterThanOrEqual(Math.min(i, perTarget));
          expect(kept.length).toBeLessThanOrEqual(perTarget + slack);
          expect(kept).toEqual(appended.slice(-kept.length));
          expect(store.page(['#a'], { kind: 'after', bound: num(0), limit: UNBOUNDED })).toEqual(kept);
        }
        expect(appended.at(-1)!.seq).toBe(perTarget * 3 + 7);
        expect(store.page(['#other'], { kind: 'latest', limit: 10 })).toEqual([other]);
      });
    });

    it('matches a naive model for random appends, commits and queries (property)', () => {
      const scenario = fc.tuple(fc.constantFrom(3, 5, UNBOUNDED), fc.array(command, { minLength: 10, maxLength: 100, size: 'max' }));
      const check = ([perTarget, commands]: [number, Command[]]) => {
        const store = fresh(perTarget);
        const model = new NaiveModel(perTarget);
        let now = 1_000;
        for (const c of commands) {
          if (c.kind === 'append') {
            now += c.delay;
            const m = store.append({ ...draft(TARGETS[c.target]!, c.text, now), kind: c.messageKind });
            expect(m).toEqual(model.append(m));
          } else if (c.kind === 'commit') {
            store.commit();
          } else {
            const targets = c.targets.map((i) => TARGETS[i]!);
            const query = c.toQuery(model.lastNum, now);
            expect(nums(store.page(targets, query)), JSON.stringify({ targets, query })).toEqual(nums(model.page(targets, query)));
          }
        }
        const everything: StoreQuery = { kind: 'latest', limit: UNBOUNDED };
        for (const t of TARGETS) expect(store.page([t], everything)).toEqual(model.page([t], everything));
      };
      fc.assert(fc.property(scenario, check), { numRuns: 60 });
    });
  });
}

/** Two rooms, two private conversations, and a target nothing is ever appended to. */
const TARGETS = ['#a', '#b', privateKey('alice', 'bob'), privateKey('bob', 'carol'), '#empty'] as const;

/** A bound as a fraction of what exists when the query runs, so it lands among the messages. */
const boundArb = fc.record({ by: fc.constantFrom('num', 'time'), at: fc.integer({ min: -10, max: 110 }).map((percent) => percent / 100) });
type BoundSpec = { by: 'num' | 'time'; at: number };
const toBound = (spec: BoundSpec, lastNum: number, now: number): Bound =>
  spec.by === 'num' ? num(Math.max(0, Math.round(spec.at * (lastNum + 1)))) : time(Math.round(1_000 + spec.at * (now - 1_000)));

const limitArb = fc.integer({ min: 1, max: 12 });
const queryArb = fc.oneof(
  limitArb.map((limit) => (_: number, __: number): StoreQuery => ({ kind: 'latest', limit })),
  fc.tuple(boundArb, limitArb).map(([b, limit]) => (n: number, t: number): StoreQuery => ({
    kind: 'before',
    bound: toBound(b, n, t),
    limit,
  })),
  fc.tuple(boundArb, limitArb).map(([b, limit]) => (n: number, t: number): StoreQuery => ({
    kind: 'after',
    bound: toBound(b, n, t),
    limit,
  })),
  fc.tuple(boundArb, boundArb, limitArb).map(([f, to, limit]) => (n: number, t: number): StoreQuery => ({
    kind: 'between',
    from: toBound(f, n, t),
    to: toBound(to, n, t),
    limit,
  })),
);

const command = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('append' as const),
      target: fc.nat({ max: TARGETS.length - 2 }),
      // Often 0, so several messages share a millisecond.
      delay: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3 })),
      text: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }),
      messageKind: fc.constantFrom<MessageKind>('say', 'me'),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'commit' as const }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('query' as const),
      targets: fc.uniqueArray(fc.nat({ max: TARGETS.length - 1 }), { minLength: 1, maxLength: 3 }),
      toQuery: queryArb,
    }),
  },
);

type Command = typeof command extends fc.Arbitrary<infer C> ? C : never;

/** Everything ever appended, with the ones the bound prunes left out, filtered and sorted on every query. */
class NaiveModel {
  readonly #all: StoredMessage[] = [];
  readonly #perTarget: number;

  constructor(perTarget: number) {
    this.#perTarget = perTarget;
  }

  get lastNum(): number {
    return this.#all.length;
  }

  /** What the store must have stamped: the draft fields of `m` with the expected numbers. */
  append(m: StoredMessage): StoredMessage {
    const seq = this.#all.filter((x) => x.target === m.target).length + 1;
    const num = this.#all.length + 1;
    const expected = { ...m, num, seq, id: prefixOf(m) + num.toString(36) };
    this.#all.push(expected);
    return expected;
  }

  page(targets: readonly string[], q: StoreQuery): StoredMessage[] {
    const kept = targets.flatMap((t) => this.#all.filter((m) => m.target === t).slice(-this.#perTarget)).sort((a, b) => a.num - b.num);
    switch (q.kind) {
      case 'latest':
        return kept.slice(-q.limit);
      case 'before':
        return kept.filter((m) => isBefore(m, q.bound)).slice(-q.limit);
      case 'after':
        return kept.filter((m) => isAfter(m, q.bound)).slice(0, q.limit);
      case 'between':
        return kept.filter((m) => isAfter(m, q.from) && isBefore(m, q.to)).slice(0, q.limit);
    }
  }
}
