/**
 * The chat as the user sees it, without the terminal: which room or
 * private conversation is active (where plain text goes, shown in the
 * prompt), the names and rooms seen (for completion), and what each session
 * event and each typed command prints. The terminal (terminal.ts) only
 * moves text between this and readline; tests drive this directly.
 *
 * The active target starts as the first room joined (the lobby), becomes a
 * room the user `/join`s at once (the server answers lines in order,
 * [MSG-8], so text typed right after the join reaches the room; a refused
 * join switches back), and can be switched with `/switch` or `/query`
 * without joining anything. Leaving the active room falls back to the
 * lobby, or else the first room the user is in.
 */
import { foldName, isRoomName, nameProblem, roomProblem } from '../protocol/names.ts';
import type { ServerLimits } from './connection.ts';
import type { SessionEvent } from './events.ts';
import { COMMANDS, HELP_LINES, type Action } from './input.ts';
import { Vocabulary, complete } from './completion.ts';
import { formatSessionEvent, isMention, type Render, type ViewState } from './format.ts';
import { sanitize } from './sanitize.ts';

/** What the view needs of the session: ChatSupervisor provides it. */
export interface ChatClient {
  readonly rooms: readonly string[];
  room(name: string): string | undefined;
  readonly lobby: string | undefined;
  readonly limits: ServerLimits | undefined;
  say(target: string | undefined, text: string): void;
  me(target: string | undefined, text: string): void;
  nick(name: string): 'sent' | 'same' | 'offline';
  who(room?: string): boolean;
  join(room: string): boolean;
  part(room: string, reason?: string): boolean;
  listRooms(): boolean;
  topic(room: string, text?: string): boolean;
  history(target: string, limit: number): boolean;
}

export interface Output {
  readonly lines: string[];
  /** Ring the terminal bell: someone named the user in a live message. */
  readonly bell: boolean;
}

/** Names remembered as gone, so a quit seen in several rooms is told once. */
const MAX_GONE = 256;
/** Room and name lengths to check against before the server has announced its own. */
const LOOSE_LIMIT = 64;

const encoder = new TextEncoder();

export class ChatView {
  readonly #client: ChatClient;
  readonly #render: Render;
  readonly #interactive: boolean;
  readonly #emoji: readonly string[];
  readonly vocabulary = new Vocabulary();
  #me = '';
  #active: string | undefined;
  /** Rooms the user asked to join and the server has not confirmed yet: folded → as typed. */
  readonly #joining = new Map<string, string>();
  /** What was active before each of those joins, to go back to if it is refused. */
  readonly #before = new Map<string, string | undefined>();
  /** Folded name → the leave already told for it. */
  readonly #gone = new Map<string, string>();

  /** `emoji`: shortcode names for completion. */
  constructor(client: ChatClient, render: Render, options: { interactive: boolean; emoji?: readonly string[] }) {
    this.#client = client;
    this.#render = render;
    this.#interactive = options.interactive;
    this.#emoji = options.emoji ?? [];
  }

  get active(): string | undefined {
    return this.#active;
  }

  get me(): string {
    return this.#me;
  }

