/**
 * Rooms (SPEC §5) and what happens in them: room names, the lobby, JOIN and
 * its replies, PART, ROOMS, rooms that disappear, TOPIC, delivery to members
 * only, ME, presence per room ([PRES-1]), WHO with idle times ([PRES-3]) and
 * NICK to those who share a room ([NAME-3]).
 *
 * Runs against our server or, with CHAT_SERVER, any server: rooms get fresh
 * names, and tests look only at lines about their own rooms and clients.
 * Tests that need a server started with particular flags (--max-joins,
 * --max-rooms, --lobby none, --ping-interval) start their own.
 */
import { describe, expect, it } from 'vitest';
import type { LineClient, Received } from '../support/line-client.ts';
import { useOwnServers, user } from '../support/own-server.ts';
import { expectErr, isSortedIgnoringCase, joinRoom, repliesOf, settle, useServer } from '../support/suite.ts';
import { itOwnServer } from '../support/target.ts';
import {
  aboutRoom,
  chatOf,
  exchange,
  infoOf,
  leaveLobby,
  listed,
  part,
  roomOfLength,
  rooms,
  same,
  sayOne,
  shapeOf,
  textOfBytes,
  topicOf,
  whoOf,
} from '../support/chat.ts';

// Flood control off: the tests stay under a burst, but a few of them pipeline
// a dozen lines; flood.test.ts tests flood control.
const suite = useServer(['--flood-rate', '0']);
const own = useOwnServers();

/** Own server: the same clock. A server elsewhere may be a little off. */
const CLOCK_SKEW_MS = suite.own ? 5_000 : 300_000;

const joinOf = (room: string, name: string | undefined) => (m: Received) => m.command === 'JOIN' && same(m.params[0], room) && m.params[1] === name;
const leaveOf = (room: string, name: string | undefined) => (m: Received) => m.command === 'LEAVE' && same(m.params[0], room) && m.params[1] === name;

/** Joins every client to `room`, in order, then settles them all. */
async function joinAll(room: string, ...clients: LineClient[]): Promise<void> {
  for (const client of clients) await joinRoom(client, room);
  await settle(...clients);
}

/** Waits for `count` LEAVEs of `name`, then a barrier: returns them all, extra copies included. */
async function collectLeaves(client: LineClient, name: string, count: number): Promise<Received[]> {
  const isLeave = (m: Received) => m.command === 'LEAVE' && m.params[1] === name;
  const got: Received[] = [];
  if (count > 0) {
    await client.expect((m) => {
      if (isLeave(m)) got.push(m);
      return got.length === count;
    });
  }
  got.push(...(await client.barrier()).filter(isLeave));
  return got;
}

/** Lines of `got` that are about any of `names` (a room or user name of this test). */
function mentioning(got: readonly Received[], names: readonly string[]): Received[] {
  return got.filter((m) => m.params.some((p) => names.some((n) => same(p, n))));
}

