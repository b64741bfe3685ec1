/**
 * Order under concurrency ([ROOM-8], [MSG-5], [MSG-7]): many senders at once
 * in several rooms whose members overlap. Every member must see each room's
 * messages in strictly increasing seq with no gap, all members of a room the
 * same lines about it in the same order (MSG, JOIN, LEAVE, TOPIC), and each
 * sender's messages in the order it sent them. Across rooms nothing is
 * ordered, so nothing here compares lines of different rooms.
 *
 * Checked in plain code and asserted once per client: thousands of lines,
 * one expect() each, would be slow.
 */
import { describe, expect } from 'vitest';
import type { LineClient, Received } from '../support/line-client.ts';
import { itVolume, joinRoom, settle, useServer } from '../support/suite.ts';
import { chatOf, same, subjectOf } from '../support/chat.ts';

// Flood control off: every client pipelines hundreds of lines.
const suite = useServer(['--flood-rate', '0']);

/** A line about a room as every member must see it: an ECHO is the sender's copy of the MSG. */
function normal(m: Received): string {
  return m.command === 'ECHO' ? `MSG ${m.params.join(' ')}` : `${m.command} ${m.params.join(' ')}`;
}

/**
 * Reads lines on `client` until `done` says enough, keeping those `keep`
 * selects. It consumes the inbox meanwhile, so nothing else may wait on
 * `client` (no barrier) until it resolves. A test that fails first leaves
 * it to reject when teardown closes the client: that is marked handled.
 */
function gather(client: LineClient, keep: (m: Received) => boolean, done: (kept: readonly Received[]) => boolean): Promise<Received[]> {
  const kept: Received[] = [];
  const gathered = done(kept)
    ? Promise.resolve(kept)
    : client
        .expect((m) => {
          if (keep(m)) kept.push(m);
          return done(kept);
        }, 25_000)
        .then(() => kept);
  gathered.catch(() => {});
  return gathered;
}

