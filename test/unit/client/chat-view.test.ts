/**
 * The chat as the user sees it, without a terminal: a recording stand-in
 * for the session takes the requests, and session events are fed by hand.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { ChatView, type ChatClient } from '../../../src/client/chat-view.ts';
import type { ServerLimits } from '../../../src/client/connection.ts';
import type { SessionEvent } from '../../../src/client/events.ts';
import { clock, type Render } from '../../../src/client/format.ts';
import { interpret } from '../../../src/client/input.ts';
import { sanitize } from '../../../src/client/sanitize.ts';
import { createStyle } from '../../../src/client/style.ts';
import { foldName } from '../../../src/protocol/names.ts';

const T = 1764236523001;
const render: Render = { style: createStyle({ color: false }), text: sanitize, stamp: clock('UTC', () => T) };

class FakeClient implements ChatClient {
  readonly calls: string[] = [];
  rooms: string[] = [];
  lobby: string | undefined = '#lobby';
  online = true;
  limits: ServerLimits | undefined = { line: 2048, nameLength: 24, roomLength: 32, topicLength: 10, historyPage: 50, maxJoin: 50, replay: 20 };
  room(name: string): string | undefined {
    return this.rooms.find((r) => foldName(r) === foldName(name));
  }
  say(target: string | undefined, text: string): void {
    this.calls.push(`say ${target} ${text}`);
  }
  me(target: string | undefined, text: string): void {
    this.calls.push(`me ${target} ${text}`);
  }
  nick(name: string): 'sent' | 'same' | 'offline' {
    if (!this.online) return 'offline';
    this.calls.push(`nick ${name}`);
    return 'sent';
  }
  #ask(call: string): boolean {
    if (this.online) this.calls.push(call);
    return this.online;
  }
  who(room?: string): boolean {
    return this.#ask(`who ${room}`);
  }
  join(room: string): boolean {
    return this.#ask(`join ${room}`);
  }
  part(room: string, reason = ''): boolean {
    return this.#ask(`part ${room} ${reason}`);
  }
  listRooms(): boolean {
    return this.#ask('rooms');
  }
  topic(room: string, text?: string): boolean {
    return this.#ask(`topic ${room} ${text}`);
  }
  history(target: string, limit: number): boolean {
    return this.#ask(`history ${target} ${limit}`);
  }
}

let client: FakeClient;
let view: ChatView;

/** Feeds events the way the session reports them: its room list is already updated when an own join or leave arrives. */
function feed(...events: SessionEvent[]): string[] {
  return events.flatMap((event) => {
    if (event.type === 'join' && event.own && client.room(event.room) === undefined) client.rooms.push(event.room);
    if (event.type === 'leave' && event.own) client.rooms = client.rooms.filter((r) => foldName(r) !== foldName(event.room));
    return view.onEvent(event).lines;
  });
}
const type = (line: string) => {
  const action = interpret(line);
  if (action.kind === 'quit') throw new Error('quit is the terminal\'s');
  return view.act(action);
};
const joinOwn = (room: string): SessionEvent => ({ type: 'join', room, name: 'alice', own: true });
const ready: SessionEvent = { type: 'ready', name: 'alice', assigned: false, users: ['alice', 'bob'], serverName: 'x', joined: ['#lobby'] };
const live = (from: string, to: string, text: string, own = false): SessionEvent => ({
  type: 'message',
  own,
  origin: 'live',
  message: { id: `${from}-${text}`, seq: 1, time: T, from, to, kind: 'say', text },
});

beforeEach(() => {
  client = new FakeClient();
  view = new ChatView(client, render, { interactive: true, emoji: ['tada'] });
});