describe('[ROOM-1] room names', () => {
  it('[ROOM-1] [ERR-1] a room name that breaks the rule gets ERR BAD_ROOM from JOIN, PART, TOPIC, WHO, SAY, ME and HISTORY, and creates nothing', async () => {
    const a = await suite.user();
    const tooLong = roomOfLength(suite.info.roomLen + 1);
    const bad = ['#', '#-dash', '#_under', '#a.b', '#a:b', '#é', '##x', '#a#b', tooLong, ':#spaced name'];
    const replies = repliesOf(a, await exchange(a, ...bad.map((r) => `JOIN ${r}`)));
    expect(replies).toHaveLength(bad.length);
    for (const reply of replies) expectErr(reply, 'BAD_ROOM', 'JOIN');

    const probe = '#-bad';
    const others = repliesOf(
      a,
      await exchange(a, `PART ${probe}`, `TOPIC ${probe}`, `TOPIC ${probe} :t`, `WHO ${probe}`, `SAY ${probe} :x`, `ME ${probe} :x`, `HISTORY ${probe} LATEST 1`),
    );
    expect(others.map((m) => `${m.params[0]} ${m.params[1]}`)).toEqual([
      'BAD_ROOM PART',
      'BAD_ROOM TOPIC',
      'BAD_ROOM TOPIC',
      'BAD_ROOM WHO',
      'BAD_ROOM SAY',
      'BAD_ROOM ME',
      'BAD_ROOM HISTORY',
    ]);
    const names = (await rooms(a)).map((r) => r.room);
    for (const r of [...bad, tooLong.slice(0, suite.info.roomLen)]) expect(names).not.toContain(r);
  });

  it('[ROOM-1] [LIMIT-5] a name of exactly ROOMLEN characters, one beginning with a digit, and one with - and _ are accepted as written', async () => {
    const a = await suite.user();
    const longest = roomOfLength(suite.info.roomLen);
    const digit = `#9${suite.room('d').slice(1)}`.slice(0, suite.info.roomLen);
    const dashed = `${suite.room('x')}-_z`.slice(0, suite.info.roomLen);
    for (const room of [longest, digit, dashed]) {
      const got = await joinRoom(a, room);
      expect(got[0]!.params).toEqual([room, a.name]);
    }
  });

  it('[ROOM-1] [ROOM-3] [MSG-2] rooms compare without regard to case: #Rust and #rust are one room, shown in the case of the name that created it', async () => {
    const [a, b] = await suite.users(2);
    const lower = suite.room('case');
    const created = `#CaSe${lower.slice(5)}`;
    await joinAll(created, a!);
    const bJoin = await joinRoom(b!, lower.toUpperCase());
    expect(bJoin[0]!.params).toEqual([created, b!.name]);
    expect(bJoin[1]!.params.slice(0, 2)).toEqual([created, '2']);
    expect((await a!.barrier()).filter(joinOf(created, b!.name)).map((m) => m.params[0])).toEqual([created]);

    // A second JOIN in yet another case is the same room.
    expectErr(repliesOf(b!, await exchange(b!, `JOIN ${lower}`))[0], 'ALREADY_IN_ROOM', 'JOIN');
    // Messages to it in any case are shown with the creator's name of the room.
    const echo = await sayOne(b!, lower, 'any case');
    expect(echo.to).toBe(created);
    const msg = (await a!.barrier()).find((m) => m.command === 'MSG' && m.params[6] === 'any case');
    expect(msg?.params).toEqual([...echo.params]);
    // One room in the list, in the creator's case.
    const mine = (await rooms(a!)).filter((r) => same(r.room, lower));
    expect(mine).toEqual([{ room: created, members: 2, topic: '' }]);
    const who = await whoOf(a!, lower.toUpperCase());
    expect('users' in who && who.users.map((u) => u.name).sort()).toEqual([a!.name, b!.name].sort());
  });
});

describe('[ROOM-2] the lobby', () => {
  it('[ROOM-2] [SESSION-5] [ROOM-3] [HIST-4] registering joins the lobby: WELCOME, JOIN <lobby> <name>, ROOM, HIST… ENDHIST, all before the reply to the next line', async (context) => {
    const lobby = suite.info.lobby;
    if (lobby === undefined) return context.skip('the server announces no LOBBY');
    const peer = await suite.user();
    await settle(peer);
    const said = await sayOne(peer, undefined, `lobby hello ${peer.name}`);
    expect(said.to).toBe(lobby);

    const a = await suite.connect();
    const name = suite.name('lob');
    a.write(`HELLO 1 ${name}\nPING order\n`);
    const got: Received[] = [];
    await a.expect((m) => {
      got.push(m);
      return m.command === 'PONG';
    });
    // Notices about others (MSG, JOIN, LEAVE) may come between; our own lines come in this order.
    const own = got.filter((m) => !['MSG', 'JOIN', 'LEAVE', 'NICK', 'TOPIC'].includes(m.command) || (m.command === 'JOIN' && m.params[1] === name));
    const shape = own.map((m) => m.command).filter((c, i, all) => !(c === 'HIST' && all[i - 1] === 'HIST'));
    expect(shape).toEqual(['WELCOME', 'JOIN', 'ROOM', ...(own.some((m) => m.command === 'HIST') ? ['HIST'] : []), 'ENDHIST', 'PONG']);
    expect(own[1]!.params).toEqual([lobby, name]);
    expect(own[2]!.params[0]).toBe(lobby);
    expect(Number(own[2]!.params[1])).toBeGreaterThanOrEqual(2);
    const hist = own.filter((m) => m.command === 'HIST').map(chatOf);
    expect(hist.length).toBeLessThanOrEqual(suite.info.replay);
    expect(own.at(-2)!.params).toEqual([lobby, String(hist.length)]);
    for (const h of hist) expect(h.to).toBe(lobby);
    // The replay holds the message just said, unless the server replays nothing.
    if (suite.info.replay > 0 && suite.own) expect(hist.map((h) => h.id)).toContain(said.id);
    expect((await peer.barrier()).filter(joinOf(lobby, name))).toHaveLength(1);
  });

  itOwnServer('[ROOM-2] [ROOM-4] [ROOM-6] [MSG-1] a client may leave the lobby; the empty lobby stays listed, and SAY without a target then gets ERR NOT_IN_ROOM', async () => {
    const { pool } = await own.start();
    const a = await user(pool, 'alone');
    const lobby = a.lobby!;
    expect(lobby).toBeDefined();
    const leave = await part(a, lobby, 'bye lobby');
    expect(leave.params).toEqual([lobby, 'alone', 'part', 'bye lobby']);
    expect(await rooms(a)).toEqual([{ room: lobby, members: 0, topic: '' }]);
    expectErr(repliesOf(a, await exchange(a, 'SAY :nobody hears'))[0], 'NOT_IN_ROOM', 'SAY');
    // It can come back.
    const back = await joinRoom(a, lobby);
    expect(back[0]!.params).toEqual([lobby, 'alone']);
  });

  itOwnServer('[ROOM-2] [SESSION-5] with --lobby none the greeting has no LOBBY and registering joins no room', async () => {
    const { pool } = await own.start(['--lobby', 'none']);
    const a = await pool.connect();
    expect(infoOf(a).lobby).toBeUndefined();
    const got = await exchange(a, 'HELLO 1 nolobby');
    expect(got.map((m) => m.command)).toEqual(['WELCOME']);
    expect(await rooms(a)).toEqual([]);
  });
});

