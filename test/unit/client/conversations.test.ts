/**
 * The session's memory of rooms and messages, fed connection events by
 * hand: what it shows (each id once), what it remembers (rooms, last ids),
 * and the catch-up it runs after a reconnect, through a recording port.
 */
import { describe, expect, it } from 'vitest';
import { MAX_HELD_LIVE } from '../../../src/client/catch-up.ts';
import { Conversations, MAX_NAMES, MAX_ROOMS, type HistoryPort } from '../../../src/client/conversations.ts';
import type { ClientEvent, SessionEvent } from '../../../src/client/events.ts';
import type { Request } from '../../../src/client/requests.ts';
import { historyQueryParams, type HistoryQuery } from '../../../src/protocol/history.ts';
import type { ChatMessage } from '../../../src/protocol/messages.ts';

const m = (id: string, seq: number, from: string, to: string, time = 1000 + seq): ChatMessage => ({ id, seq, time, from, to, kind: 'say', text: `text of ${id}` });

class Port implements HistoryPort {
  readonly sent: Array<{ line: string; request: Request }> = [];
  constructor(
    readonly joinedByServer: readonly string[] = ['#lobby'],
    readonly historyPage = 500,
  ) {}
  join(room: string, tag: string): void {
    this.sent.push({ line: `JOIN ${room}`, request: { command: 'JOIN', text: room, target: room, tag } });
  }
  history(target: string, query: HistoryQuery, tag: string): void {
    this.sent.push({ line: `HISTORY ${target} ${historyQueryParams(query).join(' ')}`, request: { command: 'HISTORY', text: '', target, tag } });
  }
  /** The request of the last line sent that starts with `prefix`. */
  request(prefix: string): Request {
    const found = [...this.sent].reverse().find((s) => s.line.startsWith(prefix));
    if (found === undefined) throw new Error(`nothing sent starting with ${prefix}: ${JSON.stringify(this.sent.map((s) => s.line))}`);
    return found.request;
  }
  get lines(): string[] {
    return this.sent.map((s) => s.line);
  }
}

function setup(seenCapacity?: number) {
  const events: SessionEvent[] = [];
  const conversations = new Conversations((e) => events.push(e), seenCapacity);
  const feed = (...list: ClientEvent[]) => {
    for (const e of list) if (!conversations.handle(e)) events.push(e as SessionEvent);
  };
  const shown = () => events.flatMap((e) => (e.type === 'message' ? [`${e.origin}:${e.message.id}${e.own ? ':own' : ''}`] : []));
  return { events, conversations, feed, shown };
}

const ready: ClientEvent = { type: 'ready', name: 'alice', assigned: false, users: ['alice'], serverName: 'x', joined: ['#lobby'] };
const joinOwn = (room: string): ClientEvent => ({ type: 'join', room, name: 'alice', own: true });
const replay = (room: string, ...messages: ChatMessage[]): ClientEvent => ({ type: 'history', target: room, messages, request: undefined });
const live = (message: ChatMessage, own = false): ClientEvent => ({ type: 'message', own, message });

