/**
 * How events become lines. The clock is pinned (UTC, a fixed "now"), and
 * colours are either off or replaced by a tagging style that wraps each
 * styled piece in <tag>…</tag>, so a test sees which piece got which style
 * without reading escape codes.
 */
import { describe, expect, it } from 'vitest';
import { stripVTControlCharacters } from 'node:util';
import type { Origin, SessionEvent } from '../../../src/client/events.ts';
import {
  NO_TIME,
  clock,
  formatClosed,
  formatIdle,
  formatMessage,
  formatSessionEvent,
  formatUsers,
  isMention,
  mentions,
  type MessageEvent,
  type Render,
  type ViewState,
} from '../../../src/client/format.ts';
import { sanitize } from '../../../src/client/sanitize.ts';
import { createStyle, type Style } from '../../../src/client/style.ts';
import type { ChatMessage } from '../../../src/protocol/messages.ts';

/** 2025-11-27 09:42:03 UTC, the time of every message below unless said otherwise. */
const T = 1764236523001;
const stamp = clock('UTC', () => T);
const plain: Render = { style: createStyle({ color: false }), text: sanitize, stamp };

const tag = (name: string) => (text: string) => `<${name}>${text}</${name}>`;
const tagging: Style = {
  color: true,
  name: (n) => `<name:${n}>`,
  own: tag('own'),
  notice: tag('notice'),
  error: tag('error'),
  mention: tag('mention'),
  time: tag('time'),
  room: tag('room'),
  private: tag('private'),
  history: tag('history'),
};
const tagged: Render = { style: tagging, text: (t) => `<text>${sanitize(t)}</text>`, stamp };

/** Alice, in the lobby only, looking at it. */
const lobbyOnly: ViewState = { me: 'alice', active: '#lobby', roomCount: 1 };
const twoRooms: ViewState = { me: 'alice', active: '#lobby', roomCount: 2 };

function msg(from: string, to: string, text: string, extra: Partial<ChatMessage> = {}): ChatMessage {
  return { id: 'x1', seq: 1, time: T, from, to, kind: 'say', text, ...extra };
}
function event(message: ChatMessage, own = false, origin: Origin = 'live'): MessageEvent {
  return { type: 'message', own, message, origin };
}
const line = (e: MessageEvent, view = lobbyOnly, render = plain) => formatMessage(e, view, render);
const f = (e: SessionEvent, view = lobbyOnly, render = plain) => formatSessionEvent(e, view, render);

describe('clock: [HH:MM] of a message time', () => {
  it('shows hours and minutes in the given zone, with the date for another day', () => {
    expect(stamp(T)).toBe('09:42');
    expect(clock('Asia/Tokyo', () => T)(T)).toBe('18:42');
    expect(stamp(T - 86_400_000)).toBe('2025-11-26 09:42');
    expect(stamp(Date.UTC(2025, 10, 27, 0, 5))).toBe('00:05');
  });

  it('never throws: a time no Date can hold shows as ??:??, in any zone', () => {
    for (const zone of ['UTC', 'Pacific/Kiritimati', 'America/Adak']) {
      const zoned = clock(zone, () => T);
      // The last and first instants a Date holds are still times.
      expect(zoned(8.64e15)).toMatch(/^275760-09-1[234] \d\d:\d\d$/);
      expect(zoned(-8.64e15)).toMatch(/ \d\d:\d\d$/);
      for (const bad of [8.64e15 + 1, 9_007_199_254_740_991, -8.64e15 - 1, Number.NaN, Number.POSITIVE_INFINITY]) {
        expect(zoned(bad), `${zone} ${bad}`).toBe(NO_TIME);
      }
    }
    expect(NO_TIME).toBe('??:??');
    // A broken "now" only costs the short form.
    expect(clock('UTC', () => Number.NaN)(T)).toBe('2025-11-27 09:42');
  });

  it('shows a message and a topic with an impossible time as ??:?? rather than throw', () => {
    const bad = { ...msg('bob', '#lobby', 'from the far future'), time: 9e15 };
    expect(line(event(bad))).toBe('[??:??] bob: from the far future');
    const topic: SessionEvent = { type: 'topic', room: '#lobby', setter: 'bob', time: 9e15, text: 'later', request: { command: 'TOPIC', text: '', target: '#lobby', tag: 'read' } };
    expect(f(topic)).toEqual(['* Topic of #lobby: later (set by bob at ??:??)']);
  });
});

