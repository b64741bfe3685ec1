/**
 * Messages (SPEC §6): SAY and ME, MSG and ECHO, their ids, sequence numbers
 * and times, order and exactly-once delivery under concurrency, reply order,
 * and the slow consumer ([LIMIT-7]). Rooms and private messages in depth are
 * in rooms.test.ts and private-messages.test.ts; here a message without a
 * target goes to the lobby, or the test makes a room of its own.
 */
import { describe, expect, it } from 'vitest';
import type { Received } from '../support/line-client.ts';
import { collect, expectErr, itVolume, joinRoom, repliesOf, say, settle, useServer } from '../support/suite.ts';

// Flood control off: the pipelined, concurrent and slow-consumer tests send
// far more lines than a burst ([FLOOD-1]); flood.test.ts tests flood control.
const suite = useServer(['--flood-rate', '0']);

const ID = /^[A-Za-z0-9_-]{1,64}$/;
const DECIMAL = /^(0|[1-9][0-9]*)$/;
/** Own server: same clock. A server elsewhere may have some skew. */
const CLOCK_SKEW_MS = suite.own ? 5_000 : 300_000;

const isFrom = (name: string | undefined) => (m: Received) => m.command === 'MSG' && m.params[3] === name;

/** The text of a MSG, ECHO or HIST line. */
const text = (m: Received) => m.params[6];

/** Checks the form of one MSG or ECHO line: `<id> <seq> <time> <from> <to> <kind> :<text>`. */
function checkForm(m: Received, sentAfter: number, receivedBefore: number, to: string): void {
  expect(m.params, m.raw).toHaveLength(7);
  const [id, seq, time, , sentTo, kind] = m.params;
  expect(id, m.raw).toMatch(ID);
  expect(seq, m.raw).toMatch(DECIMAL);
  expect(time, m.raw).toMatch(DECIMAL);
  expect(sentTo, m.raw).toBe(to);
  expect(kind, m.raw).toBe('say');
  expect(Number(time), `time of ${m.raw}`).toBeGreaterThanOrEqual(sentAfter - CLOCK_SKEW_MS);
  expect(Number(time), `time of ${m.raw}`).toBeLessThanOrEqual(receivedBefore + CLOCK_SKEW_MS);
}

