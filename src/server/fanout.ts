/**
 * Fan-out: lines broadcast to a group of connections, joined once per
 * event-loop turn and handed to every member as one shared Buffer.
 *
 * The naive way costs one queue entry, and at flush one `write()`, per line
 * per recipient. Here a broadcast only appends the line to the group's turn
 * batch: O(1) whatever the group's size. At the end of the turn the batch is
 * joined once and each member gets the part it has not seen yet as one
 * Buffer: O(members) per turn, not O(lines × members), and the members that
 * did not catch up mid-turn share one allocation (REFERENCES §3; Redis and ngircd also encode a
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
 *
 * A line may be published with a hold time (presence, SPEC [PRES-5]): the
 * batch then waits that long for more lines, so a burst of 10,000 arrivals
 * costs each member a few writes rather than thousands. Any line published
 * without a hold, or anything sent to a member, still takes the held lines
 * with it at once, in order.
 */

/** What a group needs from a connection. */
export interface FanoutMember {
  /** Takes bytes after everything sent to this member so far (queued, or written at once). */
  deliver(bytes: Buffer): void;
  /** Called on add and remove, so that the member can catch up before sending anything else. */
  enter(group: Fanout): void;
  exit(group: Fanout): void;
}

/** Time for groups: the server's Flusher, or a synchronous stand-in in tests. */
export interface FanoutScheduler {
  /** Calls `group.flush()` once at the end of this event-loop turn. */
  scheduleGroup(group: Fanout): void;
  /** Calls `run` after `ms`; returns what cancels it. */
  later(run: () => void, ms: number): () => void;
}

/** When the batch is due to be handed over. */
const Due = { None: 0, Later: 1, EndOfTurn: 2 } as const;
type Due = (typeof Due)[keyof typeof Due];

export class Fanout {
  /** Each member's cursor: how many batch lines it has already had, or skipped. */
  readonly #members = new Map<FanoutMember, number>();
  /** This turn's broadcast lines, in order. */
  #lines: Buffer[] = [];
  #bytes = 0;
  #due: Due = Due.None;
  /** Cancels the hold timer while the batch is held. */
  #cancelHold: (() => void) | undefined;
  readonly #scheduler: FanoutScheduler;
  /**
   * Held lines are handed over once they pass this many bytes: they count
   * against each member's send queue only then, all at once, so a long
   * hold must not build a batch that alone cuts off members that keep up.
   */
  readonly #maxHeldBytes: number;

  constructor(scheduler: FanoutScheduler, maxHeldBytes = Infinity) {
    this.#scheduler = scheduler;
    this.#maxHeldBytes = maxHeldBytes;
  }

  get size(): number {
    return this.#members.size;
  }

  has(member: FanoutMember): boolean {
    return this.#members.has(member);
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
    // Nobody is left to owe anything to: drop the batch and its timer.
    if (this.#members.size === 0) this.#endTurn();
  }

  /**
   * Sends `line` to every member but `except`, after what each was sent
   * before: at the end of this turn, or within `holdMs` if every line in the
   * batch may wait.
   */
  publish(line: Buffer, except?: FanoutMember, holdMs = 0): void {
    const skipping = except !== undefined && this.#members.has(except);
    if (this.#members.size === (skipping ? 1 : 0)) return; // nobody to send it to
    if (skipping) this.catchUp(except);
    this.#lines.push(line);
    this.#bytes += line.length;
    if (skipping) this.#members.set(except, this.#lines.length);
    if (this.#due === Due.EndOfTurn) return;
    if (holdMs === 0 || this.#bytes > this.#maxHeldBytes) {
      this.#due = Due.EndOfTurn;
      this.#stopHold();
      this.#scheduler.scheduleGroup(this);
    } else if (this.#due === Due.None) {
      this.#due = Due.Later;
      this.#cancelHold = this.#scheduler.later(() => {
        this.#cancelHold = undefined;
        this.#due = Due.EndOfTurn;
        this.#scheduler.scheduleGroup(this);
      }, holdMs);
    }
  }

  /** Hands `member` the batch lines it has not had yet. */
  catchUp(member: FanoutMember): void {
    const cursor = this.#members.get(member);
    if (cursor === undefined || cursor === this.#lines.length) return;
    this.#members.set(member, this.#lines.length);
    member.deliver(cursor === this.#lines.length - 1 ? this.#lines[cursor]! : Buffer.concat(this.#lines.slice(cursor)));
  }

  /** Ends the turn: joins the batch once and hands each member what it has not had. */
  flush(): void {
    const lines = this.#lines;
    const bytes = this.#bytes;
    this.#endTurn();
    if (lines.length === 0) return;
    const joined = lines.length === 1 ? lines[0]! : Buffer.concat(lines, bytes);
    // Where each line starts in `joined`, only needed for members that caught up mid-turn.
    let starts: number[] | undefined;
    // Nothing in this loop may call back into the group: a member's deliver()
    // must not publish, catch up or remove synchronously (Connection reports
    // a slow consumer in a microtask for this reason), or cursors would be
    // read against the next batch.
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

  /** Empties the batch and forgets when it was due. Cursors are the caller's business. */
  #endTurn(): void {
    this.#lines = [];
    this.#bytes = 0;
    this.#due = Due.None;
    this.#stopHold();
  }

  #stopHold(): void {
    this.#cancelHold?.();
    this.#cancelHold = undefined;
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
