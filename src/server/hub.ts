/**
 * The hub owns who is online, the rooms, and delivery. It is the single
 * owner of that state (REFERENCES §1 #4): every change is a plain method
 * call on the event loop, so delivery never sees a list change under it.
 * Domain failures are thrown as ProtocolError; the dispatcher turns them
 * into replies.
 *
 * Order: everything about a room goes through that room's fan-out group,
 * so all its members see one order ([ROOM-8]); anything sent to one
 * session (a reply, a private message, a NICK) first takes what the
 * session's groups owe it (Connection.send), so it is never overtaken.
 */
import { createHash, randomBytes } from 'node:crypto';
import { ProtocolError } from '../protocol/errors.ts';
import { foldName, isRoomName, nameProblem, roomProblem } from '../protocol/names.ts';
import { serverLine, type LeaveReason, type MessageKind } from '../protocol/messages.ts';
import type { FanoutScheduler } from './fanout.ts';
import type { HistoryQuery, HistoryRef } from '../protocol/history.ts';
import { StorageError, mergePages, privateKey, type Bound, type HistoryStore, type StoreQuery, type StoredMessage } from './history/store.ts';
import { Room, type Topic } from './room.ts';
import { Session, SessionState } from './session.ts';

export interface HubOptions {
  readonly nameLength: number;
  readonly roomLength: number;
  readonly topicLength: number;
  /** Milliseconds since the epoch; injected so tests control time. */
  readonly clock: () => number;
  /** Picks guest numbers; injected so tests are deterministic. */
  readonly random: () => number;
  /** A new secret key for a registration ([NAME-5]); 128 random bits unless a test injects its own. */
  readonly newKey?: () => string;
  /** Ends each turn's broadcasts (the server's Flusher). */
  readonly scheduler: FanoutScheduler;
  readonly store: HistoryStore;
  /** The room every client joins on registering ([ROOM-2]), or undefined for none. */
  readonly lobby: string | undefined;
  /** Rooms one session may be in (MAXJOIN). */
  readonly maxJoins: number;
  /** Rooms that may exist at once, persistent ones included. */
  readonly maxRooms: number;
  /** Messages replayed on JOIN ([HIST-4]). */
  readonly replay: number;
  /** Bytes of held presence lines after which they are sent at once (see Fanout). */
  readonly maxHeldBytes?: number;
}

/**
 * How long JOIN and LEAVE may wait to be sent with others ([PRES-5]): a burst
 * of arrivals then costs each client one write per 50 ms, not one per line.
 */
export const PRESENCE_HOLD_MS = 50;

export interface RoomInfo {
  readonly name: string;
  readonly members: number;
  readonly topic: Topic;
}

export class Hub {
  /** Registered sessions by folded name ([NAME-2]). */
  readonly #users = new Map<string, Session>();
  /** Rooms by folded name ([ROOM-1]). */
  readonly #rooms = new Map<string, Room>();
  /** The time of the last message accepted: times never go back ([MSG-6]). */
  #lastTime = 0;
  readonly #options: HubOptions;

  constructor(options: HubOptions) {
    this.#options = options;
    const store = options.store;
    this.#lastTime = store.newestTime();
    for (const stored of store.rooms()) {
      const topic = { text: stored.topic, setter: stored.setter, time: stored.topicTime };
      const hasHistory = store.page([stored.key], { kind: 'latest', limit: 1 }).length > 0;
      const room = this.#newRoom(stored.key, stored.name, { stored: true, hasHistory, topic });
      // Saved for a topic that was later cleared, and without history: not persistent ([ROOM-6]).
      if (room.persistent) this.#rooms.set(stored.key, room);
    }
    const lobby = options.lobby;
    if (lobby !== undefined) {
      const key = foldName(lobby);
      const kept = this.#rooms.get(key);
      const { stored, hasHistory, topic } = kept ?? {};
      this.#rooms.set(key, this.#newRoom(key, kept?.name ?? lobby, { isLobby: true, stored, hasHistory, topic }));
    }
  }