describe('SAY', () => {
  it('[MSG-1] [LINE-6] SAY with an empty text, or without one, to the lobby, a room or a user, gets ERR BAD_PARAMS SAY and nothing is relayed', async () => {
    const [a, peer] = await suite.users(2);
    await settle(peer!);
    a!.write(`SAY :\nSAY :\r\nSAY\nsay :\nSAY ${suite.info.lobby ?? '#nowhere'} :\nSAY ${peer!.name} :\nME :\n`);
    const replies = repliesOf(a!, await a!.barrier());
    expect(replies).toHaveLength(7);
    for (const reply of replies.slice(0, 6)) expectErr(reply, 'BAD_PARAMS', 'SAY');
    expectErr(replies[6], 'BAD_PARAMS', 'ME');
    expect((await peer!.barrier()).filter(isFrom(a!.name))).toEqual([]);
  });

  it('[MSG-1] [ROOM-1] a message needs its target: NOT_IN_ROOM, NO_SUCH_ROOM, BAD_ROOM or NO_SUCH_USER, and nothing is relayed', async () => {
    const [a, member] = await suite.users(2);
    const room = suite.room();
    await joinRoom(member!, room);
    await settle(member!);
    const absent = suite.name('gone');
    const replies = await Promise.all([
      say(a!, 'not a member', room),
      say(a!, 'no room', suite.room('none')),
      say(a!, 'bad room', '#no.such'),
      say(a!, 'nobody', absent),
    ]);
    expectErr(replies[0], 'NOT_IN_ROOM', 'SAY');
    expectErr(replies[1], 'NO_SUCH_ROOM', 'SAY');
    expectErr(replies[2], 'BAD_ROOM', 'SAY');
    expectErr(replies[3], 'NO_SUCH_USER', 'SAY');
    expect((await member!.barrier()).filter(isFrom(a!.name))).toEqual([]);
  });

  it('[MSG-1] [LINE-3] with one parameter the parameter is the text: "SAY #room" says "#room" in the lobby', async (context) => {
    if (suite.info.lobby === undefined) context.skip('the server has no lobby');
    const [a, b] = await suite.users(2);
    await settle(a!, b!);
    const room = suite.room();
    const echo = await say(a!, room);
    a!.send(`SAY ${room}`);
    const again = await a!.expect('ECHO');
    for (const m of [echo, again]) expect(m.params.slice(3)).toEqual([a!.name, suite.info.lobby, 'say', room]);
    expect(text(await b!.expect(isFrom(a!.name)))).toBe(room);
  });

  it('[MSG-9] ME is checked and delivered like SAY, with kind me', async () => {
    const [a, b] = await suite.users(2);
    const room = suite.room();
    await joinRoom(a!, room);
    await joinRoom(b!, room);
    await settle(a!);
    a!.send(`ME ${room} :waves at everyone`);
    const echo = await a!.expect('ECHO');
    expect(echo.params.slice(3)).toEqual([a!.name, room, 'me', 'waves at everyone']);
    expect((await b!.expect(isFrom(a!.name))).params).toEqual(echo.params);
    expectErr(await say(a!, 'waves', suite.room('none'), 'me'), 'NO_SUCH_ROOM', 'ME');
  });

  it('[MSG-2] [MSG-3] [MSG-4] [MSG-6] [PRES-4] a message reaches every other registered client exactly once, byte for byte, and the sender gets ECHO with the same id, seq and time', async () => {
    const [a, b, c] = await suite.users(3);
    const unregistered = await suite.connect();
    await settle(b!, c!);
    const texts = ['hello', '  spaced  ', ':colon first', 'a :b: c', 'tab\tand 😀 and ‮', 'x'];
    const t0 = Date.now();
    for (const text of texts) a!.send(`SAY :${text}`);
    const own = await a!.barrier();
    const t1 = Date.now();
    const echoes = own.filter((m) => m.command === 'ECHO');
    expect(echoes.map(text)).toEqual(texts);
    const lobby = echoes[0]!.params[4]!;
    expect(lobby).toBe(suite.info.lobby);
    // The sender gets ECHO, never a MSG of its own message.
    expect(own.filter(isFrom(a!.name))).toEqual([]);
    for (const peer of [b!, c!]) {
      const got = await collect(peer, texts.length, isFrom(a!.name));
      expect((await peer.barrier()).filter(isFrom(a!.name)), 'a second copy').toEqual([]);
      got.forEach((msg, i) => {
        checkForm(msg, t0, Date.now(), lobby);
        // Same id, seq, time, sender and text as the ECHO.
        expect(msg.params).toEqual(echoes[i]!.params);
      });
    }
    for (const echo of echoes) checkForm(echo, t0, t1, lobby);
    expect(echoes.every((e) => e.params[3] === a!.name)).toBe(true);
    expect(new Set(echoes.map((e) => e.params[0])).size).toBe(texts.length);
    // The unregistered client gets nothing.
    expect(repliesOf(unregistered, await unregistered.barrier())).toEqual([]);
  });

  it('[MSG-5] [MSG-3] seq strictly increases from one message of a room to the next, across senders, and counts a room of its own from 1 by 1', async () => {
    const [a, b] = await suite.users(2);
    const room = suite.room();
    await joinRoom(a!, room);
    await joinRoom(b!, room);
    const lobby: number[] = [];
    const own: number[] = [];
    for (let i = 0; i < 10; i++) {
      const sender = i % 2 === 0 ? a! : b!;
      lobby.push(Number((await say(sender, `n${i}`)).params[1]));
      own.push(Number((await say(sender, `r${i}`, room)).params[1]));
    }
    for (let i = 1; i < lobby.length; i++) expect(lobby[i]!).toBeGreaterThan(lobby[i - 1]!);
    // A fresh room: nobody else can have spoken in it.
    expect(own).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
  });

  it('[MSG-5] [MSG-10] seq counts a private conversation on its own, whichever of the two sends', async () => {
    const [a, b, c] = await suite.users(3);
    const seqs = [
      await say(a!, 'a to b', b!.name),
      await say(b!, 'b to a', a!.name),
      await say(a!, 'a to c', c!.name),
      await say(a!, 'a to b again', b!.name),
    ].map((m) => Number(m.params[1]));
    expect(seqs).toEqual([1, 2, 1, 3]);
  });

  it('[MSG-8] [PING-1] each line gets its replies in the order the lines arrived, and every SAY exactly one ECHO or ERR', async () => {
    const a = await suite.user();
    const old = a.name!;
    const renamed = suite.name('r');
    a.write(
      [
        'SAY :one',
        'SAY :',
        `NICK 9${renamed}`,
        'WHO',
        `NICK ${renamed}`,
        'SAY :two',
        'PING p',
        'FOO',
        'SAY :three',
      ].join('\n') + '\n',
    );
    const replies = repliesOf(a, await a.barrier());
    const shape = replies
      .map((m) => (m.command === 'ERR' ? `ERR ${m.params[0]}` : m.command === 'ECHO' ? `ECHO ${text(m)}` : m.command))
      .filter((s, i, all) => !(s === 'USER' && all[i - 1] === 'USER'));
    expect(shape).toEqual([
      'ECHO one',
      'ERR BAD_PARAMS',
      'ERR BAD_NAME',
      'USER',
      'ENDWHO',
      'NICK',
      'ECHO two',
      'PONG',
      'ERR UNKNOWN_COMMAND',
      'ECHO three',
    ]);
    expect(replies.find((m) => m.command === 'NICK')!.params).toEqual([old, renamed]);
  });

  itVolume(suite, '[MSG-8] 200 SAYs pipelined, every fifth one empty: one ECHO or ERR each, in the order sent', async () => {
    const a = await suite.user();
    const lines = Array.from({ length: 200 }, (_, i) => (i % 5 === 3 ? 'SAY :' : `SAY :m${i}`));
    a.write(lines.join('\n') + '\n');
    const acks = repliesOf(a, await a.barrier());
    expect(acks.map((m) => (m.command === 'ECHO' ? text(m) : `${m.command} ${m.params[0]}`))).toEqual(
      lines.map((line, i) => (line === 'SAY :' ? 'ERR BAD_PARAMS' : `m${i}`)),
    );
  });
});

