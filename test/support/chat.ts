/**
 * Helpers for the tests of rooms, private messages, history and storage
 * (SPEC §5–§8): typed views of MSG/ECHO/HIST lines, line filters by room,
 * and request helpers that send one command and return its whole reply.
 *
 * Two kinds of helper, so a test never loses a line it means to check:
 * - `exchange()` sends lines and returns everything that arrived before the
 *   PING/PONG barrier that follows them ([PING-1]): nothing is dropped;
 * - the request helpers (`history`, `rooms`, `topicOf`, `whoOf`, `sayAll`,
 *   `part`) wait for the reply with `expect()`, which drops unrelated lines
 *   before it. Use them where only the reply matters.
 */
import { expect } from 'vitest';
import { foldCase, type LineClient, type Received } from './line-client.ts';
import { readGreeting, type ServerInfo } from './suite.ts';

/** A `MSG`, `ECHO` or `HIST` line by field ([MSG-2], [HIST-3]). */
export interface Chat {
  readonly command: 'MSG' | 'ECHO' | 'HIST';
  readonly id: string;
  readonly seq: number;
  readonly time: number;
  readonly from: string;
  readonly to: string;
  readonly kind: string;
  readonly text: string;
  /** The seven parameters as received, for exact comparisons. */
  readonly params: readonly string[];
  readonly raw: string;
}

const ID = /^[A-Za-z0-9_-]{1,64}$/;
const DECIMAL = /^(0|[1-9][0-9]*)$/;

export const isChat = (m: Received): boolean => m.command === 'MSG' || m.command === 'ECHO' || m.command === 'HIST';

/** Reads a MSG/ECHO/HIST line, asserting its form: `<id> <seq> <time> <from> <to> <kind> :<text>`. */
export function chatOf(m: Received): Chat {
  expect(isChat(m), `a MSG, ECHO or HIST line: ${m.raw}`).toBe(true);
  expect(m.params, `seven parameters: ${m.raw}`).toHaveLength(7);
  const [id, seq, time, from, to, kind, text] = m.params as [string, string, string, string, string, string, string];
  expect(id, `id of ${m.raw}`).toMatch(ID);
  expect(seq, `seq of ${m.raw}`).toMatch(DECIMAL);
  expect(time, `time of ${m.raw}`).toMatch(DECIMAL);
  return { command: m.command as Chat['command'], id, seq: Number(seq), time: Number(time), from, to, kind, text, params: m.params, raw: m.raw };
}

/** True when `a` and `b` are the same name or room without regard to ASCII case ([NAME-2], [ROOM-1]). */
export const same = (a: string | undefined, b: string | undefined): boolean =>
  a !== undefined && b !== undefined && foldCase(a) === foldCase(b);

/** The room or user a line is about: params[0] of JOIN/LEAVE/ROOM/TOPIC/ENDHIST, `<to>` of a message. */
export function subjectOf(m: Received): string | undefined {
  switch (m.command) {
    case 'MSG':
    case 'ECHO':
    case 'HIST':
      return m.params[4];
    case 'JOIN':
    case 'LEAVE':
    case 'ROOM':
    case 'TOPIC':
    case 'ENDHIST':
      return m.params[0];
    default:
      return undefined;
  }
}

/** Lines about `room` (JOIN, LEAVE, ROOM, TOPIC, MSG, ECHO, HIST, ENDHIST), by folded name. */
export const aboutRoom =
  (room: string) =>
  (m: Received): boolean =>
    same(subjectOf(m), room);

/** Lines that carry `marker` in a message text: how a test finds its own messages on a shared server. */
export const withText =
  (marker: string) =>
  (m: Received): boolean =>
    isChat(m) && (m.params[6] ?? '').includes(marker);

/** The greeting of a connected client, read ([SESSION-1]). */
export function infoOf(client: LineClient): ServerInfo {
  if (client.greeting === undefined) throw new Error('the client has not read the greeting');
  return readGreeting(client.greeting);
}

/**
 * Sends `lines` (each without LF, in one write) and returns every line
 * that arrived before the PONG of the barrier that follows them: all their
 * replies ([PING-1]) and any notice that came meanwhile.
 */
export async function exchange(client: LineClient, ...lines: string[]): Promise<Received[]> {
  if (lines.length > 0) client.write(lines.map((l) => `${l}\n`).join(''));
  return client.barrier();
}

