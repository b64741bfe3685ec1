/**
 * History (SPEC §7): HISTORY pages by id and by time with exclusive bounds
 * ([HIST-2]), the shape of a batch ([HIST-3]), the replay on JOIN
 * ([HIST-4]), what a client may ask for ([HIST-5]), catching up after a
 * reconnect ([HIST-6]) and the bound per target ([HIST-1]).
 *
 * Every test makes its own room (a fresh name), so the room's history is
 * exactly the messages the test sent and the expected pages can be computed
 * from their ECHOs. Tests that need --history or --replay start their own
 * server.
 */
import { describe, expect, it } from 'vitest';
import type { LineClient, Received } from '../support/line-client.ts';
import { useOwnServers, user } from '../support/own-server.ts';
import { expectErr, itVolume, joinRoom, settle, useServer } from '../support/suite.ts';
import { itOwnServer } from '../support/target.ts';
import { chatOf, checkIncreasing, exchange, history, historyError, historyReply, historySince, infoOf, part, sayAll, sayOne, type Chat } from '../support/chat.ts';

// Flood control off: tests send a few dozen messages in one write.
const suite = useServer(['--flood-rate', '0']);
const own = useOwnServers();

const ids = (messages: readonly Chat[]) => messages.map((m) => m.id);

/** A fresh room that `client` joins and says `count` messages in (`m0`, `m1`, …): their ECHOs. */
async function roomWith(client: LineClient, count: number, prefix = 'm'): Promise<{ room: string; sent: Chat[] }> {
  const room = suite.room('h');
  await joinRoom(client, room);
  const sent = await sayAll(
    client,
    room,
    Array.from({ length: count }, (_, i) => `${prefix}${i}`),
  );
  return { room, sent };
}

