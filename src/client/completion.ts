/**
 * Tab completion for the input line, as readline's `completer` wants it:
 * given the line up to the cursor, the candidates and the piece of the
 * line they replace. Pure, so it is tested without a terminal.
 *
 * The word being completed is what follows the last space:
 *   - the first word, starting with `/`: a command (`/jo` → `/join `);
 *   - starting with `#`: a room, from the rooms the user is in and the last
 *     ROOMS reply;
 *   - starting with `:` and one name character: an emoji shortcode
 *     (`:ta` → `:tada:`);
 *   - anything else: a user name, from every name seen (WHO, JOIN, LEAVE,
 *     NICK, messages); as the first word of a message it becomes `bob: `,
 *     the usual way to address someone.
 * Rooms and names match without regard to ASCII case, as the server
 * compares them ([NAME-2]), and complete to the case the server showed.
 *
 * readline prints candidates as they are, so only valid names and rooms
 * ([NAME-1], [ROOM-1]; at most 64 characters, whatever the server's limits)
 * are ever offered: a name the server sent with ESC, a bidi control or any
 * other character a terminal would act on ([CLIENT-1]) is neither kept nor
 * completed.
 */
import { foldName, nameProblem, roomProblem } from '../protocol/names.ts';

export interface CompletionSources {
  readonly commands: readonly string[];
  readonly users: Iterable<string>;
  readonly rooms: Iterable<string>;
  /** Shortcode names without colons (`tada`), sorted. */
  readonly emoji: readonly string[];
}

/** Candidates beyond this are not listed; readline would print them all. */
export const MAX_CANDIDATES = 100;

/** The longest name or room completed, before the server has announced its limits or beyond them. */
export const MAX_COMPLETED_LENGTH = 64;

/** A user name fit to print and complete. */
export function isCompletableName(name: string): boolean {
  return nameProblem(name, MAX_COMPLETED_LENGTH) === undefined;
}

/** A room name fit to print and complete. */
export function isCompletableRoom(room: string): boolean {
  return roomProblem(room, MAX_COMPLETED_LENGTH) === undefined;
}

const SHORTCODE_PREFIX = /^:[a-z0-9_+-]+$/;

/** [candidates, the text they replace], as readline's completer returns. */
export function complete(line: string, sources: CompletionSources): [string[], string] {
  const start = line.lastIndexOf(' ') + 1;
  const word = line.slice(start);
  if (word === '') return [[], word];
  const first = start === 0;
  if (first && word.startsWith('/')) {
    if (word.startsWith('//')) return [[], word];
    return [sources.commands.filter((c) => c.startsWith(word.toLowerCase())).map((c) => c + ' '), word];
  }
  if (word.startsWith('#')) return [matching(sources.rooms, word, isCompletableRoom).map((r) => r + ' '), word];
  if (SHORTCODE_PREFIX.test(word)) {
    const name = word.slice(1);
    return [take(sources.emoji.filter((e) => e.startsWith(name))).map((e) => `:${e}: `), word];
  }
  if (word.startsWith(':')) return [[], word];
  // A name at the start of a chat line addresses that person.
  const suffix = first ? ': ' : ' ';
  return [matching(sources.users, word, isCompletableName).map((u) => u + suffix), word];
}

/** Distinct valid names starting with `prefix` without regard to case, sorted the same way. */
function matching(names: Iterable<string>, prefix: string, valid: (name: string) => boolean): string[] {
  const folded = foldName(prefix);
  const found = new Map<string, string>();
  for (const name of names) {
    const key = foldName(name);
    if (key.startsWith(folded) && !found.has(key) && valid(name)) found.set(key, name);
  }
  return take([...found].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, name]) => name));
}

function take(list: string[]): string[] {
  return list.length > MAX_CANDIDATES ? list.slice(0, MAX_CANDIDATES) : list;
}

/**
 * Names and rooms seen, for completion: bounded, the oldest forgotten
 * first, keyed without regard to case and kept in the latest case seen.
 * Invalid names and rooms are dropped, so they can neither be offered nor
 * push valid ones out.
 */
export class Vocabulary {
  readonly #users = new Map<string, string>();
  readonly #rooms = new Map<string, string>();

  constructor(readonly capacity = 5000) {}

  get users(): Iterable<string> {
    return this.#users.values();
  }
  get rooms(): Iterable<string> {
    return this.#rooms.values();
  }

  addUser(name: string): void {
    if (isCompletableName(name)) remember(this.#users, name, this.capacity);
  }
  removeUser(name: string): void {
    this.#users.delete(foldName(name));
  }
  renameUser(from: string, to: string): void {
    this.removeUser(from);
    this.addUser(to);
  }
  addRoom(room: string): void {
    if (isCompletableRoom(room)) remember(this.#rooms, room, this.capacity);
  }
}

function remember(map: Map<string, string>, name: string, capacity: number): void {
  const key = foldName(name);
  map.delete(key);
  map.set(key, name);
  if (map.size > capacity) map.delete(map.keys().next().value!);
}