describe('ChatView: the active room or conversation', () => {
  it('starts with nothing active, then the lobby the server joins us to, shown in the prompt', () => {
    expect(view.prompt).toBe('> ');
    expect(type('hello')).toEqual(['! No room or conversation is active: /join #room, or /msg <name> <text>.']);
    expect(client.calls).toEqual([]);
    feed(ready, joinOwn('#lobby'));
    expect(view.active).toBe('#lobby');
    expect(view.prompt).toBe('#lobby> ');
    expect(type('hello')).toEqual([]);
    expect(client.calls).toEqual(['say #lobby hello']);
  });

  it('colours the target in the prompt when colour is on', () => {
    const coloured = new ChatView(client, { ...render, style: createStyle({ color: true }) }, { interactive: true });
    coloured.onEvent(joinOwn('#lobby'));
    expect(coloured.prompt).toBe('\u001b[1m#lobby\u001b[22m> ');
  });

  it('/join makes the room active at once, and a refused join goes back to where the user was', () => {
    feed(ready, joinOwn('#lobby'));
    expect(type('/join #rust')).toEqual([]);
    expect(view.prompt).toBe('#rust> ');
    type('first words');
    expect(client.calls).toEqual(['join #rust', 'say #rust first words']);
    feed(joinOwn('#rust'));
    expect(view.active).toBe('#rust');

    type('/join #full');
    expect(view.active).toBe('#full');
    feed({ type: 'error', code: 'TOO_MANY_ROOMS', command: 'JOIN', text: 'Too many rooms', request: { command: 'JOIN', text: '#full', target: '#full' } });
    expect(view.active).toBe('#rust');
  });

  it('/join of a room it is in only switches to it', () => {
    feed(ready, joinOwn('#lobby'), joinOwn('#rust'));
    expect(type('/join #LOBBY')).toEqual(['* You are already in #lobby; it is now the active room.']);
    expect(view.active).toBe('#lobby');
    expect(client.calls).toEqual([]);
  });

  it('/switch to a room it is in or to a person; /query to a person; text then goes there', () => {
    feed(ready, joinOwn('#lobby'), joinOwn('#rust'));
    expect(type('/switch #go')).toEqual(['! You are not in #go; /join #go to join it.']);
    expect(type('/switch #RUST')).toEqual(['* #rust is now the active room.']);
    expect(view.prompt).toBe('#rust> ');
    expect(type('/query bob')).toEqual(['* Talking privately with bob; /switch <#room> to go back.']);
    expect(view.prompt).toBe('@bob> ');
    type('psst');
    type('/me winks');
    expect(client.calls).toEqual(['say bob psst', 'me bob winks']);
    expect(type('/switch alice')).toEqual(['! That is you.']);
    expect(type('/switch b@d')[0]).toMatch(/^! A name /);
  });

  it('follows a private conversation when the other person renames', () => {
    feed(ready, joinOwn('#lobby'));
    type('/query bob');
    feed({ type: 'nick', from: 'bob', to: 'robert', own: false });
    expect(view.active).toBe('robert');
  });

  it('/part leaves the active room (or the one named), then falls back to the lobby; in a private conversation it closes it', () => {
    feed(ready, joinOwn('#lobby'), joinOwn('#rust'));
    type('/switch #rust');
    type('/part see you');
    expect(client.calls).toEqual(['part #rust see you']);
    feed({ type: 'leave', room: '#rust', name: 'alice', reason: 'part', text: 'see you', own: true });
    expect(view.active).toBe('#lobby');
    expect(type('/part #rust')).toEqual(['! You are not in #rust.']);
    type('/query bob');
    expect(type('/part')).toEqual(['* Closed the conversation with bob.']);
    expect(view.active).toBe('#lobby');
    // Leaving the lobby too: nothing left.
    feed({ type: 'leave', room: '#lobby', name: 'alice', reason: 'part', text: '', own: true });
    expect(view.active).toBeUndefined();
    expect(type('/part')).toEqual(['! You are not in any room.']);
  });

  it('a room it could not rejoin after a reconnect stops being active', () => {
    feed(ready, joinOwn('#lobby'), joinOwn('#rust'));
    type('/switch #rust');
    client.rooms = ['#lobby'];
    feed({ type: 'error', code: 'TOO_MANY_ROOMS', command: 'JOIN', text: 'x', request: { command: 'JOIN', text: '#rust', target: '#rust', tag: 'restore' } });
    expect(view.active).toBe('#lobby');
  });
});