describe('[HIST-2] [HIST-3] pages by id', () => {
  it('[HIST-2] [HIST-3] LATEST gives the last <limit> messages oldest first, as HIST lines with exactly the id, seq, time, from, to, kind and text they were sent with, then ENDHIST <target as written> <count>', async () => {
    const a = await suite.user();
    const { room, sent } = await roomWith(a, 10);
    expect((await history(a, room, 'LATEST 3')).map((m) => m.params)).toEqual(sent.slice(7).map((m) => m.params));
    expect(ids(await history(a, room, 'LATEST 1'))).toEqual(ids(sent.slice(9)));
    expect(ids(await history(a, room, `LATEST ${suite.info.histLimit}`))).toEqual(ids(sent));
    // The target as the client wrote it; the lines show the room as created.
    const upper = await historyReply(a, room.toUpperCase(), 'latest 2');
    if (!upper.ok) throw new Error(upper.error.raw);
    expect(upper.end.params).toEqual([room.toUpperCase(), '2']);
    expect(upper.messages.map((m) => m.to)).toEqual([room, room]);
  });

  it('[HIST-2] BEFORE id= and AFTER id= are exclusive, take the nearest <limit>, and may be empty', async () => {
    const a = await suite.user();
    const { room, sent: m } = await roomWith(a, 10);
    const page = async (selector: string) => ids(await history(a, room, selector));
    expect(await page(`BEFORE id=${m[5]!.id} 3`)).toEqual(ids(m.slice(2, 5)));
    expect(await page(`BEFORE id=${m[5]!.id} 1`)).toEqual(ids(m.slice(4, 5)));
    expect(await page(`BEFORE id=${m[5]!.id} 100`)).toEqual(ids(m.slice(0, 5)));
    expect(await page(`BEFORE id=${m[0]!.id} 5`)).toEqual([]);
    expect(await page(`AFTER id=${m[5]!.id} 3`)).toEqual(ids(m.slice(6, 9)));
    expect(await page(`AFTER id=${m[5]!.id} 1`)).toEqual(ids(m.slice(6, 7)));
    expect(await page(`AFTER id=${m[5]!.id} 100`)).toEqual(ids(m.slice(6)));
    expect(await page(`AFTER id=${m[9]!.id} 5`)).toEqual([]);
  });

  it('[HIST-2] BETWEEN a b gives the first <limit> after a and before b, and nothing when a is not before b', async () => {
    const a = await suite.user();
    const { room, sent: m } = await roomWith(a, 10);
    const page = async (selector: string) => ids(await history(a, room, selector));
    expect(await page(`BETWEEN id=${m[2]!.id} id=${m[7]!.id} 10`)).toEqual(ids(m.slice(3, 7)));
    expect(await page(`BETWEEN id=${m[2]!.id} id=${m[7]!.id} 2`)).toEqual(ids(m.slice(3, 5)));
    expect(await page(`BETWEEN id=${m[2]!.id} id=${m[7]!.id} 1`)).toEqual(ids(m.slice(3, 4)));
    expect(await page(`BETWEEN id=${m[5]!.id} id=${m[6]!.id} 10`)).toEqual([]);
    expect(await page(`BETWEEN id=${m[5]!.id} id=${m[5]!.id} 10`)).toEqual([]);
    expect(await page(`BETWEEN id=${m[7]!.id} id=${m[2]!.id} 10`)).toEqual([]);
  });

  it('[HIST-2] an id from another room or a private conversation is a position too: it compares by when its message was accepted', async () => {
    const [a, b] = (await suite.users(2)) as [LineClient, LineClient];
    const room = suite.room('x');
    const other = suite.room('y');
    await joinRoom(a, room);
    await joinRoom(a, other);
    // One client sends everything, one acknowledgement at a time: the acceptance order is the order here.
    const r = [await sayOne(a, room, 'r0'), await sayOne(a, room, 'r1')];
    const x0 = await sayOne(a, other, 'x0');
    r.push(await sayOne(a, room, 'r2'), await sayOne(a, room, 'r3'));
    const p0 = await sayOne(a, b.name, 'p0');
    r.push(await sayOne(a, room, 'r4'));
    const page = async (selector: string) => ids(await history(a, room, selector));
    expect(await page(`AFTER id=${x0.id} 10`)).toEqual(ids(r.slice(2)));
    expect(await page(`BEFORE id=${x0.id} 10`)).toEqual(ids(r.slice(0, 2)));
    expect(await page(`BETWEEN id=${x0.id} id=${p0.id} 10`)).toEqual(ids(r.slice(2, 4)));
    expect(await page(`AFTER id=${p0.id} 10`)).toEqual(ids(r.slice(4)));
    // And the other way round: the room's ids page the private conversation.
    expect(ids(await history(a, b.name!, `BEFORE id=${r[4]!.id} 10`))).toEqual([p0.id]);
    expect(ids(await history(a, b.name!, `AFTER id=${r[4]!.id} 10`))).toEqual([]);
  });
});