describe('[ROOM-3] JOIN', () => {
  it('[ROOM-3] [ROOM-5] [HIST-4] [HIST-3] JOIN: every member, the joiner included, gets JOIN <room> <name>; the joiner then gets ROOM with the count and topic and the replay, before the reply to its next line; non-members get nothing', async () => {
    const [a, b, c] = await suite.users(3);
    const room = suite.room('j');
    // The creator: JOIN, ROOM <room> 1 :, an empty replay.
    const first = await exchange(a!, `JOIN ${room}`);
    expect(first.filter(aboutRoom(room)).map(shapeOf)).toEqual([`JOIN ${room} ${a!.name}`, `ROOM ${room} 1 `, `ENDHIST ${room} 0`]);
    const topic = await exchange(a!, `TOPIC ${room} :a topic: with colons`);
    expect(topic.filter(aboutRoom(room))).toHaveLength(1);
    const said = [await sayOne(a!, room, 'one'), await sayOne(a!, room, ' two ')];
    await settle(a!, c!);

    const got = await exchange(b!, `JOIN ${room}`);
    const mine = got.filter(aboutRoom(room));
    expect(mine.map((m) => m.command)).toEqual(['JOIN', 'ROOM', 'HIST', 'HIST', 'ENDHIST']);
    expect(mine[0]!.params).toEqual([room, b!.name]);
    expect(mine[1]!.params).toEqual([room, '2', 'a topic: with colons']);
    expect(mine.slice(2, 4).map((m) => m.params)).toEqual(said.map((s) => [...s.params]));
    expect(mine[4]!.params).toEqual([room, '2']);
    // The JOIN reaches the other member once, and no one outside the room.
    expect((await a!.barrier()).filter(aboutRoom(room)).map(shapeOf)).toEqual([`JOIN ${room} ${b!.name}`]);
    expect((await c!.barrier()).filter(aboutRoom(room))).toEqual([]);
  });

  it('[ROOM-3] JOIN of a room the client is in gets ERR ALREADY_IN_ROOM JOIN and changes nothing', async () => {
    const [a, b] = await suite.users(2);
    const room = suite.room('dup');
    await joinAll(room, a!, b!);
    const replies = repliesOf(a!, await exchange(a!, `JOIN ${room}`, `JOIN ${room.toUpperCase()}`));
    expect(replies).toHaveLength(2);
    for (const r of replies) expectErr(r, 'ALREADY_IN_ROOM', 'JOIN');
    expect((await b!.barrier()).filter(aboutRoom(room))).toEqual([]);
    expect((await listed(a!, room))?.members).toBe(2);
    if (suite.info.lobby !== undefined) {
      expectErr(repliesOf(a!, await exchange(a!, `JOIN ${suite.info.lobby}`))[0], 'ALREADY_IN_ROOM', 'JOIN');
    }
  });

  itOwnServer('[ROOM-3] [LIMIT-1] a client in MAXJOIN rooms gets ERR TOO_MANY_ROOMS JOIN, and nothing changes until it leaves one', async () => {
    const { pool } = await own.start(['--max-joins', '3']);
    const a = await user(pool, 'joiner');
    const b = await user(pool, 'other');
    expect(infoOf(a).maxJoin).toBe(3);
    // The lobby is one of the three.
    await joinRoom(a, '#one');
    await joinRoom(a, '#two');
    await settle(a, b);
    expectErr(repliesOf(a, await exchange(a, 'JOIN #three'))[0], 'TOO_MANY_ROOMS', 'JOIN');
    // The room was not created, and a is in no more rooms than before.
    expect((await rooms(a)).map((r) => r.room)).toEqual(['#lobby', '#one', '#two']);
    expect((await b.barrier()).filter((m) => m.command === 'JOIN')).toEqual([]);
    // An existing room counts too.
    await joinRoom(b, '#bees');
    expectErr(repliesOf(a, await exchange(a, 'JOIN #bees'))[0], 'TOO_MANY_ROOMS', 'JOIN');
    await part(a, '#one');
    const joined = await joinRoom(a, '#three');
    expect(joined[0]!.params).toEqual(['#three', 'joiner']);
  });

  itOwnServer('[ROOM-3] on a server that holds as many rooms as it allows (--max-rooms), a JOIN that would create one more gets ERR TOO_MANY_ROOMS JOIN; existing rooms can still be joined', async () => {
    const { pool } = await own.start(['--max-rooms', '3']);
    const [a, b] = [await user(pool, 'maker'), await user(pool, 'visitor')];
    // The lobby is one of the three.
    await joinRoom(a, '#first');
    await joinRoom(a, '#second');
    expectErr(repliesOf(a, await exchange(a, 'JOIN #third'))[0], 'TOO_MANY_ROOMS', 'JOIN');
    expectErr(repliesOf(b, await exchange(b, 'JOIN #third'))[0], 'TOO_MANY_ROOMS', 'JOIN');
    expect((await rooms(b)).map((r) => r.room)).toEqual(['#first', '#lobby', '#second']);
    expect((await joinRoom(b, '#FIRST'))[0]!.params).toEqual(['#first', 'visitor']);
    // A room that empties makes room for a new one.
    await part(a, '#second');
    expect((await joinRoom(b, '#third'))[1]!.params).toEqual(['#third', '1', '']);
  });
});