describe('ChatView: commands', () => {
  beforeEach(() => {
    feed(ready, joinOwn('#lobby'));
  });

  it('/msg sends privately without switching; a bad name or room is refused here', () => {
    type('/msg bob hi there');
    type('/msg #rust hi rust');
    expect(client.calls).toEqual(['say bob hi there', 'say #rust hi rust']);
    expect(view.active).toBe('#lobby');
    expect(type('/msg b!b x')[0]).toMatch(/^! A name /);
    expect(type('/msg #b!d x')[0]).toMatch(/^! A room name /);
  });

  it('/topic reads or sets the active room\'s topic, within TOPICLEN; not in a private conversation', () => {
    type('/topic');
    type('/topic short');
    expect(client.calls).toEqual(['topic #lobby undefined', 'topic #lobby short']);
    expect(type('/topic far too long for ten')).toEqual(['! A topic is at most 10 bytes.']);
    type('/query bob');
    expect(type('/topic')).toEqual(['! /topic is about the active room; /switch to a room first.']);
  });

  it('/history asks for the last n of the active target, within HISTLIMIT', () => {
    type('/history');
    type('/history 7');
    type('/query bob');
    type('/history 3');
    expect(client.calls).toEqual(['history #lobby 20', 'history #lobby 7', 'history bob 3']);
    expect(type('/history 51')).toEqual(['! The server gives at most 50 messages at a time.']);
  });

  it('/who, /rooms, /nick', () => {
    type('/who');
    type('/who #lobby');
    type('/rooms');
    type('/nick Alicia');
    expect(client.calls).toEqual(['who undefined', 'who #lobby', 'rooms', 'nick Alicia']);
    expect(type('/who #no!')[0]).toMatch(/^! A room name /);
    expect(type('/nick you')[0]).toMatch(/reserved/);
  });

  it('says so when a command cannot be sent because the connection is down', () => {
    client.online = false;
    for (const command of ['/who', '/rooms', '/join #x', '/topic', '/history', '/nick bob']) {
      expect(type(command)[0]).toMatch(/^! Not connected; \/\w+ was not sent\./);
    }
    // Messages are the session's to queue.
    type('queued text');
    expect(client.calls).toEqual(['say #lobby queued text']);
  });

  it('an unknown command shows help and sends nothing; /help shows help', () => {
    const lines = type('/frobnicate now');
    expect(lines[0]).toBe('! Unknown command /frobnicate; nothing was sent.');
    expect(lines).toContain('  /join <#room>           join a room; it becomes the active one');
    expect(type('/help')[0]).toMatch(/^Type a message/);
    expect(client.calls).toEqual([]);
  });
});

