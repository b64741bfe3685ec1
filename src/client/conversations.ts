/**
 * What a session knows about its rooms and messages, across connections:
 * the rooms it is in (in the order it joined them), the last message id
 * seen in each and at all, the names it has had, and the ids already shown.
 *
 * It turns a connection's live messages and history batches into one
 * `message` session event per message to show, each id once ([HIST-6]):
 * a message that comes back in a join's replay or a catch-up after it was
 * shown live is dropped. Pages the user asked for with `/history` are the
 * exception: they show what was asked for, already seen or not.
 *
 * After a reconnect it runs the catch-up (catch-up.ts): rejoins the rooms,
 * fetches what was missed in each, then the private messages.
 *
 * It never sends on its own except for that catch-up, and never answers a
 * notice with a message ([ERR-3]).
 *
 * Everything it keeps is bounded, whatever a server sends: the ids shown
 * (SeenIds), the names the session has had (MAX_NAMES, the oldest
 * forgotten) and the rooms it is in (MAX_ROOMS: a room joined past that is
 * not kept, so it is not joined again after a reconnect, and the user is
 * told).
 */
import type { HistoryQuery } from '../protocol/history.ts';
import type { ChatMessage } from '../protocol/messages.ts';
import { foldName, isRoomName } from '../protocol/names.ts';
import { CATCH_UP_TAG, CatchUp, MAX_HELD_LIVE, RESTORE_TAG, type HeldMessage } from './catch-up.ts';
import type { ClientEvent, Origin, SessionEvent } from './events.ts';
import { DEFAULT_SEEN_CAPACITY, SeenIds } from './seen.ts';

/** The requests a catch-up needs from the connection it runs on. */
export interface HistoryPort {
  /** Rooms the server joined us to while registering (the lobby). */
  readonly joinedByServer: readonly string[];
  /** HISTLIMIT of the server. */
  readonly historyPage: number;
  join(room: string, tag: string): void;
  history(target: string, query: HistoryQuery, tag: string): void;
}

/** Names this session has had, for telling its own messages; past this the oldest is forgotten. */
export const MAX_NAMES = 1024;
/** Rooms remembered to join again; far above what a server lets a client join (MAXJOIN, 50 by default). */
export const MAX_ROOMS = 1024;

interface Position {
  id: string;
  time: number;
}

interface RoomMemory {
  /** As the server showed it when we joined. */
  readonly name: string;
  last: Position | undefined;
}

export class Conversations {
  readonly #rooms = new Map<string, RoomMemory>();
  readonly #names = new Set<string>();
  readonly #seen: SeenIds;
  readonly #emit: (event: SessionEvent) => void;
  #last: Position | undefined;
  #catchUp: CatchUp | undefined;
  /** The user was told that a room was not kept; told again only after the list had room once more. */
  #toldFull = false;

  constructor(emit: (event: SessionEvent) => void, seenCapacity = DEFAULT_SEEN_CAPACITY) {
    this.#emit = emit;
    this.#seen = new SeenIds(seenCapacity);
  }

  /** The rooms the session is in, in the order it joined them; kept while disconnected, to be joined again. */
  get rooms(): string[] {
    return [...this.#rooms.values()].map((r) => r.name);
  }

  /** The room as the server wrote it, when the session is in it. */
  room(name: string): string | undefined {
    return this.#rooms.get(foldName(name))?.name;
  }

  /** True while a reconnect's catch-up is still fetching. */
  get catchingUp(): boolean {
    return this.#catchUp !== undefined && !this.#catchUp.isDone;
  }

  /** The last id seen in `room`, and at all; for tests and for the curious. */
  lastId(room?: string): string | undefined {
    return (room === undefined ? this.#last : this.#rooms.get(foldName(room))?.last)?.id;
  }

  /**
   * A connection registered as `name`. After a reconnect (`again`), starts
   * the catch-up on it and returns the rooms it joins again.
   */
  connected(name: string, port: HistoryPort, again: boolean): string[] {
    this.#addName(name);
    this.#catchUp = undefined;
    if (!again) return [];
    const rooms = [...this.#rooms.values()].map((r) => ({ room: r.name, lastId: r.last?.id }));
    const plan = new CatchUp(rooms, this.#last?.id, port.joinedByServer, port.historyPage, {
      join: (room) => port.join(room, RESTORE_TAG),
      history: (target, query) => port.history(target, query, CATCH_UP_TAG),
      release: (target, held, more) => this.#release(target, held, more),
      reset: (target) => this.#emit({ type: 'history-reset', target }),
      overflow: () =>
        this.#emit({
          type: 'warning',
          text: `More than ${MAX_HELD_LIVE} new messages arrived while catching up; the oldest of them may not be shown.`,
        }),
    });
    this.#catchUp = plan;
    plan.start();
    return plan.rejoining;
  }

  /** The connection is gone: a catch-up in progress is dropped (the next one starts from what was shown). */
  disconnected(): void {
    this.#catchUp = undefined;
  }