describe('[ROOM-4] PART', () => {
  it('[ROOM-4] [PRES-1] PART <room> :<reason>: every member, the leaver included, gets LEAVE <room> <name> part :<reason>; the leaver gets no more of the room', async () => {
    const [a, b, c] = await suite.users(3);
    const room = suite.room('p');
    await joinAll(room, a!, b!);
    const got = await exchange(b!, `PART ${room} :gone: for now `);
    expect(got.filter(aboutRoom(room)).map((m) => m.params)).toEqual([[room, b!.name, 'part', 'gone: for now ']]);
    expect((await a!.barrier()).filter(aboutRoom(room)).map((m) => m.params)).toEqual([[room, b!.name, 'part', 'gone: for now ']]);
    expect((await c!.barrier()).filter(aboutRoom(room))).toEqual([]);

    await sayOne(a!, room, 'after b left');
    expect((await b!.barrier()).filter(aboutRoom(room))).toEqual([]);
    expectErr(repliesOf(b!, await exchange(b!, `SAY ${room} :let me in`))[0], 'NOT_IN_ROOM', 'SAY');
    expect(await a!.who(room)).toEqual([a!.name]);

    // Without a reason: LEAVE <room> <name> part, with no text or an empty one.
    const last = await part(a!, room);
    expect(last.params.slice(0, 3)).toEqual([room, a!.name, 'part']);
    expect(last.params.slice(3).join('')).toBe('');
  });

  it('[ROOM-4] PART of a room the client is not in gets ERR NOT_IN_ROOM PART, whether the room exists or not', async () => {
    const [a, b] = await suite.users(2);
    const room = suite.room('np');
    await joinAll(room, b!);
    const replies = repliesOf(a!, await exchange(a!, `PART ${room}`, `PART ${suite.room('none')} :why`));
    expect(replies).toHaveLength(2);
    for (const r of replies) expectErr(r, 'NOT_IN_ROOM', 'PART');
    expect((await b!.barrier()).filter(aboutRoom(room))).toEqual([]);
  });

  it('[ROOM-4] [MSG-10] a client in no room at all stays online and can send and receive private messages', async () => {
    const [a, b] = await suite.users(2);
    await leaveLobby(a!);
    expect(await b!.who()).toContain(a!.name);
    const toA = await sayOne(b!, a!.name, 'still there?');
    const got = await a!.expect((m) => m.command === 'MSG' && m.params[6] === 'still there?');
    expect(got.params).toEqual([...toA.params]);
    const fromA = await sayOne(a!, b!.name, 'yes');
    expect(fromA.to).toBe(b!.name);
  });
});

