/**
 * Fanout: a broadcast group that joins its lines once per event-loop turn.
 *
 * Time is driven by hand: the scheduler only records which groups asked to
 * be flushed and which hold timers were armed, and each test decides when
 * the turn ends (`endTurn`) or a timer fires (`fire`). So every test can look
 * at the state between a publish and the end of its turn, which is where the
 * order contract ([MSG-7], [MSG-8]) and the presence hold ([PRES-5]) live.
 *
 * The members record every chunk as the Buffer object they were handed, so
 * the tests can check the one-allocation claim with `toBe`, and their
 * `send` does what Connection.send does: catch up on every group first.
 */
import { describe, expect, it } from 'vitest';
import { Fanout, type FanoutMember } from '../../../src/server/fanout.ts';
import { ManualFanoutScheduler } from './fakes.ts';

/** A member that records what it receives, and sends privately the way Connection does. */
class FakeMember implements FanoutMember {
  readonly groups = new Set<Fanout>();
  /** Every chunk in arrival order, as the very object handed over. */
  readonly chunks: Buffer[] = [];
  entered = 0;
  exited = 0;

  deliver(bytes: Buffer): void {
    this.chunks.push(bytes);
  }

  enter(group: Fanout): void {
    this.entered++;
    this.groups.add(group);
  }

  exit(group: Fanout): void {
    this.exited++;
    this.groups.delete(group);
  }

  /** Connection.send: broadcast lines published before this go first. */
  send(text: string): void {
    for (const group of this.groups) group.catchUp(this);
    this.chunks.push(Buffer.from(text));
  }

  /** The chunks decoded, one string per chunk. */
  get texts(): string[] {
    return this.chunks.map((c) => c.toString('utf8'));
  }
}

const line = (text: string): Buffer => Buffer.from(`${text}\n`);

function setup(memberCount: number): { scheduler: ManualFanoutScheduler; group: Fanout; members: FakeMember[] } {
  const scheduler = new ManualFanoutScheduler();
  const group = new Fanout(scheduler);
  const members = Array.from({ length: memberCount }, () => new FakeMember());
  for (const member of members) group.add(member);
  return { scheduler, group, members };
}

describe('Fanout: publish is O(1)', () => {
  it('schedules the group once per turn however many lines, and touches no member until the turn ends', () => {
    const { scheduler, group, members } = setup(3);
    for (let i = 0; i < 100; i++) group.publish(line(`MSG ${i}`));
    // The cost of a publish must not depend on the group's size: nothing is
    // handed to anyone yet, and the scheduler heard about the group once.
    expect(scheduler.scheduled).toEqual([group]);
    for (const member of members) expect(member.chunks).toEqual([]);

    scheduler.endTurn();
    const all = Array.from({ length: 100 }, (_, i) => `MSG ${i}\n`).join('');
    for (const member of members) expect(member.texts).toEqual([all]);
  });

  it('schedules again in the next turn, not before', () => {
    const { scheduler, group, members } = setup(1);
    group.publish(line('a'));
    scheduler.endTurn();
    group.publish(line('b'));
    group.publish(line('c'));
    expect(scheduler.scheduled).toHaveLength(1);
    scheduler.endTurn();
    expect(members[0]!.texts).toEqual(['a\n', 'b\nc\n']);
  });
});

describe('Fanout: one shared Buffer per turn', () => {
  it('hands every caught-up member the same Buffer object', () => {
    const { scheduler, group, members } = setup(4);
    group.publish(line('one'));
    group.publish(line('two'));
    group.publish(line('three'));
    scheduler.endTurn();
    const first = members[0]!.chunks[0]!;
    expect(first.toString()).toBe('one\ntwo\nthree\n');
    // Same object, not equal copies: the batch was joined once for everybody.
    for (const member of members) {
      expect(member.chunks).toHaveLength(1);
      expect(member.chunks[0]).toBe(first);
    }
  });

  it('hands over a lone line as the published Buffer itself, without copying it', () => {
    const { scheduler, group, members } = setup(2);
    const only = line('only');
    group.publish(only);
    scheduler.endTurn();
    expect(members[0]!.chunks[0]).toBe(only);
    expect(members[1]!.chunks[0]).toBe(only);
  });
});

