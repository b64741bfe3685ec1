/**
 * Socket-free stand-ins for the server's unit tests: a Connection that
 * records what is sent to it, Sessions around it, a Hub with an injected
 * clock, random source and history store (memory, or a TestStore that can
 * play a database or fail), a CommandContext that disconnects the way
 * ChatServer does, and a Fanout scheduler driven by hand.
 */
import { expect } from 'vitest';
import { ProtocolError } from '../../../src/protocol/errors.ts';
import { Hub, type HubOptions } from '../../../src/server/hub.ts';
import { Session, SessionState } from '../../../src/server/session.ts';
import type { Connection } from '../../../src/server/transport.ts';
import type { Fanout, FanoutScheduler } from '../../../src/server/fanout.ts';
import type { CommandContext } from '../../../src/server/commands.ts';
import type { LeaveReason } from '../../../src/protocol/messages.ts';
import { parseText, type Message } from '../../../src/protocol/parser.ts';
import { MemoryStore } from '../../../src/server/history/memory-store.ts';
import {
  StorageError,
  type Draft,
  type HistoryStore,
  type StoreQuery,
  type StoredMessage,
  type StoredRoom,
  type Tenure,
} from '../../../src/server/history/store.ts';

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

/** History in memory, as the server keeps it without --db; ids are `test-` and a number. */
export function memoryStore(perTarget = 1000, total = 100_000): MemoryStore {
  return new MemoryStore({ perTarget, total, idPrefix: 'test-' });
}

/**
 * A HistoryStore around a MemoryStore that can pretend to be a database
 * (`persistent`, rooms kept from an "earlier run", saved rooms recorded) and
 * can be told to fail: `failAppend` makes append() throw a StorageError
 * ([STORE-3]), `failCommit` makes commit() throw one, `failTenure` makes
 * saveTenure() throw one. It counts commits and records saved tenures.
 */
export class TestStore implements HistoryStore {
  readonly persistent: boolean;
  readonly inner: MemoryStore;
  /** Rooms as saved by saveRoom, by key; also what rooms() returns. */
  readonly saved = new Map<string, StoredRoom>();
  /** Every saveRoom call, in order. */
  readonly saves: StoredRoom[] = [];
  failAppend = false;
  failCommit = false;
  failTenure = false;
  failSaveRoom = false;
  /** Every saveTenure call, in order ([NAME-5]). */
  readonly tenures: Array<{ name: string; tenure: Tenure }> = [];
  commits = 0;
  closed = false;

  constructor(options: { persistent?: boolean; rooms?: readonly StoredRoom[]; inner?: MemoryStore } = {}) {
    this.persistent = options.persistent ?? false;
    this.inner = options.inner ?? memoryStore();
    for (const room of options.rooms ?? []) this.saved.set(room.key, room);
  }

  append(draft: Draft): StoredMessage {
    if (this.failAppend) throw new StorageError('WRITE_FAILED', 'disk full (test)');
    return this.inner.append(draft);
  }

  page(targets: readonly string[], query: StoreQuery, floor?: number): StoredMessage[] {
    return this.inner.page(targets, query, floor);
  }

  lastNum(): number {
    return this.inner.lastNum();
  }

  tenure(name: string): Tenure | undefined {
    return this.inner.tenure(name);
  }

  saveTenure(name: string, tenure: Tenure): void {
    if (this.failTenure) throw new StorageError('WRITE_FAILED', 'disk full (test)');
    this.tenures.push({ name, tenure });
    this.inner.saveTenure(name, tenure);
  }

  numOf(id: string): number | undefined {
    return this.inner.numOf(id);
  }

  /** The inner store's, unless a test set `newest` (a database from a run whose clock was ahead). */
  newest: number | undefined;

  newestTime(): number {
    return this.newest ?? this.inner.newestTime();
  }

  conversationsOf(name: string): string[] {
    return this.inner.conversationsOf(name);
  }

  rooms(): StoredRoom[] {
    return [...this.saved.values()];
  }

  saveRoom(room: StoredRoom): void {
    if (this.failSaveRoom) throw new StorageError('WRITE_FAILED', 'disk full (test)');
    this.saves.push(room);
    this.saved.set(room.key, room);
  }

  commit(): void {
    this.commits++;
    if (this.failCommit) throw new StorageError('COMMIT_FAILED', 'the disk went away (test)');
  }

  close(): void {
    this.closed = true;
  }
}

/**
 * A hub with the server's defaults (lobby `#lobby`, MAXJOIN 50, REPLAY 20),
 * a test clock, a fixed random source, direct delivery and history in memory.
 */
export function makeHub(options: Partial<HubOptions> = {}): Hub {
  let keys = 0;
  return new Hub({
    // Keys in order, so tests can name them ([NAME-5]).
    newKey: () => `key${++keys}`,
    nameLength: 24,
    roomLength: 32,
    topicLength: 300,
    clock: testClock(),
    random: replay(0.5),
    scheduler: IMMEDIATE,
    store: memoryStore(),
    lobby: '#lobby',
    maxJoins: 50,
    maxRooms: 1000,
    replay: 20,
    ...options,
  });
}

/**
 * Registers a fresh fake user under `name` and, as HELLO does, joins it to
 * the lobby if the hub has one ([SESSION-5]). What it received stays
 * (`clear` drops it).
 */
export function online(hub: Hub, name: string): FakeUser {
  const user = fakeUser();
  hub.register(user.session, name);
  if (hub.lobby !== undefined) hub.join(user.session, hub.lobby);
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
    historyPage: 500,
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

/** Runs `fn` and returns the ProtocolError it throws; fails the test if it throws nothing or something else. */
export function protocolError(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ProtocolError);
    return error as ProtocolError;
  }
  throw new Error('expected a ProtocolError, nothing was thrown');
}

/** The parameters of a server line as a client reads them. */
export function params(line: string): readonly string[] {
  return msg(line).params;
}
