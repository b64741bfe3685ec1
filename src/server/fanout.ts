/**
 * Fan-out: lines broadcast to a group of connections, joined once per
 * event-loop turn and handed to every member as one shared Buffer.
 *
 * The naive way costs one queue entry, and at flush one `write()`, per line
 * per recipient. Here a broadcast only appends the line to the group's turn
 * batch: O(1) whatever the group's size. At the end of the turn the batch is
 * joined once and each member gets the part it has not seen yet as one
 * Buffer: O(members) per turn, not O(lines × members), and every member's
 * bytes share one allocation (REFERENCES §3; Redis and ngircd also encode a
 * message once, but still copy it into each client's buffer).
 *
 * Order contract: a member sees exactly what direct delivery would have
 * given it, in the same order. Each member has a cursor into the batch:
 * - before anything else is sent to a member (a private reply, its last
 *   line, its removal), the member catches up: the batch lines past its
 *   cursor are queued first (`catchUp`);
 * - a line published with `except` moves that member's cursor past it;
 * - a member added mid-turn starts at the batch's end.
 * The property test in test/property/fanout.property.test.ts checks this
 * against direct delivery for random interleavings.
 */

/** What a group needs from a connection. */
export interface FanoutMember {
  /** Queues bytes after everything queued for this member so far. */
  deliver(bytes: Buffer): void;
  /** Called on add and remove, so that the member can catch up before sending anything else. */
  enter(group: Fanout): void;
  exit(group: Fanout): void;
}

/** Runs `flush()` of each group that published, once, at the end of the turn. */
export interface FanoutScheduler {
  scheduleGroup(group: Fanout): void;
}

export class Fanout {
  /** Each member's cursor: how many batch lines it has already had, or skipped. */
  readonly #members = new Map<FanoutMember, number>();
  /** This turn's broadcast lines, in order. */
  #lines: Buffer[] = [];
  #bytes = 0;
  readonly #scheduler: FanoutScheduler;

  constructor(scheduler: FanoutScheduler) {
    this.#scheduler = scheduler;
  }

  get size(): number {
    return this.#members.size;
  }

  has(member: FanoutMember): boolean {
    return this.#members.has(member);
  }

  members(): IterableIterator<FanoutMember> {
    return this.#members.keys();
  }

  /** Adds `member`; it gets lines published from now on. */
  add(member: FanoutMember): void {
    if (this.#members.has(member)) return;
    this.#members.set(member, this.#lines.length);
    member.enter(this);
  }

  /** Removes `member` after handing it every line published while it was a member. */
  remove(member: FanoutMember): void {
    if (!this.#members.has(member)) return;
    this.catchUp(member);
    this.#members.delete(member);
    member.exit(this);
  }

  /** Sends `line` to every member but `except`, after what each was sent before. */
  publish(line: Buffer, except?: FanoutMember): void {
    const skipping = except !== undefined && this.#members.has(except);
    if (skipping) this.catchUp(except);
    this.#lines.push(line);
    this.#bytes += line.length;
    if (skipping) this.#members.set(except, this.#lines.length);
    if (this.#lines.length === 1) this.#scheduler.scheduleGroup(this);
  }

  /** Queues for `member` the batch lines it has not had yet. */
  catchUp(member: FanoutMember): void {
    const cursor = this.#members.get(member);
    if (cursor === undefined || cursor === this.#lines.length) return;
    this.#members.set(member, this.#lines.length);
    member.deliver(cursor === this.#lines.length - 1 ? this.#lines[cursor]! : Buffer.concat(this.#lines.slice(cursor)));
  }

  /** Ends the turn: joins the batch once and hands each member what it has not had. */
  flush(): void {
    const lines = this.#lines;
    if (lines.length === 0) return;
    const joined = lines.length === 1 ? lines[0]! : Buffer.concat(lines, this.#bytes);
    // Where each line starts in `joined`, only needed for members that caught up mid-turn.
    let starts: number[] | undefined;
    this.#lines = [];
    this.#bytes = 0;
    for (const [member, cursor] of this.#members) {
      if (cursor === lines.length) {
        this.#members.set(member, 0);
        continue;
      }
      if (cursor === 0) {
        member.deliver(joined);
        continue;
      }
      starts ??= lineStarts(lines);
      this.#members.set(member, 0);
      member.deliver(joined.subarray(starts[cursor]));
    }
  }
}

function lineStarts(lines: readonly Buffer[]): number[] {
  const starts = new Array<number>(lines.length);
  let at = 0;
  for (let i = 0; i < lines.length; i++) {
    starts[i] = at;
    at += lines[i]!.length;
  }
  return starts;
}
