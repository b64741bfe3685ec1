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
    let bell = false;
    let lines: string[] | undefined;
    switch (event.type) {
      case 'ready':
      case 'reconnected':
        this.#me = event.name;
        for (const user of event.users) this.vocabulary.addUser(user);
        break;
      case 'join':
        this.vocabulary.addRoom(event.room);
        if (event.own) this.#joined(event.room);
        else {
          this.vocabulary.addUser(event.name);
          this.#seen(event.name);
        }
        break;
      case 'leave':
        if (event.own) {
          if (this.#isActive(event.room)) this.#active = this.#fallback();
        } else if (event.reason !== 'part') {
          lines = this.#toldGone(event.name, `${event.reason} ${event.text}`) ? [] : undefined;
          this.vocabulary.removeUser(event.name);
        }
        break;
      case 'nick':
        if (event.own) this.#me = event.to;
        else if (this.#isActive(event.from) && !isRoomName(event.from)) this.#active = event.to;
        this.vocabulary.renameUser(event.from, event.to);
        this.#seen(event.to);
        break;
      case 'message': {
        const m = event.message;
        if (!event.own) {
          this.vocabulary.addUser(m.from);
          this.#seen(m.from);
        }
        if (isRoomName(m.to)) this.vocabulary.addRoom(m.to);
        bell = this.#interactive && isMention(event, this.#me);
        break;
      }
      case 'who':
        for (const user of event.users) this.vocabulary.addUser(user.name);
        break;
      case 'room':
        this.vocabulary.addRoom(event.room);
        break;
      case 'rooms':
        for (const room of event.rooms) this.vocabulary.addRoom(room.room);
        break;
      case 'error': {
        const request = event.request;
        if (request?.command === 'JOIN' && request.target !== undefined) {
          const key = foldName(request.target);
          const before = this.#before.get(key);
          const asked = this.#joining.delete(key);
          this.#before.delete(key);
          if (this.#isActive(request.target) && this.#client.room(request.target) === undefined) {
            this.#active = asked && (before === undefined || !isRoomName(before) || this.#client.room(before) !== undefined) ? before : this.#fallback();
          }
        }
        break;
      }
    }
    return { lines: lines ?? formatSessionEvent(event, this.state, this.#render), bell };
  }

  /** Carries out a typed command (all but quitting, which is the terminal's) and says what happened. */
  act(action: Exclude<Action, { kind: 'quit' }>): string[] {
    const client = this.#client;
    switch (action.kind) {
      case 'nothing':
        return [];
      case 'say':
      case 'me': {
        const target = this.#active;
        if (target === undefined) return this.#error('No room or conversation is active: /join #room, or /msg <name> <text>.');
        if (action.kind === 'me') client.me(target, action.text);
        else client.say(target, action.text);
        return [];
      }
      case 'msg': {
        const problem = this.#targetProblem(action.target);
        if (problem !== undefined) return this.#error(problem);
        client.say(action.target, action.text);
        return [];
      }
      case 'nick': {
        const problem = nameProblem(action.name, this.#limits.nameLength);
        if (problem !== undefined) return this.#error(problem);
        const outcome = client.nick(action.name);
        if (outcome === 'same') return this.#notice(`* You are already ${sanitize(action.name)}`);
        return outcome === 'offline' ? notConnected('/nick') : [];
      }
      case 'who': {
        const problem = action.room === undefined ? undefined : roomProblem(action.room, this.#limits.roomLength);
        if (problem !== undefined) return this.#error(problem);
        return client.who(action.room) ? [] : notConnected('/who');
      }
      case 'join': {
        const problem = roomProblem(action.room, this.#limits.roomLength);
        if (problem !== undefined) return this.#error(problem);
        const known = client.room(action.room) ?? this.#joining.get(foldName(action.room));
        if (known !== undefined) {
          this.#active = known;
          return this.#notice(`* You are already in ${sanitize(known)}; it is now the active room.`);
        }
        if (!client.join(action.room)) return notConnected('/join');
        const key = foldName(action.room);
        this.#joining.set(key, action.room);
        this.#before.set(key, this.#active);
        this.#active = action.room;
        return [];
      }
      case 'part':
        return this.#part(action.room, action.reason);
      case 'rooms':
        return client.listRooms() ? [] : notConnected('/rooms');
      case 'topic': {
        const room = this.#active;
        if (room === undefined || !isRoomName(room)) return this.#error('/topic is about the active room; /switch to a room first.');
        const limit = this.#limits.topicLength;
        if (action.text !== undefined && encoder.encode(action.text).length > limit) return this.#error(`A topic is at most ${limit} bytes.`);
        return client.topic(room, action.text) ? [] : notConnected('/topic');
      }
      case 'history': {
        const target = this.#active;
        if (target === undefined) return this.#error('No room or conversation is active.');
        const limit = this.#limits.historyPage;
        if (action.count > limit) return this.#error(`The server gives at most ${limit} messages at a time.`);
        return client.history(target, action.count) ? [] : notConnected('/history');
      }
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