describe('[HIST-2] pages by time', () => {
  it('[HIST-2] [MSG-6] time= refs are exclusive bounds on <time>, alone and mixed with id= refs', async () => {
    const a = await suite.user();
    const room = suite.room('t');
    await joinRoom(a, room);
    // One at a time, so that some messages have times of their own.
    const m: Chat[] = [];
    for (let i = 0; i < 8; i++) m.push(await sayOne(a, room, `t${i}`));
    checkIncreasing(m.map((x) => x.seq), false, 'seq');
    for (let i = 1; i < m.length; i++) expect(m[i]!.time).toBeGreaterThanOrEqual(m[i - 1]!.time);

    const before = (t: number, n: number) => ids(m.filter((x) => x.time < t).slice(-n));
    const after = (t: number, n: number) => ids(m.filter((x) => x.time > t).slice(0, n));
    const times = [...new Set(m.map((x) => x.time))];
    const probes = [0, ...times.flatMap((t) => [t - 1, t, t + 1]), Number.MAX_SAFE_INTEGER];
    for (const t of probes) {
      for (const n of [1, 3, 100]) {
        expect(ids(await history(a, room, `BEFORE time=${t} ${n}`)), `BEFORE time=${t} ${n}`).toEqual(before(t, n));
        expect(ids(await history(a, room, `AFTER time=${t} ${n}`)), `AFTER time=${t} ${n}`).toEqual(after(t, n));
      }
    }
    const first = m[0]!.time;
    const last = m.at(-1)!.time;
    expect(ids(await history(a, room, `BETWEEN time=${first - 1} time=${last + 1} 100`))).toEqual(ids(m));
    expect(ids(await history(a, room, `BETWEEN time=${first} time=${last} 100`))).toEqual(ids(m.filter((x) => x.time > first && x.time < last)));
    expect(ids(await history(a, room, `BETWEEN time=${last} time=${first} 100`))).toEqual([]);
    // Mixed: after an id, before a time.
    expect(ids(await history(a, room, `BETWEEN id=${m[1]!.id} time=${last + 1} 100`))).toEqual(ids(m.slice(2)));
    expect(ids(await history(a, room, `BETWEEN time=${first - 1} id=${m[3]!.id} 100`))).toEqual(ids(m.slice(0, 3)));
  });
});

describe('[HIST-2] errors', () => {
  it('[HIST-2] [LINE-6] a limit of 0, over HISTLIMIT or not a number, an unknown selector, a malformed ref or a wrong count of parameters gets ERR BAD_PARAMS HISTORY', async () => {
    const a = await suite.user();
    const { room, sent } = await roomWith(a, 2);
    const max = suite.info.histLimit;
    const id = sent[0]!.id;
    const bad = [
      'LATEST 0',
      `LATEST ${max + 1}`,
      'LATEST -1',
      'LATEST x',
      'LATEST 1.5',
      'SIDEWAYS 5',
      `BEFORE ${id} 5`,
      'BEFORE id= 5',
      'AFTER time=soon 5',
      'AFTER time=-5 5',
      `BETWEEN id=${id} 5`,
      `AFTER id=${id}`,
      `BEFORE id=${id} 0`,
      `BETWEEN id=${id} id=${id} ${max + 1}`,
    ];
    for (const selector of bad) expectErr(await historyError(a, room, selector), 'BAD_PARAMS', 'HISTORY');
    // Too few parameters for HISTORY at all.
    const short = await exchange(a, `HISTORY ${room}`, `HISTORY ${room} LATEST`);
    expect(short.filter((m) => m.command === 'ERR').map((m) => `${m.params[0]} ${m.params[1]}`)).toEqual(['BAD_PARAMS HISTORY', 'BAD_PARAMS HISTORY']);
    // The limits themselves are fine.
    expect(await history(a, room, `LATEST ${max}`)).toHaveLength(2);
    expect(await history(a, room, 'LATEST 1')).toHaveLength(1);
  });

  it('[HIST-2] an id the server did not issue gets ERR UNKNOWN_MESSAGE HISTORY, in any selector that takes a ref', async () => {
    const a = await suite.user();
    const { room, sent } = await roomWith(a, 2);
    const known = sent[0]!.id;
    const unknown = ['nosuchid', `${known}zz9`, 'Z'.repeat(64)];
    for (const id of unknown) {
      for (const selector of [`BEFORE id=${id} 5`, `AFTER id=${id} 5`, `BETWEEN id=${id} id=${known} 5`, `BETWEEN id=${known} id=${id} 5`]) {
        expectErr(await historyError(a, room, selector), 'UNKNOWN_MESSAGE', 'HISTORY');
      }
    }
  });
});