describe('[ROOM-8] one order per room', () => {
  itVolume(suite, '[ROOM-8] [MSG-5] [MSG-7] [MSG-2] concurrent senders in overlapping rooms: each member sees every room\'s messages in strictly increasing seq without gaps, the same order as every other member, and each sender\'s in the order sent', async () => {
    const ROOMS = 4;
    const CLIENTS = 8;
    const PER_ROOM = 40;
    const rooms = Array.from({ length: ROOMS }, () => suite.room('o'));
    // Client k is in rooms k and k+1 (mod ROOMS), and every third client in one more: overlapping sets.
    const roomsOf = (k: number) => [...new Set([k % ROOMS, (k + 1) % ROOMS, ...(k % 3 === 0 ? [(k + 2) % ROOMS] : [])])];
    const clients = await suite.users(CLIENTS, 'o');
    for (const [k, c] of clients.entries()) for (const r of roomsOf(k)) await joinRoom(c, rooms[r]!);
    await settle(...clients);
    const membersOf = (r: number) => clients.filter((_, k) => roomsOf(k).includes(r));
    const expectedIn = (r: number) => membersOf(r).length * PER_ROOM;
    const ours = (m: Received) => (m.command === 'MSG' || m.command === 'ECHO') && rooms.some((r) => same(r, m.params[4]));

    const receiving = clients.map((c, k) => {
      const want = roomsOf(k).reduce((n, r) => n + expectedIn(r), 0);
      return gather(c, ours, (kept) => kept.length >= want);
    });
    // Every client sends to its rooms in turn, in batches of a few lines, all clients at once.
    await Promise.all(
      clients.map(async (c, k) => {
        const mine = roomsOf(k);
        const lines: string[] = [];
        for (let i = 0; i < PER_ROOM; i++) for (const r of mine) lines.push(`SAY ${rooms[r]} :${c.name} ${r} ${i}\n`);
        for (let i = 0; i < lines.length; ) {
          const n = 1 + ((k + i) % 9);
          await c.writeFlushed(lines.slice(i, i + n).join(''));
          i += n;
        }
      }),
    );
    const received = await Promise.all(receiving);

    const problems: string[] = [];
    const problem = (text: string) => {
      if (problems.length < 20) problems.push(text);
    };
    /** The order of ids each room was seen in, by the first member that saw it. */
    const orderOf = new Map<number, string>();
    for (const [k, client] of clients.entries()) {
      const extra = (await client.barrier()).filter(ours);
      if (extra.length > 0) problem(`${client.name} got ${extra.length} more copies, e.g. ${extra[0]!.raw}`);
      const got = received[k]!.map(chatOf);
      for (const r of roomsOf(k)) {
        const inRoom = got.filter((m) => m.to === rooms[r]);
        if (inRoom.length !== expectedIn(r)) problem(`${client.name} got ${inRoom.length} of ${expectedIn(r)} messages in room ${r}`);
        // Strictly increasing, and with our own server no gap (the SHOULD of [MSG-5]).
        for (let i = 1; i < inRoom.length; i++) {
          const [prev, cur] = [inRoom[i - 1]!.seq, inRoom[i]!.seq];
          if (cur <= prev || (suite.own && cur !== prev + 1)) problem(`${client.name}, room ${r}: seq ${cur} after ${prev}`);
        }
        // Each sender's messages in the order it sent them, and never its own as MSG.
        for (const sender of membersOf(r)) {
          const texts = inRoom.filter((m) => m.from === sender.name).map((m) => m.text);
          const sent = Array.from({ length: PER_ROOM }, (_, i) => `${sender.name} ${r} ${i}`);
          if (texts.join('|') !== sent.join('|')) problem(`${client.name}, room ${r}: ${sender.name}'s messages out of order or missing`);
        }
        if (inRoom.some((m) => m.command === 'MSG' && m.from === client.name)) problem(`${client.name} got a MSG of its own message`);
        // The same order for every member of the room ([ROOM-8]), with the same fields everywhere.
        const order = inRoom.map((m) => `${m.id} ${m.seq} ${m.time} ${m.from} ${m.text}`).join('|');
        if (!orderOf.has(r)) orderOf.set(r, order);
        else if (orderOf.get(r) !== order) problem(`${client.name} saw room ${r} in another order than the first member`);
      }
      // Nothing from a room it is not in.
      const foreign = got.filter((m) => !roomsOf(k).some((r) => m.to === rooms[r]));
      if (foreign.length > 0) problem(`${client.name} got a message of a room it is not in: ${foreign[0]!.raw}`);
    }
    expect(problems).toEqual([]);
  });

  itVolume(suite, '[ROOM-8] [PRES-5] members who stay see the same lines about a room (MSG, JOIN, LEAVE, TOPIC) in the same order, while others join, part, set the topic and talk in it', async () => {
    const room = suite.room('mix');
    const STAYERS = 4;
    const CHURNERS = 3;
    const stayers = await suite.users(STAYERS, 's');
    const churners = await suite.users(CHURNERS, 'c');
    for (const c of stayers) await joinRoom(c, room);
    await settle(...stayers, ...churners);
    const PER = 30;
    const CYCLES = 10;
    const lines = (m: Received) => subjectOf(m) !== undefined && same(subjectOf(m), room) && m.command !== 'ROOM' && m.command !== 'HIST' && m.command !== 'ENDHIST';

    // Everything each stayer sees about the room: a count known in advance.
    const topics = STAYERS * (PER / 10);
    const messages = STAYERS * (PER - PER / 10) + CHURNERS * CYCLES;
    const total = 2 * CHURNERS * CYCLES + topics + messages;
    const receiving = stayers.map((c) => gather(c, lines, (kept) => kept.length >= total));
    await Promise.all([
      // (No barrier on a stayer: gather() is reading its lines.)
      ...stayers.map(async (c) => {
        for (let i = 0; i < PER; i++) {
          await c.writeFlushed(i % 10 === 9 ? `TOPIC ${room} :topic ${c.name} ${i}\n` : `SAY ${room} :${c.name} ${i}\n`);
        }
      }),
      ...churners.map(async (c) => {
        for (let i = 0; i < CYCLES; i++) {
          await c.writeFlushed(`JOIN ${room}\nSAY ${room} :${c.name} hop ${i}\nPART ${room} :hop ${i}\n`);
          await c.barrier();
        }
      }),
    ]);
    const seen = await Promise.all(receiving);
    for (const [k, c] of stayers.entries()) seen[k]!.push(...(await c.barrier()).filter(lines));

    const first = seen[0]!.map(normal);
    // Each churner came and went CYCLES times, and each stayer's lines are all there.
    expect(first.filter((l) => l.startsWith('JOIN '))).toHaveLength(CHURNERS * CYCLES);
    expect(first.filter((l) => l.startsWith('LEAVE '))).toHaveLength(CHURNERS * CYCLES);
    expect(first.filter((l) => l.startsWith('TOPIC '))).toHaveLength(topics);
    expect(first.filter((l) => l.startsWith('MSG '))).toHaveLength(messages);
    for (const [k, other] of seen.entries()) {
      expect(other.map(normal), `what ${stayers[k]!.name} saw about the room`).toEqual(first);
    }
    // A churner's JOIN, its message and its LEAVE come in that order for everyone.
    for (const c of churners) {
      const mine = first.filter((l) => l.includes(` ${c.name} `) || l.endsWith(` ${c.name}`));
      for (let i = 0; i < CYCLES; i++) {
        expect(mine.slice(3 * i, 3 * i + 3).map((l) => l.split(' ')[0])).toEqual(['JOIN', 'MSG', 'LEAVE']);
      }
    }
  });

  itVolume(suite, '[MSG-5] [MSG-7] [MSG-10] private conversations at once, both ways, pairs overlapping: each side sees one gap-free order, the same as the other side', async () => {
    const N = 6;
    const PER = 40;
    const clients = await suite.users(N, 'v');
    await settle(...clients);
    // Client k talks with k+1 and k+2: each client is in four conversations.
    const pairs: Array<[number, number]> = [];
    for (let k = 0; k < N; k++) pairs.push([k, (k + 1) % N], [k, (k + 2) % N]);
    const names = clients.map((c) => c.name!);
    const isConversation = (m: Received) => (m.command === 'MSG' || m.command === 'ECHO') && names.includes(m.params[3]!) && names.includes(m.params[4]!);
    const receiving = clients.map((c, k) => {
      const want = pairs.filter(([x, y]) => x === k || y === k).length * 2 * PER;
      return gather(c, isConversation, (kept) => kept.length >= want);
    });
    await Promise.all(
      clients.map(async (c, k) => {
        const partners = pairs.filter(([x, y]) => x === k || y === k).map(([x, y]) => (x === k ? y : x));
        const lines: string[] = [];
        for (let i = 0; i < PER; i++) for (const p of partners) lines.push(`SAY ${names[p]} :${c.name} ${names[p]} ${i}\n`);
        for (let i = 0; i < lines.length; i += 16) await c.writeFlushed(lines.slice(i, i + 16).join(''));
      }),
    );
    const received = await Promise.all(receiving);
    const problems: string[] = [];
    const problem = (text: string) => {
      if (problems.length < 20) problems.push(text);
    };
    const key = (a: string, b: string) => [a, b].sort().join('~');
    const orderOf = new Map<string, string>();
    for (const [k, client] of clients.entries()) {
      const byConversation = new Map<string, ReturnType<typeof chatOf>[]>();
      for (const m of received[k]!.map(chatOf)) {
        const other = m.from === client.name ? m.to : m.from;
        byConversation.set(key(client.name!, other), [...(byConversation.get(key(client.name!, other)) ?? []), m]);
      }
      for (const [pair, messages] of byConversation) {
        if (messages.length !== 2 * PER) problem(`${client.name} got ${messages.length} of ${2 * PER} in ${pair}`);
        for (let i = 1; i < messages.length; i++) {
          const [prev, cur] = [messages[i - 1]!.seq, messages[i]!.seq];
          if (cur <= prev || (suite.own && cur !== prev + 1)) problem(`${client.name}, ${pair}: seq ${cur} after ${prev}`);
        }
        for (const from of pair.split('~')) {
          const to = pair.split('~').find((n) => n !== from)!;
          const texts = messages.filter((m) => m.from === from).map((m) => m.text).join('|');
          if (texts !== Array.from({ length: PER }, (_, i) => `${from} ${to} ${i}`).join('|')) problem(`${client.name}, ${pair}: ${from}'s messages out of order`);
        }
        const order = messages.map((m) => `${m.id} ${m.seq}`).join('|');
        if (!orderOf.has(pair)) orderOf.set(pair, order);
        else if (orderOf.get(pair) !== order) problem(`the two sides of ${pair} saw different orders`);
      }
    }
    expect(problems).toEqual([]);
  });
});
