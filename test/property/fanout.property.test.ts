/**
 * Fanout against direct delivery.
 *
 * Fanout delays broadcast lines (to the end of the turn, or up to a hold
 * time for presence) and hands each member what it has not seen as one
 * chunk. Its order contract is that none of this is visible in a member's
 * byte stream: every member receives exactly what direct delivery would have
 * given it, in the same order ([MSG-7], [MSG-8], [PRES-5]).
 *
 * The model is direct delivery: a publish appends the line at once to every
 * member's stream but `except`'s, a private send appends to that member's
 * stream, add and remove change membership at once. Random interleavings of
 * those operations with turn ends and hold timers firing are run against a
 * real Fanout with a hand-driven scheduler and members that send privately
 * the way Connection does (catch up on their groups first).
 *
 * Besides the final streams, every step checks what the design promises on
 * the way: what a member has is always a prefix of its direct-delivery
 * stream; a private send or a removal leaves the member fully caught up; a
 * publish hands nobody anything but `except` (O(1)); a publish nobody can
 * receive schedules nothing; a hold never outlasts an un-held line or its
 * own timer; in a turn without private sends a member receives at most one
 * chunk per flush (plus one catch-up per publish that skipped it); and all
 * chunks of one flush are views of one joined Buffer.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Fanout, type FanoutMember } from '../../src/server/fanout.ts';
import { ManualFanoutScheduler } from '../unit/server/fakes.ts';

const MEMBERS = 4;
const HOLD_MS = 50;

type Op =
  | { readonly kind: 'add'; readonly member: number }
  | { readonly kind: 'remove'; readonly member: number }
  | { readonly kind: 'publish'; readonly except: number | undefined; readonly holdMs: 0 | typeof HOLD_MS }
  | { readonly kind: 'send'; readonly member: number }
  | { readonly kind: 'endTurn' }
  | { readonly kind: 'fire' };

const member = fc.integer({ min: 0, max: MEMBERS - 1 });

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: member.map((m): Op => ({ kind: 'add', member: m })) },
  { weight: 1, arbitrary: member.map((m): Op => ({ kind: 'remove', member: m })) },
  {
    weight: 5,
    arbitrary: fc
      .record({ except: fc.option(member, { nil: undefined }), holdMs: fc.constantFrom(0 as const, HOLD_MS) })
      .map(({ except, holdMs }): Op => ({ kind: 'publish', except, holdMs })),
  },
  { weight: 2, arbitrary: member.map((m): Op => ({ kind: 'send', member: m })) },
  { weight: 2, arbitrary: fc.constant<Op>({ kind: 'endTurn' }) },
  { weight: 1, arbitrary: fc.constant<Op>({ kind: 'fire' }) },
);

interface Chunk {
  readonly bytes: Buffer;
  /** The flush that delivered it; undefined for a catch-up or a private send. */
  readonly flush: number | undefined;
}

class Member implements FanoutMember {
  readonly groups = new Set<Fanout>();
  readonly chunks: Chunk[] = [];
  /** Every chunk so far, decoded and joined. */
  received = '';

  constructor(readonly scheduler: ManualFanoutScheduler) {}

  deliver(bytes: Buffer): void {
    this.chunks.push({ bytes, flush: this.scheduler.flushing });
    this.received += bytes.toString('latin1');
  }

  enter(group: Fanout): void {
    this.groups.add(group);
  }

  exit(group: Fanout): void {
    this.groups.delete(group);
  }

  /** Connection.send: catch up on every group, then queue the private bytes. */
  send(bytes: Buffer): void {
    for (const group of this.groups) group.catchUp(this);
    this.chunks.push({ bytes, flush: undefined });
    this.received += bytes.toString('latin1');
  }
}

/** For the checks made after every step: expect() costs too much to call thousands of times a run. */
function check(ok: boolean, what: () => string): void {
  if (!ok) throw new Error(what());
}

/** What happened during one turn, for the checks made when it ends. */
interface Turn {
  /** Members at the start of the turn and not removed since. */
  readonly whole: Set<number>;
  privateSend: boolean;
  /** Publishes that skipped each member (each may catch it up: one more chunk). */
  readonly excepted: number[];
  /** Chunks each member had when the turn began. */
  readonly chunksBefore: number[];
  /**
   * The batch must go at the end of this turn: an un-held line reached
   * somebody, or the hold timer fired, since the group was last empty.
   */
  due: boolean;
}

/**
 * Runs `ops` against a Fanout and against direct delivery, checking the
 * invariants after every step, then drains every batch and compares the streams.
 */