describe('[HIST-3] batches', () => {
  itVolume(suite, '[HIST-3] [MSG-8] nothing else reaches a client between the lines of a batch, while others talk in its rooms', async () => {
    const [a, b] = (await suite.users(2)) as [LineClient, LineClient];
    const { room } = await roomWith(a, 30);
    await joinRoom(b, room);
    await settle(a, b);
    b.write(Array.from({ length: 200 }, (_, i) => `SAY ${room} :noise ${i}\n`).join(''));
    a.write(Array.from({ length: 10 }, () => `HISTORY ${room} LATEST 25\n`).join(''));
    let batches = 0;
    let inBatch = false;
    const problems: string[] = [];
    await a.expect((m) => {
      if (m.command === 'HIST') inBatch = true;
      else if (m.command === 'ENDHIST') {
        inBatch = false;
        batches++;
      } else if (inBatch) problems.push(m.raw);
      return batches === 10;
    }, 20_000);
    expect(problems).toEqual([]);
    await b.barrier();
  });
});

describe('[HIST-4] replay on JOIN', () => {
  it('[HIST-4] [ROOM-3] joining a room replays its last REPLAY messages as HIST lines, then ENDHIST <room> <count>', async () => {
    const [a, b] = (await suite.users(2)) as [LineClient, LineClient];
    const replay = suite.info.replay;
    const { room, sent } = await roomWith(a, replay + 2);
    const got = await joinRoom(b, room);
    const hist = got.filter((m) => m.command === 'HIST');
    expect(hist.map((m) => m.params)).toEqual(sent.slice(sent.length - replay).map((m) => m.params));
    expect(got.at(-1)!.params).toEqual([room, String(replay)]);
    // They are history, not new messages: no MSG for them.
    expect((await b.barrier()).filter((m) => m.command === 'MSG' && m.params[4] === room)).toEqual([]);
  });

  itOwnServer('[HIST-4] [LIMIT-1] with --replay 3 the greeting says REPLAY=3 and a JOIN replays the last 3 messages, or fewer when the room has fewer', async () => {
    const { pool } = await own.start(['--replay', '3']);
    const a = await user(pool, 'teller');
    const b = await user(pool, 'listener');
    expect(infoOf(b).replay).toBe(3);
    await joinRoom(a, '#five');
    const five = await sayAll(a, '#five', ['1', '2', '3', '4', '5']);
    await joinRoom(a, '#two');
    const two = await sayAll(a, '#two', ['1', '2']);
    const got5 = await joinRoom(b, '#five');
    expect(got5.filter((m) => m.command === 'HIST').map((m) => m.params)).toEqual(five.slice(2).map((m) => m.params));
    expect(got5.at(-1)!.params).toEqual(['#five', '3']);
    const got2 = await joinRoom(b, '#two');
    expect(got2.filter((m) => m.command === 'HIST').map((m) => m.params)).toEqual(two.map((m) => m.params));
    expect(got2.at(-1)!.params).toEqual(['#two', '2']);
  });

  itOwnServer('[HIST-4] with --replay 0 a JOIN replays nothing: an empty batch, ENDHIST <room> 0', async () => {
    const { pool } = await own.start(['--replay', '0']);
    const a = await user(pool, 'teller');
    const b = await user(pool, 'listener');
    expect(infoOf(b).replay).toBe(0);
    expect(b.lobbyJoin.map((m) => m.command)).toEqual(['JOIN', 'ROOM', 'ENDHIST']);
    await joinRoom(a, '#quiet');
    await sayAll(a, '#quiet', ['1', '2']);
    const got = await joinRoom(b, '#quiet');
    expect(got.map((m) => m.command)).toEqual(['JOIN', 'ROOM', 'ENDHIST']);
    expect(got.at(-1)!.params).toEqual(['#quiet', '0']);
    // HISTORY still has them.
    expect(await history(b, '#quiet', 'LATEST 5')).toHaveLength(2);
  });
});

