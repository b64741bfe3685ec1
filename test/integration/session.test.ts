/**
 * Session, names and command grammar over real TCP: the greeting, HELLO and
 * its errors, the lobby join that follows WELCOME, the greeting state, NICK,
 * command words and parameters (SPEC §2, §4). Runs against our server or,
 * with CHAT_SERVER, any server.
 */
import { describe, expect, it } from 'vitest';
import type { Received } from '../support/line-client.ts';
import { about, expectErr, isSortedIgnoringCase, joinRoom, readGreeting, repliesOf, settle, useServer } from '../support/suite.ts';

const suite = useServer();

const isJoinOf = (name: string) => (m: Received) => m.command === 'JOIN' && m.params[1] === name;

describe('greeting', () => {
  it('[SESSION-1] [LIMIT-1] [LIMIT-4] the first line is LINECHAT <versions> <server-name> with LINE, READCAP and NAMELEN, and READCAP > LINE', async () => {
    const client = await suite.connect({ greeting: false });
    const first = await client.expect(() => true);
    expect(first.raw.startsWith('LINECHAT ')).toBe(true);
    const info = readGreeting(first);
    expect(info.versions).toContain('1');
    for (const v of info.versions) expect(v).toMatch(/^[^\s,]+$/);
    expect(info.serverName).toMatch(/^\S+$/);
    expect(info.line).toBeGreaterThan(0);
    expect(info.nameLen).toBeGreaterThan(0);
    expect(info.readCap).toBeGreaterThan(info.line);
    // The greeting ends with the free text; every parameter between is a key=value.
    expect(first.params.length).toBe(2 + info.keys.size + 1);
    for (const key of info.keys.keys()) expect(key).toMatch(/^[A-Za-z0-9_-]+$/);
    // The room limits of §3 ([LIMIT-1]); readGreeting has checked they are integers.
    expect(info.roomLen).toBeGreaterThanOrEqual(2);
    expect(info.topicLen).toBeGreaterThan(0);
    expect(info.histLimit).toBeGreaterThan(0);
    expect(info.maxJoin).toBeGreaterThan(0);
    expect(info.replay).toBeLessThanOrEqual(info.histLimit);
    // A lobby, when there is one, is a room name ([ROOM-1], [ROOM-2]).
    if (info.lobby !== undefined) {
      expect(info.lobby).toMatch(/^#[A-Za-z0-9][A-Za-z0-9_-]*$/);
      expect(info.lobby.length).toBeLessThanOrEqual(info.roomLen);
    }
    // Nothing else arrives until the client speaks.
    expect(repliesOf(client, await client.barrier())).toEqual([]);
  });
});

describe('HELLO', () => {
  it('[SESSION-3] [SESSION-5] [ROOM-2] [ROOM-3] [HIST-4] HELLO 1 <name> gets WELCOME <name>, then the lobby join (JOIN, ROOM, HIST… ENDHIST) before the reply to its next line; the lobby\'s members get JOIN <lobby> <name>', async (context) => {
    const lobby = suite.info.lobby;
    if (lobby === undefined) context.skip('the server has no lobby');
    const [a, b] = await suite.users(2);
    a!.send(`SAY :before ${suite.name('x')}`);
    await a!.expect('ECHO');
    const c = await suite.connect();
    const name = suite.name('c');
    // HELLO and the next line in one write: the join replies still come first.
    c.write(`HELLO 1 ${name}\nPING next\n`);
    const welcome = await c.expect((m) => m.command === 'WELCOME' || m.command === 'ERR');
    expect(welcome.command).toBe('WELCOME');
    // WELCOME <name> <key> :<text> ([NAME-5]).
    expect(welcome.params).toHaveLength(3);
    expect(welcome.params[0]).toBe(name);
    expect(welcome.params[1]).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    const lines = await c.barrier();
    const pong = lines.findIndex((m) => m.command === 'PONG' && m.params[0] === 'next');
    expect(pong).toBeGreaterThan(0);
    const join = lines.slice(0, pong);
    expect(join[0]).toMatchObject({ command: 'JOIN', params: [lobby, name] });
    expect(join[1]!.command).toBe('ROOM');
    expect(join[1]!.params[0]).toBe(lobby);
    expect(Number(join[1]!.params[1])).toBeGreaterThanOrEqual(3);
    const end = join.at(-1)!;
    expect(end.command).toBe('ENDHIST');
    expect(end.params).toEqual([lobby, String(join.length - 3)]);
    const hist = join.slice(2, -1);
    for (const m of hist) {
      expect(m.command).toBe('HIST');
      expect(m.params[4]).toBe(lobby);
    }
    expect(hist.length).toBeGreaterThan(0);
    expect(hist.length).toBeLessThanOrEqual(suite.info.replay);
    expect(hist.at(-1)!.params[3]).toBe(a!.name);
    for (const peer of [a!, b!]) expect((await peer.expect(isJoinOf(name))).params).toEqual([lobby, name]);
  });

  it('[SESSION-3] a version the server does not speak gets ERR UNSUPPORTED_VERSION HELLO, and the client stays in the greeting state', async () => {
    const observer = await suite.user();
    const client = await suite.connect();
    const name = suite.name('v');
    const unsupported = ['2', '999', '0', 'abc'].filter((v) => !suite.info.versions.includes(v));
    for (const version of unsupported) client.send(`HELLO ${version} ${name}`);
    client.send('WHO');
    const replies = repliesOf(client, await client.barrier());
    expect(replies).toHaveLength(unsupported.length + 1);
    for (const reply of replies.slice(0, -1)) expectErr(reply, 'UNSUPPORTED_VERSION', 'HELLO');
    // Still not registered...
    expectErr(replies.at(-1), 'NOT_REGISTERED', 'WHO');
    expect(about(await observer.barrier(), [name])).toEqual([]);
    // ...and free to try a version it speaks.
    expect(await client.register(name)).toBe(name);
    await observer.expect(isJoinOf(name));
  });

  it('[SESSION-4] HELLO 1 without a name assigns a free name guest-<digits>', async () => {
    const [a, b] = [await suite.connect(), await suite.connect()];
    const nameA = await a.register();
    const nameB = await b.register();
    suite.remember(nameA);
    suite.remember(nameB);
    expect(nameA).toMatch(/^guest-[0-9]+$/);
    expect(nameB).toMatch(/^guest-[0-9]+$/);
    expect(nameA.toLowerCase()).not.toBe(nameB.toLowerCase());
    const online = await a.who();
    expect(online).toContain(nameA);
    expect(online).toContain(nameB);
  });

  it('[SESSION-6] [NAME-1] an invalid name gets ERR BAD_NAME HELLO, and the client may send HELLO again', async () => {
    const observer = await suite.user();
    const client = await suite.connect();
    const stem = suite.name('s').slice(0, Math.max(1, suite.info.nameLen - 2));
    const invalid = [
      `9${stem}`.slice(0, suite.info.nameLen),
      `-${stem}`.slice(0, suite.info.nameLen),
      `_${stem}`.slice(0, suite.info.nameLen),
      `${stem}.x`,
      `${stem}!`,
      `${stem}:x`,
      `${stem}é`,
      `é${stem}`,
      'you',
      'YOU',
      'You',
    ];
    for (const name of invalid) client.send(`HELLO 1 ${name}`);
    client.send('HELLO 1 :');
    const replies = repliesOf(client, await client.barrier());
    expect(replies).toHaveLength(invalid.length + 1);
    for (const reply of replies) expectErr(reply, 'BAD_NAME', 'HELLO');
    const notices = await observer.barrier();
    expect(notices.filter((m) => m.command === 'JOIN' && invalid.includes(m.params[1]!))).toEqual([]);
    expect(await client.register(suite.name('ok'))).toBeDefined();
  });

  it('[SESSION-6] [NAME-2] a name in use, in any case, gets ERR NAME_IN_USE HELLO, and the client may send HELLO again', async () => {
    const owner = await suite.user(suite.name('Ab'));
    const taken = owner.name!;
    const client = await suite.connect();
    for (const name of [taken, taken.toLowerCase(), taken.toUpperCase()]) client.send(`HELLO 1 ${name}`);
    const replies = repliesOf(client, await client.barrier());
    expect(replies).toHaveLength(3);
    for (const reply of replies) expectErr(reply, 'NAME_IN_USE', 'HELLO');
    const other = suite.name('cd');
    expect(await client.register(other)).toBe(other);
    expect((await owner.who()).filter((n) => n.toLowerCase() === taken.toLowerCase())).toEqual([taken]);
  });

  it('[SESSION-7] [PRES-4] before WELCOME only HELLO, PING, PONG and QUIT are accepted; every other command gets ERR NOT_REGISTERED', async () => {
    const observer = await suite.user();
    const client = await suite.connect();
    const text = `not registered ${suite.name('t')}`;
    const nick = suite.name('n');
    const room = suite.room();
    const refused: Array<[string, string]> = [
      [`NICK ${nick}`, 'NICK'],
      [`SAY :${text}`, 'SAY'],
      [`SAY ${observer.name} :${text}`, 'SAY'],
      [`ME :${text}`, 'ME'],
      [`JOIN ${room}`, 'JOIN'],
      [`PART ${suite.info.lobby ?? room}`, 'PART'],
      ['ROOMS', 'ROOMS'],
      [`TOPIC ${room} :${text}`, 'TOPIC'],
      ['WHO', 'WHO'],
      [`HISTORY * LATEST 1`, 'HISTORY'],
    ];
    for (const [line] of refused) client.send(line);
    client.send('PONG nothing-to-answer');
    client.send('PING p1');
    const replies = repliesOf(client, await client.barrier());
    expect(replies).toHaveLength(refused.length + 1);
    refused.forEach(([, command], i) => expectErr(replies[i], 'NOT_REGISTERED', command));
    expect(replies.at(-1)).toMatchObject({ command: 'PONG', params: ['p1'] });
    const seen = await observer.barrier();
    expect(seen.filter((m) => m.command === 'MSG' && m.params.at(-1) === text)).toEqual([]);
    expect(about(seen, [nick, room])).toEqual([]);
    expect(await observer.who()).not.toContain(nick);
    observer.send('ROOMS');
    const rooms = await observer.barrier();
    expect(rooms.filter((m) => m.command === 'ROOM' && m.params[0]!.toLowerCase() === room.toLowerCase())).toEqual([]);
    // QUIT is accepted too.
    client.send('QUIT');
    const last = await client.untilClosed();
    expect(repliesOf(client, last).map((m) => m.command)).toEqual(['BYE']);
  });

  it('[SESSION-8] a second HELLO gets ERR ALREADY_REGISTERED HELLO and changes nothing', async () => {
    const observer = await suite.user();
    const client = await suite.user();
    await settle(observer);
    const other = suite.name('o');
    client.send(`HELLO 1 ${other}`);
    client.send('HELLO 1');
    client.send(`HELLO 999 ${other}`);
    client.send(`HELLO 1 ${client.name!}`);
    const replies = repliesOf(client, await client.barrier());
    expect(replies).toHaveLength(4);
    for (const reply of replies) expectErr(reply, 'ALREADY_REGISTERED', 'HELLO');
    const seen = about(await observer.barrier(), [client.name!, other]);
    expect(seen).toEqual([]);
    const online = await observer.who();
    expect(online).toContain(client.name);
    expect(online).not.toContain(other);
  });
});

describe('command words and parameters', () => {
  it('[LINE-1] command words are case-insensitive', async () => {
    const peer = await suite.user();
    const client = await suite.connect();
    const name = suite.name('c');
    client.send(`hello 1 ${name}`);
    expect((await client.expect('WELCOME')).params[0]).toBe(name);
    client.name = name;
    const room = suite.room();
    client.send('say :lower');
    client.send('Say :mixed');
    client.send('sAY :other');
    client.send('who');
    client.send(`jOiN ${room}`);
    client.send(`me ${room} :acts`);
    client.send('RoOmS');
    client.send('pInG tok');
    const replies = repliesOf(client, await client.barrier());
    expect(replies.filter((m) => m.command === 'ECHO').map((m) => m.params[6])).toEqual(['lower', 'mixed', 'other', 'acts']);
    expect(replies.some((m) => m.command === 'ENDWHO')).toBe(true);
    expect(replies.some((m) => m.command === 'ENDHIST' && m.params[0] === room)).toBe(true);
    expect(replies.some((m) => m.command === 'ENDROOMS')).toBe(true);
    expect(replies.filter((m) => m.command === 'PONG').map((m) => m.params)).toEqual([['tok']]);
    const renamed = suite.name('r');
    client.send(`NiCk ${renamed}`);
    await client.expect((m) => m.command === 'NICK' && m.params[1] === renamed);
    await peer.expect((m) => m.command === 'NICK' && m.params[1] === renamed);
    client.send('qUiT');
    expect((await client.untilClosed()).some((m) => m.command === 'BYE')).toBe(true);
  });

  it('[LINE-3] a trailing parameter means the same as a middle parameter with the same value', async () => {
    const peer = await suite.user();
    const client = await suite.connect();
    const name = suite.name('t');
    client.send(`HELLO :1`); // version as trailing, no name: a guest
    const guest = (await client.expect('WELCOME')).params[0]!;
    suite.remember(guest);
    expect(guest).toMatch(/^guest-[0-9]+$/);
    client.name = guest;
    client.send(`NICK :${name}`);
    expect((await client.expect('NICK')).params).toEqual([guest, name]);
    client.name = name;
    client.send('SAY word');
    client.send('PING :tok2');
    const replies = repliesOf(client, await client.barrier());
    expect(replies.map((m) => [m.command, m.params.at(-1)])).toEqual([
      ['ECHO', 'word'],
      ['PONG', 'tok2'],
    ]);
    const msg = await peer.expect((m) => m.command === 'MSG' && m.params[3] === name);
    expect(msg.params[6]).toBe('word');
    // A room name, a target and a topic read the same either way.
    const room = suite.room();
    client.send(`JOIN :${room}`);
    client.send(`TOPIC ${room} word`);
    client.send(`SAY ${room} word`);
    client.send(`SAY :${room}`); // one parameter: the text, said in the lobby
    const more = repliesOf(client, await client.barrier());
    expect(more.map((m) => m.command)).toEqual(['JOIN', 'ROOM', 'ENDHIST', 'TOPIC', 'ECHO', 'ECHO']);
    expect(more[3]!.params[3]).toBe('word');
    expect(more[4]!.params.slice(4)).toEqual([room, 'say', 'word']);
    expect(more[5]!.params.slice(4)).toEqual([suite.info.lobby, 'say', room]);
  });

  it('[LINE-3] [LINE-4] [MSG-2] the server writes a text as a trailing parameter whenever it must, and spaces in it are kept exactly', async () => {
    const peer = await suite.user();
    const client = await suite.user();
    const texts = ['  leading and trailing  ', ':starts with a colon', '::', 'a :b: c', ' ', 'x'];
    for (const text of texts) client.send(`   SAY    :${text}`);
    const echoes = (await client.barrier()).filter((m) => m.command === 'ECHO');
    expect(echoes.map((m) => m.params[6])).toEqual(texts);
    const msgs = (await peer.barrier()).filter((m) => m.command === 'MSG' && m.params[3] === client.name);
    expect(msgs.map((m) => m.params[6])).toEqual(texts);
    for (const m of [...echoes, ...msgs]) expect(m.params).toHaveLength(7);
  });

  it('[LINE-4] spaces before the command and after the last middle parameter are not part of any parameter', async () => {
    const client = await suite.connect();
    const name = suite.name('s');
    client.send(`    HELLO   1    ${name}    `);
    expect((await client.expect((m) => m.command === 'WELCOME' || m.command === 'ERR')).params[0]).toBe(name);
    client.name = name;
    if (suite.info.lobby !== undefined) await client.joined(suite.info.lobby);
    client.send('   PING    tok3   ');
    expect(repliesOf(client, await client.barrier())).toMatchObject([{ command: 'PONG', params: ['tok3'] }]);
  });

  it('[LINE-5] [ERR-1] [ERR-2] a malformed or unknown command word gets ERR UNKNOWN_COMMAND, and the connection stays open', async () => {
    for (const registered of [false, true]) {
      const client = registered ? await suite.user() : await suite.connect();
      const malformed = ['123', ':x', 'héllo', '*', 'x-y', 'SAY_X', 'HELLO1', '9SAY :hi'];
      client.send('foo');
      client.send('Frobnicate :with a text');
      client.send('A'.repeat(33));
      for (const line of malformed) client.send(line);
      const replies = repliesOf(client, await client.barrier());
      expect(replies).toHaveLength(3 + malformed.length);
      expectErr(replies[0], 'UNKNOWN_COMMAND', 'FOO');
      expectErr(replies[1], 'UNKNOWN_COMMAND', 'FROBNICATE');
      expectErr(replies[2], 'UNKNOWN_COMMAND', '*');
      for (const reply of replies.slice(3)) expectErr(reply, 'UNKNOWN_COMMAND', '*');
      expect(client.isClosed).toBe(false);
      if (!registered) expect(await client.register(suite.name('k'))).toBeDefined();
    }
  });

  it('[LINE-6] [ERR-2] a line with too few or too many parameters gets ERR BAD_PARAMS and has no other effect', async () => {
    const observer = await suite.user();
    const client = await suite.user();
    await settle(observer);
    const newName = suite.name('p');
    const lines: Array<[string, string]> = [
      ['NICK', 'NICK'],
      [`NICK ${newName} extra`, 'NICK'],
      ['SAY', 'SAY'],
      ['SAY #r two words', 'SAY'],
      ['SAY #r one :two three', 'SAY'],
      ['ME', 'ME'],
      ['ME #r two words', 'ME'],
      ['JOIN', 'JOIN'],
      ['JOIN #a #b', 'JOIN'],
      ['PART', 'PART'],
      ['PART #a b c', 'PART'],
      ['ROOMS all', 'ROOMS'],
      ['TOPIC', 'TOPIC'],
      ['TOPIC #a b c', 'TOPIC'],
      ['WHO #a #b', 'WHO'],
      ['HISTORY #a LATEST', 'HISTORY'],
      ['HISTORY #a BETWEEN id=a id=b 1 2', 'HISTORY'],
      ['PING', 'PING'],
      ['PING a b', 'PING'],
      ['PONG', 'PONG'],
      ['PONG a b', 'PONG'],
      ['QUIT a b', 'QUIT'],
      ['QUIT a :b c', 'QUIT'],
    ];
    for (const [line] of lines) client.send(line);
    const replies = repliesOf(client, await client.barrier());
    expect(replies).toHaveLength(lines.length);
    replies.forEach((reply, i) => expectErr(reply, 'BAD_PARAMS', lines[i]![1]));
    // No other effect: no message, no rename, no QUIT.
    const seen = await observer.barrier();
    expect(about(seen, [client.name!, newName])).toEqual([]);
    expect(client.isClosed).toBe(false);
    expect(await client.who()).toContain(client.name);

    // In the greeting state too: HELLO with a bad count registers nothing.
    const fresh = await suite.connect();
    const name = suite.name('h');
    fresh.send('HELLO');
    fresh.send(`HELLO 1 ${name} key extra`);
    fresh.send('WHO');
    const early = repliesOf(fresh, await fresh.barrier());
    expect(early).toHaveLength(3);
    expectErr(early[0], 'BAD_PARAMS', 'HELLO');
    expectErr(early[1], 'BAD_PARAMS', 'HELLO');
    expectErr(early[2], 'NOT_REGISTERED', 'WHO');
    expect(about(await observer.barrier(), [name])).toEqual([]);
  });
});

describe('names', () => {
  it('[NAME-1] a name of letters, digits, - and _ that begins with a letter, up to NAMELEN characters, is accepted', async () => {
    const max = suite.info.nameLen;
    const full = suite.nameOfLength(max, 'N');
    const mixed = `${suite.name('Q').slice(0, Math.max(1, max - 4))}-_9z`.slice(0, max);
    for (const name of [full, mixed]) {
      const client = await suite.connect();
      expect(await client.register(name)).toBe(name);
    }
    // A one-letter name is valid; on a shared server it may be taken.
    const single = await suite.connect();
    const letter = 'qwxz'[Math.floor(Math.random() * 4)]!;
    single.send(`HELLO 1 ${letter}`);
    const reply = await single.expect((m) => m.command === 'WELCOME' || m.command === 'ERR');
    if (reply.command === 'ERR') expectErr(reply, 'NAME_IN_USE', 'HELLO');
    else {
      suite.remember(reply.params[0]!);
      expect(reply.params[0]).toBe(letter);
    }
  });

  it('[NAME-1] [LIMIT-5] a name one character over NAMELEN gets BAD_NAME and is never truncated', async () => {
    const observer = await suite.user();
    const long = suite.nameOfLength(suite.info.nameLen + 1, 'L');
    const cut = long.slice(0, suite.info.nameLen);
    const client = await suite.connect();
    client.send(`HELLO 1 ${long}`);
    expectErr(await client.expect('ERR'), 'BAD_NAME', 'HELLO');
    await client.register(suite.name('m'));
    client.send(`NICK ${long}`);
    const replies = repliesOf(client, await client.barrier());
    expect(replies).toHaveLength(1);
    expectErr(replies[0], 'BAD_NAME', 'NICK');
    expect(about(await observer.barrier(), [long, cut])).toEqual([]);
    const online = await observer.who();
    expect(online).not.toContain(cut);
    expect(online).toContain(client.name);
  });

  it('[NAME-2] names are unique without regard to case and shown in the case their owner chose', async () => {
    const observer = await suite.user();
    const chosen = `MiX${suite.name('e')}`.slice(0, suite.info.nameLen);
    const owner = await suite.user(chosen);
    expect(owner.name).toBe(chosen);
    expect((await observer.expect((m) => m.command === 'JOIN' && m.params[1]!.toLowerCase() === chosen.toLowerCase())).params[1]).toBe(chosen);
    const online = await observer.who();
    expect(online).toContain(chosen);
    expect(online).not.toContain(chosen.toLowerCase());
    owner.send('SAY :case');
    expect((await observer.expect((m) => m.command === 'MSG' && m.params[6] === 'case')).params[3]).toBe(chosen);
    // Another client cannot take it in another case, by HELLO or by NICK.
    const other = await suite.user();
    other.send(`NICK ${chosen.toLowerCase()}`);
    other.send(`NICK ${chosen.toUpperCase()}`);
    const replies = repliesOf(other, await other.barrier());
    expect(replies).toHaveLength(2);
    for (const reply of replies) expectErr(reply, 'NAME_IN_USE', 'NICK');
  });

  it('[NAME-3] NICK renames: the renamed client and every client sharing a room with it get NICK <old> <new> exactly once, others nothing; the old name is free and the new one taken', async () => {
    const [client, peer, roommate, stranger] = await suite.users(4);
    const old = client!.name!;
    // peer shares the lobby and a room with it; roommate only the room; stranger nothing.
    const room = suite.room();
    for (const c of [client!, peer!, roommate!]) await joinRoom(c, room);
    for (const c of [roommate!, stranger!]) c.send(`PART ${suite.info.lobby}`);
    await settle(client!, peer!, roommate!, stranger!);
    const renamed = suite.name('r');
    client!.send(`NICK ${renamed}`);
    expect((await client!.expect('NICK')).params).toEqual([old, renamed]);
    const isRename = (m: Received) => m.command === 'NICK' && m.params[0] === old;
    for (const c of [client!, peer!, roommate!, stranger!]) {
      const seen = (await c.barrier()).filter(isRename);
      if (c === client) expect(seen, 'a second NICK to the renamed one').toEqual([]);
      else if (c === stranger) expect(seen, 'a NICK to one who shares no room').toEqual([]);
      else expect(seen.map((m) => m.params), `${c.name} gets it once`).toEqual([[old, renamed]]);
    }
    client!.name = renamed;
    const online = await peer!.who();
    expect(online).toContain(renamed);
    expect(online).not.toContain(old);
    // The old name is free at once, the new one is taken.
    const reuse = await suite.connect();
    expect(await reuse.register(old)).toBe(old);
    const clash = await suite.connect();
    clash.send(`HELLO 1 ${renamed}`);
    expectErr(await clash.expect('ERR'), 'NAME_IN_USE', 'HELLO');
    // Messages carry the new name.
    client!.send('SAY :after rename');
    expect((await peer!.expect((m) => m.command === 'MSG' && m.params[6] === 'after rename')).params[3]).toBe(renamed);
    // WHO lists it under the new name for everyone, a stranger included.
    expect(await stranger!.who()).toContain(renamed);
  });

  it('[NAME-3] [NAME-1] NICK to an invalid or taken name gets ERR BAD_NAME NICK or ERR NAME_IN_USE NICK and changes nothing', async () => {
    const [client, peer] = await suite.users(2);
    const bad = [`9${suite.name('x')}`, 'you', 'YoU', `${suite.name('y')}!`, suite.nameOfLength(suite.info.nameLen + 1)];
    for (const name of bad) client!.send(`NICK ${name}`);
    client!.send('NICK :');
    client!.send(`NICK ${peer!.name!}`);
    client!.send(`NICK ${peer!.name!.toUpperCase()}`);
    const replies = repliesOf(client!, await client!.barrier());
    expect(replies).toHaveLength(bad.length + 3);
    for (const reply of replies.slice(0, bad.length + 1)) expectErr(reply, 'BAD_NAME', 'NICK');
    for (const reply of replies.slice(bad.length + 1)) expectErr(reply, 'NAME_IN_USE', 'NICK');
    const seen = (await peer!.barrier()).filter((m) => m.command === 'NICK');
    expect(about(seen, [client!.name!, peer!.name!])).toEqual([]);
    const online = await peer!.who();
    expect(online).toContain(client!.name);
    expect(online).toContain(peer!.name);
  });

  it('[NAME-4] a change of case only is allowed and announced; NICK to exactly the current name is ignored without a reply', async () => {
    const [client, peer] = await suite.users(2);
    const old = client!.name!;
    const recased = old.toUpperCase() === old ? old.toLowerCase() : old.toUpperCase();
    suite.remember(recased);
    client!.send(`NICK ${recased}`);
    expect((await client!.expect('NICK')).params).toEqual([old, recased]);
    expect((await peer!.expect((m) => m.command === 'NICK' && m.params[0] === old)).params).toEqual([old, recased]);
    client!.name = recased;
    client!.send(`NICK ${recased}`);
    expect(repliesOf(client!, await client!.barrier())).toEqual([]);
    expect((await peer!.barrier()).filter((m) => m.command === 'NICK' && m.params.includes(recased))).toEqual([]);
    expect(await peer!.who()).toContain(recased);
  });
});

describe('name tenures [NAME-5]', () => {
  it('[NAME-5] [HIST-5] [SESSION-3] HELLO with the key WELCOME gave takes a name back with its private history; without it, a newcomer to the name reads none of it', async () => {
    const [alice, bob] = await suite.users(2);
    const name = alice!.name!;
    const key = alice!.key!;
    expect(key).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    const text = `between us ${suite.name('t')}`;
    bob!.send(`SAY ${name} :${text}`);
    await bob!.expect('ECHO');
    await alice!.destroy();
    /** The texts of `client`'s private conversation with `other`, from HISTORY. */
    const privately = async (client: NonNullable<typeof alice>, other: string) => {
      client.send(`HISTORY ${other} LATEST 10`);
      return (await upToEnd(client)).filter((m) => m.command === 'HIST').map((m) => m.params[6]);
    };
    // Someone else takes the freed name: a new tenure, nothing of the old one.
    const newcomer = await suite.connect();
    await newcomer.register(name);
    expect(newcomer.key).not.toBe(key);
    expect(await privately(newcomer, bob!.name!)).toEqual([]);
    // bob, who was there all along, still has the whole conversation with the name.
    expect(await privately(bob!, name)).toEqual([text]);
    newcomer.send('QUIT');
    await newcomer.untilClosed();
    // The newcomer held the name last: the first holder's key no longer takes it back.
    const first = await suite.connect();
    await first.register(name, key);
    expect(await privately(first, bob!.name!)).toEqual([]);
  });

  it('[NAME-5] [CLIENT-7] a client that reconnects with HELLO 1 <name> <key> keeps its private history', async () => {
    const [alice, bob] = await suite.users(2);
    const name = alice!.name!;
    const key = alice!.key!;
    const text = `before the drop ${suite.name('t')}`;
    alice!.send(`SAY ${bob!.name} :${text}`);
    await alice!.expect('ECHO');
    await alice!.resetAndDestroy();
    await bob!.expect((m) => m.command === 'LEAVE' && m.params[1] === name);
    const back = await suite.connect();
    await back.register(name, key);
    expect(back.key).toBe(key);
    back.send(`HISTORY ${bob!.name} LATEST 10`);
    const batch = await upToEnd(back);
    expect(batch.filter((m) => m.command === 'HIST').map((m) => m.params[6])).toEqual([text]);
  });

  it('[NAME-5] [LINE-6] a malformed key gets ERR BAD_PARAMS HELLO and registers nothing; a wrong one is no error', async () => {
    const client = await suite.connect();
    const name = suite.name('k');
    client.send(`HELLO 1 ${name} bad.key`);
    client.send(`HELLO 1 ${name} ${'k'.repeat(65)}`);
    client.send('WHO');
    const replies = repliesOf(client, await client.barrier());
    expectErr(replies[0], 'BAD_PARAMS', 'HELLO');
    expectErr(replies[1], 'BAD_PARAMS', 'HELLO');
    expectErr(replies[2], 'NOT_REGISTERED', 'WHO');
    expect(await client.register(name, 'a-wrong-but-well-formed-key')).toBe(name);
    expect(client.key).not.toBe('a-wrong-but-well-formed-key');
  });
});

/** Consumes up to the ENDHIST of a HISTORY request and returns the batch. */
async function upToEnd(client: { expect: (m: (r: Received) => boolean) => Promise<Received> }): Promise<Received[]> {
  const got: Received[] = [];
  await client.expect((m) => {
    got.push(m);
    return m.command === 'ENDHIST' || (m.command === 'ERR' && m.params[1] === 'HISTORY');
  });
  return got;
}

describe('WHO', () => {
  it('[PRES-3] WHO answers one USER per registered client, itself included, ordered without regard to case, then ENDWHO <count>', async () => {
    const stem = suite.name('w').slice(0, suite.info.nameLen - 2);
    const chosen = [`b${stem}`, `A${stem}`, `B2${stem}`, `c${stem}`, `a1${stem}`].map((n) => n.slice(0, suite.info.nameLen));
    for (const n of chosen) suite.remember(n);
    const clients = [];
    for (const name of chosen) clients.push(await suite.user(name));
    const unregistered = await suite.connect();
    unregistered.send(`HELLO 999 Z${stem}`);
    const asker = clients[2]!;
    asker.send('WHO');
    const lines: string[] = [];
    const end = await asker.expect((m) => {
      if (m.command === 'USER') {
        // USER <name> <idle>: whole seconds, and these clients have just registered.
        expect(m.params, m.raw).toHaveLength(2);
        expect(m.params[1], m.raw).toMatch(/^(0|[1-9][0-9]*)$/);
        lines.push(m.params[0]!);
      }
      return m.command === 'ENDWHO';
    });
    expect(end.params).toEqual([String(lines.length)]);
    const mine = lines.filter((n) => chosen.includes(n));
    const expected = [...chosen].sort((x, y) => (x.toLowerCase() < y.toLowerCase() ? -1 : 1));
    expect(mine).toEqual(expected);
    expect(isSortedIgnoringCase(lines)).toBe(true);
    expect(new Set(lines.map((n) => n.toLowerCase())).size).toBe(lines.length);
    expect(lines).not.toContain(`Z${stem}`);
    if (suite.own) expect(suite.foreign(lines)).toEqual([]);
  });
});

describe('WHO <room>', () => {
  it('[PRES-3] lists the members of a room only, ordered without regard to case, and answers NO_SUCH_ROOM WHO for a room that does not exist', async () => {
    const stem = suite.name('w').slice(0, suite.info.nameLen - 2);
    const chosen = [`b${stem}`, `A${stem}`, `c${stem}`].map((n) => n.slice(0, suite.info.nameLen));
    const clients = [];
    for (const name of chosen) clients.push(await suite.user(name));
    const outsider = await suite.user();
    const room = suite.room();
    for (const c of clients.slice(0, 2)) await joinRoom(c, room);
    outsider.send(`WHO ${room.toUpperCase()}`);
    const lines = await outsider.barrier();
    expect(lines.map((m) => m.command)).toEqual(['USER', 'USER', 'ENDWHO']);
    expect(lines.slice(0, 2).map((m) => m.params[0])).toEqual([`A${stem}`, `b${stem}`]);
    expect(lines[2]!.params).toEqual(['2']);
    outsider.send(`WHO ${suite.room('none')}`);
    expectErr((await outsider.barrier())[0], 'NO_SUCH_ROOM', 'WHO');
  });

  // Idle times over seconds are tested on an injected clock (test/unit/server/hub.test.ts); here, without sleeping, only near 0.
  it('[PRES-3] <idle> is a whole number of seconds, near 0 for a client that has just registered or spoken', async () => {
    const [talker, asker] = await suite.users(2);
    const idle = async () => (await asker!.whoIdle()).find((u) => u.name === talker!.name)!.idle;
    expect(await idle()).toBeLessThanOrEqual(1);
    talker!.send('SAY :still here');
    await talker!.expect('ECHO');
    expect(await idle()).toBeLessThanOrEqual(1);
  });
});
