/**
 * How each event becomes a line of text, and how wide text is on a terminal.
 * Every piece of received text goes through `sanitize` here, so no caller
 * can forget it ([CLIENT-1]).
 */
import type { ClientEvent, CloseCause, SessionEvent } from './events.ts';
import { sanitize } from './sanitize.ts';

const s = sanitize;

/** Longest user list printed in full; a crowded server is summarised. */
const MAX_LISTED = 30;

export const CONNECTED_LINES: readonly string[] = ['Connected to the server!', "Type 'exit' to disconnect"];

const LEAVE_REASONS: Record<string, (text: string) => string> = {
  quit: (text) => (text === '' ? 'quit' : `quit: ${text}`),
  lost: () => 'connection lost',
  timeout: () => 'timed out',
  error: (text) => (text === '' ? 'error' : `error: ${text}`),
  shutdown: () => 'server shutdown',
};

export function formatUsers(users: readonly string[]): string {
  const count = `${users.length} ${users.length === 1 ? 'user' : 'users'} online`;
  if (users.length === 0) return count;
  const shown = users.slice(0, MAX_LISTED).map(s).join(', ');
  const more = users.length > MAX_LISTED ? ` and ${users.length - MAX_LISTED} more` : '';
  return `${count}: ${shown}${more}`;
}

/** The lines an event prints; empty when it prints nothing. */
export function formatEvent(event: ClientEvent): string[] {
  switch (event.type) {
    case 'message':
      return [`${event.own ? 'You' : s(event.message.from)}: ${s(event.message.text)}`];
    case 'join':
      return [`* ${s(event.name)} joined`];
    case 'leave': {
      const why = LEAVE_REASONS[event.reason]?.(event.text) ?? (event.text === '' ? event.reason : `${event.reason}: ${event.text}`);
      return [`* ${s(event.name)} left (${s(why)})`];
    }
    case 'nick':
      return [event.own ? `* You are now known as ${s(event.to)}` : `* ${s(event.from)} is now known as ${s(event.to)}`];
    case 'error': {
      const what = `${event.text === '' ? 'Error' : s(event.text)} (${s(event.code)})`;
      return [event.request?.command === 'SAY' ? `! Message not sent: ${what}` : `! ${what}`];
    }
    case 'name-rejected':
      return [`! ${s(event.text)} (${s(event.code)})`, '* Joining with a name chosen by the server instead.'];
    case 'ready': {
      const lines: string[] = [];
      if (event.assigned) {
        lines.push(`* The server named you ${s(event.name)}. Type /nick <name> to choose your own name.`);
      }
      lines.push(`You are ${s(event.name)}. ${formatUsers(event.users)}`);
      return lines;
    }
    case 'who':
      return [formatUsers(event.users)];
    case 'shutdown':
      return [event.text === '' ? '* Server is shutting down' : `* Server is shutting down: ${s(event.text)}`];
    case 'warning':
      return [`! ${s(event.text)}`];
    case 'closed':
      return formatClosed(event.cause, event.reason);
  }
}

export function formatClosed(cause: CloseCause, reason: string): string[] {
  switch (cause) {
    case 'quit':
      return [];
    case 'eof':
      return ['Disconnected from the server.'];
    case 'error':
      return [`Connection lost: ${s(reason)}`];
    case 'failed':
      return [`Could not join the chat: ${s(reason)}`];
  }
}