describe('Conversations: each message shown once [HIST-6] [CLIENT-11]', () => {
  it('shows live messages once by id, and drops a replay\'s messages already shown', () => {
    const { feed, shown, conversations } = setup();
    conversations.connected('alice', new Port(), false);
    feed(ready, joinOwn('#lobby'), replay('#lobby', m('a', 1, 'bob', '#lobby')));
    feed(live(m('b', 2, 'bob', '#lobby')), live(m('b', 2, 'bob', '#lobby')), live(m('c', 3, 'alice', '#lobby'), true));
    // Parted and joined again: the replay brings back what was shown.
    feed({ type: 'leave', room: '#lobby', name: 'alice', reason: 'part', text: '', own: true }, joinOwn('#lobby'));
    feed(replay('#lobby', m('a', 1, 'bob', '#lobby'), m('b', 2, 'bob', '#lobby'), m('c', 3, 'alice', '#lobby'), m('d', 4, 'bob', '#lobby')));
    expect(shown()).toEqual(['replay:a', 'live:b', 'live:c:own', 'replay:d']);
  });

  it('shows a /history page whole, seen or not, announced by a batch event, and marks its own messages as own', () => {
    const { feed, shown, events, conversations } = setup();
    conversations.connected('alice', new Port(), false);
    feed(ready, joinOwn('#lobby'), live(m('a', 1, 'bob', '#lobby')));
    const request: Request = { command: 'HISTORY', text: '', target: '#lobby', tag: 'user' };
    feed({ type: 'history', target: '#lobby', messages: [m('z', 0, 'Alice', '#lobby'), m('a', 1, 'bob', '#lobby')], request });
    expect(shown()).toEqual(['live:a', 'history:z:own', 'history:a']);
    expect(events.find((e) => e.type === 'batch')).toEqual({ type: 'batch', target: '#lobby', origin: 'history', count: 2, more: false });
  });

  it('counts a message as its own under any name it had in this session', () => {
    const { feed, shown, conversations } = setup();
    conversations.connected('alice', new Port(), false);
    feed(ready, joinOwn('#lobby'), { type: 'nick', from: 'alice', to: 'Alicia', own: true });
    feed(replay('#lobby', m('a', 1, 'alice', '#lobby'), m('b', 2, 'ALICIA', '#lobby'), m('c', 3, 'bob', '#lobby')));
    expect(shown()).toEqual(['replay:a:own', 'replay:b:own', 'replay:c']);
  });

  it('forgets the oldest ids past its capacity, so memory stays bounded', () => {
    const { feed, shown, conversations } = setup(2);
    conversations.connected('alice', new Port(), false);
    feed(ready, live(m('a', 1, 'bob', '#lobby')), live(m('b', 2, 'bob', '#lobby')), live(m('c', 3, 'bob', '#lobby')), live(m('a', 1, 'bob', '#lobby')));
    expect(shown()).toEqual(['live:a', 'live:b', 'live:c', 'live:a']);
  });

  it('remembers at most MAX_NAMES of its own names, forgetting the oldest but never the one it has now', () => {
    const { feed, shown, conversations } = setup();
    conversations.connected('alice', new Port(), false);
    feed(ready, joinOwn('#lobby'));
    // A server renames us again and again.
    let name = 'alice';
    for (let i = 1; i <= MAX_NAMES; i++) {
      feed({ type: 'nick', from: name, to: `n${i}`, own: true });
      name = `n${i}`;
    }
    feed(replay('#lobby', m('a', 1, 'alice', '#lobby'), m('b', 2, 'n1', '#lobby'), m('c', 3, `n${MAX_NAMES}`, '#lobby')));
    expect(shown()).toEqual(['replay:a', 'replay:b:own', 'replay:c:own']);
    // The name it has now is the newest, so it is kept however many came before.
    feed({ type: 'nick', from: name, to: 'n1', own: true }, { type: 'nick', from: 'n1', to: 'x', own: true });
    feed(replay('#lobby', m('d', 4, 'n1', '#lobby'), m('e', 5, 'n2', '#lobby'), m('f', 6, 'x', '#lobby')));
    expect(shown().slice(3)).toEqual(['replay:d:own', 'replay:e', 'replay:f:own']);
  });
});

describe('Conversations: rooms and positions', () => {
  it('keeps the rooms it is in, in join order and the server\'s spelling, and forgets a room it leaves', () => {
    const { feed, conversations } = setup();
    feed(ready, joinOwn('#lobby'), joinOwn('#Rust'), { type: 'join', room: '#go', name: 'bob', own: false });
    expect(conversations.rooms).toEqual(['#lobby', '#Rust']);
    expect(conversations.room('#RUST')).toBe('#Rust');
    feed({ type: 'leave', room: '#rust', name: 'alice', reason: 'part', text: '', own: true });
    expect(conversations.rooms).toEqual(['#lobby']);
    expect(conversations.room('#rust')).toBeUndefined();
  });

  it('keeps at most MAX_ROOMS rooms: one joined past that is not kept, and the user is told once until there is room again', () => {
    const { feed, events, conversations } = setup();
    feed(ready, joinOwn('#lobby'));
    for (let i = 1; i < MAX_ROOMS; i++) feed(joinOwn(`#r${i}`));
    expect(conversations.rooms).toHaveLength(MAX_ROOMS);
    feed(joinOwn('#over1'), joinOwn('#over2'), joinOwn('#lobby'));
    expect(conversations.rooms).toHaveLength(MAX_ROOMS);
    expect(conversations.rooms[0]).toBe('#lobby');
    expect(conversations.room('#over1')).toBeUndefined();
    const warnings = () => events.filter((e) => e.type === 'warning');
    expect(warnings()).toEqual([{ type: 'warning', text: expect.stringContaining('#over1') }]);
    feed({ type: 'leave', room: '#r1', name: 'alice', reason: 'part', text: '', own: true }, joinOwn('#back'));
    expect(conversations.room('#back')).toBe('#back');
    feed(joinOwn('#over3'));
    expect(warnings()).toHaveLength(2);
  });

  it('tracks the last id per room and at all by time; an older /history page does not move them back', () => {
    const { feed, conversations } = setup();
    conversations.connected('alice', new Port(), false);
    feed(ready, joinOwn('#lobby'), joinOwn('#rust'));
    feed(live(m('l1', 1, 'bob', '#lobby', 100)), live(m('r1', 1, 'bob', '#rust', 200)), live(m('p1', 1, 'bob', 'alice', 300)));
    expect([conversations.lastId('#lobby'), conversations.lastId('#rust'), conversations.lastId()]).toEqual(['l1', 'r1', 'p1']);
    const request: Request = { command: 'HISTORY', text: '', target: '#lobby', tag: 'user' };
    feed({ type: 'history', target: '#lobby', messages: [m('l0', 0, 'bob', '#lobby', 50), m('l1', 1, 'bob', '#lobby', 100)], request });
    expect([conversations.lastId('#lobby'), conversations.lastId()]).toEqual(['l1', 'p1']);
    // At the same millisecond, the later arrival is the later message.
    feed(live(m('l2', 2, 'bob', '#lobby', 100)));
    expect(conversations.lastId('#lobby')).toBe('l2');
  });
});