describe('formatMessage: [HH:MM] [room] sender: text', () => {
  it('[CLIENT-2] shows an own message (ECHO) as "You" and others by name, with the time', () => {
    expect(line(event(msg('alice', '#lobby', 'hi all'), true))).toBe('[09:42] You: hi all');
    expect(line(event(msg('bob', '#lobby', 'hello')))).toBe('[09:42] bob: hello');
  });

  it('names the room only when it matters: several rooms, or not the active one', () => {
    expect(line(event(msg('bob', '#lobby', 'x')), lobbyOnly)).toBe('[09:42] bob: x');
    expect(line(event(msg('bob', '#lobby', 'x')), twoRooms)).toBe('[09:42] #lobby bob: x');
    expect(line(event(msg('bob', '#rust', 'x')), { me: 'alice', active: 'carol', roomCount: 1 })).toBe('[09:42] #rust bob: x');
    expect(line(event(msg('bob', '#LOBBY', 'x')), lobbyOnly)).toBe('[09:42] bob: x');
    expect(line(event(msg('alice', '#rust', 'x'), true), twoRooms)).toBe('[09:42] #rust You: x');
  });

  it('[MSG-10] [CLIENT-14] sets private messages apart, both ways, with who sent it to whom', () => {
    expect(line(event(msg('bob', 'alice', 'psst')))).toBe('[09:42] (private) bob → you: psst');
    expect(line(event(msg('alice', 'bob', 'psst back'), true))).toBe('[09:42] (private) You → bob: psst back');
    // Always marked, whatever the rooms.
    expect(line(event(msg('bob', 'alice', 'psst')), twoRooms)).toBe('[09:42] (private) bob → you: psst');
  });

  it('[MSG-9] shows an action in the third person', () => {
    const me = { kind: 'me' } as const;
    expect(line(event(msg('bob', '#lobby', 'waves', me)))).toBe('[09:42] * bob waves');
    expect(line(event(msg('alice', '#lobby', 'waves', me), true))).toBe('[09:42] * alice waves');
    expect(line(event(msg('bob', '#rust', 'waves', me)), twoRooms)).toBe('[09:42] #rust * bob waves');
    expect(line(event(msg('bob', 'alice', 'winks', me)))).toBe('[09:42] (private) * bob winks');
    expect(line(event(msg('alice', 'bob', 'winks', me), true))).toBe('[09:42] (private to bob) * alice winks');
  });

  it('[HIST-3] marks history and missed messages as such', () => {
    expect(line(event(msg('bob', '#lobby', 'old'), false, 'replay'))).toBe('[09:42] (history) bob: old');
    expect(line(event(msg('bob', '#lobby', 'old'), false, 'history'))).toBe('[09:42] (history) bob: old');
    expect(line(event(msg('alice', '#rust', 'mine'), true, 'missed'), twoRooms)).toBe('[09:42] (missed) #rust You: mine');
    expect(line(event(msg('bob', 'alice', 'p'), false, 'missed'))).toBe('[09:42] (missed) (private) bob → you: p');
  });

  it('[CLIENT-1] neutralises the sender and the room, and leaves the text to the renderer', () => {
    const hostile = msg('ev\u001b[2Jil', '#r\u009bx', 'a\u001b]0;t\u0007b');
    expect(line(event(hostile), twoRooms)).toBe('[09:42] #r\uFFFDx ev^[[2Jil: a^[]0;t^Gb');
    expect(line(event(hostile), twoRooms, tagged)).toContain('<text>a^[]0;t^Gb</text>');
  });

  it('styles each piece: time, tags, room, names, own, private', () => {
    expect(line(event(msg('bob', '#rust', 'hi'), false, 'missed'), twoRooms, tagged)).toBe(
      '<time>[09:42]</time> <history>(missed)</history> <room>#rust</room> <name:bob>: <text>hi</text>',
    );
    expect(line(event(msg('alice', 'bob', 'hi'), true), lobbyOnly, tagged)).toBe(
      '<time>[09:42]</time> <private>(private)</private> <own>You</own> → <name:bob>: <text>hi</text>',
    );
  });

  it('[CLIENT-12] with colour off no escape at all; with the real colours, the line reads the same once the codes are stripped', () => {
    expect(line(event(msg('bob', '#rust', 'hi alice')), twoRooms, plain)).not.toContain('\u001b');
    const ansi: Render = { style: createStyle({ color: true }), text: sanitize, stamp };
    const styled = line(event(msg('bob', '#rust', 'hi alice')), twoRooms, ansi);
    expect(styled).toContain('\u001b[');
    expect(stripVTControlCharacters(styled)).toBe('[09:42] #rust bob: hi alice');
  });
});