function simulate(initial: readonly number[], ops: readonly Op[]): void {
  const scheduler = new ManualFanoutScheduler();
  const group = new Fanout(scheduler);
  const members = Array.from({ length: MEMBERS }, () => new Member(scheduler));
  const inGroup = new Set<number>();
  const expected = members.map(() => '');
  let counter = 0;
  // Lines of different lengths, so that a wrong offset into the joined batch shows.
  const nextLine = (prefix: string) => {
    const n = counter++;
    return `${prefix}${n}${'.'.repeat(n % 4)}\n`;
  };

  const startTurn = (): Turn => ({
    whole: new Set(inGroup),
    privateSend: false,
    excepted: members.map(() => 0),
    chunksBefore: members.map((m) => m.chunks.length),
    due: false,
  });

  const checkStreams = () => {
    check(scheduler.pending.length <= 1, () => `${scheduler.pending.length} hold timers pending`);
    for (const [i, m] of members.entries()) {
      // Delayed, never reordered or invented: what arrived so far is a prefix of direct delivery.
      check(
        expected[i]!.startsWith(m.received),
        () => `member ${i} got ${JSON.stringify(m.received)}, not a prefix of ${JSON.stringify(expected[i])}`,
      );
    }
  };

  const endTurn = () => {
    scheduler.endTurn();
    if (turn.due) {
      // [PRES-5]: a hold never outlasts an un-held line or its own timer.
      for (const [i, m] of members.entries()) expect(m.received, `member ${i} after the turn`).toBe(expected[i]);
    }
    if (!turn.privateSend) {
      for (const i of turn.whole) {
        const got = members[i]!.chunks.length - turn.chunksBefore[i]!;
        // One chunk for the end of the turn, plus one catch-up per publish that skipped it.
        expect(got, `chunks to member ${i} in one turn`).toBeLessThanOrEqual(1 + turn.excepted[i]!);
      }
    }
    turn = startTurn();
  };

  for (const i of initial) {
    group.add(members[i]!);
    inGroup.add(i);
  }
  let turn = startTurn();

  for (const op of ops) {
    switch (op.kind) {
      case 'add':
        group.add(members[op.member]!);
        inGroup.add(op.member);
        break;
      case 'remove': {
        const was = inGroup.delete(op.member);
        group.remove(members[op.member]!);
        turn.whole.delete(op.member);
        // A member leaves with everything it was owed.
        if (was) expect(members[op.member]!.received).toBe(expected[op.member]);
        if (was && inGroup.size === 0) {
          // Nobody is left to owe anything to: the batch and its hold are dropped.
          expect(scheduler.pending).toEqual([]);
          turn.due = false;
        }
        break;
      }
      case 'publish': {
        const text = nextLine('L');
        const recipients = [...inGroup].filter((i) => i !== op.except);
        const scheduledBefore = scheduler.scheduled.length;
        const timersBefore = scheduler.timers.length;
        const counts = members.map((m) => m.chunks.length);
        group.publish(
          Buffer.from(text, 'latin1'),
          op.except === undefined ? undefined : members[op.except],
          op.holdMs,
        );
        for (const i of recipients) expected[i] += text;
        if (op.holdMs === 0 && recipients.length > 0) turn.due = true;
        if (op.except !== undefined && inGroup.has(op.except)) turn.excepted[op.except]!++;
        // O(1): nobody is handed anything but `except`, which may be caught up first.
        for (const [i, m] of members.entries()) {
          check(i === op.except || m.chunks.length === counts[i], () => `publish handed member ${i} a chunk`);
        }
        if (recipients.length === 0) {
          // Nobody to receive it: nothing scheduled, no timer armed.
          expect(scheduler.scheduled.length).toBe(scheduledBefore);
          expect(scheduler.timers.length).toBe(timersBefore);
        }
        break;
      }
      case 'send': {
        const text = nextLine('P');
        members[op.member]!.send(Buffer.from(text, 'latin1'));
        expected[op.member] += text;
        turn.privateSend = true;
        // [MSG-8]: a private line comes after every broadcast published before it.
        expect(members[op.member]!.received).toBe(expected[op.member]);
        break;
      }
      case 'endTurn':
        endTurn();
        break;
      case 'fire':
        if (scheduler.fireOldest()) turn.due = true;
        break;
    }
    checkStreams();
  }

  // Drain: let every hold run out and every turn end.
  for (let rounds = 0; scheduler.scheduled.length > 0 || scheduler.pending.length > 0; rounds++) {
    expect(rounds).toBeLessThan(4);
    scheduler.fireOldest();
    endTurn();
  }
  for (const [i, m] of members.entries()) expect(m.received, `member ${i}`).toBe(expected[i]);

  // Each flush hands each member at most one chunk, and all of one flush's
  // chunks are views of the same joined Buffer, ending at the same byte.
  const byFlush = new Map<number, { member: number; bytes: Buffer }[]>();
  for (const [i, m] of members.entries()) {
    for (const chunk of m.chunks) {
      if (chunk.flush === undefined) continue;
      let list = byFlush.get(chunk.flush);
      if (list === undefined) byFlush.set(chunk.flush, (list = []));
      list.push({ member: i, bytes: chunk.bytes });
    }
  }
  for (const chunks of byFlush.values()) {
    expect(new Set(chunks.map((c) => c.member)).size).toBe(chunks.length);
    const first = chunks[0]!.bytes;
    for (const { bytes } of chunks) {
      expect(bytes.buffer).toBe(first.buffer);
      expect(bytes.byteOffset + bytes.length).toBe(first.byteOffset + first.length);
    }
  }
}

describe('Fanout properties', () => {
  it('[MSG-7] [MSG-8] [PRES-5] every member receives what direct delivery would give it, in the same order', () => {
    fc.assert(
      fc.property(fc.subarray([0, 1, 2, 3]), fc.array(opArb, { maxLength: 80 }), (initial, ops) => {
        simulate(initial, ops);
      }),
      { numRuns: 300 },
    );
  });

  it('[MSG-7] holds for long runs with few turn ends, where batches and holds grow large', () => {
    const busy: fc.Arbitrary<Op> = fc.oneof(
      { weight: 12, arbitrary: opArb.filter((op) => op.kind !== 'endTurn') },
      { weight: 1, arbitrary: fc.constant<Op>({ kind: 'endTurn' }) },
    );
    fc.assert(
      fc.property(fc.subarray([0, 1, 2, 3]), fc.array(busy, { minLength: 50, maxLength: 200 }), (initial, ops) => {
        simulate(initial, ops);
      }),
      { numRuns: 100 },
    );
  });
});