describe('[ROOM-5] ROOMS', () => {
  it('[ROOM-5] ROOMS lists every room, ordered by name without regard to case, with its member count and topic, then ENDROOMS <count>', async () => {
    const [a, b, c] = await suite.users(3);
    const base = suite.room('ls').slice(1, 20);
    const names = [`#B${base}`, `#a${base}`, `#C${base}x`];
    await joinAll(names[0]!, a!, b!, c!);
    await joinAll(names[1]!, a!);
    await joinAll(names[2]!, b!, c!);
    await exchange(b!, `TOPIC ${names[2]} ::topic with  spaces `);
    const list = await rooms(a!);
    expect(isSortedIgnoringCase(list.map((r) => r.room))).toBe(true);
    const mine = list.filter((r) => names.includes(r.room));
    expect(mine).toEqual([
      { room: names[1], members: 1, topic: '' },
      { room: names[0], members: 3, topic: '' },
      { room: names[2], members: 2, topic: ':topic with  spaces ' },
    ]);
    if (suite.info.lobby !== undefined) expect(list.map((r) => r.room)).toContain(suite.info.lobby);
  });
});

describe('[ROOM-6] rooms that disappear', () => {
  it('[ROOM-6] [QUIT-3] a room without topic or history disappears when its last member leaves, by PART or by disconnecting', async () => {
    const [a, b] = await suite.users(2);
    const [r1, r2] = [suite.room('gone'), suite.room('lost')];
    await joinAll(r1, a!);
    await joinAll(r2, b!);
    await part(a!, r1);
    expect(await listed(a!, r1)).toBeUndefined();
    expectErr(await topicOf(a!, r1), 'NO_SUCH_ROOM', 'TOPIC');
    const who = await whoOf(a!, r1);
    expect('error' in who).toBe(true);
    if ('error' in who) expectErr(who.error, 'NO_SUCH_ROOM', 'WHO');
    // [PRES-2]: gone from its rooms before any later reply. a sees b go in
    // the lobby; without a lobby, b quits, which the server handles in order.
    const lobby = suite.info.lobby;
    if (lobby !== undefined) {
      await b!.destroy();
      await a!.expect(leaveOf(lobby, b!.name));
    } else {
      b!.send('QUIT');
      await b!.untilClosed();
    }
    expect(await listed(a!, r2)).toBeUndefined();
  });

  itOwnServer('[ROOM-6] [ROOM-1] (history in memory) an empty room is gone with its topic even after messages; created again, it has the new creator\'s case and no topic', async () => {
    const a = await suite.user();
    const room = suite.room('again');
    const upper = room.toUpperCase();
    await joinAll(upper, a!);
    await exchange(a!, `TOPIC ${upper} :old topic`);
    await sayOne(a!, upper, 'said before it emptied');
    await part(a!, upper);
    expect(await listed(a!, room)).toBeUndefined();
    const again = await joinRoom(a!, room);
    expect(again[0]!.params).toEqual([room, a!.name]);
    expect(again[1]!.params).toEqual([room, '1', '']);
    const topic = await topicOf(a!, room);
    expect(topic.params).toEqual([room, '*', '0', '']);
  });
});