describe('mentions: the user\'s name as a whole word, in someone else\'s live message', () => {
  it('matches whole words only, without regard to case', () => {
    expect(mentions('hi alice!', 'alice')).toBe(true);
    expect(mentions('ALICE: look', 'alice')).toBe(true);
    expect(mentions('@Alice', 'alice')).toBe(true);
    expect(mentions('malice', 'alice')).toBe(false);
    expect(mentions('alice_bot', 'alice')).toBe(false);
    expect(mentions('alice-2', 'alice')).toBe(false);
    expect(mentions('anything', '')).toBe(false);
  });

  it('[CLIENT-13] is a mention only live, from someone else: never a HIST line', () => {
    expect(isMention(event(msg('bob', '#lobby', 'hi alice')), 'alice')).toBe(true);
    expect(isMention(event(msg('bob', '#lobby', 'hi alice'), false, 'replay'), 'alice')).toBe(false);
    expect(isMention(event(msg('bob', '#lobby', 'hi alice'), false, 'history'), 'alice')).toBe(false);
    expect(isMention(event(msg('bob', '#lobby', 'hi alice'), false, 'missed'), 'alice')).toBe(false);
    expect(isMention(event(msg('alice', '#lobby', 'I am alice'), true), 'alice')).toBe(false);
  });

  it('highlights the sender of a mention', () => {
    expect(line(event(msg('bob', '#lobby', 'hi alice')), lobbyOnly, tagged)).toBe('<time>[09:42]</time> <mention>bob</mention>: <text>hi alice</text>');
    expect(line(event(msg('bob', '#lobby', 'hi alice'), false, 'replay'), lobbyOnly, tagged)).toContain('<name:bob>');
  });
});