describe('[HIST-5] targets', () => {
  it('[HIST-5] a room target must be a room the client is in: ERR NOT_IN_ROOM HISTORY for one it is not in, has left, or that does not exist', async () => {
    const [a, b] = (await suite.users(2)) as [LineClient, LineClient];
    const { room } = await roomWith(a, 2);
    const left = suite.room('left');
    await joinRoom(b, left);
    await sayOne(b, left, 'before leaving');
    await part(b, left);
    for (const target of [room, left, suite.room('none')]) {
      expectErr(await historyError(b, target, 'LATEST 5'), 'NOT_IN_ROOM', 'HISTORY');
    }
    expectErr(await historyError(b, '#-bad', 'LATEST 5'), 'BAD_ROOM', 'HISTORY');
  });

  it('[HIST-5] [HIST-1] HISTORY * merges every room the client is in and every private conversation of its name, in acceptance order, and nothing else', async () => {
    const [a, b, c] = (await suite.users(3)) as [LineClient, LineClient, LineClient];
    const [r1, r2, r3] = [suite.room('s'), suite.room('s'), suite.room('s')];
    await joinRoom(a, r1);
    await joinRoom(a, r2);
    await joinRoom(b, r1);
    await joinRoom(b, r3);
    await joinRoom(c, r3);
    // Acceptance order is the order of these awaited acknowledgements.
    const start = await sayOne(c, r3, 'not for a: before');
    const mine = [
      await sayOne(b, r1, 'b in r1'),
      await sayOne(a, r2, 'a in r2'),
      await sayOne(b, a.name, 'b to a'),
    ];
    await sayOne(b, r3, 'not for a: r3');
    await sayOne(b, c.name, 'not for a: b to c');
    mine.push(await sayOne(a, c.name, 'a to c'), await sayOne(c, a.name, 'c to a'), await sayOne(b, r1, 'b in r1 again'));
    const limit = suite.info.histLimit;
    // After the first message of this test: the lobby may hold other traffic, so keep only this test's senders.
    const names = new Set([a.name, b.name, c.name]);
    const star = (await historySince(a, '*', start.id, limit)).filter((m) => names.has(m.from));
    expect(star.map((m) => m.params)).toEqual(mine.map((m) => m.params));
    // The limit applies to the merged page: the latest two overall, when nothing else happens meanwhile.
    if (suite.own) expect(ids(await history(a, '*', 'LATEST 2'))).toEqual(ids(mine.slice(-2)));
    if (suite.own) expect(ids(await history(a, '*', `BETWEEN id=${mine[0]!.id} id=${mine[4]!.id} 2`))).toEqual(ids(mine.slice(1, 3)));
  });
});

describe('[HIST-6] catching up', () => {
  it('[HIST-6] [MSG-5] after a reconnect, HISTORY <room> AFTER id=<last seen> paged while full gives exactly the messages missed, and HISTORY * AFTER the last id seen gives them too', async () => {
    const [a, b] = (await suite.users(2)) as [LineClient, LineClient];
    const room = suite.room('rc');
    await joinRoom(a, room);
    await joinRoom(b, room);
    await settle(a, b);
    await sayAll(b, room, ['seen0', 'seen1']);
    const seen = (await a.barrier()).filter((m) => m.command === 'MSG' && m.params[4] === room).map(chatOf);
    expect(seen.map((m) => m.text)).toEqual(['seen0', 'seen1']);
    const lastSeen = seen.at(-1)!;
    const name = a.name!;
    await a.destroy();
    // Once b sees a leave the room, the name is free again ([PRES-2]).
    await b.expect((m) => m.command === 'LEAVE' && m.params[0] === room && m.params[1] === name);

    const missed = await sayAll(b, room, Array.from({ length: 7 }, (_, i) => `missed${i}`));
    const again = await suite.connect();
    await again.register(name);
    await joinRoom(again, room);
    await sayAll(b, room, ['after rejoin']);
    await settle(again);
    // Pages of 3: full, full, then one short (8 = 3 + 3 + 2).
    const caughtUp = await historySince(again, room, lastSeen.id, 3);
    expect(caughtUp.map((m) => m.text)).toEqual([...missed.map((m) => m.text), 'after rejoin']);
    expect(caughtUp.slice(0, 7).map((m) => m.params)).toEqual(missed.map((m) => m.params));
    checkIncreasing([lastSeen.seq, ...caughtUp.map((m) => m.seq)], suite.own, 'seq after the last one seen');
    const star = (await historySince(again, '*', lastSeen.id, 3)).filter((m) => m.to === room);
    expect(star.map((m) => m.id)).toEqual(caughtUp.map((m) => m.id));
  });
});