describe('Fanout: except', () => {
  it('skips `except` and only it, keeping its order with what came before', () => {
    const { scheduler, group, members } = setup(3);
    const [a, b, c] = members as [FakeMember, FakeMember, FakeMember];
    group.publish(line('L1'));
    group.publish(line('L2 not to a'), a);
    group.publish(line('L3'));
    scheduler.endTurn();
    // a had to be caught up on L1 before its cursor could skip L2.
    expect(a.texts).toEqual(['L1\n', 'L3\n']);
    expect(b.texts).toEqual(['L1\nL2 not to a\nL3\n']);
    expect(c.chunks[0]).toBe(b.chunks[0]);
  });

  it('sends to everybody when `except` is not a member', () => {
    const { scheduler, group, members } = setup(2);
    const stranger = new FakeMember();
    group.publish(line('hello'), stranger);
    scheduler.endTurn();
    expect(stranger.chunks).toEqual([]);
    for (const member of members) expect(member.texts).toEqual(['hello\n']);
  });
});

describe('Fanout: membership', () => {
  it('starts a member added mid-turn at the end of the batch', () => {
    const { scheduler, group, members } = setup(1);
    const late = new FakeMember();
    group.publish(line('before'));
    group.add(late);
    expect(late.entered).toBe(1);
    group.publish(line('after'));
    scheduler.endTurn();
    expect(members[0]!.texts).toEqual(['before\nafter\n']);
    expect(late.texts).toEqual(['after\n']);
  });

  it('gives a member added after the last line of the turn nothing at the flush', () => {
    const { scheduler, group } = setup(1);
    const late = new FakeMember();
    group.publish(line('before'));
    group.add(late);
    scheduler.endTurn();
    expect(late.chunks).toEqual([]);
    group.publish(line('next turn'));
    scheduler.endTurn();
    expect(late.texts).toEqual(['next turn\n']);
  });

  it('does not reset the cursor when a member is added twice', () => {
    const { scheduler, group, members } = setup(1);
    const a = members[0]!;
    group.publish(line('L1'));
    group.add(a);
    scheduler.endTurn();
    expect(a.texts).toEqual(['L1\n']);
    expect(a.entered).toBe(1);
  });

  it('[MSG-7] remove hands the member every line published while it was a member, then nothing more', () => {
    const { scheduler, group, members } = setup(2);
    const [a, b] = members as [FakeMember, FakeMember];
    group.publish(line('L1'));
    group.publish(line('L2'));
    group.remove(a);
    // At once, before exit(): a Connection closing after this still has them queued first.
    expect(a.texts).toEqual(['L1\nL2\n']);
    expect(a.exited).toBe(1);
    expect(a.groups.has(group)).toBe(false);
    group.publish(line('L3'));
    scheduler.endTurn();
    expect(a.texts).toEqual(['L1\nL2\n']);
    expect(b.texts).toEqual(['L1\nL2\nL3\n']);
  });

  it('ignores removing a member that is not in the group', () => {
    const { scheduler, group, members } = setup(1);
    const stranger = new FakeMember();
    group.publish(line('L1'));
    group.remove(stranger);
    expect(stranger.exited).toBe(0);
    scheduler.endTurn();
    expect(members[0]!.texts).toEqual(['L1\n']);
  });
});

