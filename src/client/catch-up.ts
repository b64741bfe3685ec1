/**
 * Catching up after a reconnect ([HIST-6]): what the client missed while it
 * was away, fetched once per target and shown in order.
 *
 * For every room the client was in, in this order:
 *
 *   1. join it again, unless the server already did while registering (the
 *      lobby, [SESSION-5]); the join's replay ([HIST-4]) arrives as a batch
 *      and is held;
 *   2. when the last id seen in it is known, ask `HISTORY <room> AFTER
 *      id=<last> HISTLIMIT`, and the next page while a page comes back full
 *      (at most MAX_CATCH_UP_PAGES); an UNKNOWN_MESSAGE (a server that
 *      restarted without its history) asks for `LATEST HISTLIMIT` instead;
 *   3. release everything held for the room, the replay, the pages and any
 *      live message that arrived meanwhile, in `<seq>` order ([MSG-5]), to
 *      be de-duplicated by id and shown.
 *
 * Holding the room's messages until its catch-up is done is what keeps the
 * order: the replay is the room's latest messages, the AFTER pages start
 * from the oldest one missed, and a live message may arrive in between.
 *
 * Once every room is done, private messages: `HISTORY * AFTER id=<last id
 * received at all>`, paged the same way and released in the server's order
 * (it merges by acceptance, [HIST-5]). The room messages it also brings are
 * the ones just shown, and de-duplication drops them. Private messages that
 * arrive live from the start of the catch-up until the last `*` page are
 * held too, and released after the pages: one that a page also holds takes
 * its place there, the others follow in the order they came. So a new
 * private message never shows before older missed ones.
 *
 * What is held live is bounded (MAX_HELD_LIVE in all, across targets), so a
 * server that never answers a HISTORY but keeps sending cannot grow memory
 * without end: past the bound the oldest live message held is dropped, and
 * the user is told once. Most of those come back in the pages anyway, being
 * after the last id seen.
 *
 * The plan only decides what to ask and what to hold; the supervisor sends
 * (through `CatchUpPort`) and shows. It belongs to one connection: a drop
 * discards it, and the next reconnect starts again from the last ids shown.
 */
import type { HistoryQuery } from '../protocol/history.ts';
import type { ChatMessage } from '../protocol/messages.ts';
import { foldName, isRoomName } from '../protocol/names.ts';

/** Tags on the requests a catch-up sends, so that their replies come back to it. */
export const RESTORE_TAG = 'restore';
export const CATCH_UP_TAG = 'catch-up';

/** Pages fetched per target before giving up on showing everything (10,000 messages at HISTLIMIT 500). */
export const MAX_CATCH_UP_PAGES = 20;

/** Live messages held in all while a catch-up runs; past this the oldest is dropped. */
export const MAX_HELD_LIVE = 4096;

/** The target of `HISTORY *`: every room the client is in and its private conversations ([HIST-5]). */
export const ALL_TARGETS = '*';

export interface HeldMessage {
  readonly message: ChatMessage;
  readonly own: boolean;
  /** `live` arrived as MSG or ECHO meanwhile; `missed` came from a replay or a page. */
  readonly origin: 'live' | 'missed';
}

export interface CatchUpPort {
  join(room: string): void;
  history(target: string, query: HistoryQuery): void;
  /** Everything held for `target`, in order; `more` when the page limit cut the catch-up short. */
  release(target: string, messages: readonly HeldMessage[], more: boolean): void;
  /** The server did not know `target`'s last id; latest messages are fetched instead. Told once per catch-up. */
  reset(target: string): void;
  /** More than MAX_HELD_LIVE live messages arrived meanwhile; the oldest are dropped. Told once per catch-up. */
  overflow(): void;
}

export interface RoomToRestore {
  readonly room: string;
  /** The last id seen in the room; undefined when nothing was. */
  readonly lastId: string | undefined;
}

type Step = 'joining' | 'fetching' | 'done';

interface Target {
  readonly name: string;
  readonly lastId: string | undefined;
  step: Step;
  /** From the replay and the pages, in the order they came. */
  missed: HeldMessage[];
  /** Arrived as MSG or ECHO meanwhile, in the order they came. */
  live: HeldMessage[];
  pages: number;
  /** Fell back to LATEST after UNKNOWN_MESSAGE. */
  reset: boolean;
}

function target(name: string, lastId: string | undefined): Target {
  return { name, lastId, step: 'joining', missed: [], live: [], pages: 0, reset: false };
}

export class CatchUp {
  readonly #rooms = new Map<string, Target>();
  readonly #all: Target | undefined;
  /** Folded names of the rooms the server joined us to by itself. */
  readonly #joinedByServer: ReadonlySet<string>;
  readonly #limit: number;
  readonly #port: CatchUpPort;
  /** The user was told that the server forgot the ids. */
  #told = false;
  /** The target of each live message held, oldest first: what MAX_HELD_LIVE counts. */
  #liveOrder: Target[] = [];
  #overflowed = false;

  /**
   * `lastAtAll` is the last id received at all, for private messages;
   * `joinedByServer` the rooms the server joined us to while registering,
   * whose replay follows by itself; `limit` the server's HISTLIMIT.
   */
  constructor(
    rooms: readonly RoomToRestore[],
    lastAtAll: string | undefined,
    joinedByServer: readonly string[],
    limit: number,
    port: CatchUpPort,
  ) {
    for (const { room, lastId } of rooms) this.#rooms.set(foldName(room), target(room, lastId));
    this.#all = lastAtAll === undefined ? undefined : target(ALL_TARGETS, lastAtAll);
    this.#joinedByServer = new Set(joinedByServer.map(foldName));
    this.#limit = limit;
    this.#port = port;
  }

