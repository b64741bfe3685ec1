/**
 * The vocabulary of linechat v1 (SPEC §13): how the server writes each line,
 * and how a client reads it back into a typed event. Both sides use this one
 * table, so the shape of a line is written down exactly once.
 */
import { formatLine, lastParam } from './serializer.ts';
import type { Message } from './parser.ts';
import { historyQueryParams, type HistoryQuery } from './history.ts';

export const PROTOCOL_VERSION = '1';
export const SUPPORTED_VERSIONS: readonly string[] = [PROTOCOL_VERSION];

export const LeaveReason = {
  /** Left the room with PART; the user is still online. */
  Part: 'part',
  Quit: 'quit',
  Lost: 'lost',
  Timeout: 'timeout',
  Error: 'error',
  Shutdown: 'shutdown',
} as const;
export type LeaveReason = (typeof LeaveReason)[keyof typeof LeaveReason];

/** What a message is ([MSG-9]): said, or an action in the third person (`/me waves`). */
export const MessageKind = { Say: 'say', Me: 'me' } as const;
export type MessageKind = (typeof MessageKind)[keyof typeof MessageKind];

/**
 * A chat message as delivered:
 * `MSG`/`ECHO`/`HIST <id> <seq> <time> <from> <to> <kind> :<text>`.
 * `to` is a room, or for a private message the recipient's name.
 */
export interface ChatMessage {
  readonly id: string;
  /** Position in its room or private conversation ([MSG-5]). */
  readonly seq: number;
  readonly time: number;
  readonly from: string;
  readonly to: string;
  readonly kind: MessageKind;
  readonly text: string;
}

/** Lines the server sends, each as it appears on the wire. */
export const serverLine = {
  greeting: (versions: readonly string[], serverName: string, keys: ReadonlyArray<[string, number | string]>, text: string) =>
    formatLine('LINECHAT', versions.join(','), serverName, ...keys.map(([k, v]) => `${k}=${v}`), text),
  welcome: (name: string, key: string, text: string) => formatLine('WELCOME', name, key, text),
  message: (own: boolean, m: ChatMessage) => serverLine.messageAndEcho(m)[own ? 1 : 0],
  /**
   * `MSG` and `ECHO` of one message, formatted (and checked) once: they
   * differ only in the command word ([MSG-3]), and the relay is the hot path.
   */
  messageAndEcho: (m: ChatMessage): readonly [msg: string, echo: string] => {
    const params = chatParams(m);
    return ['MSG' + params, 'ECHO' + params];
  },
  /** A message from history ([HIST-3]): the same parameters as MSG, never mistaken for a live one. */
  history: (m: ChatMessage) => 'HIST' + chatParams(m),
  endHistory: (target: string, count: number) => formatLine('ENDHIST', target, String(count)),
  join: (room: string, name: string) => formatLine('JOIN', room, name),
  leave: (room: string, name: string, reason: LeaveReason, text: string) =>
    text === '' ? formatLine('LEAVE', room, name, reason) : formatLine('LEAVE', room, name, reason, text),
  room: (room: string, members: number, topic: string) => formatLine('ROOM', room, String(members), topic),
  endRooms: (count: number) => formatLine('ENDROOMS', String(count)),
  /** `<setter>` is `*` and `<time>` 0 for a room that never had a topic. */
  topic: (room: string, setter: string, time: number, text: string) => formatLine('TOPIC', room, setter, String(time), text),
  nick: (from: string, to: string) => formatLine('NICK', from, to),
  user: (name: string, idleSeconds: number) => formatLine('USER', name, String(idleSeconds)),
  endWho: (count: number) => formatLine('ENDWHO', String(count)),
  ping: (token: string) => formatLine('PING', token),
  pong: (token: string) => formatLine('PONG', token),
  bye: (text: string) => (text === '' ? formatLine('BYE') : formatLine('BYE', text)),
  shutdown: (text: string) => formatLine('SHUTDOWN', text),
  error: (code: string, command: string, text: string) => formatLine('ERR', code, command, text),
} as const;

/**
 * The parameters of MSG, ECHO and HIST and the LF, written directly: this is
 * the relay's hot path. Only the text needs checking and perhaps a `:`;
 * the hub made the id, numbers, names, room and kind, all valid middles.
 */
function chatParams(m: ChatMessage): string {
  return ` ${m.id} ${m.seq} ${m.time} ${m.from} ${m.to} ${m.kind}${lastParam(m.text, 6, 'MSG')}\n`;
}