describe('Fanout: catchUp before a private send', () => {
  it('[MSG-8] queues the broadcast lines published before a private reply ahead of it', () => {
    const { scheduler, group, members } = setup(2);
    const [a, b] = members as [FakeMember, FakeMember];
    group.publish(line('MSG 1'));
    group.publish(line('MSG 2'));
    a.send('ECHO 3\n');
    group.publish(line('MSG 4'));
    scheduler.endTurn();
    expect(a.texts).toEqual(['MSG 1\nMSG 2\n', 'ECHO 3\n', 'MSG 4\n']);
    expect(b.texts).toEqual(['MSG 1\nMSG 2\nMSG 4\n']);
  });

  it('[MSG-7] catches up on every group the member is in', () => {
    const scheduler = new ManualFanoutScheduler();
    const first = new Fanout(scheduler);
    const second = new Fanout(scheduler);
    const a = new FakeMember();
    first.add(a);
    second.add(a);
    first.publish(line('from first'));
    second.publish(line('from second'));
    a.send('private\n');
    expect(a.texts).toEqual(['from first\n', 'from second\n', 'private\n']);
    scheduler.endTurn();
    expect(a.chunks).toHaveLength(3);
  });

  it('does nothing for a member with nothing owed, or for a stranger', () => {
    const { group, members } = setup(1);
    const stranger = new FakeMember();
    group.catchUp(members[0]!);
    group.publish(line('L1'));
    group.catchUp(stranger);
    group.catchUp(members[0]!);
    group.catchUp(members[0]!);
    expect(members[0]!.texts).toEqual(['L1\n']);
    expect(stranger.chunks).toEqual([]);
  });

  it('gives members that caught up mid-turn only the tail, as a view into the shared Buffer', () => {
    const { scheduler, group, members } = setup(3);
    const [a, b, c] = members as [FakeMember, FakeMember, FakeMember];
    group.publish(line('L1'));
    group.publish(line('L2'));
    a.send('P\n');
    group.publish(line('L3'));
    group.publish(line('L4'));
    scheduler.endTurn();
    const whole = b.chunks[0]!;
    const tail = a.chunks[2]!;
    expect(whole.toString()).toBe('L1\nL2\nL3\nL4\n');
    expect(c.chunks[0]).toBe(whole);
    expect(tail.toString()).toBe('L3\nL4\n');
    // A subarray of the joined batch: same memory, no second copy.
    expect(tail.buffer).toBe(whole.buffer);
    expect(tail.byteOffset).toBe(whole.byteOffset + 'L1\nL2\n'.length);
  });
});

describe('Fanout: nobody to receive', () => {
  it('ignores a publish to an empty group: nothing scheduled, no timer', () => {
    const scheduler = new ManualFanoutScheduler();
    const group = new Fanout(scheduler);
    group.publish(line('into the void'));
    group.publish(line('held into the void'), undefined, 50);
    expect(scheduler.scheduled).toEqual([]);
    expect(scheduler.timers).toEqual([]);
    // Nor is it kept for whoever joins next.
    const a = new FakeMember();
    group.add(a);
    group.flush();
    expect(a.chunks).toEqual([]);
  });

  it('ignores a publish whose only member is `except`', () => {
    const { scheduler, group, members } = setup(1);
    const a = members[0]!;
    group.publish(line('JOIN a'), a, 50);
    group.publish(line('MSG a'), a);
    expect(scheduler.scheduled).toEqual([]);
    expect(scheduler.timers).toEqual([]);
    const b = new FakeMember();
    group.add(b);
    group.flush();
    expect(a.chunks).toEqual([]);
    expect(b.chunks).toEqual([]);
  });
});

