/**
 * The hold a connection keeps while joining, on its own, with a small
 * capacity: what it keeps, what it drops first, and what it never drops.
 */
import { describe, expect, it } from 'vitest';
import type { ClientEvent } from '../../../src/client/events.ts';
import { JoiningHold } from '../../../src/client/joining-hold.ts';
import type { ChatMessage } from '../../../src/protocol/messages.ts';

const m = (id: string): ChatMessage => ({ id, seq: 1, time: 1, from: 'bob', to: '#lobby', kind: 'say', text: id });
const live = (id: string): ClientEvent => ({ type: 'message', own: false, message: m(id) });
const joinOwn = (room: string): ClientEvent => ({ type: 'join', room, name: 'alice', own: true });
const replay = (...ids: string[]): ClientEvent => ({ type: 'history', target: '#lobby', messages: ids.map(m), request: undefined });
const label = (e: ClientEvent) => (e.type === 'message' ? e.message.id : e.type === 'join' ? `join ${e.room}` : e.type === 'history' ? `replay ${e.messages.length}` : e.type);

describe('JoiningHold [SESSION-5]', () => {
  it('keeps everything in order up to its capacity, and take() empties it', () => {
    const hold = new JoiningHold(4);
    for (const e of [joinOwn('#lobby'), replay('h1', 'h2'), live('a')]) hold.hold(e);
    expect(hold.joined).toEqual(['#lobby']);
    const { events, dropped } = hold.take();
    expect(events.map(label)).toEqual(['join #lobby', 'replay 2', 'a']);
    expect(dropped).toBe(0);
    expect(hold.take()).toEqual({ events: [], dropped: 0 });
  });

  it('counts a batch as its messages and drops the oldest events past its capacity, never an own join', () => {
    const hold = new JoiningHold(4);
    for (const e of [joinOwn('#lobby'), replay('h1', 'h2'), live('a'), live('b'), live('c')]) hold.hold(e);
    const { events, dropped } = hold.take();
    expect(events.map(label)).toEqual(['join #lobby', 'a', 'b', 'c']);
    expect(dropped).toBe(1);
  });

  it('drops the newest when nothing but own joins is left, and clear() forgets all', () => {
    const hold = new JoiningHold(2);
    for (const room of ['#a', '#b', '#c']) hold.hold(joinOwn(room));
    expect(hold.joined).toEqual(['#a', '#b']);
    hold.clear();
    expect(hold.take()).toEqual({ events: [], dropped: 0 });
  });
});