describe('[ROOM-7] TOPIC', () => {
  it('[ROOM-7] TOPIC of a room that never had one is TOPIC <room> * 0 :, for members and non-members alike; of a room that does not exist, ERR NO_SUCH_ROOM TOPIC', async () => {
    const [a, b] = await suite.users(2);
    const room = suite.room('t');
    await joinAll(room, a!);
    expect((await topicOf(a!, room)).params).toEqual([room, '*', '0', '']);
    expect((await topicOf(b!, room.toUpperCase())).params).toEqual([room, '*', '0', '']);
    expectErr(await topicOf(b!, suite.room('nowhere')), 'NO_SUCH_ROOM', 'TOPIC');
  });

  it('[ROOM-7] [MSG-6] setting a topic: every member, the setter included, gets TOPIC <room> <setter> <time> :<text> once, others nothing; it is read back, listed and shown on JOIN; an empty text clears it', async () => {
    const [a, b, c, d] = await suite.users(4);
    const room = suite.room('ts');
    await joinAll(room, a!, b!);
    await settle(c!);
    const text = ':lead colon,  two spaces, é and 😀 ';
    const t0 = Date.now();
    const setter = (await exchange(a!, `TOPIC ${room} :${text}`)).filter(aboutRoom(room));
    const t1 = Date.now();
    expect(setter).toHaveLength(1);
    const [r, who, time, body] = setter[0]!.params;
    expect([setter[0]!.command, r, who, body]).toEqual(['TOPIC', room, a!.name, text]);
    expect(time).toMatch(/^[1-9][0-9]*$/);
    expect(Number(time)).toBeGreaterThanOrEqual(t0 - CLOCK_SKEW_MS);
    expect(Number(time)).toBeLessThanOrEqual(t1 + CLOCK_SKEW_MS);
    expect((await b!.barrier()).filter(aboutRoom(room)).map((m) => m.params)).toEqual([setter[0]!.params]);
    expect((await c!.barrier()).filter(aboutRoom(room))).toEqual([]);

    expect((await topicOf(c!, room)).params).toEqual(setter[0]!.params);
    expect((await listed(c!, room))?.topic).toBe(text);
    const joined = await joinRoom(d!, room);
    expect(joined[1]!.params).toEqual([room, '3', text]);

    const cleared = (await exchange(b!, `TOPIC ${room} :`)).filter((m) => m.command === 'TOPIC');
    expect(cleared.map((m) => [m.command, m.params[0], m.params[1], m.params[3]])).toEqual([['TOPIC', room, b!.name, '']]);
    expect((await topicOf(c!, room)).params[3]).toBe('');
    expect((await listed(c!, room))?.topic).toBe('');
  });

  it('[ROOM-7] [LIMIT-5] a topic of TOPICLEN bytes is accepted; one byte more gets ERR BAD_PARAMS TOPIC and changes nothing', async () => {
    const [a, b] = await suite.users(2);
    const room = suite.room('tl');
    await joinAll(room, a!, b!);
    const longest = textOfBytes(suite.info.topicLen);
    const set = (await exchange(a!, `TOPIC ${room} :${longest}`)).filter(aboutRoom(room));
    expect(set.map((m) => m.params[3])).toEqual([longest]);
    await settle(b!);
    const over = `${longest}x`;
    expectErr(repliesOf(a!, await exchange(a!, `TOPIC ${room} :${over}`))[0], 'BAD_PARAMS', 'TOPIC');
    expect((await b!.barrier()).filter(aboutRoom(room))).toEqual([]);
    expect((await topicOf(b!, room)).params[3]).toBe(longest);
  });

  it('[ROOM-7] only a member may set the topic: ERR NOT_IN_ROOM TOPIC, and nothing changes', async () => {
    const [a, b] = await suite.users(2);
    const room = suite.room('tn');
    await joinAll(room, a!);
    expectErr(repliesOf(b!, await exchange(b!, `TOPIC ${room} :intruder`))[0], 'NOT_IN_ROOM', 'TOPIC');
    expect((await a!.barrier()).filter(aboutRoom(room))).toEqual([]);
    expect((await topicOf(a!, room)).params).toEqual([room, '*', '0', '']);
    // A room that does not exist: the client is not in it, and it does not exist.
    const missing = repliesOf(b!, await exchange(b!, `TOPIC ${suite.room('void')} :x`))[0];
    expectErr(missing, missing?.params[0] === 'NO_SUCH_ROOM' ? 'NO_SUCH_ROOM' : 'NOT_IN_ROOM', 'TOPIC');
  });
});

describe('delivery to the members of a room', () => {
  it('[MSG-2] [MSG-3] [ROOM-1] a message to a room reaches its other members once, with <to> the room as created, and no one else', async () => {
    const [a, b, c, d] = await suite.users(4);
    const room = suite.room('dl');
    await joinAll(room, a!, b!, c!);
    await settle(d!);
    const echo = await sayOne(a!, room.toUpperCase(), 'for members only');
    expect([echo.from, echo.to, echo.kind, echo.text]).toEqual([a!.name, room, 'say', 'for members only']);
    for (const member of [b!, c!]) {
      const got = (await member.barrier()).filter(aboutRoom(room));
      expect(got.map((m) => [m.command, ...m.params])).toEqual([['MSG', ...echo.params]]);
    }
    expect((await d!.barrier()).filter(aboutRoom(room))).toEqual([]);
    expect((await a!.barrier()).filter(aboutRoom(room))).toEqual([]);
  });

  it('[MSG-1] a message to a room the client is not in gets ERR NOT_IN_ROOM, to a room that does not exist ERR NO_SUCH_ROOM; nothing is delivered', async () => {
    const [a, b] = await suite.users(2);
    const room = suite.room('ni');
    await joinAll(room, b!);
    const replies = repliesOf(
      a!,
      await exchange(a!, `SAY ${room} :in?`, `ME ${room} :knocks`, `SAY ${suite.room('nx')} :anyone?`, `ME ${suite.room('nx')} :shouts`),
    );
    expect(replies.map((m) => `${m.params[0]} ${m.params[1]}`)).toEqual(['NOT_IN_ROOM SAY', 'NOT_IN_ROOM ME', 'NO_SUCH_ROOM SAY', 'NO_SUCH_ROOM ME']);
    expect((await b!.barrier()).filter(aboutRoom(room))).toEqual([]);
  });

  it('[MSG-1] [LINE-3] SAY with one parameter says it in the lobby: SAY #room says "#room"', async (context) => {
    const lobby = suite.info.lobby;
    if (lobby === undefined) return context.skip('the server announces no LOBBY');
    const [a, b] = await suite.users(2);
    await settle(b!);
    const room = suite.room('lit');
    a!.send(`SAY ${room}`);
    const echo = chatOf(await a!.expect('ECHO'));
    expect([echo.to, echo.kind, echo.text]).toEqual([lobby, 'say', room]);
    expect(await listed(a!, room)).toBeUndefined();
    const msg = await b!.expect((m) => m.command === 'MSG' && m.params[0] === echo.id);
    expect(msg.params).toEqual([...echo.params]);
  });

  it('[MSG-9] [MSG-1] ME [<target>] :<action> is checked and delivered like SAY, with kind me', async () => {
    const [a, b] = await suite.users(2);
    const room = suite.room('me');
    await joinAll(room, a!, b!);
    const inRoom = await sayOne(a!, room, 'waves', 'ME');
    expect([inRoom.from, inRoom.to, inRoom.kind, inRoom.text]).toEqual([a!.name, room, 'me', 'waves']);
    const got = await b!.expect((m) => m.command === 'MSG' && m.params[0] === inRoom.id);
    expect(got.params).toEqual([...inRoom.params]);
    const priv = await sayOne(a!, b!.name, 'nods', 'ME');
    expect([priv.to, priv.kind]).toEqual([b!.name, 'me']);
    expect((await b!.expect((m) => m.command === 'MSG' && m.params[0] === priv.id)).params).toEqual([...priv.params]);
    if (suite.info.lobby !== undefined) expect((await sayOne(a!, undefined, 'bows', 'ME')).to).toBe(suite.info.lobby);
    expectErr(repliesOf(a!, await exchange(a!, `ME ${room} :`))[0], 'BAD_PARAMS', 'ME');
  });
});

