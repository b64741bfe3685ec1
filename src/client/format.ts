/**
 * How each session event becomes lines of text. Every piece of received
 * text goes through `sanitize` here, or through `Render.text` (markup,
 * which neutralises too), so no caller can forget it ([CLIENT-1]).
 *
 * A message line is
 *
 *   [HH:MM] [(missed)|(history)] [#room] <sender>: <text>
 *
 * with the room only when it matters: when the user is in more than one
 * room, or the message is not for the active target. Own messages show as
 * `You` ([CLIENT-2]); actions as `* alice waves`; private messages are set
 * apart: `(private) bob → you: text`, `(private) You → bob: text`.
 *
 * Notices start with `*`, errors with `!`. What depends on the moment (the
 * user's name, the active target, how many rooms) comes in a `ViewState`;
 * how things look (colours, markup, the clock) in a `Render`, so tests pin
 * both.
 */
import { MessageKind } from '../protocol/messages.ts';
import { foldName, isRoomName } from '../protocol/names.ts';
import type { CloseCause, Origin, Outgoing, RoomInfo, SessionEvent, UserInfo } from './events.ts';
import { sanitize } from './sanitize.ts';
import type { Style } from './style.ts';

const s = sanitize;

export interface Render {
  /** Colours (src/client/style.ts); plain when colour is off. */
  readonly style: Style;
  /** A message's text as shown: markup rendered and, always, neutralised ([CLIENT-1]). */
  readonly text: (text: string) => string;
  /** A message's `<time>` as the user reads it, e.g. `12:03`. */
  readonly stamp: (ms: number) => string;
}

export interface ViewState {
  /** The user's name now; '' before registering. */
  readonly me: string;
  /** The room or user plain text goes to. */
  readonly active: string | undefined;
  /** How many rooms the user is in. */
  readonly roomCount: number;
}

export type MessageEvent = Extract<SessionEvent, { type: 'message' }>;

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

/** What a time that is no time at all (NaN, or beyond what a Date holds) shows as. */
export const NO_TIME = '??:??';

/**
 * `HH:MM` in `timeZone` (the local zone when undefined), with the date in
 * front (`2026-11-26 09:05`) for a day other than today. Never throws: a
 * time no Date can hold (the decoder refuses those, but a stamp is also
 * called with other numbers) shows as `??:??`.
 */
export function clock(timeZone?: string, now: () => number = Date.now): (ms: number) => string {
  const format = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  });
  const parts = (ms: number) => {
    const p: Record<string, string> = {};
    for (const { type, value } of format.formatToParts(ms)) p[type] = value;
    return p;
  };
  return (ms) => {
    if (!isTime(ms)) return NO_TIME;
    const p = parts(ms);
    const instant = now();
    const today = isTime(instant) ? parts(instant) : {};
    const time = `${p.hour}:${p.minute}`;
    return p.year === today.year && p.month === today.month && p.day === today.day ? time : `${p.year}-${p.month}-${p.day} ${time}`;
  };
}

/** True when a Date can hold `ms`: what Intl can format without a RangeError. */
function isTime(ms: number): boolean {
  return !Number.isNaN(new Date(ms).getTime());
}

