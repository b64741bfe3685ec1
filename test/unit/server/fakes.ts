/**
 * Socket-free stand-ins for the server's unit tests: a Connection that
 * records what is sent to it, Sessions around it, a Hub with an injected
 * clock and random source, a CommandContext that disconnects the way
 * ChatServer does, and a Fanout scheduler driven by hand.
 */
import { expect } from 'vitest';
import { Hub, type HubOptions } from '../../../src/server/hub.ts';
import { Session, SessionState } from '../../../src/server/session.ts';
import type { Connection } from '../../../src/server/transport.ts';
import type { Fanout, FanoutScheduler } from '../../../src/server/fanout.ts';
import type { CommandContext } from '../../../src/server/commands.ts';
import type { LeaveReason } from '../../../src/protocol/messages.ts';
import { parseText, type Message } from '../../../src/protocol/parser.ts';

/** Records every chunk sent; behaves like a Connection that never fills up. */
export class FakeConnection {
  readonly remote: string;
  /** Each chunk exactly as `send` received it, decoded. */
  readonly chunks: string[] = [];
  /** Lines received and not yet taken, without their LF. */
  #lines: string[] = [];
  /** The last line given to close(), or null while open. */
  closedWith: string | undefined | null = null;

  constructor(remote = '127.0.0.1:40000') {
    this.remote = remote;
  }

  send(data: Buffer | string): boolean {
    if (this.closedWith !== null) return false;
    this.#record(typeof data === 'string' ? data : data.toString('utf8'));
    return true;
  }

  // Fan-out membership. The fake hub's groups flush at once (IMMEDIATE), so
  // nothing is ever owed to a member and send() needs no catching up.
  deliver(bytes: Buffer): boolean {
    return this.send(bytes);
  }

  enter(): void {}

  exit(): void {}

  close(lastLine?: string): void {
    if (this.closedWith !== null) return;
    if (lastLine !== undefined) this.#record(lastLine);
    this.closedWith = lastLine;
  }

  get isClosed(): boolean {
    return this.closedWith !== null;
  }

  #record(chunk: string): void {
    this.chunks.push(chunk);
    const parts = chunk.split('\n');
    // Every chunk is whole lines: the last part after the final LF is empty.
    if (parts.pop() !== '') throw new Error(`chunk does not end with LF: ${JSON.stringify(chunk)}`);
    this.#lines.push(...parts);
  }

  /** Lines received since the last take(), oldest first. */
  take(): string[] {
    const lines = this.#lines;
    this.#lines = [];
    return lines;
  }
}

let nextId = 1;

export interface FakeUser {
  readonly session: Session;
  readonly conn: FakeConnection;
}

export function fakeUser(): FakeUser {
  const conn = new FakeConnection(`127.0.0.1:${40000 + nextId}`);
  const session = new Session(nextId++, conn as unknown as Connection);
  return { session, conn };
}

/** A random source that replays `values`, then repeats the last one. */
export function replay(...values: number[]): () => number {
  let i = 0;
  return () => values[Math.min(i++, values.length - 1)] ?? 0;
}

export interface TestClock {
  (): number;
  now: number;
}

export function testClock(start = 1_764_236_523_000): TestClock {
  const clock = (() => clock.now) as TestClock;
  clock.now = start;
  return clock;
}

/** Ends a group's turn as soon as it publishes, held lines too: direct delivery, for synchronous tests. */
export const IMMEDIATE: FanoutScheduler = {
  scheduleGroup: (group) => group.flush(),
  later: (run) => {
    run();
    return () => {};
  },
};

/** A hold timer armed through a ManualFanoutScheduler. */
export interface ManualTimer {
  readonly run: () => void;
  readonly ms: number;
  cancelled: boolean;
  fired: boolean;
}

/**
 * A FanoutScheduler whose turns end, and whose hold timers fire, only when
 * the test says so (`endTurn`, `fire`, `fireOldest`). It exists so that a
 * test can look at a Fanout between a publish and the end of its turn, or
 * while a line is held, where the order contract ([MSG-7], [MSG-8]) and the
 * presence hold ([PRES-5]) live. Shared by the Fanout unit and property tests.
 */
export class ManualFanoutScheduler implements FanoutScheduler {
  /** Groups that asked to be flushed this turn, one entry per request. */
  scheduled: Fanout[] = [];
  /** Every hold timer ever armed, in order. */
  readonly timers: ManualTimer[] = [];
  /** Which flush is running (counted from 0 across turns), or undefined outside flush(). */
  flushing: number | undefined;
  #flushes = 0;

  scheduleGroup(group: Fanout): void {
    this.scheduled.push(group);
  }

  later(run: () => void, ms: number): () => void {
    const timer: ManualTimer = { run, ms, cancelled: false, fired: false };
    this.timers.push(timer);
    return () => {
      timer.cancelled = true;
    };
  }

  /** Timers armed and neither cancelled nor fired. */
  get pending(): ManualTimer[] {
    return this.timers.filter((t) => !t.cancelled && !t.fired);
  }

  /** The end of the event-loop turn: flushes what was scheduled, as Flusher does. */
  endTurn(): void {
    const groups = this.scheduled;
    this.scheduled = [];
    for (const group of groups) {
      this.flushing = this.#flushes++;
      group.flush();
      this.flushing = undefined;
    }
  }

  /** Fires the one pending hold timer; fails the test if there is not exactly one. */
  fire(): void {
    const pending = this.pending;
    expect(pending).toHaveLength(1);
    this.#run(pending[0]!);
  }

  /** Fires the oldest pending timer; false if there is none. */
  fireOldest(): boolean {
    const timer = this.pending[0];
    if (timer === undefined) return false;
    this.#run(timer);
    return true;
  }

  #run(timer: ManualTimer): void {
    timer.fired = true;
    timer.run();
  }
}

export function makeHub(options: Partial<HubOptions> = {}): Hub {
  return new Hub({
    nameLength: 24,
    clock: testClock(),
    idPrefix: 'test',
    random: replay(0.5),
    scheduler: IMMEDIATE,
    ...options,
  });
}

/** Registers a fresh fake user under `name` and clears what it received. */
export function online(hub: Hub, name: string): FakeUser {
  const user = fakeUser();
  hub.register(user.session, name);
  return user;
}

/** Drops what every user has received so far. */
export function clear(...users: FakeUser[]): void {
  for (const user of users) user.conn.take();
}

export interface Disconnect {
  readonly session: Session;
  readonly reason: LeaveReason;
  readonly text: string;
  readonly lastLine: string | undefined;
}

export interface TestContext extends CommandContext {
  readonly logs: string[];
  readonly disconnects: Disconnect[];
}

/** A context whose disconnect does what ChatServer's does: leave, then close after `lastLine`. */
export function makeContext(hub: Hub = makeHub()): TestContext {
  const logs: string[] = [];
  const disconnects: Disconnect[] = [];
  return {
    hub,
    logs,
    disconnects,
    log: (line) => logs.push(line),
    logMessages: true,
    disconnect(session, reason, text, lastLine) {
      disconnects.push({ session, reason, text, lastLine });
      if (session.state === SessionState.Gone) return;
      hub.remove(session, reason, text);
      session.connection.close(lastLine);
    },
  };
}

/** Parses a client line the way the server does, failing the test on anything but a message. */
export function msg(line: string): Message {
  const result = parseText(line);
  if (result.kind !== 'message') throw new Error(`not a message: ${JSON.stringify(line)}`);
  return result.message;
}
