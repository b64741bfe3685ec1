/**
 * The vocabulary of linechat v1 (SPEC §11): how the server writes each line,
 * and how a client reads it back into a typed event. Both sides use this one
 * table, so the shape of a line is written down exactly once.
 */
import { formatLine } from './serializer.ts';
import type { Message } from './parser.ts';

export const PROTOCOL_VERSION = '1';
export const SUPPORTED_VERSIONS: readonly string[] = [PROTOCOL_VERSION];

export const LeaveReason = {
  Quit: 'quit',
  Lost: 'lost',
  Timeout: 'timeout',
  Error: 'error',
  Shutdown: 'shutdown',
} as const;
export type LeaveReason = (typeof LeaveReason)[keyof typeof LeaveReason];

/** A chat message as delivered: `MSG`/`ECHO <id> <seq> <time> <from> :<text>`. */
export interface ChatMessage {
  readonly id: string;
  readonly seq: number;
  readonly time: number;
  readonly from: string;
  readonly text: string;
}

/** Lines the server sends, each as it appears on the wire. */
export const serverLine = {
  greeting: (versions: readonly string[], serverName: string, keys: ReadonlyArray<[string, number | string]>, text: string) =>
    formatLine('LINECHAT', versions.join(','), serverName, ...keys.map(([k, v]) => `${k}=${v}`), text),
  welcome: (name: string, text: string) => formatLine('WELCOME', name, text),
  message: (own: boolean, m: ChatMessage) => serverLine.messageAndEcho(m)[own ? 1 : 0],
  /**
   * `MSG` and `ECHO` of one message, formatted (and checked) once: they
   * differ only in the command word ([MSG-3]), and the relay is the hot path.
   */
  messageAndEcho: (m: ChatMessage): readonly [msg: string, echo: string] => {
    const msg = formatLine('MSG', m.id, String(m.seq), String(m.time), m.from, m.text);
    return [msg, `ECHO${msg.slice('MSG'.length)}`];
  },
  join: (name: string) => formatLine('JOIN', name),
  leave: (name: string, reason: LeaveReason, text: string) =>
    text === '' ? formatLine('LEAVE', name, reason) : formatLine('LEAVE', name, reason, text),
  nick: (from: string, to: string) => formatLine('NICK', from, to),
  user: (name: string) => formatLine('USER', name),
  endWho: (count: number) => formatLine('ENDWHO', String(count)),
  ping: (token: string) => formatLine('PING', token),
  pong: (token: string) => formatLine('PONG', token),
  bye: (text: string) => (text === '' ? formatLine('BYE') : formatLine('BYE', text)),
  shutdown: (text: string) => formatLine('SHUTDOWN', text),
  error: (code: string, command: string, text: string) => formatLine('ERR', code, command, text),
} as const;

/** Lines a client sends. */
export const clientLine = {
  hello: (version: string, name?: string) =>
    name === undefined ? formatLine('HELLO', version) : formatLine('HELLO', version, name),
  say: (text: string) => formatLine('SAY', text),
  nick: (name: string) => formatLine('NICK', name),
  who: () => formatLine('WHO'),
  ping: (token: string) => formatLine('PING', token),
  pong: (token: string) => formatLine('PONG', token),
  quit: (reason: string) => (reason === '' ? formatLine('QUIT') : formatLine('QUIT', reason)),
} as const;

export type ServerEvent =
  | { type: 'greeting'; versions: string[]; serverName: string; keys: Map<string, string>; text: string }
  | { type: 'welcome'; name: string; text: string }
  | ({ type: 'message'; own: boolean } & ChatMessage)
  | { type: 'join'; name: string }
  | { type: 'leave'; name: string; reason: string; text: string }
  | { type: 'nick'; from: string; to: string }
  | { type: 'user'; name: string }
  | { type: 'endwho'; count: number }
  | { type: 'ping'; token: string }
  | { type: 'pong'; token: string }
  | { type: 'bye'; text: string }
  | { type: 'shutdown'; text: string }
  | { type: 'error'; code: string; command: string; text: string };

const DECIMAL = /^(0|[1-9][0-9]{0,15})$/;

/** A decimal integer parameter, or undefined when it is malformed or not exactly representable. */
function decimal(s: string): number | undefined {
  if (!DECIMAL.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * Reads a server line into an event. Returns undefined for a command this
 * version does not know or a line of the wrong shape; a client ignores those
 * rather than guess ([ERR-4]). Extra parameters are tolerated, missing ones
 * are not.
 */
export function decodeServerMessage({ command, params: p }: Message): ServerEvent | undefined {
  const at = (i: number) => p[i] ?? '';
  const need = (n: number) => p.length >= n;
  switch (command) {
    case 'LINECHAT': {
      if (!need(3)) return undefined;
      const keys = new Map<string, string>();
      for (const kv of p.slice(2, -1)) {
        const eq = kv.indexOf('=');
        keys.set(eq === -1 ? kv : kv.slice(0, eq), eq === -1 ? '' : kv.slice(eq + 1));
      }
      return { type: 'greeting', versions: at(0).split(','), serverName: at(1), keys, text: p[p.length - 1]! };
    }
    case 'WELCOME':
      return need(1) ? { type: 'welcome', name: at(0), text: at(1) } : undefined;
    case 'MSG':
    case 'ECHO': {
      const seq = decimal(at(1));
      const time = decimal(at(2));
      if (!need(5) || seq === undefined || time === undefined) return undefined;
      return {
        type: 'message',
        own: command === 'ECHO',
        id: at(0),
        seq,
        time,
        from: at(3),
        text: at(4),
      };
    }
    case 'JOIN':
      return need(1) ? { type: 'join', name: at(0) } : undefined;
    case 'LEAVE':
      return need(2) ? { type: 'leave', name: at(0), reason: at(1), text: at(2) } : undefined;
    case 'NICK':
      return need(2) ? { type: 'nick', from: at(0), to: at(1) } : undefined;
    case 'USER':
      return need(1) ? { type: 'user', name: at(0) } : undefined;
    case 'ENDWHO': {
      const count = decimal(at(0));
      return need(1) && count !== undefined ? { type: 'endwho', count } : undefined;
    }
    case 'PING':
      return need(1) ? { type: 'ping', token: at(0) } : undefined;
    case 'PONG':
      return need(1) ? { type: 'pong', token: at(0) } : undefined;
    case 'BYE':
      return { type: 'bye', text: at(0) };
    case 'SHUTDOWN':
      return { type: 'shutdown', text: at(0) };
    case 'ERR':
      return need(2) ? { type: 'error', code: at(0), command: at(1), text: at(2) } : undefined;
    default:
      return undefined;
  }
}