/** `3m`, `2h`, `4d`; '' under a minute, which is not worth saying. */
export function formatIdle(seconds: number): string {
  if (seconds < 60) return '';
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

/** `3 users online: alice, bob (idle 3m), carol`, or `... in #room`. */
export function formatUsers(users: ReadonlyArray<string | UserInfo>, room?: string): string {
  const noun = users.length === 1 ? 'user' : 'users';
  const count = room === undefined ? `${users.length} ${noun} online` : `${users.length} ${noun} in ${s(room)}`;
  if (users.length === 0) return count;
  const shown = users
    .slice(0, MAX_LISTED)
    .map((u) => {
      if (typeof u === 'string') return s(u);
      const idle = formatIdle(u.idle);
      return idle === '' ? s(u.name) : `${s(u.name)} (idle ${idle})`;
    })
    .join(', ');
  const more = users.length > MAX_LISTED ? ` and ${users.length - MAX_LISTED} more` : '';
  return `${count}: ${shown}${more}`;
}

/** True when `text` holds `name` as a whole word, without regard to case. */
export function mentions(text: string, name: string): boolean {
  if (name === '') return false;
  const escaped = name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  return new RegExp(`(?<![A-Za-z0-9_-])${escaped}(?![A-Za-z0-9_-])`, 'i').test(text);
}

/** Someone else's live message that names the user: highlighted, and the bell rings in a terminal. */
export function isMention(event: MessageEvent, me: string): boolean {
  return event.origin === 'live' && !event.own && mentions(event.message.text, me);
}

/** True when the room should be named: several rooms, or not the one the user is looking at. */
export function roomMatters(room: string, view: ViewState): boolean {
  return view.roomCount > 1 || view.active === undefined || foldName(room) !== foldName(view.active);
}

/** The line of a chat message. */
export function formatMessage(event: MessageEvent, view: ViewState, render: Render): string {
  const { style } = render;
  const { message: m, own, origin } = event;
  const parts = [style.time(`[${render.stamp(m.time)}]`)];
  const tag = ORIGIN_TAGS[origin];
  if (tag !== '') parts.push(style.history(tag));
  const from = s(m.from);
  const sender = own ? style.own(from) : isMention(event, view.me) ? style.mention(from) : style.name(from);
  const text = render.text(m.text);
  const action = m.kind === MessageKind.Me;
  if (isRoomName(m.to)) {
    if (roomMatters(m.to, view)) parts.push(style.room(s(m.to)));
    parts.push(action ? `* ${sender} ${text}` : `${own ? style.own('You') : sender}: ${text}`);
  } else if (own) {
    const to = style.name(s(m.to));
    if (action) parts.push(style.private(`(private to ${to})`), `* ${sender} ${text}`);
    else parts.push(style.private('(private)'), `${style.own('You')} → ${to}: ${text}`);
  } else {
    parts.push(style.private('(private)'), action ? `* ${sender} ${text}` : `${sender} → you: ${text}`);
  }
  return parts.join(' ');
}

const ORIGIN_TAGS: Record<Origin, string> = { live: '', replay: '(history)', history: '(history)', missed: '(missed)' };

/** The lines a session event prints; empty when it prints nothing. */
export function formatSessionEvent(event: SessionEvent, view: ViewState, render: Render): string[] {
  switch (event.type) {
    case 'message':
      return [formatMessage(event, view, render)];
    case 'join':
    case 'leave':
    case 'room':
    case 'rooms':
    case 'topic':
    case 'nick':
    case 'who':
      return formatRoomEvent(event, view, render);
    case 'error':
    case 'name-rejected':
    case 'ready':
    case 'shutdown':
    case 'warning':
    case 'batch':
    case 'history-reset':
      return formatServerEvent(event, view, render);
    case 'disconnected':
    case 'unconfirmed':
    case 'reconnecting':
    case 'attempt-failed':
    case 'reconnected':
    case 'queued':
    case 'refused':
    case 'flushed':
    case 'gave-up':
    case 'unsent':
    case 'ended':
      return formatConnectionEvent(event, view, render.style);
  }
}

type EventOf<T extends SessionEvent['type']> = Extract<SessionEvent, { type: T }>;

const notices = (style: Style, ...lines: string[]) => lines.map((line) => style.notice(line));
const errors = (style: Style, ...lines: string[]) => lines.map((line) => style.error(line));

/** Who is where: joins, leaves, rooms, topics, renames, WHO lists. */
function formatRoomEvent(event: EventOf<'join' | 'leave' | 'room' | 'rooms' | 'topic' | 'nick' | 'who'>, view: ViewState, render: Render): string[] {
  const { style } = render;
  switch (event.type) {
    case 'join':
      // Our own join is told by the ROOM line that follows it.
      return event.own ? [] : notices(style, `* ${s(event.name)} joined ${s(event.room)}`);
    case 'leave': {
      const who = event.own ? 'You' : s(event.name);
      if (event.reason === 'part') return notices(style, `* ${who} left ${s(event.room)}${event.text === '' ? '' : ` (${s(event.text)})`}`);
      const why = LEAVE_REASONS[event.reason]?.(event.text) ?? (event.text === '' ? event.reason : `${event.reason}: ${event.text}`);
      return notices(style, `* ${who} left (${s(why)})`);
    }
    case 'room':
      return notices(style, `* You are in ${describeRoom(event)}`);
    case 'rooms':
      if (event.rooms.length === 0) return notices(style, '* There are no rooms.');
      return notices(style, `* ${event.rooms.length} ${event.rooms.length === 1 ? 'room' : 'rooms'}:`, ...event.rooms.map((r) => `  ${describeRoom(r)}`));
    case 'topic':
      return notices(style, formatTopic(event, view, render));
    case 'nick':
      return notices(style, event.own ? `* You are now known as ${s(event.to)}` : `* ${s(event.from)} is now known as ${s(event.to)}`);
    case 'who':
      return [formatUsers(event.users, event.room)];
  }
}

/** What the server said about the session: errors, registration, shutdown, history batches. */
function formatServerEvent(
  event: EventOf<'error' | 'name-rejected' | 'ready' | 'shutdown' | 'warning' | 'batch' | 'history-reset'>,
  view: ViewState,
  render: Render,
): string[] {
  const { style } = render;
  switch (event.type) {
    case 'error':
      return errors(style, formatError(event, view));
    case 'name-rejected':
      return [...errors(style, `! ${s(event.text)} (${s(event.code)})`), ...notices(style, '* Joining with a name chosen by the server instead.')];
    case 'ready': {
      const lines: string[] = [];
      if (event.assigned) lines.push(...notices(style, `* The server named you ${s(event.name)}. Type /nick <name> to choose your own name.`));
      lines.push(`You are ${s(event.name)}. ${formatUsers(event.users)}`);
      return lines;
    }
    case 'shutdown':
      return notices(style, event.text === '' ? '* Server is shutting down' : `* Server is shutting down: ${s(event.text)}`);
    case 'warning':
      return errors(style, `! ${s(event.text)}`);
    case 'batch':
      return notices(style, formatBatch(event));
    case 'history-reset':
      return errors(
        style,
        `! The server does not know the last message seen in ${targetLabel(event.target)} (it may have restarted without its history); showing the latest messages of each room instead.`,
      );
  }
}

/** The connection coming and going, and what became of the messages typed meanwhile ([CLIENT-6]..[CLIENT-10]). */
function formatConnectionEvent(
  event: EventOf<'disconnected' | 'unconfirmed' | 'reconnecting' | 'attempt-failed' | 'reconnected' | 'queued' | 'refused' | 'flushed' | 'gave-up' | 'unsent' | 'ended'>,
  view: ViewState,
  style: Style,
): string[] {
  switch (event.type) {
    case 'disconnected':
      return formatClosed(event.cause, event.reason);
    case 'unconfirmed':
      return errors(style, ...event.messages.map((m) => `! Not confirmed before the connection dropped: ${outgoing(m, view)}`));
    case 'reconnecting':
      return notices(style, `* Reconnecting in ${(event.delayMs / 1000).toFixed(1)} s (attempt ${event.attempt})…`);
    case 'attempt-failed':
      return notices(style, `* Could not reconnect: ${s(event.reason)}`);
    case 'reconnected':
      return formatReconnected(event, style);
    case 'queued':
      return notices(style, `* Not connected; your message will be sent when the connection is back (${event.count} queued).`);
    case 'refused': {
      const max = event.limit === 'lines' ? `${event.max} messages` : formatBytes(event.max);
      return errors(style, `! Not connected and the queue is full (at most ${max}); not sent: ${outgoing(event.message, view)}`);
    }
    case 'flushed':
      return notices(style, `* Sending ${event.count} queued ${event.count === 1 ? 'message' : 'messages'}.`);
    case 'gave-up':
      return errors(style, `! The server did not come back within ${event.afterMs / 1000} s; giving up.`);
    case 'unsent':
      return errors(style, ...event.messages.map((m) => `! Not sent: ${outgoing(m, view)}`));
    case 'ended':
      return [];
  }
}

function formatReconnected(event: EventOf<'reconnected'>, style: Style): string[] {
  const { name, wanted } = event;
  const first =
    wanted === undefined || wanted === name
      ? `* Reconnected as ${s(name)}.`
      : `* Reconnected as ${s(name)}: the name ${s(wanted)} was not available. Type /nick ${s(wanted)} to try again.`;
  const rooms = event.rooms.length === 0 ? [] : [`* Joining ${event.rooms.map(s).join(', ')} again.`];
  return [...notices(style, first), formatUsers(event.users), ...notices(style, ...rooms)];
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

/** `#rust (3 users): Say hello`. */
function describeRoom(room: RoomInfo): string {
  const members = `${room.members} ${room.members === 1 ? 'user' : 'users'}`;
  return `${s(room.room)} (${members})${room.topic === '' ? '' : `: ${s(room.topic)}`}`;
}

function formatTopic(event: Extract<SessionEvent, { type: 'topic' }>, view: ViewState, render: Render): string {
  const room = s(event.room);
  const text = s(event.text);
  if (event.request?.tag === 'read') {
    if (event.setter === '*' || (event.text === '' && event.time === 0)) return `* ${room} has no topic.`;
    if (event.text === '') return `* ${room} has no topic (cleared by ${s(event.setter)} at ${render.stamp(event.time)}).`;
    return `* Topic of ${room}: ${text} (set by ${s(event.setter)} at ${render.stamp(event.time)})`;
  }
  const who = view.me !== '' && foldName(event.setter) === foldName(view.me) ? 'You' : s(event.setter);
  return event.text === '' ? `* ${who} cleared the topic of ${room}` : `* ${who} set the topic of ${room}: ${text}`;
}

function formatError(event: Extract<SessionEvent, { type: 'error' }>, view: ViewState): string {
  const what = `${event.text === '' ? 'Error' : s(event.text)} (${s(event.code)})`;
  const request = event.request;
  const target = request?.target;
  switch (request?.command) {
    case 'SAY':
    case 'ME':
      return target !== undefined && (!isRoomName(target) || roomMatters(target, view))
        ? `! Message to ${s(target)} not sent: ${what}`
        : `! Message not sent: ${what}`;
    case 'JOIN':
      return `! Could not ${request.tag === 'restore' ? 'rejoin' : 'join'} ${s(target ?? '')}: ${what}`;
    case 'PART':
      return `! Could not leave ${s(target ?? '')}: ${what}`;
    case 'TOPIC':
      return `! Topic of ${s(target ?? '')}: ${what}`;
    case 'WHO':
      return target === undefined ? `! ${what}` : `! Who is in ${s(target)}: ${what}`;
    case 'HISTORY':
      return `! History of ${targetLabel(target ?? '')}: ${what}`;
    default:
      return `! ${what}`;
  }
}

function formatBatch(event: Extract<SessionEvent, { type: 'batch' }>): string {
  const where = targetLabel(event.target);
  const count = `${event.count} ${event.count === 1 ? 'message' : 'messages'}`;
  if (event.origin === 'history') return event.count === 0 ? `* No history for ${where}.` : `* History of ${where}, ${count}:`;
  const more = event.more ? ' (there were more than could be fetched; /history shows the latest)' : '';
  return event.count === 0 ? `* No missed messages shown for ${where}${more}.` : `* ${count} missed in ${where}${more}:`;
}

function targetLabel(target: string): string {
  if (target === '*') return 'your rooms and conversations';
  return isRoomName(target) ? s(target) : `your conversation with ${s(target)}`;
}

/** A message the user typed, with its target when that matters. */
function outgoing(message: Outgoing, view: ViewState): string {
  const text = message.kind === MessageKind.Me ? `/me ${s(message.text)}` : s(message.text);
  const target = message.target;
  if (target === undefined || (isRoomName(target) && !roomMatters(target, view))) return text;
  return `${text} (to ${s(target)})`;
}

function formatBytes(bytes: number): string {
  return bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} bytes`;
}