  get online(): number {
    return this.#users.size;
  }

  get lobby(): string | undefined {
    return this.#options.lobby;
  }

  /**
   * Registers `session` under `requested`, or a guest name ([SESSION-4]);
   * with the key a former holder of the name was given, as that holder ([NAME-5]).
   */
  register(session: Session, requested: string | undefined, key?: string): string {
    const name = requested === undefined ? this.#guestName() : this.#checkFree(requested, 'HELLO');
    this.#takeTenure(session, name, key, 'HELLO');
    session.name = name;
    session.state = SessionState.Registered;
    session.lastSpoke = this.#options.clock();
    this.#users.set(foldName(name), session);
    return name;
  }

  /** Renames; returns the old name, or undefined for a no-op ([NAME-3], [NAME-4]). */
  rename(session: Session, name: string): string | undefined {
    const old = session.name;
    if (name === old) return undefined;
    const caseOnly = foldName(name) === foldName(old);
    if (caseOnly) this.#checkValid(name, 'NICK');
    else this.#checkFree(name, 'NICK');
    this.#takeTenure(session, name, undefined, 'NICK');
    this.#users.delete(foldName(old));
    session.name = name;
    this.#users.set(foldName(name), session);
    // Once each to everyone who shares a room, and to the renamed one.
    const line = serverLine.nick(old, name);
    for (const other of this.#neighbours(session)) other.send(line);
    return old;
  }

  /** Joins a room, creating it if need be ([ROOM-3]). */
  join(session: Session, name: string): void {
    this.#checkRoomName(name, 'JOIN');
    let room = this.#rooms.get(foldName(name));
    if (room !== undefined && room.members.has(session)) {
      throw new ProtocolError('ALREADY_IN_ROOM', 'JOIN', `You are already in ${room.name}`);
    }
    if (session.rooms.size >= this.#options.maxJoins) {
      throw new ProtocolError('TOO_MANY_ROOMS', 'JOIN', `You can be in at most ${this.#options.maxJoins} rooms; leave one first`);
    }
    if (room === undefined) {
      if (this.#rooms.size >= this.#options.maxRooms) {
        throw new ProtocolError('TOO_MANY_ROOMS', 'JOIN', `The server holds at most ${this.#options.maxRooms} rooms`);
      }
      room = this.#newRoom(foldName(name), name, {});
      this.#rooms.set(room.key, room);
    }
    room.members.add(session);
    session.rooms.add(room);
    room.fanout.add(session.connection);
    const joined = serverLine.join(room.name, session.name);
    room.publish(joined, session, PRESENCE_HOLD_MS);
    const replay = this.#options.replay === 0 ? [] : this.#options.store.page([room.key], { kind: 'latest', limit: this.#options.replay });
    // One send: the joiner's replies are never split by other lines ([ROOM-3], [HIST-3]).
    session.send(joined + serverLine.room(room.name, room.members.size, room.topic.text) + historyBatch(room.name, replay));
  }

  /** Leaves a room ([ROOM-4]). */
  part(session: Session, name: string, reason: string): void {
    this.#checkRoomName(name, 'PART');
    const room = this.#memberRoom(session, name, 'PART');
    const line = serverLine.leave(room.name, session.name, 'part', reason);
    this.#leaveRoom(session, room, line);
    session.send(line);
  }

  /** The room's topic, or sets it when `text` is given ([ROOM-7]). */
  topic(session: Session, name: string, text: string | undefined): void {
    this.#checkRoomName(name, 'TOPIC');
    if (text === undefined) {
      const { topic, name: shown } = this.#existingRoom(name, 'TOPIC');
      session.send(serverLine.topic(shown, topic.setter, topic.time, topic.text));
      return;
    }
    const room = this.#memberRoom(session, name, 'TOPIC');
    if (Buffer.byteLength(text) > this.#options.topicLength) {
      throw new ProtocolError('BAD_PARAMS', 'TOPIC', `A topic is at most ${this.#options.topicLength} bytes`);
    }
    const topic = { text, setter: session.name, time: this.#stamp() };
    // Stored first: a topic the database refused is neither kept nor shown ([STORE-2]).
    this.#saveRoom(room, topic, 'TOPIC');
    room.topic = topic;
    const line = serverLine.topic(room.name, topic.setter, topic.time, text);
    room.publish(line, session);
    session.send(line);
  }

  /** Rooms that exist, ordered by folded name ([ROOM-5]). */
  rooms(): RoomInfo[] {
    return [...this.#rooms.keys()].sort().map((key) => {
      const room = this.#rooms.get(key)!;
      return { name: room.name, members: room.members.size, topic: room.topic };
    });
  }

  /**
   * Stamps, stores and delivers a message to a room or a user ([MSG-1]..[MSG-3],
   * [MSG-10]): MSG to the others, ECHO to the sender. Without a target, the lobby.
   */
  say(session: Session, target: string | undefined, kind: MessageKind, text: string, command: string): StoredMessage {
    const to = target ?? this.#options.lobby;
    if (to === undefined) throw new ProtocolError('NOT_IN_ROOM', command, 'This server has no lobby; name a room or a user');
    if (isRoomName(to)) {
      const room = this.#existingRoom(to, command);
      if (!room.members.has(session)) throw new ProtocolError('NOT_IN_ROOM', command, `Join ${room.name} first`);
      // With a database, a room is stored before its first message ([ROOM-6]).
      if (this.#options.store.persistent && !room.stored) this.#saveRoom(room, room.topic, command);
      const message = this.#append(session, room.key, room.name, kind, text, command);
      room.hasHistory = true;
      const [msg, echo] = serverLine.messageAndEcho(message);
      room.publish(msg, session);
      session.send(echo);
      return message;
    }
    const recipient = this.#users.get(foldName(to));
    if (recipient === undefined) throw new ProtocolError('NO_SUCH_USER', command, `${to} is not online`);
    const message = this.#append(session, privateKey(session.name, recipient.name), recipient.name, kind, text, command);
    const [msg, echo] = serverLine.messageAndEcho(message);
    if (recipient !== session) recipient.send(msg);
    session.send(echo);
    return message;
  }

  /** Takes a session offline and tells its rooms; false if it was not online ([PRES-1]). */
  remove(session: Session, reason: LeaveReason, text: string): boolean {
    const wasOnline = session.state === SessionState.Registered;
    session.state = SessionState.Gone;
    if (!wasOnline) return false;
    this.#users.delete(foldName(session.name));
    for (const room of [...session.rooms]) this.#leaveRoom(session, room, serverLine.leave(room.name, session.name, reason, text));
    return true;
  }

  /** Takes everyone offline without announcing it, as SHUTDOWN already says so ([SHUT-2]). */
  removeAll(): void {
    for (const session of this.#users.values()) {
      session.state = SessionState.Gone;
      session.rooms.clear();
    }
    this.#users.clear();
    for (const room of [...this.#rooms.values()]) {
      for (const member of room.members) room.fanout.remove(member.connection);
      room.members.clear();
      if (!room.persistent) this.#rooms.delete(room.key);
    }
  }

  /** Online names with idle seconds, everyone or a room's members, ordered without regard to case ([PRES-3]). */
  who(room?: string): Array<{ name: string; idle: number }> {
    let sessions: Iterable<Session> = this.#users.values();
    if (room !== undefined) {
      this.#checkRoomName(room, 'WHO');
      sessions = this.#existingRoom(room, 'WHO').members;
    }
    const now = this.#options.clock();
    return [...sessions]
      .map((s) => ({ key: foldName(s.name), name: s.name, idle: Math.max(0, Math.floor((now - s.lastSpoke) / 1000)) }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .map(({ name, idle }) => ({ name, idle }));
  }

  /**
   * A page of history for `target` as the client wrote it: a room it is in,
   * a user name (its private conversation with that name) or `*` ([HIST-5]).
   */
  history(session: Session, target: string, query: HistoryQuery): StoredMessage[] {
    const store = this.#options.store;
    // The target first, then the refs: an id is looked up only for a target the client may read.
    let rooms: string[] = [];
    let conversations: string[] = [];
    if (target === '*') {
      rooms = [...session.rooms].map((room) => room.key);
      conversations = store.conversationsOf(foldName(session.name));
    } else if (isRoomName(target)) {
      this.#checkRoomName(target, 'HISTORY');
      rooms = [this.#memberRoom(session, target, 'HISTORY').key];
    } else {
      this.#checkValid(target, 'HISTORY');
      conversations = [privateKey(session.name, target)];
    }
    const storeQuery = toStoreQuery(query, (id) => this.#bound(id));
    // A name's private history starts where its holder took it ([HIST-5]).
    return mergePages([store.page(rooms, storeQuery), store.page(conversations, storeQuery, session.privateFloor)], storeQuery);
  }

  #bound(id: string): Bound {
    const num = this.#options.store.numOf(id);
    if (num === undefined) throw new ProtocolError('UNKNOWN_MESSAGE', 'HISTORY', `No message has the id ${id}`);
    return { by: 'num', num };
  }

  #memberRoom(session: Session, name: string, command: string): Room {
    const room = this.#rooms.get(foldName(name));
    if (room === undefined || !room.members.has(session)) {
      throw new ProtocolError('NOT_IN_ROOM', command, `You are not in ${name}`);
    }
    return room;
  }

  #append(session: Session, target: string, to: string, kind: MessageKind, text: string, command: string): StoredMessage {
    const time = this.#stamp();
    const message = storing(command, 'The message could not be stored and was not sent', () =>
      this.#options.store.append({ target, from: session.name, to, kind, text, time }),
    );
    session.lastSpoke = time;
    return message;
  }

  /**
   * Takes `name` for `session` ([NAME-5]): with the key its last holder was
   * given, or as that holder renaming back, the tenure goes on; otherwise a
   * new one starts after the last message so far, so a newcomer to a freed
   * name reads none of its earlier private messages ([HIST-5]).
   */
  #takeTenure(session: Session, name: string, key: string | undefined, command: string): void {
    const store = this.#options.store;
    const held = store.tenure(foldName(name));
    if (key !== undefined && held?.keyHash === hashKey(key)) {
      session.key = key;
      session.privateFloor = held.floor;
      return;
    }
    if (session.key === '') session.key = this.#options.newKey?.() ?? randomBytes(16).toString('base64url');
    if (held?.keyHash === hashKey(session.key)) {
      session.privateFloor = held.floor;
      return;
    }
    const floor = store.lastNum();
    storing(command, 'The name could not be recorded; try again', () =>
      store.saveTenure(foldName(name), { keyHash: hashKey(session.key), floor }),
    );
    session.privateFloor = floor;
  }

  /** The server's clock, never earlier than the last stamp ([MSG-6]). */
  #stamp(): number {
    this.#lastTime = Math.max(this.#lastTime, this.#options.clock());
    return this.#lastTime;
  }

  /**
   * Keeps a room's name and topic in the database ([ROOM-6], [STORE-2]):
   * before its first message, and whenever its topic changes. Without a
   * database there is nothing to keep.
   */
  #saveRoom(room: Room, topic: Topic, command: string): void {
    const store = this.#options.store;
    if (!store.persistent) return;
    storing(command, 'The room could not be stored; nothing was changed', () =>
      store.saveRoom({ key: room.key, name: room.name, topic: topic.text, setter: topic.setter, topicTime: topic.time }),
    );
    room.stored = true;
  }

  /**
   * A room that exists, by name: NO_SUCH_ROOM for a valid name that is not
   * one, BAD_ROOM for an invalid one. Looked up before the name is checked:
   * a room that exists has a valid name, and every message comes this way.
   */
  #existingRoom(name: string, command: string): Room {
    const room = this.#rooms.get(foldName(name));
    if (room !== undefined) return room;
    this.#checkRoomName(name, command);
    throw new ProtocolError('NO_SUCH_ROOM', command, `There is no room ${name}`);
  }

