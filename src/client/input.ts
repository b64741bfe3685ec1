/**
 * What a line typed by the user means, and how its text is made fit to send.
 * Pure, so the rules of [CLIENT-4] (any text can be sent, including text that
 * looks like a command) are tested without a terminal or a socket.
 */

export type Action =
  | { readonly kind: 'nothing' }
  /** Text for the active room or conversation. */
  | { readonly kind: 'say'; readonly text: string }
  /** An action (`/me waves`) for the active room or conversation. */
  | { readonly kind: 'me'; readonly text: string }
  /** A message to a given target, which does not become active (`/msg`). */
  | { readonly kind: 'msg'; readonly target: string; readonly text: string }
  | { readonly kind: 'quit'; readonly reason: string }
  | { readonly kind: 'nick'; readonly name: string }
  | { readonly kind: 'who'; readonly room: string | undefined }
  | { readonly kind: 'join'; readonly room: string }
  /** `room` undefined: the active one. */
  | { readonly kind: 'part'; readonly room: string | undefined; readonly reason: string }
  | { readonly kind: 'rooms' }
  /** `text` undefined reads the active room's topic; otherwise sets it. */
  | { readonly kind: 'topic'; readonly text: string | undefined }
  | { readonly kind: 'history'; readonly count: number }
  /** Makes a room or a private conversation the active target, without joining anything. */
  | { readonly kind: 'switch'; readonly target: string }
  | { readonly kind: 'help' }
  /** A command used wrongly: say how to use it, send nothing. */
  | { readonly kind: 'usage'; readonly usage: string }
  /** A command the client does not have: show help, send nothing. */
  | { readonly kind: 'unknown'; readonly command: string };

/** The word that leaves, exactly as the original Python client had it. */
export const EXIT_WORD = 'exit';

/** `/history` without a count. */
export const DEFAULT_HISTORY_COUNT = 20;

/** Every command, as typed; for completion. */
export const COMMANDS: readonly string[] = [
  '/help',
  '/history',
  '/join',
  '/me',
  '/msg',
  '/nick',
  '/part',
  '/query',
  '/quit',
  '/rooms',
  '/say',
  '/switch',
  '/topic',
  '/who',
];

export const HELP_LINES: readonly string[] = [
  'Type a message and press Enter: it goes to the room or person in the prompt. Commands:',
  '  /join <#room>           join a room; it becomes the active one',
  '  /part [#room] [reason]  leave a room (the active one by default)',
  '  /switch <#room|name>    make a room you are in, or a private conversation, the active one',
  '  /query <name>           the same as /switch <name>: talk privately with someone',
  '  /msg <name> <text>      send a private message without switching to it',
  '  /me <action>            send an action, shown as "* yourname action"',
  '  /rooms                  list the rooms',
  '  /who [#room]            list who is online, or who is in a room, with idle times',
  '  /topic [text]           show the active room\'s topic, or set it',
  '  /history [n]            show the last n messages (default 20) of the active room or conversation',
  '  /nick <name>            change your name',
  '  /say <text>             send text exactly as typed, e.g. /say exit or /say /who',
  '  //text                  send text that starts with one /',
  '  /quit [reason]          leave the chat (or type exit)',
  '  /help                   show this help',
  'Tab completes commands, names, #rooms and :emoji: codes.',
];

/**
 * TAB becomes a space (its width would depend on the receiver's terminal)
 * and controls the server would reject with BAD_CHAR ([FRAME-8]) are dropped,
 * so a pasted escape sequence costs its control bytes, not the whole line.
 */
export function cleanOutgoing(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\t/g, ' ').replace(/[\u0000-\u001f\u007f-\u009f]/g, '');
}

/**
 * What a typed line means. Only the shape is checked here (how many words,
 * a room starting with #); names and rooms are checked against the
 * server's rules where they are used, since the limits come from it.
 */