describe('Fanout: presence hold [PRES-5]', () => {
  it('[PRES-5] holds a held line until the hold timer fires, not the end of the turn', () => {
    const { scheduler, group, members } = setup(2);
    group.publish(line('JOIN x'), undefined, 50);
    expect(scheduler.scheduled).toEqual([]);
    expect(scheduler.pending.map((t) => t.ms)).toEqual([50]);
    scheduler.endTurn();
    for (const member of members) expect(member.chunks).toEqual([]);

    scheduler.fire();
    // The timer ends the batch at the end of the turn it fires in.
    expect(scheduler.scheduled).toEqual([group]);
    for (const member of members) expect(member.chunks).toEqual([]);
    scheduler.endTurn();
    for (const member of members) expect(member.texts).toEqual(['JOIN x\n']);
  });

  it('[PRES-5] arms one timer for a burst of held lines, across turns, and sends them as one chunk', () => {
    const { scheduler, group, members } = setup(2);
    group.publish(line('JOIN a'), undefined, 50);
    group.publish(line('JOIN b'), undefined, 50);
    scheduler.endTurn();
    group.publish(line('LEAVE a quit'), undefined, 50);
    expect(scheduler.timers).toHaveLength(1);
    scheduler.fire();
    group.publish(line('JOIN c'), undefined, 50);
    expect(scheduler.timers).toHaveLength(1);
    scheduler.endTurn();
    const all = 'JOIN a\nJOIN b\nLEAVE a quit\nJOIN c\n';
    for (const member of members) expect(member.texts).toEqual([all]);
    expect(members[1]!.chunks[0]).toBe(members[0]!.chunks[0]);
    // The next held line starts a new hold.
    group.publish(line('JOIN d'), undefined, 50);
    expect(scheduler.pending).toHaveLength(1);
  });

  it('[PRES-5] sends held lines at the end of the turn, in order, when an un-held line joins the batch, and cancels the hold', () => {
    const { scheduler, group, members } = setup(2);
    group.publish(line('JOIN a'), undefined, 50);
    const hold = scheduler.timers[0]!;
    group.publish(line('MSG a hi'));
    expect(scheduler.scheduled).toEqual([group]);
    scheduler.endTurn();
    for (const member of members) expect(member.texts).toEqual(['JOIN a\nMSG a hi\n']);
    expect(hold.cancelled).toBe(true);
    expect(scheduler.pending).toEqual([]);
  });

  it('[PRES-5] arms no timer for a held line published after an un-held one in the same turn', () => {
    const { scheduler, group, members } = setup(1);
    group.publish(line('MSG a hi'));
    group.publish(line('LEAVE b quit'), undefined, 50);
    expect(scheduler.timers).toEqual([]);
    scheduler.endTurn();
    expect(members[0]!.texts).toEqual(['MSG a hi\nLEAVE b quit\n']);
  });

  it('[PRES-5] delivers each line once when the hold timer fires in the same turn as an un-held line', () => {
    // A hold timer and, say, an inbox timer that relays a SAY can expire in
    // the same timers phase, before the end of the turn.
    const { scheduler, group, members } = setup(1);
    group.publish(line('JOIN a'), undefined, 50);
    group.publish(line('MSG a hi'));
    const hold = scheduler.timers[0]!;
    if (!hold.cancelled) scheduler.fire();
    scheduler.endTurn();
    expect(members[0]!.texts).toEqual(['JOIN a\nMSG a hi\n']);
  });

  it('[PRES-5] does not reorder held lines after a private line to the same client', () => {
    const { scheduler, group, members } = setup(2);
    const [a, b] = members as [FakeMember, FakeMember];
    group.publish(line('JOIN c'), undefined, 50);
    a.send('ECHO 1\n');
    expect(a.texts).toEqual(['JOIN c\n', 'ECHO 1\n']);
    expect(b.chunks).toEqual([]);
    scheduler.fire();
    scheduler.endTurn();
    expect(a.texts).toEqual(['JOIN c\n', 'ECHO 1\n']);
    expect(b.texts).toEqual(['JOIN c\n']);
  });

  it('[PRES-5] hands a leaving member the held lines before it goes', () => {
    const { scheduler, group, members } = setup(2);
    const [a, b] = members as [FakeMember, FakeMember];
    group.publish(line('JOIN c'), undefined, 50);
    group.remove(a);
    expect(a.texts).toEqual(['JOIN c\n']);
    expect(scheduler.pending).toHaveLength(1);
    scheduler.fire();
    scheduler.endTurn();
    expect(a.texts).toEqual(['JOIN c\n']);
    expect(b.texts).toEqual(['JOIN c\n']);
  });
});