describe('concurrency', () => {
  it('[MSG-2] [MSG-3] [MSG-4] [MSG-5] [MSG-7] [FRAME-1] 50 clients sending at once: each message reaches every other client exactly once, in the order sent, with the same id/seq/time everywhere and strictly increasing seq', async () => {
    const N = 50;
    const M = 20;
    const clients = await suite.users(N, 'm');
    const names = new Set(clients.map((c) => c.name!));
    // A room of their own: nobody else's messages, and seq from 1.
    const room = suite.room('conc');
    await Promise.all(clients.map((c) => joinRoom(c, room)));
    await settle(...clients);

    const mine = (m: Received) => (m.command === 'MSG' && names.has(m.params[3]!)) || m.command === 'ECHO';
    const receiving = clients.map((c) => collect(c, (N - 1) * M + M, mine, 25_000));
    const t0 = Date.now();
    // Every client writes its messages in a few batches, all clients at once.
    await Promise.all(
      clients.map(async (c, k) => {
        const lines = Array.from({ length: M }, (_, i) => `SAY ${room} :${c.name}#${i}\n`);
        for (let i = 0; i < M; ) {
          const n = 1 + ((k + i) % 7);
          await c.writeFlushed(lines.slice(i, i + n).join(''));
          i += n;
        }
      }),
    );
    const received = await Promise.all(receiving);
    const t1 = Date.now();

    // Checked in plain code and asserted once: 50 000 lines, one expect() each, would be slow.
    const problems: string[] = [];
    const problem = (text: string) => {
      if (problems.length < 20) problems.push(text);
    };
    /** Every copy of each message, by id. */
    const byId = new Map<string, string>();
    const seqOwner = new Map<string, string>();
    for (const [k, client] of clients.entries()) {
      const got = received[k]!;
      const leftovers = (await client.barrier()).filter(mine);
      if (leftovers.length > 0) problem(`${client.name} got ${leftovers.length} extra copies, e.g. ${leftovers[0]!.raw}`);
      const texts = new Map<string, string[]>();
      for (const m of got) {
        const from = m.command === 'ECHO' ? `ECHO ${m.params[3]}` : m.params[3]!;
        texts.set(from, [...(texts.get(from) ?? []), text(m)!]);
      }
      if (texts.has(client.name!)) problem(`${client.name} got a MSG of its own message`);
      for (const sender of clients) {
        const key = sender === client ? `ECHO ${client.name}` : sender.name!;
        const expected = Array.from({ length: M }, (_, i) => `${sender.name}#${i}`).join('|');
        const actual = (texts.get(key) ?? []).join('|');
        if (actual !== expected) problem(`${client.name} got from ${key}: ${actual}`);
      }
      let lastSeq = -1;
      for (const m of got) {
        const [id = '', seq = '', time = '', from, to, kind, body] = m.params;
        if (m.params.length !== 7 || !ID.test(id) || !DECIMAL.test(seq) || !DECIMAL.test(time)) problem(`bad form: ${m.raw}`);
        if (to !== room || kind !== 'say') problem(`not to ${room} as said: ${m.raw}`);
        if (Number(time) < t0 - CLOCK_SKEW_MS || Number(time) > t1 + CLOCK_SKEW_MS) problem(`time out of range: ${m.raw}`);
        // Strictly increasing seq, in the order received, MSG and ECHO alike.
        if (Number(seq) <= lastSeq) problem(`${client.name}: seq ${seq} after ${lastSeq}`);
        lastSeq = Number(seq);
        const fields = JSON.stringify([seq, time, from, body]);
        if ((byId.get(id) ?? fields) !== fields) problem(`message ${id} differs between receivers: ${byId.get(id)} vs ${fields}`);
        byId.set(id, fields);
        if ((seqOwner.get(seq) ?? id) !== id) problem(`seq ${seq} used by two messages`);
        seqOwner.set(seq, id);
      }
    }
    expect(problems).toEqual([]);
    // Ids are unique: one per message, N*M in all.
    expect(byId.size).toBe(N * M);
    expect(new Set([...byId.values()].map((f) => JSON.parse(f)[3])).size).toBe(N * M);
    // A server SHOULD count by exactly 1 ([MSG-5]); ours does.
    if (suite.own) expect([...seqOwner.keys()].map(Number).sort((x, y) => x - y)).toEqual(Array.from({ length: N * M }, (_, i) => i + 1));
  });
});