  /**
   * Takes note of a connection event. Returns true when it was consumed
   * here (messages and history are re-emitted as `message` events, replies
   * to the catch-up are its own business); false when the caller should
   * pass it on.
   */
  handle(event: ClientEvent): boolean {
    switch (event.type) {
      case 'ready':
        this.#addName(event.name);
        return false;
      case 'nick':
        if (event.own) this.#addName(event.to);
        return false;
      case 'join':
        if (event.own) this.#addRoom(event.room);
        return false;
      case 'leave':
        if (event.own) this.#rooms.delete(foldName(event.room));
        return false;
      case 'message':
        this.#live(event.message, event.own);
        return true;
      case 'history':
        this.#batch(event);
        return true;
      case 'error': {
        const request = event.request;
        if (request?.tag === CATCH_UP_TAG) {
          this.#catchUp?.failed(request.target ?? '', event.code);
          return true;
        }
        if (request?.tag === RESTORE_TAG && request.target !== undefined) {
          this.#rooms.delete(foldName(request.target));
          this.#catchUp?.joinFailed(request.target);
        }
        return false;
      }
      default:
        return false;
    }
  }

  /** The latest name goes last, so it is the last forgotten. */
  #addName(name: string): void {
    const key = foldName(name);
    this.#names.delete(key);
    this.#names.add(key);
    if (this.#names.size > MAX_NAMES) this.#names.delete(this.#names.values().next().value!);
  }

  #addRoom(room: string): void {
    const key = foldName(room);
    if (this.#rooms.has(key)) return;
    if (this.#rooms.size < MAX_ROOMS) {
      this.#toldFull = false;
      this.#rooms.set(key, { name: room, last: undefined });
      return;
    }
    if (this.#toldFull) return;
    this.#toldFull = true;
    this.#emit({ type: 'warning', text: `In more than ${MAX_ROOMS} rooms: ${room} and any other room joined now will not be joined again after a reconnect.` });
  }

  #live(message: ChatMessage, own: boolean): void {
    // Held while its room, or for a private message the `*` catch-up, is still fetching.
    if (this.#catchUp?.hold({ message, own, origin: 'live' })) return;
    this.#show(message, own, 'live');
  }

  #batch(event: Extract<ClientEvent, { type: 'history' }>): void {
    const { request, target } = event;
    const plan = this.#catchUp;
    const held = (): HeldMessage[] => event.messages.map((message) => ({ message, own: this.#mine(message), origin: 'missed' }));
    if (request?.tag === RESTORE_TAG && plan !== undefined) return plan.joined(request.target ?? target, held());
    if (request?.tag === CATCH_UP_TAG && plan !== undefined) return plan.page(request.target ?? target, held());
    if (request?.command === 'HISTORY') {
      // Asked for by the user: shown whether seen before or not.
      this.#emit({ type: 'batch', target: request.target ?? target, origin: 'history', count: event.messages.length, more: false });
      for (const message of event.messages) {
        this.#seen.add(message.id);
        this.#advance(message, 'history');
        this.#emit({ type: 'message', own: this.#mine(message), message, origin: 'history' });
      }
      return;
    }
    // A join's replay: of a room the user joined, or of the lobby the server joined us to.
    if (request === undefined && plan?.holds(target)) return plan.joined(target, held());
    for (const message of event.messages) this.#show(message, this.#mine(message), 'replay');
  }

  #release(target: string, held: readonly HeldMessage[], more: boolean): void {
    const fresh = held.filter((h) => !this.#seen.has(h.message.id));
    const missed = fresh.filter((h) => h.origin === 'missed').length;
    if (missed > 0 || more) this.#emit({ type: 'batch', target, origin: 'missed', count: missed, more });
    for (const h of fresh) this.#show(h.message, h.own, h.origin);
  }

  /** Emits a message unless its id was shown before. */
  #show(message: ChatMessage, own: boolean, origin: Origin): void {
    if (!this.#seen.add(message.id)) return;
    this.#advance(message, origin);
    this.#emit({ type: 'message', own, message, origin });
  }

  /**
   * Moves the last-seen positions forward. Ids are opaque ([MSG-4]), so
   * "later" is by `<time>`, which never decreases ([MSG-6]); at equal times
   * the one received later wins, except for a page of older history.
   */
  #advance(message: ChatMessage, origin: Origin): void {
    const later = (last: Position | undefined) => last === undefined || (origin === 'history' ? message.time > last.time : message.time >= last.time);
    const position = { id: message.id, time: message.time };
    if (later(this.#last)) this.#last = position;
    const room = isRoomName(message.to) ? this.#rooms.get(foldName(message.to)) : undefined;
    if (room !== undefined && later(room.last)) room.last = position;
  }

  /** Sent by us, under the name we have now or had before in this session. */
  #mine(message: ChatMessage): boolean {
    return this.#names.has(foldName(message.from));
  }
}