  #leaveRoom(session: Session, room: Room, line: string): void {
    room.fanout.remove(session.connection);
    room.members.delete(session);
    session.rooms.delete(room);
    room.publish(line, undefined, PRESENCE_HOLD_MS);
    if (room.members.size === 0 && !room.persistent) this.#rooms.delete(room.key);
  }

  /** The session and everyone who shares a room with it, once each. */
  #neighbours(session: Session): Set<Session> {
    const found = new Set<Session>([session]);
    for (const room of session.rooms) for (const member of room.members) found.add(member);
    return found;
  }

  #newRoom(key: string, name: string, options: ConstructorParameters<typeof Room>[5]): Room {
    return new Room(key, name, this.#options.scheduler, this.#options.maxHeldBytes, this.#options.store.persistent, options);
  }

  #checkRoomName(name: string, command: string): void {
    const problem = roomProblem(name, this.#options.roomLength);
    if (problem !== undefined) throw new ProtocolError('BAD_ROOM', command, problem);
  }

  #checkValid(name: string, command: string): void {
    const problem = nameProblem(name, this.#options.nameLength);
    if (problem !== undefined) throw new ProtocolError('BAD_NAME', command, problem);
  }

  #checkFree(name: string, command: string): string {
    this.#checkValid(name, command);
    if (this.#users.has(foldName(name))) {
      throw new ProtocolError('NAME_IN_USE', command, `The name ${name} is in use`);
    }
    return name;
  }

  /**
   * `guest-` and four digits, or fewer when NAMELEN is short; more digits
   * when the space is crowded ([SESSION-4]).
   */
  #guestName(): string {
    const maxDigits = this.#options.nameLength - 'guest-'.length;
    for (let digits = Math.min(4, maxDigits); digits >= 1 && digits <= maxDigits; digits++) {
      const low = digits === 1 ? 1 : 10 ** (digits - 1);
      const span = 10 ** digits - low;
      for (let attempt = 0; attempt < 20; attempt++) {
        const name = `guest-${low + Math.floor(this.#options.random() * span)}`;
        if (!this.#users.has(name)) return name;
      }
    }
    throw new ProtocolError('BAD_NAME', 'HELLO', 'No guest name is free; choose a name');
  }
}

