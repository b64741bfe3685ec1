/**
 * What a line typed by the user means, and how its text is made fit to send.
 * Pure, so the rules of [CLIENT-4] (any text can be sent, including text that
 * looks like a command) are tested without a terminal or a socket.
 */

export type Action =
  | { readonly kind: 'nothing' }
  | { readonly kind: 'say'; readonly text: string }
  | { readonly kind: 'quit'; readonly reason: string }
  | { readonly kind: 'nick'; readonly name: string }
  | { readonly kind: 'who' }
  | { readonly kind: 'help' }
  /** A command used wrongly: say how to use it, send nothing. */
  | { readonly kind: 'usage'; readonly usage: string }
  /** A command the client does not have: show help, send nothing. */
  | { readonly kind: 'unknown'; readonly command: string };

/** The word that leaves, exactly as the original Python client had it. */
export const EXIT_WORD = 'exit';

export const HELP_LINES: readonly string[] = [
  'Type a message and press Enter to send it. Commands:',
  '  /nick <name>     change your name',
  '  /who             list who is online',
  '  /say <text>      send text exactly as typed, e.g. /say exit or /say /who',
  '  //text           send text that starts with one /',
  '  /quit [reason]   leave the chat (or type exit)',
  '  /help            show this help',
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

export function interpret(raw: string): Action {
  const line = cleanOutgoing(raw);
  if (line === EXIT_WORD) return { kind: 'quit', reason: '' };
  if (line.trim() === '') return { kind: 'nothing' };
  if (line.startsWith('//')) return { kind: 'say', text: line.slice(1) };
  if (!line.startsWith('/')) return { kind: 'say', text: line };

  const space = line.indexOf(' ');
  const word = (space === -1 ? line : line.slice(0, space)).toLowerCase();
  // The text of /say is kept byte for byte after the one separating space.
  const rest = space === -1 ? '' : line.slice(space + 1);
  const args = rest.trim();
  switch (word) {
    case '/say':
      return args === '' ? { kind: 'usage', usage: '/say <text>' } : { kind: 'say', text: rest };
    case '/quit':
      return { kind: 'quit', reason: args };
    case '/nick':
      if (args === '' || /\s/.test(args)) return { kind: 'usage', usage: '/nick <name>' };
      return { kind: 'nick', name: args };
    case '/who':
      return { kind: 'who' };
    case '/help':
      return { kind: 'help' };
    default:
      return { kind: 'unknown', command: word };
  }
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