describe('formatSessionEvent: notices and errors', () => {
  it('[ROOM-3] [ROOM-4] [PRES-1] shows joins and parts with their room, and a quit once without one', () => {
    expect(f({ type: 'join', room: '#lobby', name: 'bob', own: false })).toEqual(['* bob joined #lobby']);
    expect(f({ type: 'join', room: '#lobby', name: 'alice', own: true })).toEqual([]);
    expect(f({ type: 'room', room: '#rust', members: 3, topic: 'Rust talk' })).toEqual(['* You are in #rust (3 users): Rust talk']);
    expect(f({ type: 'room', room: '#new', members: 1, topic: '' })).toEqual(['* You are in #new (1 user)']);
    expect(f({ type: 'leave', room: '#rust', name: 'bob', reason: 'part', text: '' , own: false })).toEqual(['* bob left #rust']);
    expect(f({ type: 'leave', room: '#rust', name: 'bob', reason: 'part', text: 'lunch', own: false })).toEqual(['* bob left #rust (lunch)']);
    expect(f({ type: 'leave', room: '#rust', name: 'alice', reason: 'part', text: '', own: true })).toEqual(['* You left #rust']);
    const leave = (reason: string, text: string) => f({ type: 'leave', room: '#lobby', name: 'bob', reason, text, own: false });
    expect(leave('quit', 'see you')).toEqual(['* bob left (quit: see you)']);
    expect(leave('quit', '')).toEqual(['* bob left (quit)']);
    expect(leave('lost', 'Connection closed')).toEqual(['* bob left (connection lost)']);
    expect(leave('timeout', 'No PONG')).toEqual(['* bob left (timed out)']);
    expect(leave('error', 'INPUT_OVERFLOW')).toEqual(['* bob left (error: INPUT_OVERFLOW)']);
    expect(leave('shutdown', 'bye')).toEqual(['* bob left (server shutdown)']);
    expect(leave('kicked', 'by admin')).toEqual(['* bob left (kicked: by admin)']);
    expect(leave('vanished', '')).toEqual(['* bob left (vanished)']);
  });

  it('shows renames', () => {
    expect(f({ type: 'nick', from: 'bob', to: 'robert', own: false })).toEqual(['* bob is now known as robert']);
    expect(f({ type: 'nick', from: 'alice', to: 'Alice', own: true })).toEqual(['* You are now known as Alice']);
  });

  it('[PRES-3] lists users with idle times over a minute, for everyone or a room', () => {
    const users = [
      { name: 'alice', idle: 0 },
      { name: 'bob', idle: 185 },
      { name: 'carol', idle: 7300 },
      { name: 'dave', idle: 200_000 },
    ];
    expect(f({ type: 'who', room: undefined, users })).toEqual(['4 users online: alice, bob (idle 3m), carol (idle 2h), dave (idle 2d)']);
    expect(f({ type: 'who', room: '#rust', users: users.slice(0, 1) })).toEqual(['1 user in #rust: alice']);
    expect(formatIdle(59)).toBe('');
    expect(formatIdle(60)).toBe('1m');
  });

  it('summarises a long user list', () => {
    const users = Array.from({ length: 35 }, (_, i) => `u${i}`);
    expect(formatUsers(users)).toMatch(/^35 users online: u0, u1, .*u29 and 5 more$/);
    expect(formatUsers([])).toBe('0 users online');
  });

  it('[ROOM-5] lists rooms with their members and topics', () => {
    expect(
      f({
        type: 'rooms',
        rooms: [
          { room: '#lobby', members: 3, topic: 'Say hello' },
          { room: '#quiet', members: 0, topic: '' },
        ],
      }),
    ).toEqual(['* 2 rooms:', '  #lobby (3 users): Say hello', '  #quiet (0 users)']);
    expect(f({ type: 'rooms', rooms: [] })).toEqual(['* There are no rooms.']);
  });

  it('[ROOM-7] tells a topic asked for from a topic someone set', () => {
    const read = { command: 'TOPIC', text: '', target: '#rust', tag: 'read' } as const;
    const topic = (setter: string, time: number, text: string, request?: typeof read) => f({ type: 'topic', room: '#rust', setter, time, text, request });
    expect(topic('bob', T, 'Rust talk', read)).toEqual(['* Topic of #rust: Rust talk (set by bob at 09:42)']);
    expect(topic('*', 0, '', read)).toEqual(['* #rust has no topic.']);
    expect(topic('bob', T, '', read)).toEqual(['* #rust has no topic (cleared by bob at 09:42).']);
    expect(topic('bob', T, 'New')).toEqual(['* bob set the topic of #rust: New']);
    expect(topic('ALICE', T, 'Mine')).toEqual(['* You set the topic of #rust: Mine']);
    expect(topic('bob', T, '')).toEqual(['* bob cleared the topic of #rust']);
  });

  it('[ERR-4] shows errors with their code, and what they were about', () => {
    const err = (code: string, text: string, request?: { command: 'SAY' | 'JOIN' | 'PART' | 'HISTORY' | 'WHO' | 'TOPIC' | 'NICK'; target?: string; tag?: string }) =>
      f({ type: 'error', code, command: '*', text, request: request === undefined ? undefined : { text: 'x', ...request } });
    expect(err('NAME_IN_USE', 'Name is in use', { command: 'NICK' })).toEqual(['! Name is in use (NAME_IN_USE)']);
    expect(err('BAD_CHAR', 'Forbidden character', { command: 'SAY', target: '#lobby' })).toEqual(['! Message not sent: Forbidden character (BAD_CHAR)']);
    expect(err('NO_SUCH_USER', 'No such user online', { command: 'SAY', target: 'zed' })).toEqual(['! Message to zed not sent: No such user online (NO_SUCH_USER)']);
    expect(err('NOT_IN_ROOM', 'You are not in that room', { command: 'SAY', target: '#rust' })).toEqual([
      '! Message to #rust not sent: You are not in that room (NOT_IN_ROOM)',
    ]);
    expect(err('BAD_ROOM', 'Invalid room name', { command: 'JOIN', target: '#x' })).toEqual(['! Could not join #x: Invalid room name (BAD_ROOM)']);
    expect(err('TOO_MANY_ROOMS', 'Too many rooms', { command: 'JOIN', target: '#x', tag: 'restore' })).toEqual(['! Could not rejoin #x: Too many rooms (TOO_MANY_ROOMS)']);
    expect(err('NOT_IN_ROOM', 'No', { command: 'PART', target: '#x' })).toEqual(['! Could not leave #x: No (NOT_IN_ROOM)']);
    expect(err('NO_SUCH_ROOM', 'No such room', { command: 'WHO', target: '#x' })).toEqual(['! Who is in #x: No such room (NO_SUCH_ROOM)']);
    expect(err('NOT_IN_ROOM', 'No', { command: 'HISTORY', target: '#x' })).toEqual(['! History of #x: No (NOT_IN_ROOM)']);
    expect(err('SOMETHING_NEW', '')).toEqual(['! Error (SOMETHING_NEW)']);
  });

  it('reports joining, the user list, a fall-back name and shutdown', () => {
    expect(f({ type: 'ready', name: 'alice', assigned: false, users: ['alice', 'bob', 'carol'], serverName: 'x', joined: ['#lobby'] })).toEqual([
      'You are alice. 3 users online: alice, bob, carol',
    ]);
    expect(f({ type: 'name-rejected', name: 'bob', code: 'NAME_IN_USE', text: 'The name bob is in use' })).toEqual([
      '! The name bob is in use (NAME_IN_USE)',
      '* Joining with a name chosen by the server instead.',
    ]);
    expect(f({ type: 'ready', name: 'guest-4821', assigned: true, users: ['guest-4821'], serverName: 'x', joined: [] })).toEqual([
      '* The server named you guest-4821. Type /nick <name> to choose your own name.',
      'You are guest-4821. 1 user online: guest-4821',
    ]);
    expect(f({ type: 'shutdown', text: 'Server is going down' })).toEqual(['* Server is shutting down: Server is going down']);
  });

  it('[HIST-3] [HIST-6] announces history pages and catch-ups, and a history that had to start again', () => {
    expect(f({ type: 'batch', target: '#rust', origin: 'history', count: 3, more: false })).toEqual(['* History of #rust, 3 messages:']);
    expect(f({ type: 'batch', target: 'bob', origin: 'history', count: 0, more: false })).toEqual(['* No history for your conversation with bob.']);
    expect(f({ type: 'batch', target: '#rust', origin: 'missed', count: 1, more: false })).toEqual(['* 1 message missed in #rust:']);
    expect(f({ type: 'batch', target: '*', origin: 'missed', count: 2, more: true })).toEqual([
      '* 2 messages missed in your rooms and conversations (there were more than could be fetched; /history shows the latest):',
    ]);
    expect(f({ type: 'history-reset', target: '#lobby' })).toEqual([
      '! The server does not know the last message seen in #lobby (it may have restarted without its history); showing the latest messages of each room instead.',
    ]);
  });

  it('[CLIENT-1] neutralises every received field: names, rooms, topics, reasons, codes', () => {
    const esc = '\u001b[2J\u009b\u202e\u2028';
    const events: SessionEvent[] = [
      event(msg(`ev${esc}il`, `#r${esc}`, `t${esc}`)),
      { type: 'join', room: `#r${esc}`, name: `n${esc}`, own: false },
      { type: 'leave', room: `#r${esc}`, name: `n${esc}`, reason: `r${esc}`, text: `x${esc}`, own: false },
      { type: 'leave', room: `#r${esc}`, name: `n${esc}`, reason: 'part', text: `x${esc}`, own: false },
      { type: 'room', room: `#r${esc}`, members: 1, topic: `t${esc}` },
      { type: 'rooms', rooms: [{ room: `#r${esc}`, members: 1, topic: `t${esc}` }] },
      { type: 'topic', room: `#r${esc}`, setter: `s${esc}`, time: T, text: `t${esc}`, request: undefined },
      { type: 'nick', from: `a${esc}`, to: `b${esc}`, own: false },
      { type: 'who', room: `#r${esc}`, users: [{ name: `u${esc}`, idle: 100 }] },
      { type: 'error', code: `C${esc}`, command: 'SAY', text: `e${esc}`, request: { command: 'SAY', text: 'x', target: `b${esc}` } },
      { type: 'shutdown', text: `s${esc}` },
      { type: 'warning', text: `w${esc}` },
      { type: 'name-rejected', name: 'x', code: `C${esc}`, text: `t${esc}` },
      { type: 'batch', target: `#r${esc}`, origin: 'missed', count: 1, more: false },
      { type: 'history-reset', target: `u${esc}` },
      { type: 'reconnected', name: `guest${esc}`, wanted: `al${esc}`, users: [`u${esc}`], rooms: [`#r${esc}`] },
      { type: 'attempt-failed', attempt: 1, reason: `bad${esc}` },
      { type: 'unconfirmed', messages: [{ target: `b${esc}`, kind: 'say', text: `t${esc}` }] },
      { type: 'unsent', messages: [{ target: `#r${esc}`, kind: 'me', text: `t${esc}` }] },
      { type: 'refused', message: { target: 'bob', kind: 'say', text: `t${esc}` }, limit: 'lines', max: 100 },
      { type: 'disconnected', cause: 'error', reason: `r${esc}` },
    ];
    for (const e of events) {
      const lines = f(e, twoRooms);
      expect(lines.length).toBeGreaterThan(0);
      // eslint-disable-next-line no-control-regex
      for (const l of lines) expect(l).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2028\u2029]/);
    }
  });

  it('styles notices and errors as wholes', () => {
    expect(f({ type: 'join', room: '#lobby', name: 'bob', own: false }, lobbyOnly, tagged)).toEqual(['<notice>* bob joined #lobby</notice>']);
    expect(f({ type: 'warning', text: 'odd' }, lobbyOnly, tagged)).toEqual(['<error>! odd</error>']);
  });
});

