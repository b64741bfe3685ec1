/** User names (SPEC [NAME-1], [NAME-2]), room names ([ROOM-1], [ROOM-2]) and tokens. */

const NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;
const ROOM = /^#[A-Za-z0-9][A-Za-z0-9_-]*$/;
const RESERVED = new Set(['you']);

const TOKEN = /^[A-Za-z0-9_-]{1,64}$/;

/** A message id ([MSG-4]) or a name's key ([NAME-5]): 1 to 64 characters of `A–Z a–z 0–9 - _`. */
export function isToken(text: string): boolean {
  return TOKEN.test(text);
}

/** Why `name` is not a valid user name, or undefined when it is. */
export function nameProblem(name: string, maxLength: number): string | undefined {
  if (name.length === 0) return 'A name cannot be empty';
  if (name.length > maxLength) return `A name is at most ${maxLength} characters`;
  if (!NAME.test(name)) return 'A name starts with a letter and holds only A-Z a-z 0-9 - _';
  if (RESERVED.has(foldName(name))) return `The name ${JSON.stringify(name)} is reserved`;
  return undefined;
}

/** Why `room` is not a valid room name, or undefined when it is. */
export function roomProblem(room: string, maxLength: number): string | undefined {
  if (!room.startsWith('#')) return 'A room name starts with #';
  if (room.length > maxLength) return `A room name is at most ${maxLength} characters, # included`;
  if (!ROOM.test(room)) return 'A room name is # and then a letter or digit, then only A-Z a-z 0-9 - _';
  return undefined;
}

/** True when `target` names a room rather than a user ([ROOM-1]): rooms, and only rooms, start with #. */
export function isRoomName(target: string): boolean {
  return target.startsWith('#');
}

/** The form names and room names are compared in: ASCII letters folded to lower case. */
export function foldName(name: string): string {
  // Most names are lower case already, and every message looks up its room.
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) return name.replace(/[A-Z]+/g, (s) => s.toLowerCase());
  }
  return name;
}