describe('ChatView: what events print', () => {
  it('[CLIENT-13] rings the bell for a live mention in interactive mode only, never for history or own messages', () => {
    feed(ready, joinOwn('#lobby'));
    expect(view.onEvent(live('bob', '#lobby', 'hi Alice')).bell).toBe(true);
    expect(view.onEvent(live('bob', '#lobby', 'hi everyone')).bell).toBe(false);
    expect(view.onEvent(live('alice', '#lobby', 'I am alice', true)).bell).toBe(false);
    expect(view.onEvent({ ...live('bob', '#lobby', 'hi alice'), origin: 'replay' } as SessionEvent).bell).toBe(false);
    expect(view.onEvent({ ...live('bob', '#lobby', 'hi alice'), origin: 'missed' } as SessionEvent).bell).toBe(false);
    const piped = new ChatView(client, render, { interactive: false });
    piped.onEvent(ready);
    expect(piped.onEvent(live('bob', '#lobby', 'hi alice')).bell).toBe(false);
  });

  it('mentions follow a rename', () => {
    feed(ready, joinOwn('#lobby'), { type: 'nick', from: 'alice', to: 'Alicia', own: true });
    expect(view.onEvent(live('bob', '#lobby', 'hi alicia')).bell).toBe(true);
    expect(view.onEvent(live('bob', '#lobby', 'hi alice')).bell).toBe(false);
  });

  it('[PRES-1] tells a quit once, however many rooms it is reported in, and again after the person came back', () => {
    feed(ready, joinOwn('#lobby'), joinOwn('#rust'));
    const quit = (room: string): SessionEvent => ({ type: 'leave', room, name: 'bob', reason: 'quit', text: 'bye', own: false });
    expect(feed(quit('#lobby'), quit('#rust'))).toEqual(['* bob left (quit: bye)']);
    expect(feed({ type: 'join', room: '#lobby', name: 'bob', own: false }, quit('#lobby'))).toEqual(['* bob joined #lobby', '* bob left (quit: bye)']);
    // Parts are per room, each told.
    const part = (room: string): SessionEvent => ({ type: 'leave', room, name: 'carol', reason: 'part', text: '', own: false });
    expect(feed(part('#lobby'), part('#rust'))).toEqual(['* carol left #lobby', '* carol left #rust']);
  });

  it('names the room of a message once the user is in two rooms', () => {
    feed(ready, joinOwn('#lobby'));
    expect(feed(live('bob', '#lobby', 'one'))).toEqual(['[09:42] bob: one']);
    feed(joinOwn('#rust'));
    expect(feed(live('bob', '#lobby', 'two'))).toEqual(['[09:42] #lobby bob: two']);
  });

  it('completes names seen in WHO, joins and messages, and rooms it is in or saw listed', () => {
    feed(ready, joinOwn('#lobby'));
    feed({ type: 'who', room: undefined, users: [{ name: 'carol', idle: 0 }] });
    feed({ type: 'join', room: '#lobby', name: 'dave', own: false }, live('erin', '#lobby', 'hi'));
    feed({ type: 'rooms', rooms: [{ room: '#rust', members: 2, topic: '' }] });
    expect(view.complete('/msg c')).toEqual([['carol '], 'c']);
    expect(view.complete('d')).toEqual([['dave: '], 'd']);
    expect(view.complete('hi e')).toEqual([['erin '], 'e']);
    expect(view.complete('/join #r')).toEqual([['#rust '], '#r']);
    expect(view.complete('yay :ta')).toEqual([[':tada: '], ':ta']);
    feed({ type: 'leave', room: '#lobby', name: 'dave', reason: 'quit', text: '', own: false });
    expect(view.complete('d')).toEqual([[], 'd']);
  });

  it('[CLIENT-1] never offers a name or room with characters a terminal acts on, from JOIN, MSG, WHO, ROOMS, NICK or its own rooms', () => {
    const hostile = ['d\u001b[2Jave', 'd\u202eevil', 'd\u009b31m', 'd\u2028x', 'd\u0007', 'd' + 'x'.repeat(64), 'd ave', 'dävid'];
    const rooms = ['#r\u001b]0;owned\u0007', '#r\u202eust', '#r\u0085', '#r' + 'x'.repeat(63), '#r ust'];
    feed(ready, joinOwn('#lobby'));
    for (const name of hostile) {
      feed(
        { type: 'join', room: '#lobby', name, own: false },
        live(name, '#lobby', 'hi'),
        { type: 'who', room: undefined, users: [{ name, idle: 0 }] },
        { type: 'nick', from: 'nobody', to: name, own: false },
        { type: 'ready', name: 'alice', assigned: false, users: [name], serverName: 'x', joined: [] },
      );
    }
    for (const room of rooms) {
      feed({ type: 'rooms', rooms: [{ room, members: 1, topic: '' }] }, { type: 'room', room, members: 1, topic: '' }, live('bob', room, 'hi'));
      // Even a room the server says we joined is not offered when it is not a room name.
      client.rooms.push(room);
    }
    feed({ type: 'join', room: '#lobby', name: 'dora', own: false }, { type: 'join', room: '#rust', name: 'bob', own: false });
    expect(view.complete('d')).toEqual([['dora: '], 'd']);
    expect(view.complete('hi D')).toEqual([['dora '], 'D']);
    expect(view.complete('/join #r')).toEqual([['#rust '], '#r']);
    expect(view.complete('#')).toEqual([['#lobby ', '#rust '], '#']);
  });
});