describe('Conversations: catching up after a reconnect [HIST-6] [CLIENT-11]', () => {
  /** A session that saw l1, l2 in #lobby, r1 in #rust and p1 privately, then lost its connection. */
  function beforeTheDrop() {
    const s = setup();
    s.conversations.connected('alice', new Port(), false);
    s.feed(ready, joinOwn('#lobby'), replay('#lobby', m('l1', 1, 'bob', '#lobby', 100)), live(m('l2', 2, 'bob', '#lobby', 200)));
    const joined: Request = { command: 'JOIN', text: '#rust', target: '#rust' };
    s.feed(joinOwn('#rust'), { type: 'history', target: '#rust', messages: [m('r1', 1, 'bob', '#rust', 300)], request: joined });
    s.feed(live(m('p1', 1, 'bob', 'alice', 400)));
    s.conversations.disconnected();
    s.events.length = 0;
    return s;
  }

  it('rejoins, fetches what came after the last id of each room and then the private messages, and shows each missed message once, in order', () => {
    const { feed, shown, events, conversations } = beforeTheDrop();
    const port = new Port();
    expect(conversations.connected('alice', port, true)).toEqual(['#rust']);
    expect(port.lines).toEqual(['JOIN #rust']);
    feed(ready, joinOwn('#lobby'), replay('#lobby', m('l2', 2, 'bob', '#lobby'), m('l3', 3, 'bob', '#lobby', 510), m('l4', 4, 'carol', '#lobby', 520)));
    expect(port.lines.at(-1)).toBe('HISTORY #lobby AFTER id=l2 500');
    // Live during the catch-up: held until the room is done, then in seq order.
    feed(live(m('l5', 5, 'bob', '#lobby', 530)));
    expect(shown()).toEqual([]);
    feed({ type: 'history', target: '#lobby', messages: [m('l3', 3, 'bob', '#lobby', 510), m('l4', 4, 'carol', '#lobby', 520), m('l5', 5, 'bob', '#lobby', 530)], request: port.request('HISTORY #lobby') });
    expect(shown()).toEqual(['missed:l3', 'missed:l4', 'live:l5']);
    expect(events.find((e) => e.type === 'batch')).toEqual({ type: 'batch', target: '#lobby', origin: 'missed', count: 2, more: false });

    feed(joinOwn('#rust'), { type: 'history', target: '#rust', messages: [m('r1', 1, 'bob', '#rust'), m('r2', 2, 'bob', '#rust', 540)], request: port.request('JOIN #rust') });
    expect(port.lines.at(-1)).toBe('HISTORY #rust AFTER id=r1 500');
    feed({ type: 'history', target: '#rust', messages: [m('r2', 2, 'bob', '#rust', 540)], request: port.request('HISTORY #rust') });
    expect(port.lines.at(-1)).toBe('HISTORY * AFTER id=p1 500');
    // `*` brings the room messages again (dropped) and the private ones (shown).
    feed({ type: 'history', target: '*', messages: [m('l3', 3, 'bob', '#lobby', 510), m('p2', 2, 'bob', 'alice', 550), m('r2', 2, 'bob', '#rust', 540), m('p3', 3, 'alice', 'bob', 560)], request: port.request('HISTORY *') });
    expect(shown()).toEqual(['missed:l3', 'missed:l4', 'live:l5', 'missed:r2', 'missed:p2', 'missed:p3:own']);
    expect(conversations.catchingUp).toBe(false);
    expect([conversations.lastId('#lobby'), conversations.lastId('#rust'), conversations.lastId()]).toEqual(['l5', 'r2', 'p3']);
  });

  it('on UNKNOWN_MESSAGE says so and shows the latest messages instead, still each once', () => {
    const { feed, shown, events, conversations } = beforeTheDrop();
    const port = new Port();
    conversations.connected('alice', port, true);
    feed(ready, joinOwn('#lobby'), replay('#lobby', m('n1', 1, 'dave', '#lobby')));
    const consumed = conversations.handle({ type: 'error', code: 'UNKNOWN_MESSAGE', command: 'HISTORY', text: 'No such message id', request: port.request('HISTORY #lobby') });
    expect(consumed).toBe(true);
    expect(events).toContainEqual({ type: 'history-reset', target: '#lobby' });
    expect(port.lines.at(-1)).toBe('HISTORY #lobby LATEST 500');
    feed({ type: 'history', target: '#lobby', messages: [m('n1', 1, 'dave', '#lobby'), m('n2', 2, 'dave', '#lobby')], request: port.request('HISTORY #lobby LATEST') });
    expect(shown()).toEqual(['missed:n1', 'missed:n2']);
    expect(events.filter((e) => e.type === 'error')).toEqual([]);
  });

  it('forgets a room it could not rejoin, passes the error on, and catches up on the others', () => {
    const { feed, events, conversations } = beforeTheDrop();
    const port = new Port();
    conversations.connected('alice', port, true);
    feed(ready, joinOwn('#lobby'), replay('#lobby'));
    feed({ type: 'error', code: 'TOO_MANY_ROOMS', command: 'JOIN', text: 'Too many rooms', request: port.request('JOIN #rust') });
    expect(events.at(-1)).toMatchObject({ type: 'error', code: 'TOO_MANY_ROOMS' });
    expect(conversations.rooms).toEqual(['#lobby']);
    feed({ type: 'history', target: '#lobby', messages: [], request: port.request('HISTORY #lobby') });
    expect(port.lines).toEqual(['JOIN #rust', 'HISTORY #lobby AFTER id=l2 500', 'HISTORY * AFTER id=p1 500']);
  });

  it('a drop during the catch-up loses nothing: the next one starts from what was shown', () => {
    const { feed, shown, conversations } = beforeTheDrop();
    conversations.connected('alice', new Port(), true);
    feed(ready, joinOwn('#lobby'), replay('#lobby', m('l3', 3, 'bob', '#lobby')));
    conversations.disconnected();
    expect(shown()).toEqual([]);
    expect(conversations.lastId('#lobby')).toBe('l2');
    const port = new Port();
    conversations.connected('alice', port, true);
    feed(ready, joinOwn('#lobby'), replay('#lobby', m('l3', 3, 'bob', '#lobby')));
    expect(port.lines).toContain('HISTORY #lobby AFTER id=l2 500');
  });

  it('warns once when more live messages arrive during the catch-up than it holds, and shows the newest', () => {
    const { feed, shown, events, conversations } = beforeTheDrop();
    const port = new Port();
    conversations.connected('alice', port, true);
    feed(ready, joinOwn('#lobby'), replay('#lobby'));
    for (let i = 1; i <= MAX_HELD_LIVE + 5; i++) feed(live(m(`n${i}`, 10 + i, 'bob', '#lobby', 1000 + i)));
    expect(events.filter((e) => e.type === 'warning')).toEqual([{ type: 'warning', text: expect.stringContaining(`More than ${MAX_HELD_LIVE} new messages`) }]);
    expect(shown()).toEqual([]);
    feed({ type: 'history', target: '#lobby', messages: [], request: port.request('HISTORY #lobby') });
    expect(shown()).toHaveLength(MAX_HELD_LIVE);
    expect(shown()[0]).toBe('live:n6');
  });
});