/** Lines a client sends. A `target` is a room or a user's name; undefined means the lobby ([MSG-1]). */
export const clientLine = {
  /** `key` takes the name back as the same holder after a reconnect ([NAME-5]). */
  hello: (version: string, name?: string, key?: string) =>
    name === undefined
      ? formatLine('HELLO', version)
      : key === undefined
        ? formatLine('HELLO', version, name)
        : formatLine('HELLO', version, name, key),
  say: (target: string | undefined, text: string) =>
    target === undefined ? formatLine('SAY', text) : formatLine('SAY', target, text),
  me: (target: string | undefined, text: string) => (target === undefined ? formatLine('ME', text) : formatLine('ME', target, text)),
  nick: (name: string) => formatLine('NICK', name),
  join: (room: string) => formatLine('JOIN', room),
  part: (room: string, reason = '') => (reason === '' ? formatLine('PART', room) : formatLine('PART', room, reason)),
  rooms: () => formatLine('ROOMS'),
  /** Reads the topic, or sets it when `text` is given (`''` clears it). */
  topic: (room: string, text?: string) => (text === undefined ? formatLine('TOPIC', room) : formatLine('TOPIC', room, text)),
  who: (room?: string) => (room === undefined ? formatLine('WHO') : formatLine('WHO', room)),
  history: (target: string, query: HistoryQuery) => formatLine('HISTORY', target, ...historyQueryParams(query)),
  ping: (token: string) => formatLine('PING', token),
  pong: (token: string) => formatLine('PONG', token),
  quit: (reason: string) => (reason === '' ? formatLine('QUIT') : formatLine('QUIT', reason)),
} as const;

export type ServerEvent =
  | { type: 'greeting'; versions: string[]; serverName: string; keys: Map<string, string>; text: string }
  | { type: 'welcome'; name: string; key: string; text: string }
  | ({ type: 'message'; own: boolean } & ChatMessage)
  | ({ type: 'history' } & ChatMessage)
  | { type: 'endhistory'; target: string; count: number }
  | { type: 'join'; room: string; name: string }
  | { type: 'leave'; room: string; name: string; reason: string; text: string }
  | { type: 'room'; room: string; members: number; topic: string }
  | { type: 'endrooms'; count: number }
  | { type: 'topic'; room: string; setter: string; time: number; text: string }
  | { type: 'nick'; from: string; to: string }
  | { type: 'user'; name: string; idle: number }
  | { type: 'endwho'; count: number }
  | { type: 'ping'; token: string }
  | { type: 'pong'; token: string }
  | { type: 'bye'; text: string }
  | { type: 'shutdown'; text: string }
  | { type: 'error'; code: string; command: string; text: string };

const DECIMAL = /^(0|[1-9][0-9]{0,15})$/;

/**
 * The largest `<time>` a client accepts: 8.64e15 ms after 1970, the last
 * instant a JavaScript Date can hold. A later time is not a time at all
 * (formatting it throws), so a line that carries one is malformed.
 */
export const MAX_TIME = 8.64e15;

/** A decimal integer parameter, or undefined when it is malformed or not exactly representable. */
function decimal(s: string): number | undefined {
  if (!DECIMAL.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** A `<time>` parameter ([MSG-6]), or undefined when it is malformed or beyond MAX_TIME. */
function time(s: string): number | undefined {
  const n = decimal(s);
  return n !== undefined && n <= MAX_TIME ? n : undefined;
}

/** The seven parameters of MSG, ECHO and HIST; undefined when they are malformed. */
function decodeChat(p: readonly string[]): ChatMessage | undefined {
  if (p.length < 7) return undefined;
  const seq = decimal(p[1]!);
  const at = time(p[2]!);
  if (seq === undefined || at === undefined) return undefined;
  // A kind this version does not know is shown as said ([MSG-9]).
  const kind = p[5] === MessageKind.Me ? MessageKind.Me : MessageKind.Say;
  return { id: p[0]!, seq, time: at, from: p[3]!, to: p[4]!, kind, text: p[6]! };
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
      return need(2) ? { type: 'welcome', name: at(0), key: at(1), text: at(2) } : undefined;
    case 'MSG':
    case 'ECHO': {
      const chat = decodeChat(p);
      return chat === undefined ? undefined : { type: 'message', own: command === 'ECHO', ...chat };
    }
    case 'HIST': {
      const chat = decodeChat(p);
      return chat === undefined ? undefined : { type: 'history', ...chat };
    }
    case 'ENDHIST': {
      const count = decimal(at(1));
      return need(2) && count !== undefined ? { type: 'endhistory', target: at(0), count } : undefined;
    }
    case 'JOIN':
      return need(2) ? { type: 'join', room: at(0), name: at(1) } : undefined;
    case 'LEAVE':
      return need(3) ? { type: 'leave', room: at(0), name: at(1), reason: at(2), text: at(3) } : undefined;
    case 'ROOM': {
      const members = decimal(at(1));
      return need(2) && members !== undefined ? { type: 'room', room: at(0), members, topic: at(2) } : undefined;
    }
    case 'ENDROOMS': {
      const count = decimal(at(0));
      return need(1) && count !== undefined ? { type: 'endrooms', count } : undefined;
    }
    case 'TOPIC': {
      const when = time(at(2));
      return need(3) && when !== undefined ? { type: 'topic', room: at(0), setter: at(1), time: when, text: at(3) } : undefined;
    }
    case 'NICK':
      return need(2) ? { type: 'nick', from: at(0), to: at(1) } : undefined;
    case 'USER': {
      // A server that does not report idle times is read as 0 seconds idle.
      const idle = need(2) ? decimal(at(1)) : 0;
      return need(1) && idle !== undefined ? { type: 'user', name: at(0), idle } : undefined;
    }
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
