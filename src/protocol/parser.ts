/**
 * Line → message (SPEC §1–2). Pure: takes the bytes of one line from the
 * framer, checks them in the order [FRAME-9] fixes, and returns either a
 * message, "empty" or a typed error. It never throws on any input.
 */
import { isUtf8 } from 'node:buffer';
import type { ErrorCode } from './errors.ts';

export interface Message {
  /** The command word, upper case ([LINE-1]). */
  readonly command: string;
  readonly params: readonly string[];
}

export type ParseResult =
  | { readonly kind: 'message'; readonly message: Message }
  | { readonly kind: 'empty' }
  | { readonly kind: 'error'; readonly code: ErrorCode; readonly command: string; readonly detail: string };

const SPACE = 0x20;
const TAB = 0x09;
const DEL = 0x7f;
const COMMAND = /^[A-Za-z]{1,32}$/;

/**
 * The command word of a line, for error replies: its first word if that is
 * 1–32 ASCII letters, else `*`. Works on raw bytes, so it names the command
 * even of a line that turns out not to be UTF-8.
 */
export function commandOf(line: Uint8Array): string {
  let i = 0;
  while (i < line.length && line[i] === SPACE) i++;
  const start = i;
  while (i < line.length && i - start <= 32 && isAsciiLetter(line[i]!)) i++;
  const length = i - start;
  if (length === 0 || length > 32 || (i < line.length && line[i] !== SPACE)) return '*';
  return Buffer.from(line.buffer, line.byteOffset + start, length).toString('latin1').toUpperCase();
}

function isAsciiLetter(b: number): boolean {
  return (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
}

/**
 * The first forbidden character of a valid UTF-8 line ([FRAME-8]): NUL, C0
 * other than TAB, DEL, or C1 (encoded as C2 80..C2 9F). Returns its byte
 * offset and code point, or undefined.
 */
export function findForbidden(line: Uint8Array): { offset: number; codePoint: number } | undefined {
  for (let i = 0; i < line.length; i++) {
    const b = line[i]!;
    if ((b < 0x20 && b !== TAB) || b === DEL) return { offset: i, codePoint: b };
    if (b === 0xc2 && i + 1 < line.length && line[i + 1]! >= 0x80 && line[i + 1]! <= 0x9f) {
      return { offset: i, codePoint: line[i + 1]! };
    }
  }
  return undefined;
}

function hex(codePoint: number): string {
  return `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
}

export function parseLine(line: Uint8Array): ParseResult {
  if (!isUtf8(line)) {
    return { kind: 'error', code: 'BAD_UTF8', command: commandOf(line), detail: 'Line is not valid UTF-8' };
  }
  const bad = findForbidden(line);
  if (bad) {
    return {
      kind: 'error',
      code: 'BAD_CHAR',
      command: commandOf(line),
      detail: `Forbidden character ${hex(bad.codePoint)} at byte ${bad.offset}`,
    };
  }
  return parseText(Buffer.from(line.buffer, line.byteOffset, line.length).toString('utf8'));
}

/** Parses an already decoded and checked line ([LINE-1]..[LINE-5]). */
export function parseText(text: string): ParseResult {
  const n = text.length;
  let i = 0;
  while (i < n && text.charCodeAt(i) === SPACE) i++;
  if (i === n) return { kind: 'empty' };

  let end = text.indexOf(' ', i);
  if (end === -1) end = n;
  const word = text.slice(i, end);
  if (!COMMAND.test(word)) {
    return { kind: 'error', code: 'UNKNOWN_COMMAND', command: '*', detail: 'A line must start with a command word' };
  }
  const params: string[] = [];
  i = end;
  while (i < n) {
    while (i < n && text.charCodeAt(i) === SPACE) i++;
    if (i === n) break;
    if (text.charCodeAt(i) === 0x3a /* : */) {
      params.push(text.slice(i + 1));
      break;
    }
    end = text.indexOf(' ', i);
    if (end === -1) end = n;
    params.push(text.slice(i, end));
    i = end;
  }
  return { kind: 'message', message: { command: word.toUpperCase(), params } };
}