describe('slow consumers', () => {
  itVolume(suite, '[LIMIT-7] [ERR-2] [PRES-1] [MSG-7] a client that stops reading is cut off with ERR SLOW_CONSUMER and leaves with reason error; nobody waits for it, and it loses no line before the cut', async () => {
    const sender = await suite.user(suite.name('snd'));
    const reader = await suite.user(suite.name('rdr'));
    const slow = await suite.user(suite.name('slw'));
    await settle(sender, reader, slow);
    slow.socket.pause();

    const filler = 'x'.repeat(Math.max(16, Math.min(4096, suite.info.line) - 32));
    const cap = 256 * 1024 * 1024;
    let sent = 0;
    let bytes = 0;
    let leave: Received | undefined;
    while (leave === undefined) {
      expect(bytes, 'the slow client was never cut off').toBeLessThan(cap);
      const batch = Array.from({ length: 100 }, (_, i) => `SAY :${sent + i} ${filler}\n`).join('');
      sender.write(batch);
      bytes += batch.length;
      sent += 100;
      // The sender and the reader get everything while the slow client reads nothing.
      const echoes = (await sender.barrier()).filter((m) => m.command === 'ECHO');
      expect(echoes).toHaveLength(100);
      const got = await reader.barrier();
      expect(got.filter(isFrom(sender.name)).length).toBe(100);
      leave = got.find((m) => m.command === 'LEAVE' && m.params[1] === slow.name);
    }
    expect(leave.params[0]).toBe(suite.info.lobby);
    expect(leave.params[2]).toBe('error');
    if (leave.params.length > 3) expect(leave.params[3]).toBe('SLOW_CONSUMER');
    expect(await reader.who()).not.toContain(slow.name);

    // What the slow client gets when it reads again: a gap-free prefix of the
    // messages, in order, and then the ERR as the last line.
    slow.socket.resume();
    const all = await slow.untilClosed(20_000);
    const texts = all.filter(isFrom(sender.name)).map((m) => Number(text(m)!.split(' ')[0]));
    expect(texts.length).toBeGreaterThan(0);
    expect(texts.length).toBeLessThan(sent);
    expect(texts).toEqual(Array.from({ length: texts.length }, (_, i) => i));
    expectErr(all.at(-1), 'SLOW_CONSUMER', '*');
  });
});