/** `<command> ...` lines: the short form tests compare with (`JOIN #r a`, `ERR NOT_IN_ROOM`). */
export function shapeOf(m: Received): string {
  if (m.command === 'ERR') return `ERR ${m.params[0]} ${m.params[1]}`;
  if (isChat(m)) return `${m.command} ${m.params[3]} ${m.params[4]} ${m.params[5]} :${m.params[6]}`;
  return [m.command, ...m.params].join(' ');
}

/**
 * Sends each text as `SAY <target> :<text>` (or ME) in one write and
 * returns the ECHOs, in order ([MSG-8]); fails on any ERR for them.
 */
export async function sayAll(client: LineClient, target: string | undefined, texts: readonly string[], command: 'SAY' | 'ME' = 'SAY'): Promise<Chat[]> {
  client.write(texts.map((t) => (target === undefined ? `${command} :${t}\n` : `${command} ${target} :${t}\n`)).join(''));
  const echoes: Chat[] = [];
  if (texts.length === 0) return echoes;
  await client.expect((m) => {
    if (m.command === 'ERR' && m.params[1] === command) throw new Error(`${command} failed: ${m.raw}`);
    if (m.command === 'ECHO') echoes.push(chatOf(m));
    return echoes.length === texts.length;
  }, 20_000);
  expect(echoes.map((e) => e.text)).toEqual(texts);
  return echoes;
}

/** One message, acknowledged: its ECHO. */
export async function sayOne(client: LineClient, target: string | undefined, text: string, command: 'SAY' | 'ME' = 'SAY'): Promise<Chat> {
  return (await sayAll(client, target, [text], command))[0]!;
}

/** What a HISTORY request got: its batch ([HIST-3]), or the ERR. */
export type HistoryReply = { ok: true; messages: Chat[]; end: Received } | { ok: false; error: Received };

/**
 * `HISTORY <target> <selector...>` and its reply. For a batch, checks that
 * it is one contiguous run of HIST lines closed by `ENDHIST <target as
 * written> <count>` with `<count>` the number of HIST lines ([HIST-3]).
 */
export async function historyReply(client: LineClient, target: string, selector: string): Promise<HistoryReply> {
  client.send(`HISTORY ${target} ${selector}`);
  const got: Received[] = [];
  const last = await client.expect((m) => {
    if (m.command === 'ERR' && m.params[1] === 'HISTORY') return true;
    if (m.command === 'HIST' || got.length > 0) got.push(m);
    return m.command === 'ENDHIST' && m.params[0] === target;
  });
  if (last.command === 'ERR') return { ok: false, error: last };
  const end = got.pop() ?? last;
  const notHist = got.filter((m) => m.command !== 'HIST');
  expect(notHist.map((m) => m.raw), `lines inside the HISTORY ${target} batch`).toEqual([]);
  expect(end.params, end.raw).toEqual([target, String(got.length)]);
  return { ok: true, messages: got.map(chatOf), end };
}

/** `HISTORY <target> <selector...>`: the messages of the batch; fails on an ERR. */
export async function history(client: LineClient, target: string, selector: string): Promise<Chat[]> {
  const reply = await historyReply(client, target, selector);
  if (!reply.ok) throw new Error(`HISTORY ${target} ${selector} failed: ${reply.error.raw}`);
  return reply.messages;
}

/** `HISTORY <target> <selector...>` that must fail: the ERR line. */
export async function historyError(client: LineClient, target: string, selector: string): Promise<Received> {
  const reply = await historyReply(client, target, selector);
  if (reply.ok) throw new Error(`HISTORY ${target} ${selector} succeeded with ${reply.messages.length} messages; expected ERR`);
  return reply.error;
}

/**
 * "What did I miss since id X" ([HIST-6]): `HISTORY <target> AFTER id=<X>`
 * (or `time=0` without an id), paging on while a batch is full.
 */
export async function historySince(client: LineClient, target: string, after: string | undefined, limit: number): Promise<Chat[]> {
  const all: Chat[] = [];
  let ref = after === undefined ? 'time=0' : `id=${after}`;
  for (;;) {
    const page = await history(client, target, `AFTER ${ref} ${limit}`);
    all.push(...page);
    if (page.length < limit) return all;
    ref = `id=${page.at(-1)!.id}`;
  }
}

export interface RoomLine {
  readonly room: string;
  readonly members: number;
  readonly topic: string;
}