  /** Rooms this plan joins (all but those the server joined us to). */
  get rejoining(): string[] {
    return [...this.#rooms].filter(([key]) => !this.#joinedByServer.has(key)).map(([, t]) => t.name);
  }

  get isDone(): boolean {
    return [...this.#rooms.values()].every((t) => t.step === 'done') && (this.#all === undefined || this.#all.step === 'done');
  }

  /** Sends the JOINs; the rest follows from the replies. */
  start(): void {
    for (const room of this.rejoining) this.#port.join(room);
    this.#next();
  }

  /** True while messages of `room` are held back until its catch-up is done. */
  holds(room: string): boolean {
    const target = this.#rooms.get(foldName(room));
    return target !== undefined && target.step !== 'done';
  }

  /**
   * Holds a live message until the catch-up of its target is done: its
   * room's, or for a private message the `*` one. False when nothing is
   * held for that target (any more), and the message is to be shown now.
   */
  hold(message: HeldMessage): boolean {
    const to = message.message.to;
    const target = isRoomName(to) ? this.#rooms.get(foldName(to)) : this.#all;
    if (target === undefined || target.step === 'done') return false;
    target.live.push(message);
    this.#liveOrder.push(target);
    if (this.#liveOrder.length > MAX_HELD_LIVE) this.#dropOldestLive();
    return true;
  }

  #dropOldestLive(): void {
    this.#liveOrder.shift()!.live.shift();
    if (this.#overflowed) return;
    this.#overflowed = true;
    this.#port.overflow();
  }

  /** The replay batch of a room being restored arrived: its JOIN succeeded. */
  joined(room: string, replay: readonly HeldMessage[]): void {
    const target = this.#rooms.get(foldName(room));
    if (target === undefined || target.step !== 'joining') return;
    target.missed.push(...replay);
    if (target.lastId === undefined) return this.#finish(target, false);
    target.step = 'fetching';
    this.#port.history(target.name, after(target.lastId, this.#limit));
  }

  /** The JOIN of a room being restored was refused: nothing to catch up on there. */
  joinFailed(room: string): void {
    const target = this.#rooms.get(foldName(room));
    if (target === undefined || target.step === 'done') return;
    target.missed = [];
    this.#forgetLive(target);
    this.#finish(target, false);
  }

  /** A page of a catch-up HISTORY arrived. */
  page(targetName: string, messages: readonly HeldMessage[]): void {
    const target = this.#target(targetName);
    if (target === undefined || target.step !== 'fetching') return;
    target.missed.push(...messages);
    target.pages++;
    const last = messages.at(-1);
    const full = messages.length >= this.#limit && last !== undefined;
    if (full && target.pages < MAX_CATCH_UP_PAGES) {
      this.#port.history(target.name, after(last.message.id, this.#limit));
      return;
    }
    this.#finish(target, full);
  }

  /** A catch-up HISTORY was refused. */
  failed(targetName: string, code: string): void {
    const target = this.#target(targetName);
    if (target === undefined || target.step !== 'fetching') return;
    if (code === 'UNKNOWN_MESSAGE' && !target.reset) {
      target.reset = true;
      // A server that forgot one id forgot them all (it restarted without
      // its history): told once, for the first target.
      if (!this.#told) this.#port.reset(target.name);
      this.#told = true;
      this.#port.history(target.name, { kind: 'latest', limit: this.#limit });
      return;
    }
    this.#finish(target, false);
  }

  #target(name: string): Target | undefined {
    return name === ALL_TARGETS ? this.#all : this.#rooms.get(foldName(name));
  }

  #finish(target: Target, more: boolean): void {
    target.step = 'done';
    const messages = target === this.#all ? inServerOrder(target.missed, target.live) : inOrder([...target.missed, ...target.live]);
    target.missed = [];
    this.#forgetLive(target);
    if (messages.length > 0 || more) this.#port.release(target.name, messages, more);
    this.#next();
  }

  #forgetLive(target: Target): void {
    if (target.live.length === 0) return;
    target.live = [];
    this.#liveOrder = this.#liveOrder.filter((t) => t !== target);
  }

  /** Private messages once every room is done. */
  #next(): void {
    const all = this.#all;
    if (all === undefined || all.step !== 'joining') return;
    for (const target of this.#rooms.values()) if (target.step !== 'done') return;
    all.step = 'fetching';
    this.#port.history(ALL_TARGETS, after(all.lastId!, this.#limit));
  }
}

function after(id: string, limit: number): HistoryQuery {
  return { kind: 'after', ref: { by: 'id', id }, limit };
}

/**
 * The `*` catch-up: the pages in the server's order ([HIST-5]), each id
 * once, a live copy taking the place of its fetched one; then the live
 * messages no page held, in the order they came. Sequence numbers count
 * per conversation, so they cannot order messages across conversations.
 */
function inServerOrder(missed: readonly HeldMessage[], live: readonly HeldMessage[]): HeldMessage[] {
  const liveById = new Map(live.map((item) => [item.message.id, item]));
  const byId = new Map<string, HeldMessage>();
  for (const item of missed) if (!byId.has(item.message.id)) byId.set(item.message.id, liveById.get(item.message.id) ?? item);
  for (const item of live) if (!byId.has(item.message.id)) byId.set(item.message.id, item);
  return [...byId.values()];
}

/** One entry per id (a live copy wins over a fetched one), in `<seq>` order. */
function inOrder(held: readonly HeldMessage[]): HeldMessage[] {
  const byId = new Map<string, HeldMessage>();
  for (const item of held) {
    const known = byId.get(item.message.id);
    if (known === undefined || (item.origin === 'live' && known.origin !== 'live')) byId.set(item.message.id, item);
  }
  return [...byId.values()].sort((a, b) => a.message.seq - b.message.seq);
}