describe('Fanout: held bytes are bounded', () => {
  it('hands held lines over at the end of the turn once they pass maxHeldBytes, and cancels the hold timer [PRES-5] [LIMIT-7]', () => {
    const scheduler = new ManualFanoutScheduler();
    const group = new Fanout(scheduler, 20);
    const member = new FakeMember();
    group.add(member);
    group.publish(line('JOIN aaaaaaa'), undefined, 50); // 13 bytes: held
    expect(scheduler.scheduled).toEqual([]);
    expect(scheduler.pending).toHaveLength(1);
    group.publish(line('JOIN bbbbbbb'), undefined, 50); // 26 bytes: over the bound
    expect(scheduler.scheduled).toEqual([group]);
    expect(scheduler.pending).toEqual([]);
    scheduler.endTurn();
    expect(member.texts).toEqual(['JOIN aaaaaaa\nJOIN bbbbbbb\n']);
  });
});

describe('Fanout: the last member leaving', () => {
  it('drops a held batch and cancels the hold timer', () => {
    const { scheduler, group, members } = setup(2);
    const [a, b] = members as [FakeMember, FakeMember];
    group.publish(line('LEAVE z quit'), undefined, 50);
    const hold = scheduler.timers[0]!;
    group.remove(a);
    expect(hold.cancelled).toBe(false);
    group.remove(b);
    expect(hold.cancelled).toBe(true);
    expect(a.texts).toEqual(['LEAVE z quit\n']);
    expect(b.texts).toEqual(['LEAVE z quit\n']);
    // Whoever comes next owes nothing to the dropped batch.
    const c = new FakeMember();
    group.add(c);
    group.flush();
    expect(c.chunks).toEqual([]);
    group.publish(line('JOIN y'), undefined, 50);
    expect(scheduler.pending).toHaveLength(1);
    expect(scheduler.pending[0]).not.toBe(hold);
  });

  it('drops an un-held batch: the scheduled flush then hands nothing to a newcomer', () => {
    const { scheduler, group, members } = setup(1);
    const a = members[0]!;
    group.publish(line('MSG 1'));
    group.remove(a);
    expect(a.texts).toEqual(['MSG 1\n']);
    const c = new FakeMember();
    group.add(c);
    scheduler.endTurn();
    expect(c.chunks).toEqual([]);
    expect(a.texts).toEqual(['MSG 1\n']);
  });
});

describe('Fanout: flush', () => {
  it('is a no-op with nothing queued', () => {
    const { scheduler, group, members } = setup(2);
    group.flush();
    for (const member of members) expect(member.chunks).toEqual([]);
    group.publish(line('L1'));
    scheduler.endTurn();
    group.flush();
    group.flush();
    for (const member of members) expect(member.texts).toEqual(['L1\n']);
    expect(scheduler.scheduled).toEqual([]);
  });

  it('is a no-op on an empty group', () => {
    const scheduler = new ManualFanoutScheduler();
    const group = new Fanout(scheduler);
    expect(() => group.flush()).not.toThrow();
    expect(group.size).toBe(0);
  });

  it('skips members that already had the whole batch', () => {
    const { scheduler, group, members } = setup(2);
    const [a, b] = members as [FakeMember, FakeMember];
    group.publish(line('L1'));
    a.send('P\n');
    scheduler.endTurn();
    expect(a.texts).toEqual(['L1\n', 'P\n']);
    expect(b.texts).toEqual(['L1\n']);
    // Their cursors are back at the start of the next batch.
    group.publish(line('L2'));
    scheduler.endTurn();
    expect(a.texts).toEqual(['L1\n', 'P\n', 'L2\n']);
    expect(b.texts).toEqual(['L1\n', 'L2\n']);
  });
});