describe('[HIST-1] the bound per target', () => {
  itOwnServer('[HIST-2] [LIMIT-7] a full page of the longest messages, far more than SENDQ, reaches a client that reads, and nobody is cut off for asking', async () => {
    const { pool } = await own.start(['--flood-rate', '0', '--max-sendq', '65536']);
    const a = await user(pool, 'asker');
    await joinRoom(a, '#long');
    const info = infoOf(a);
    const text = 'x'.repeat(info.line - 'SAY #long :'.length);
    const count = Math.min(info.histLimit, 100);
    // Twenty at a time, so the ECHOs of one batch stay within the small SENDQ.
    const said: Chat[] = [];
    for (let i = 0; i < count; i += 20) said.push(...(await sayAll(a, '#long', Array.from({ length: Math.min(20, count - i) }, () => text))));
    // About 100 × 2.1 KB: three times the SENDQ this server was given.
    const page = await history(a, '#long', `LATEST ${count}`);
    expect(ids(page)).toEqual(ids(said));
    expect(a.isClosed).toBe(false);
  });

  itOwnServer('[HIST-1] [MSG-5] with --history 5 each room and each private conversation keeps its last 5 messages; older ids still work as positions, and seq goes on', async () => {
    const { pool } = await own.start(['--history', '5']);
    const a = await user(pool, 'keeper');
    const b = await user(pool, 'other');
    await joinRoom(a, '#busy');
    await joinRoom(a, '#calm');
    const busy = await sayAll(a, '#busy', Array.from({ length: 8 }, (_, i) => `b${i}`));
    const calm = await sayAll(a, '#calm', ['c0', 'c1']);
    const pm = await sayAll(a, 'other', Array.from({ length: 7 }, (_, i) => `p${i}`));
    checkIncreasing(busy.map((m) => m.seq), true, '#busy');

    expect((await history(a, '#busy', 'LATEST 100')).map((m) => m.params)).toEqual(busy.slice(3).map((m) => m.params));
    expect(ids(await history(a, '#calm', 'LATEST 100'))).toEqual(ids(calm));
    expect(ids(await history(b, 'keeper', 'LATEST 100'))).toEqual(ids(pm.slice(2)));
    // Pruned ids are still positions ([HIST-2]).
    expect(ids(await history(a, '#busy', `AFTER id=${busy[0]!.id} 100`))).toEqual(ids(busy.slice(3)));
    expect(ids(await history(a, '#busy', `AFTER id=${busy[4]!.id} 100`))).toEqual(ids(busy.slice(5)));
    expect(await history(a, '#busy', `BEFORE id=${busy[3]!.id} 100`)).toEqual([]);
    expect(ids(await history(a, '#busy', `BETWEEN id=${busy[1]!.id} id=${busy[6]!.id} 100`))).toEqual(ids(busy.slice(3, 6)));
    // The replay on JOIN comes from the same kept messages.
    const joined = await joinRoom(b, '#busy');
    expect(joined.filter((m: Received) => m.command === 'HIST').map((m) => m.params[0])).toEqual(ids(busy.slice(3)));
    // seq goes on from where it was.
    expect((await sayOne(a, '#busy', 'b8')).seq).toBe(busy.at(-1)!.seq + 1);
  });
});