/** The lines a session event prints: connection events as above, plus what reconnection reports. */
export function formatSessionEvent(event: SessionEvent): string[] {
  switch (event.type) {
    case 'disconnected':
      return formatClosed(event.cause, event.reason);
    case 'unconfirmed':
      return event.texts.map((text) => `! Not confirmed before the connection dropped: ${s(text)}`);
    case 'reconnecting':
      return [`* Reconnecting in ${(event.delayMs / 1000).toFixed(1)} s (attempt ${event.attempt})…`];
    case 'attempt-failed':
      return [`* Could not reconnect: ${s(event.reason)}`];
    case 'reconnected': {
      const { name, wanted } = event;
      const first =
        wanted === undefined || wanted === name
          ? `* Reconnected as ${s(name)}.`
          : `* Reconnected as ${s(name)}: the name ${s(wanted)} was not available. Type /nick ${s(wanted)} to try again.`;
      return [first, formatUsers(event.users)];
    }
    case 'queued':
      return [`* Not connected; your message will be sent when the connection is back (${event.count} queued).`];
    case 'refused': {
      const max = event.limit === 'lines' ? `${event.max} messages` : formatBytes(event.max);
      return [`! Not connected and the queue is full (at most ${max}); not sent: ${s(event.text)}`];
    }
    case 'flushed':
      return [`* Sending ${event.count} queued ${event.count === 1 ? 'message' : 'messages'}.`];
    case 'gave-up':
      return [`! The server did not come back within ${event.afterMs / 1000} s; giving up.`];
    case 'unsent':
      return event.texts.map((text) => `! Not sent: ${s(text)}`);
    case 'ended':
      return [];
    default:
      return formatEvent(event);
  }
}

function formatBytes(bytes: number): string {
  return bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} bytes`;
}

// East Asian Wide and Fullwidth blocks (Unicode EastAsianWidth.txt, W and
// F, Unicode 17 as in Node 20's ICU), as [first, last] pairs. Emoji are
// matched by property instead.
const WIDE: ReadonlyArray<readonly [number, number]> = [
  [0x1100, 0x115f], [0x2329, 0x232a], [0x2630, 0x2637], [0x268a, 0x268f], [0x2e80, 0x303e],
  [0x3041, 0x3247], [0x3250, 0xa4c6], [0xa960, 0xa97c], [0xac00, 0xd7a3], [0xf900, 0xfaff],
  [0xfe10, 0xfe19], [0xfe30, 0xfe6b], [0xff01, 0xff60], [0xffe0, 0xffe6], [0x16fe0, 0x16ff6],
  [0x17000, 0x18cd5], [0x18cff, 0x18d1e], [0x18d80, 0x18df2], [0x1aff0, 0x1b2fb], [0x1d300, 0x1d376],
  [0x1f200, 0x1f202], [0x1f210, 0x1f23b], [0x1f240, 0x1f248], [0x1f250, 0x1f251], [0x1f260, 0x1f265],
  [0x20000, 0x2fffd], [0x30000, 0x3fffd],
];
const ZERO = /^[\p{Cc}\p{Cf}\p{Mn}\p{Me}]$/u;
const EMOJI_PRESENTATION = /^\p{Emoji_Presentation}$/u;

/**
 * Columns one code point takes, by the same rule Node's readline uses to
 * lay out the input line (ICU East Asian Width, emoji presentation, zero
 * for marks and format characters). Matching readline matters more than
 * matching any one terminal: we erase what readline drew.
 */
export function codePointWidth(char: string): 0 | 1 | 2 {
  const code = char.codePointAt(0) ?? 0;
  if (code < 0x7f) return code >= 0x20 ? 1 : 0;
  // Width before zero-width: ICU gives a combining mark in a wide block
  // (e.g. U+302A) two columns, and so does readline.
  if (EMOJI_PRESENTATION.test(char)) return 2;
  for (const [first, last] of WIDE) {
    if (code < first) break;
    if (code <= last) return 2;
  }
  return code !== 0xad && ZERO.test(char) ? 0 : 1;
}

export function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) width += codePointWidth(char);
  return width;
}

/**
 * Terminal rows that `text` (prompt included) filled when readline echoed it
 * and the user pressed Enter. Mirrors readline's layout: a wide character
 * that would start in the last column moves to the next row, a tab advances
 * to the next multiple of 8, and a line that exactly fills its last row has
 * had an extra row allocated for the cursor.
 */
export function echoedRows(text: string, columns: number): number {
  if (!Number.isFinite(columns) || columns < 1) return 1;
  let offset = 0;
  for (const char of text) {
    if (char === '\t') {
      offset += 8 - (offset % 8);
      continue;
    }
    const width = codePointWidth(char);
    if (width === 2 && (offset + 1) % columns === 0) offset++;
    offset += width;
  }
  return Math.floor(offset / columns) + 1;
}