describe('formatSessionEvent: the connection and reconnecting', () => {
  it('[CLIENT-3] says how the connection ended', () => {
    expect(formatClosed('eof', '')).toEqual(['Disconnected from the server.']);
    expect(formatClosed('error', 'connection reset by the server')).toEqual(['Connection lost: connection reset by the server']);
    expect(formatClosed('failed', 'no answer')).toEqual(['Could not join the chat: no answer']);
    expect(formatClosed('quit', '')).toEqual([]);
  });

  it('[CLIENT-3] [CLIENT-6] says the connection dropped, then shows each attempt and why it failed', () => {
    expect(f({ type: 'disconnected', cause: 'eof', reason: '' })).toEqual(['Disconnected from the server.']);
    expect(f({ type: 'reconnecting', attempt: 3, delayMs: 1234 })).toEqual(['* Reconnecting in 1.2 s (attempt 3)…']);
    expect(f({ type: 'attempt-failed', attempt: 3, reason: 'connection refused' })).toEqual(['* Could not reconnect: connection refused']);
  });

  it('[CLIENT-7] says when it is back, under which name, how to take the old one back, and which rooms it joins again', () => {
    expect(f({ type: 'reconnected', name: 'alice', wanted: 'alice', users: ['alice', 'bob'], rooms: [] })).toEqual([
      '* Reconnected as alice.',
      '2 users online: alice, bob',
    ]);
    expect(f({ type: 'reconnected', name: 'guest-77', wanted: 'alice', users: ['guest-77'], rooms: ['#rust', '#go'] })).toEqual([
      '* Reconnected as guest-77: the name alice was not available. Type /nick alice to try again.',
      '1 user online: guest-77',
      '* Joining #rust, #go again.',
    ]);
  });

  it('[CLIENT-8] [CLIENT-9] [CLIENT-10] accounts for every message, with its target when that matters', () => {
    expect(f({ type: 'queued', count: 3 })).toEqual(['* Not connected; your message will be sent when the connection is back (3 queued).']);
    expect(f({ type: 'refused', message: { target: '#lobby', kind: 'say', text: 'hi' }, limit: 'lines', max: 100 })).toEqual([
      '! Not connected and the queue is full (at most 100 messages); not sent: hi',
    ]);
    expect(f({ type: 'refused', message: { target: 'bob', kind: 'say', text: 'hi' }, limit: 'bytes', max: 65536 })).toEqual([
      '! Not connected and the queue is full (at most 64 KiB); not sent: hi (to bob)',
    ]);
    expect(f({ type: 'flushed', count: 1 })).toEqual(['* Sending 1 queued message.']);
    expect(f({ type: 'flushed', count: 2 })).toEqual(['* Sending 2 queued messages.']);
    expect(
      f(
        {
          type: 'unconfirmed',
          messages: [
            { target: '#lobby', kind: 'say', text: 'a' },
            { target: '#rust', kind: 'me', text: 'waves' },
          ],
        },
        twoRooms,
      ),
    ).toEqual(['! Not confirmed before the connection dropped: a (to #lobby)', '! Not confirmed before the connection dropped: /me waves (to #rust)']);
    expect(f({ type: 'gave-up', afterMs: 60_000 })).toEqual(['! The server did not come back within 60 s; giving up.']);
    expect(f({ type: 'unsent', messages: [{ target: undefined, kind: 'say', text: 'x' }] })).toEqual(['! Not sent: x']);
    expect(f({ type: 'ended', left: true, undelivered: 0 })).toEqual([]);
  });
});