/** `HIST` lines and their `ENDHIST`, as one string so the batch is never split ([HIST-3]). */
export function historyBatch(target: string, messages: readonly StoredMessage[]): string {
  let lines = '';
  for (const message of messages) lines += serverLine.history(message);
  return lines + serverLine.endHistory(target, messages.length);
}

/** A client's query with its refs made positions: ids through `resolve`, times as they are. */
function toStoreQuery(query: HistoryQuery, resolve: (id: string) => Bound): StoreQuery {
  const bound = (ref: HistoryRef): Bound => (ref.by === 'id' ? resolve(ref.id) : { by: 'time', time: ref.time });
  switch (query.kind) {
    case 'latest':
      return query;
    case 'before':
    case 'after':
      return { kind: query.kind, bound: bound(query.ref), limit: query.limit };
    case 'between':
      return { kind: 'between', from: bound(query.from), to: bound(query.to), limit: query.limit };
  }
}

/** Runs a store write for `command`; a refusal is STORAGE_FAILED, before anything is shown ([STORE-3]). */
function storing<T>(command: string, refusal: string, write: () => T): T {
  try {
    return write();
  } catch (error) {
    if (!(error instanceof StorageError)) throw error;
    throw new ProtocolError('STORAGE_FAILED', command, refusal, { cause: error });
  }
}

/** Keys are kept only as hashes, so a copy of the database gives nobody a name. */
function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('base64url');
}