describe('[PRES-1] presence per room', () => {
  it('[PRES-1] [ROOM-3] a JOIN reaches the members of that room only', async () => {
    const [a, b, x] = await suite.users(3);
    const [r1, r2] = [suite.room('pj'), suite.room('pk')];
    await joinAll(r1, a!);
    await joinAll(r2, b!);
    await joinRoom(x!, r1);
    expect((await a!.barrier()).filter(aboutRoom(r1)).map(shapeOf)).toEqual([`JOIN ${r1} ${x!.name}`]);
    expect(mentioning(await b!.barrier(), [r1, r2])).toEqual([]);
  });

  for (const [how, leave, reason, text] of [
    ['QUIT :<reason>', (c: LineClient) => c.send('QUIT :off to bed'), 'quit', 'off to bed'],
    ['a dropped connection', (c: LineClient) => void c.destroy(), 'lost', undefined],
  ] as const) {
    it(`[PRES-1] [QUIT-3] leaving the server by ${how}: each room it was in gets LEAVE <room> <name> ${reason}, and only the members of that room`, async () => {
      const [a, b, c, x] = await suite.users(4);
      const [r1, r2] = [suite.room('q'), suite.room('q')];
      await joinAll(r1, a!, x!);
      await joinAll(r2, b!, x!);
      await settle(a!, b!, c!);
      leave(x!);
      const lobby = suite.info.lobby === undefined ? [] : [suite.info.lobby];
      // a first: once a has its LEAVE, the departure is done, so the barriers of b and c show all of theirs.
      for (const [client, shared] of [
        [a!, [...lobby, r1]],
        [b!, [...lobby, r2]],
        [c!, lobby],
      ] as const) {
        const leaves = await collectLeaves(client, x!.name!, shared.length);
        expect(leaves.map((m) => m.params[0]).sort(), `rooms of the LEAVEs ${client.name} got`).toEqual([...shared].sort());
        for (const m of leaves) {
          expect(m.params[2], m.raw).toBe(reason);
          if (text !== undefined) expect(m.params[3], m.raw).toBe(text);
        }
      }
      expect(await a!.who()).not.toContain(x!.name);
    });
  }

  it('[PRES-1] the LEAVE lines of one departure carry the reason and text, once per shared room', async () => {
    const [a, x] = await suite.users(2);
    const [r1, r2] = [suite.room('lr'), suite.room('ls')];
    await joinAll(r1, a!, x!);
    await joinAll(r2, a!, x!);
    x!.send('QUIT :see: you ');
    await x!.untilClosed();
    const rooms = [...(suite.info.lobby ? [suite.info.lobby] : []), r1, r2];
    const leaves: Received[] = [];
    await a!.expect((m) => {
      if (m.command === 'LEAVE' && m.params[1] === x!.name) leaves.push(m);
      return leaves.length === rooms.length;
    });
    expect((await a!.barrier()).filter((m) => m.command === 'LEAVE' && m.params[1] === x!.name)).toEqual([]);
    expect(leaves.map((m) => m.params[0]).sort()).toEqual([...rooms].sort());
    for (const m of leaves) expect(m.params.slice(1)).toEqual([x!.name, 'quit', 'see: you ']);
  });
});