  get state(): ViewState {
    return { me: this.#me, active: this.#active, roomCount: this.#client.rooms.length };
  }

  /** `#lobby> `, `@bob> `, or `> ` with nothing active; the target coloured. */
  get prompt(): string {
    const active = this.#active;
    if (active === undefined) return '> ';
    const { style } = this.#render;
    return `${isRoomName(active) ? style.room(sanitize(active)) : style.private('@' + sanitize(active))}> `;
  }

  /** readline's completer. */
  complete(line: string): [string[], string] {
    const rooms = [...this.#client.rooms, ...this.vocabulary.rooms];
    return complete(line, { commands: COMMANDS, users: this.vocabulary.users, rooms, emoji: this.#emoji });
  }

  onEvent(event: SessionEvent): Output {
    const told = this.#track(event);
    const bell = event.type === 'message' && this.#interactive && isMention(event, this.#me);
    return { lines: told ? [] : formatSessionEvent(event, this.state, this.#render), bell };
  }

  /**
   * Takes note of what an event changes here: the user's name, the active
   * target, the names and rooms seen. True when the event was already told
   * and prints nothing (a quit seen in several rooms).
   */
  #track(event: SessionEvent): boolean {
    switch (event.type) {
      case 'ready':
      case 'reconnected':
        this.#me = event.name;
        for (const user of event.users) this.vocabulary.addUser(user);
        return false;
      case 'join':
      case 'leave':
      case 'nick':
        return this.#trackPresence(event);
      case 'message': {
        const m = event.message;
        if (!event.own) this.#alive(m.from);
        if (isRoomName(m.to)) this.vocabulary.addRoom(m.to);
        return false;
      }
      case 'who':
        for (const user of event.users) this.vocabulary.addUser(user.name);
        return false;
      case 'room':
        this.vocabulary.addRoom(event.room);
        return false;
      case 'rooms':
        for (const room of event.rooms) this.vocabulary.addRoom(room.room);
        return false;
      case 'error':
        if (event.request?.command === 'JOIN' && event.request.target !== undefined) this.#joinRefused(event.request.target);
        return false;
      default:
        return false;
    }
  }

  #trackPresence(event: Extract<SessionEvent, { type: 'join' | 'leave' | 'nick' }>): boolean {
    switch (event.type) {
      case 'join':
        this.vocabulary.addRoom(event.room);
        if (event.own) this.#joined(event.room);
        else this.#alive(event.name);
        return false;
      case 'leave': {
        if (event.own) {
          if (this.#isActive(event.room)) this.#active = this.#fallback();
          return false;
        }
        if (event.reason === 'part') return false;
        const told = this.#toldGone(event.name, `${event.reason} ${event.text}`);
        this.vocabulary.removeUser(event.name);
        return told;
      }
      case 'nick':
        if (event.own) this.#me = event.to;
        else if (this.#isActive(event.from) && !isRoomName(event.from)) this.#active = event.to;
        this.vocabulary.renameUser(event.from, event.to);
        this.#seen(event.to);
        return false;
    }
  }

  /** A join was refused: back to what was active before it, or to a room the user is still in. */
  #joinRefused(target: string): void {
    const key = foldName(target);
    const before = this.#before.get(key);
    const asked = this.#joining.delete(key);
    this.#before.delete(key);
    if (!this.#isActive(target) || this.#client.room(target) !== undefined) return;
    const stillThere = before === undefined || !isRoomName(before) || this.#client.room(before) !== undefined;
    this.#active = asked && stillThere ? before : this.#fallback();
  }

  /** Carries out a typed command (all but quitting, which is the terminal's) and says what happened. */
  act(action: Exclude<Action, { kind: 'quit' }>): string[] {
    switch (action.kind) {
      case 'nothing':
        return [];
      case 'say':
      case 'me':
        return this.#say(action.kind, action.text);
      case 'msg': {
        const problem = this.#targetProblem(action.target);
        if (problem !== undefined) return this.#error(problem);
        this.#client.say(action.target, action.text);
        return [];
      }
      case 'nick':
        return this.#nick(action.name);
      case 'who': {
        const problem = action.room === undefined ? undefined : roomProblem(action.room, this.#limits.roomLength);
        if (problem !== undefined) return this.#error(problem);
        return this.#client.who(action.room) ? [] : notConnected('/who');
      }
      case 'join':
        return this.#join(action.room);
      case 'part':
        return this.#part(action.room, action.reason);
      case 'rooms':
        return this.#client.listRooms() ? [] : notConnected('/rooms');
      case 'topic':
        return this.#topic(action.text);
      case 'history':
        return this.#history(action.count);
      case 'switch':
        return this.#switch(action.target);
      case 'help':
        return [...HELP_LINES];
      case 'usage':
        return this.#error(`Usage: ${action.usage}`);
      case 'unknown':
        return [...this.#error(`Unknown command ${sanitize(action.command)}; nothing was sent.`), ...HELP_LINES];
    }
  }

  /** Plain text, or `/me`, to the active target. */
  #say(kind: 'say' | 'me', text: string): string[] {
    const target = this.#active;
    if (target === undefined) return this.#error('No room or conversation is active: /join #room, or /msg <name> <text>.');
    if (kind === 'me') this.#client.me(target, text);
    else this.#client.say(target, text);
    return [];
  }

  #nick(name: string): string[] {
    const problem = nameProblem(name, this.#limits.nameLength);
    if (problem !== undefined) return this.#error(problem);
    const outcome = this.#client.nick(name);
    if (outcome === 'same') return this.#notice(`* You are already ${sanitize(name)}`);
    return outcome === 'offline' ? notConnected('/nick') : [];
  }

  /** Joins a room and makes it active at once; a room already joined only becomes active. */
  #join(room: string): string[] {
    const problem = roomProblem(room, this.#limits.roomLength);
    if (problem !== undefined) return this.#error(problem);
    const key = foldName(room);
    const known = this.#client.room(room) ?? this.#joining.get(key);
    if (known !== undefined) {
      this.#active = known;
      return this.#notice(`* You are already in ${sanitize(known)}; it is now the active room.`);
    }
    if (!this.#client.join(room)) return notConnected('/join');
    this.#joining.set(key, room);
    this.#before.set(key, this.#active);
    this.#active = room;
    return [];
  }

  /** Reads or sets the topic of the active room. */
  #topic(text: string | undefined): string[] {
    const room = this.#active;
    if (room === undefined || !isRoomName(room)) return this.#error('/topic is about the active room; /switch to a room first.');
    const limit = this.#limits.topicLength;
    if (text !== undefined && encoder.encode(text).length > limit) return this.#error(`A topic is at most ${limit} bytes.`);
    return this.#client.topic(room, text) ? [] : notConnected('/topic');
  }

  /** The last `count` messages of the active target. */
  #history(count: number): string[] {
    const target = this.#active;
    if (target === undefined) return this.#error('No room or conversation is active.');
    const limit = this.#limits.historyPage;
    if (count > limit) return this.#error(`The server gives at most ${limit} messages at a time.`);
    return this.#client.history(target, count) ? [] : notConnected('/history');
  }

  #part(given: string | undefined, reason: string): string[] {
    const active = this.#active;
    if (given === undefined && active !== undefined && !isRoomName(active)) {
      // Leaving a private conversation only closes it here.
      this.#active = this.#fallback();
      return this.#notice(`* Closed the conversation with ${sanitize(active)}.`);
    }
    const wanted = given ?? active;
    if (wanted === undefined) return this.#error('You are not in any room.');
    const problem = roomProblem(wanted, this.#limits.roomLength);
    if (problem !== undefined) return this.#error(problem);
    const room = this.#room(wanted);
    if (room === undefined) return this.#error(`You are not in ${sanitize(wanted)}.`);
    return this.#client.part(room, reason) ? [] : notConnected('/part');
  }

  #switch(target: string): string[] {
    if (isRoomName(target)) {
      const room = this.#room(target);
      if (room === undefined) return this.#error(`You are not in ${sanitize(target)}; /join ${sanitize(target)} to join it.`);
      this.#active = room;
      return this.#notice(`* ${sanitize(room)} is now the active room.`);
    }
    const problem = nameProblem(target, this.#limits.nameLength);
    if (problem !== undefined) return this.#error(problem);
    if (foldName(target) === foldName(this.#me)) return this.#error('That is you.');
    this.#active = target;
    return this.#notice(`* Talking privately with ${target}; /switch <#room> to go back.`);
  }

  #joined(room: string): void {
    const key = foldName(room);
    this.#joining.delete(key);
    this.#before.delete(key);
    // The first room joined becomes active; an active one takes the server's spelling.
    if (this.#active === undefined || this.#isActive(room)) this.#active = room;
  }

  /** A room the user is in, or has asked to join. */
  #room(name: string): string | undefined {
    return this.#client.room(name) ?? this.#joining.get(foldName(name));
  }

  #fallback(): string | undefined {
    const lobby = this.#client.lobby;
    return (lobby === undefined ? undefined : this.#client.room(lobby)) ?? this.#client.rooms[0];
  }

  #isActive(target: string): boolean {
    return this.#active !== undefined && foldName(this.#active) === foldName(target);
  }

  /** True when this departure was already told (a quit is reported once per room shared). */
  #toldGone(name: string, how: string): boolean {
    const key = foldName(name);
    if (this.#gone.get(key) === how) return true;
    this.#gone.delete(key);
    this.#gone.set(key, how);
    if (this.#gone.size > MAX_GONE) this.#gone.delete(this.#gone.keys().next().value!);
    return false;
  }

  /** Someone was seen alive: a later departure is news again. */
  #seen(name: string): void {
    this.#gone.delete(foldName(name));
  }

  /** Someone else joined or spoke: a name to complete, and alive. */
  #alive(name: string): void {
    this.vocabulary.addUser(name);
    this.#seen(name);
  }

  #targetProblem(target: string): string | undefined {
    return isRoomName(target) ? roomProblem(target, this.#limits.roomLength) : nameProblem(target, this.#limits.nameLength);
  }

  get #limits(): Pick<ServerLimits, 'nameLength' | 'roomLength' | 'topicLength' | 'historyPage'> {
    return this.#client.limits ?? { nameLength: LOOSE_LIMIT, roomLength: LOOSE_LIMIT, topicLength: 300, historyPage: 500 };
  }

  #notice(line: string): string[] {
    return [this.#render.style.notice(line)];
  }

  #error(text: string): string[] {
    return [this.#render.style.error(`! ${text}`)];
  }
}

/** Commands are not queued: a /who answered minutes later, or a rename into a changed room, would mislead. */
function notConnected(command: string): string[] {
  return [`! Not connected; ${command} was not sent. Try again when the connection is back.`];
}