export function interpret(raw: string): Action {
  const line = cleanOutgoing(raw);
  if (line === EXIT_WORD) return { kind: 'quit', reason: '' };
  if (line.trim() === '') return { kind: 'nothing' };
  if (line.startsWith('//')) return { kind: 'say', text: line.slice(1) };
  if (!line.startsWith('/')) return { kind: 'say', text: line };

  const space = line.indexOf(' ');
  const word = (space === -1 ? line : line.slice(0, space)).toLowerCase();
  // Texts (/say, /msg, /me) are kept byte for byte after the separating space.
  const rest = space === -1 ? '' : line.slice(space + 1);
  const args = rest.trim();
  const [first = '', ...others] = args === '' ? [] : args.split(/ +/);
  switch (word) {
    case '/say':
      return args === '' ? usage('/say <text>') : { kind: 'say', text: rest };
    case '/me':
      return args === '' ? usage('/me <action>') : { kind: 'me', text: rest };
    case '/msg': {
      const text = afterWord(rest);
      return first === '' || text.trim() === '' ? usage('/msg <name> <text>') : { kind: 'msg', target: first, text };
    }
    case '/quit':
      return { kind: 'quit', reason: args };
    case '/nick':
      return first === '' || others.length > 0 ? usage('/nick <name>') : { kind: 'nick', name: first };
    case '/who':
      if (others.length > 0 || (first !== '' && !first.startsWith('#'))) return usage('/who [#room]');
      return { kind: 'who', room: first === '' ? undefined : first };
    case '/join':
      return first.startsWith('#') && others.length === 0 ? { kind: 'join', room: first } : usage('/join <#room>');
    case '/part':
      // A first word with # is the room; otherwise everything is the reason.
      return first.startsWith('#') ? { kind: 'part', room: first, reason: afterWord(args).trim() } : { kind: 'part', room: undefined, reason: args };
    case '/rooms':
      return args === '' ? { kind: 'rooms' } : usage('/rooms');
    case '/topic':
      return { kind: 'topic', text: args === '' ? undefined : args };
    case '/history': {
      if (args === '') return { kind: 'history', count: DEFAULT_HISTORY_COUNT };
      return /^[1-9][0-9]{0,5}$/.test(args) ? { kind: 'history', count: Number(args) } : usage('/history [n], n a whole number from 1');
    }
    case '/switch':
      return first === '' || others.length > 0 ? usage('/switch <#room|name>') : { kind: 'switch', target: first };
    case '/query':
      return first === '' || others.length > 0 || first.startsWith('#') ? usage('/query <name>') : { kind: 'switch', target: first };
    case '/help':
      return { kind: 'help' };
    default:
      return { kind: 'unknown', command: word };
  }
}

function usage(text: string): Action {
  return { kind: 'usage', usage: text };
}

/** `text` after its first word and the one space after it, kept as typed. */
function afterWord(text: string): string {
  const start = text.search(/\S/);
  if (start < 0) return '';
  const space = text.indexOf(' ', start);
  return space === -1 ? '' : text.slice(space + 1);
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
const encoder = new TextEncoder();

function byteLength(text: string): number {
  return encoder.encode(text).length;
}

/**
 * Splits `text` into pieces of at most `maxBytes` bytes of UTF-8 each, at
 * grapheme boundaries so that a piece never ends in the middle of an emoji
 * sequence or before a combining accent. A single grapheme longer than the
 * limit (possible only with absurd combining sequences) is split between
 * code points, which still never cuts a UTF-8 character ([LIMIT-5]).
 */
export function splitText(text: string, maxBytes: number): string[] {
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 4) {
    throw new RangeError(`maxBytes must be an integer >= 4, got ${maxBytes}`);
  }
  if (byteLength(text) <= maxBytes) return [text];
  const pieces: string[] = [];
  let piece = '';
  let size = 0;
  const add = (unit: string) => {
    const n = byteLength(unit);
    if (size + n > maxBytes && piece !== '') {
      pieces.push(piece);
      piece = '';
      size = 0;
    }
    piece += unit;
    size += n;
  };
  for (const { segment } of graphemes.segment(text)) {
    if (byteLength(segment) <= maxBytes) add(segment);
    else for (const codePoint of segment) add(codePoint);
  }
  if (piece !== '') pieces.push(piece);
  return pieces;
}