/** `ROOMS`: every ROOM line, checking that ENDROOMS counts them ([ROOM-5]). */
export async function rooms(client: LineClient): Promise<RoomLine[]> {
  client.send('ROOMS');
  const list: RoomLine[] = [];
  const end = await client.expect((m) => {
    if (m.command === 'ROOM') {
      expect(m.params, m.raw).toHaveLength(3);
      expect(m.params[1], m.raw).toMatch(DECIMAL);
      list.push({ room: m.params[0]!, members: Number(m.params[1]), topic: m.params[2]! });
    }
    return m.command === 'ENDROOMS';
  });
  expect(end.params, end.raw).toEqual([String(list.length)]);
  return list;
}

/** The ROOM line of `room` in `ROOMS`, or undefined when it is not listed. */
export async function listed(client: LineClient, room: string): Promise<RoomLine | undefined> {
  return (await rooms(client)).find((r) => same(r.room, room));
}

/** `TOPIC <room>` (a query): the TOPIC line or the ERR for it. */
export async function topicOf(client: LineClient, room: string): Promise<Received> {
  client.send(`TOPIC ${room}`);
  return client.expect((m) => (m.command === 'TOPIC' && same(m.params[0], room)) || (m.command === 'ERR' && m.params[1] === 'TOPIC'));
}

/**
 * `WHO [<room>]`: the USER lines as name and idle, or the ERR; checks
 * ENDWHO's count ([PRES-3]). `before` lines go in the same write, just
 * ahead of the WHO (whose reply they must not hold a USER line of).
 */
export async function whoOf(
  client: LineClient,
  room?: string,
  before: readonly string[] = [],
): Promise<{ users: Array<{ name: string; idle: number }> } | { error: Received }> {
  client.write([...before, room === undefined ? 'WHO' : `WHO ${room}`].map((l) => `${l}\n`).join(''));
  const users: Array<{ name: string; idle: number }> = [];
  const end = await client.expect((m) => {
    if (m.command === 'USER') {
      expect(m.params, m.raw).toHaveLength(2);
      expect(m.params[1], `idle of ${m.raw}`).toMatch(DECIMAL);
      users.push({ name: m.params[0]!, idle: Number(m.params[1]) });
    }
    return m.command === 'ENDWHO' || (m.command === 'ERR' && m.params[1] === 'WHO');
  });
  if (end.command === 'ERR') return { error: end };
  expect(end.params, end.raw).toEqual([String(users.length)]);
  return { users };
}

/** `PART <room> [:<reason>]`, then waits for the client's own LEAVE ([ROOM-4]). */
export async function part(client: LineClient, room: string, reason?: string): Promise<Received> {
  client.send(reason === undefined ? `PART ${room}` : `PART ${room} :${reason}`);
  return client.expect(
    (m) => (m.command === 'LEAVE' && same(m.params[0], room) && m.params[1] === client.name) || (m.command === 'ERR' && m.params[1] === 'PART'),
  );
}

/** Leaves the lobby (when there is one), so that the client is in no room at all. */
export async function leaveLobby(client: LineClient): Promise<void> {
  const lobby = client.lobby;
  if (lobby === undefined) return;
  const leave = await part(client, lobby);
  expect(leave.command, leave.raw).toBe('LEAVE');
}

/** A text of exactly `bytes` UTF-8 bytes, with two-byte characters in it ([LIMIT-5]). */
export function textOfBytes(bytes: number, fill = 'é'): string {
  const unit = Buffer.byteLength(fill);
  let text = fill.repeat(Math.floor(bytes / unit));
  while (Buffer.byteLength(text) < bytes) text += 'a';
  return text;
}

/** A room name of exactly `length` characters, `#` included, unique to this run. */
export function roomOfLength(length: number, prefix = 'R'): string {
  let name = `#${prefix}${process.pid.toString(36)}${Date.now().toString(36)}${Math.floor(Math.random() * 46656).toString(36)}`;
  while (name.length < length) name += Math.floor(Math.random() * 36).toString(36);
  return name.slice(0, length);
}

/** Strictly increasing numbers ([MSG-5]); `step1` also asks for steps of exactly 1 (the SHOULD). */
export function checkIncreasing(seqs: readonly number[], step1: boolean, what: string): void {
  for (let i = 1; i < seqs.length; i++) {
    if (step1) expect(seqs[i], `${what}: seq ${i} of ${seqs.join(',')}`).toBe(seqs[i - 1]! + 1);
    else expect(seqs[i]!, `${what}: seq ${i} of ${seqs.join(',')}`).toBeGreaterThan(seqs[i - 1]!);
  }
}