describe('[PRES-3] WHO', () => {
  it('[PRES-3] WHO lists USER <name> <idle> for every online client, ordered without regard to case, then ENDWHO <count>; a client that just spoke is 0 seconds idle', async () => {
    const [a, b] = await suite.users(2, 'W');
    // In the same write as the WHO, so that no second can pass between them.
    const who = await whoOf(a!, undefined, [`SAY ${a!.name} :just spoke`]);
    if (!('users' in who)) throw new Error(who.error.raw);
    expect(isSortedIgnoringCase(who.users.map((u) => u.name))).toBe(true);
    const names = who.users.map((u) => u.name);
    expect(names).toContain(a!.name);
    expect(names).toContain(b!.name);
    expect(new Set(names.map((n) => n.toLowerCase())).size).toBe(names.length);
    for (const u of who.users) expect(Number.isSafeInteger(u.idle) && u.idle >= 0).toBe(true);
    expect(who.users.find((u) => u.name === a!.name)!.idle).toBe(0);
  });

  it('[PRES-3] WHO <room> lists exactly its members, to members and non-members; WHO of a room that does not exist gets ERR NO_SUCH_ROOM WHO', async () => {
    const [a, b, c] = await suite.users(3);
    const room = suite.room('w');
    await joinAll(room, b!, a!);
    for (const asker of [a!, c!]) {
      const who = await whoOf(asker, room);
      if (!('users' in who)) throw new Error(who.error.raw);
      expect(who.users.map((u) => u.name)).toEqual([a!.name!, b!.name!].sort((p, q) => (p.toLowerCase() < q.toLowerCase() ? -1 : 1)));
    }
    const none = await whoOf(c!, suite.room('nobody'));
    if (!('error' in none)) throw new Error('WHO of a missing room answered USER lines');
    expectErr(none.error, 'NO_SUCH_ROOM', 'WHO');
  });

  itOwnServer('[PRES-3] idle counts the seconds since the client last sent SAY or ME: other lines do not reset it, ME does', async () => {
    // The server's own PING after 1.5 s of silence is the clock: no sleep.
    const { pool } = await own.start(['--ping-interval', '1.5']);
    const x = await pool.connect({ answerPings: false });
    await x.register('idler');
    const y = await user(pool, 'watcher');
    await sayOne(x, undefined, 'then silence');
    const ping = await x.expect('PING', 10_000);
    const idleIn = (got: readonly Received[]) => Number(got.find((m) => m.command === 'USER' && m.params[0] === 'idler')?.params[1]);
    expect(idleIn(await exchange(y, 'WHO'))).toBeGreaterThanOrEqual(1);
    // Lines that are not SAY or ME leave it as it is.
    const busy = await exchange(x, `PONG ${ping.params[0]}`, 'JOIN #busy', 'TOPIC #busy :busy', 'ROOMS', 'HISTORY #busy LATEST 1', 'NICK idler', 'WHO');
    expect(idleIn(busy)).toBeGreaterThanOrEqual(1);
    // ME does (in the same read as the WHO, so no second can pass between).
    expect(idleIn(await exchange(x, 'ME #busy :waves', 'WHO'))).toBe(0);
  });
});

describe('[NAME-3] NICK and rooms', () => {
  it('[NAME-3] NICK reaches the renamed client and every client that shares a room with it exactly once, and no one else', async () => {
    const [x, a, b, c] = await suite.users(4);
    const [r1, r2, r3] = [suite.room('n'), suite.room('n'), suite.room('n')];
    await joinAll(r1, x!, a!);
    await joinAll(r2, x!, a!, b!);
    await joinAll(r3, c!);
    // b shares only r2, c shares nothing.
    await leaveLobby(b!);
    await leaveLobby(c!);
    await settle(x!, a!, b!, c!);
    const old = x!.name!;
    const renamed = suite.name('N');
    const own = (await exchange(x!, `NICK ${renamed}`)).filter((m) => m.command === 'NICK' && m.params[0] === old);
    expect(own.map((m) => m.params)).toEqual([[old, renamed]]);
    x!.name = renamed;
    for (const [client, copies] of [
      [a!, 1],
      [b!, 1],
      [c!, 0],
    ] as const) {
      const got = (await client.barrier()).filter((m) => m.command === 'NICK' && m.params[0] === old);
      expect(got.map((m) => m.params), `NICK seen by ${client.name}`).toEqual(Array.from({ length: copies }, () => [old, renamed]));
    }
    // The rooms show the new name.
    const who = await whoOf(a!, r1);
    expect('users' in who && who.users.map((u) => u.name).sort()).toEqual([a!.name, renamed].sort());
    const echo = await sayOne(x!, r2, 'renamed');
    expect(echo.from).toBe(renamed);
  });
});
