/**
 * The chat server against a model of rooms, members, topics and history,
 * with fast-check's model-based testing (`fc.commands`, `fc.asyncModelRun`;
 * https://fast-check.dev/docs/advanced/model-based-testing/).
 *
 * The real system is the server process and 3 to 5 real TCP clients
 * (LineClient). The model is small and obviously right: which client is in
 * which room, each room's topic, history and last seq, each private
 * conversation's last seq, and each client's name. Every command sends one
 * line, then runs a PING/PONG barrier on the client that sent it and then on
 * every other client ([PING-1], and [PRES-5] for held JOIN/LEAVE), and
 * checks that each client received exactly what the model says, in order:
 * replies, MSG/ECHO (ids, seq and texts), JOIN/LEAVE, NICK, TOPIC, the
 * replay on JOIN and HISTORY batches. Nothing else may arrive.
 *
 * Runs are independent: each run registers fresh clients, leaves the lobby
 * (so no traffic of an earlier run reaches it) and uses fresh room names.
 * Against CHAT_SERVER the same holds; only the exact seq values (the SHOULD
 * of [MSG-5]) are checked with our own server alone.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { foldCase, uniqueName, type LineClient, type Received } from '../support/line-client.ts';
import { useServer } from '../support/suite.ts';
import { leaveLobby } from '../support/chat.ts';

const suite = useServer(['--flood-rate', '0']);

const ROOMS = 3;
const MAX_CLIENTS = 5;
const ID = /^[A-Za-z0-9_-]{1,64}$/;
const DECIMAL = /^(0|[1-9][0-9]*)$/;

/** A line reduced to what the model can predict: ERR without its text, USER without its idle, LEAVE without an empty text. */
type Norm = readonly string[];

function norm(m: Received): Norm {
  if (m.command === 'ERR') return ['ERR', m.params[0] ?? '', m.params[1] ?? ''];
  if (m.command === 'USER') return ['USER', m.params[0] ?? '', DECIMAL.test(m.params[1] ?? '') ? '*' : `bad idle ${m.params[1]}`];
  if (m.command === 'LEAVE' && m.params.length === 4 && m.params[3] === '') return ['LEAVE', ...m.params.slice(0, 3)];
  return [m.command, ...m.params];
}

interface RoomState {
  /** Client indexes, in the order they joined. */
  members: number[];
  /** Forgotten when the room empties ([ROOM-6]). */
  topic: string;
  /** The seven parameters of every message, oldest first: kept when the room empties ([HIST-1]). */
  history: string[][];
  lastSeq: number;
}

interface Model {
  readonly tag: string;
  readonly roomNames: readonly string[];
  names: string[];
  rooms: RoomState[];
  /** Last seq of each private conversation, by the folded pair of names ([HIST-1], [MSG-5]). */
  conversations: Map<string, number>;
  ids: Set<string>;
  lastTime: number;
  nextNick: number;
}

interface Real {
  readonly clients: LineClient[];
}

const pairKey = (a: string, b: string) => [foldCase(a), foldCase(b)].sort().join(' ');

/** Sends `line` from `actor`, then a barrier on the actor and on every other client: what each received. */
async function exchangeAll(real: Real, actor: number, line: string): Promise<Received[][]> {
  const clients = real.clients;
  clients[actor]!.send(line);
  const got: Received[][] = clients.map(() => []);
  got[actor] = await clients[actor]!.barrier();
  for (const [k, c] of clients.entries()) if (k !== actor) got[k] = await c.barrier();
  return got;
}

function compare(got: readonly Received[][], expected: readonly Norm[][], what: string, model: Model): void {
  for (const [k, lines] of got.entries()) {
    expect(lines.map(norm), `${model.names[k]} (client ${k}) after ${what}`).toEqual(expected[k]);
  }
}

/** The id, seq and time of the ECHO (or TOPIC) the actor got, checked ([MSG-4], [MSG-6]); placeholders when it got none. */
function stampOf(lines: readonly Received[], model: Model): { id: string; seq: string; time: string } {
  const echo = lines.find((m) => m.command === 'ECHO');
  if (echo === undefined) return { id: '?', seq: '?', time: '?' };
  const [id = '', seq = '', time = ''] = echo.params;
  expect(id, echo.raw).toMatch(ID);
  expect(model.ids.has(id), `id ${id} issued twice`).toBe(false);
  expect(seq, echo.raw).toMatch(DECIMAL);
  expect(time, echo.raw).toMatch(DECIMAL);
  expect(Number(time), `time of ${echo.raw} went back`).toBeGreaterThanOrEqual(model.lastTime);
  return { id, seq, time };
}

/** The seq a new message must have after `last` ([MSG-5]): exactly one more with our server; more, anywhere. */
function nextSeq(last: number, got: string): string {
  if (suite.own) return String(last + 1);
  return DECIMAL.test(got) && Number(got) > last ? got : `more than ${last}`;
}

const none = (model: Model): Norm[][] => model.names.map(() => []);

/**
 * A room for a command of client `c`: with `joined`, one of the rooms it is
 * in (when it is in any), so that most commands are accepted; else any room,
 * so that the errors are exercised too.
 */
function pickRoom(model: Model, c: number, room: number, joined: boolean): number {
  const mine = model.rooms.flatMap((r, j) => (r.members.includes(c) ? [j] : []));
  return joined && mine.length > 0 ? mine[room % mine.length]! : room;
}

abstract class ChatCommand implements fc.AsyncCommand<Model, Real> {
  check(): boolean {
    return true;
  }
  abstract run(model: Model, real: Real): Promise<void>;
  abstract toString(): string;
}

class Join extends ChatCommand {
  constructor(
    readonly client: number,
    readonly room: number,
  ) {
    super();
  }
  async run(model: Model, real: Real): Promise<void> {
    const c = this.client % real.clients.length;
    const name = model.roomNames[this.room]!;
    const room = model.rooms[this.room]!;
    const me = model.names[c]!;
    const got = await exchangeAll(real, c, `JOIN ${name}`);
    const expected = none(model);
    if (room.members.includes(c)) {
      expected[c] = [['ERR', 'ALREADY_IN_ROOM', 'JOIN']];
    } else {
      const replay = suite.info.replay === 0 ? [] : room.history.slice(-suite.info.replay);
      expected[c] = [
        ['JOIN', name, me],
        ['ROOM', name, String(room.members.length + 1), room.topic],
        ...replay.map((p) => ['HIST', ...p]),
        ['ENDHIST', name, String(replay.length)],
      ];
      for (const k of room.members) expected[k] = [['JOIN', name, me]];
    }
    compare(got, expected, this.toString(), model);
    if (!room.members.includes(c)) room.members.push(c);
  }
  toString(): string {
    return `Join(${this.client}, room ${this.room})`;
  }
}

class Part extends ChatCommand {
  constructor(
    readonly client: number,
    readonly room: number,
    readonly joined: boolean,
    readonly reason: string,
  ) {
    super();
  }
  async run(model: Model, real: Real): Promise<void> {
    const c = this.client % real.clients.length;
    const j = pickRoom(model, c, this.room, this.joined);
    const name = model.roomNames[j]!;
    const room = model.rooms[j]!;
    const me = model.names[c]!;
    const got = await exchangeAll(real, c, this.reason === '' ? `PART ${name}` : `PART ${name} :${this.reason}`);
    const expected = none(model);
    if (!room.members.includes(c)) {
      expected[c] = [['ERR', 'NOT_IN_ROOM', 'PART']];
    } else {
      const leave = ['LEAVE', name, me, 'part', ...(this.reason === '' ? [] : [this.reason])];
      for (const k of room.members) expected[k] = [leave];
    }
    compare(got, expected, this.toString(), model);
    room.members = room.members.filter((k) => k !== c);
    if (room.members.length === 0) room.topic = '';
  }
  toString(): string {
    return `Part(${this.client}, ${this.joined ? 'joined ' : ''}room ${this.room}, ${JSON.stringify(this.reason)})`;
  }
}

class Say extends ChatCommand {
  constructor(
    readonly client: number,
    readonly room: number,
    readonly joined: boolean,
    readonly text: string,
    readonly kind: 'say' | 'me',
  ) {
    super();
  }
  async run(model: Model, real: Real): Promise<void> {
    const c = this.client % real.clients.length;
    const j = pickRoom(model, c, this.room, this.joined);
    const name = model.roomNames[j]!;
    const room = model.rooms[j]!;
    const command = this.kind === 'me' ? 'ME' : 'SAY';
    const got = await exchangeAll(real, c, `${command} ${name} :${this.text}`);
    const expected = none(model);
    let accepted: string[] | undefined;
    if (this.text === '') expected[c] = [['ERR', 'BAD_PARAMS', command]];
    else if (room.members.length === 0) expected[c] = [['ERR', 'NO_SUCH_ROOM', command]];
    else if (!room.members.includes(c)) expected[c] = [['ERR', 'NOT_IN_ROOM', command]];
    else {
      const stamp = stampOf(got[c]!, model);
      accepted = [stamp.id, nextSeq(room.lastSeq, stamp.seq), stamp.time, model.names[c]!, name, this.kind, this.text];
      for (const k of room.members) expected[k] = [[k === c ? 'ECHO' : 'MSG', ...accepted]];
    }
    compare(got, expected, this.toString(), model);
    if (accepted !== undefined) {
      room.history.push(accepted);
      room.lastSeq = Number(accepted[1]);
      model.ids.add(accepted[0]!);
      model.lastTime = Number(accepted[2]);
    }
  }
  toString(): string {
    return `Say(${this.client}, ${this.joined ? 'joined ' : ''}room ${this.room}, ${this.kind}, ${JSON.stringify(this.text)})`;
  }
}

class Pm extends ChatCommand {
  constructor(
    readonly client: number,
    readonly other: number,
    readonly text: string,
  ) {
    super();
  }
  async run(model: Model, real: Real): Promise<void> {
    const n = real.clients.length;
    const [c, d] = [this.client % n, this.other % n];
    const [me, to] = [model.names[c]!, model.names[d]!];
    const got = await exchangeAll(real, c, `SAY ${to} :${this.text}`);
    const expected = none(model);
    const key = pairKey(me, to);
    let accepted: string[] | undefined;
    if (this.text === '') expected[c] = [['ERR', 'BAD_PARAMS', 'SAY']];
    else {
      const stamp = stampOf(got[c]!, model);
      accepted = [stamp.id, nextSeq(model.conversations.get(key) ?? 0, stamp.seq), stamp.time, me, to, 'say', this.text];
      // To oneself: delivered once, as the ECHO ([MSG-10]).
      expected[c] = [['ECHO', ...accepted]];
      if (d !== c) expected[d] = [['MSG', ...accepted]];
    }
    compare(got, expected, this.toString(), model);
    if (accepted !== undefined) {
      model.conversations.set(key, Number(accepted[1]));
      model.ids.add(accepted[0]!);
      model.lastTime = Number(accepted[2]);
    }
  }
  toString(): string {
    return `Pm(${this.client} -> ${this.other}, ${JSON.stringify(this.text)})`;
  }
}

/** NICK to a fresh name, to another client's name (in another case), or to one's own in upper case ([NAME-3], [NAME-4]). */
class Nick extends ChatCommand {
  constructor(
    readonly client: number,
    readonly to: 'fresh' | number,
  ) {
    super();
  }
  async run(model: Model, real: Real): Promise<void> {
    const n = real.clients.length;
    const c = this.client % n;
    const old = model.names[c]!;
    const other = this.to === 'fresh' ? undefined : this.to % n;
    const wanted =
      other === undefined ? `${model.tag}n${model.nextNick}` : other === c ? old.toUpperCase() : model.names[other]!.toUpperCase();
    const got = await exchangeAll(real, c, `NICK ${wanted}`);
    const expected = none(model);
    const renamed = other === undefined || (other === c && wanted !== old);
    if (other !== undefined && other !== c) expected[c] = [['ERR', 'NAME_IN_USE', 'NICK']];
    else if (renamed) {
      // Once to itself and to everyone who shares a room with it.
      const sharing = new Set([c, ...model.rooms.filter((r) => r.members.includes(c)).flatMap((r) => r.members)]);
      for (const k of sharing) expected[k] = [['NICK', old, wanted]];
    }
    compare(got, expected, this.toString(), model);
    if (other === undefined) model.nextNick++;
    if (renamed) model.names[c] = wanted;
  }
  toString(): string {
    return `Nick(${this.client}, ${this.to === 'fresh' ? 'fresh' : `name of ${this.to}`})`;
  }
}

class Topic extends ChatCommand {
  constructor(
    readonly client: number,
    readonly room: number,
    readonly joined: boolean,
    readonly text: string,
  ) {
    super();
  }
  async run(model: Model, real: Real): Promise<void> {
    const c = this.client % real.clients.length;
    const j = pickRoom(model, c, this.room, this.joined);
    const name = model.roomNames[j]!;
    const room = model.rooms[j]!;
    const got = await exchangeAll(real, c, `TOPIC ${name} :${this.text}`);
    const expected = none(model);
    if (room.members.length === 0) {
      // Not a member, and no such room: either code says it.
      const code = got[c]![0]?.params[0] === 'NO_SUCH_ROOM' ? 'NO_SUCH_ROOM' : 'NOT_IN_ROOM';
      expected[c] = [['ERR', code, 'TOPIC']];
    } else if (!room.members.includes(c)) {
      expected[c] = [['ERR', 'NOT_IN_ROOM', 'TOPIC']];
    } else {
      const line = got[c]!.find((m) => m.command === 'TOPIC');
      const time = line?.params[2] ?? '?';
      expect(time, `time of ${line?.raw}`).toMatch(/^[1-9][0-9]*$/);
      for (const k of room.members) expected[k] = [['TOPIC', name, model.names[c]!, time, this.text]];
    }
    compare(got, expected, this.toString(), model);
    if (room.members.includes(c)) room.topic = this.text;
  }
  toString(): string {
    return `Topic(${this.client}, ${this.joined ? 'joined ' : ''}room ${this.room}, ${JSON.stringify(this.text)})`;
  }
}

class Who extends ChatCommand {
  constructor(
    readonly client: number,
    readonly room: number,
  ) {
    super();
  }
  async run(model: Model, real: Real): Promise<void> {
    const c = this.client % real.clients.length;
    const name = model.roomNames[this.room]!;
    const room = model.rooms[this.room]!;
    const got = await exchangeAll(real, c, `WHO ${name}`);
    const expected = none(model);
    if (room.members.length === 0) expected[c] = [['ERR', 'NO_SUCH_ROOM', 'WHO']];
    else {
      const names = room.members.map((k) => model.names[k]!).sort((a, b) => (foldCase(a) < foldCase(b) ? -1 : 1));
      expected[c] = [...names.map((u) => ['USER', u, '*']), ['ENDWHO', String(names.length)]];
    }
    compare(got, expected, this.toString(), model);
  }
  toString(): string {
    return `Who(${this.client}, room ${this.room})`;
  }
}

class History extends ChatCommand {
  constructor(
    readonly client: number,
    readonly room: number,
    readonly joined: boolean,
    readonly limit: number,
  ) {
    super();
  }
  async run(model: Model, real: Real): Promise<void> {
    const c = this.client % real.clients.length;
    const j = pickRoom(model, c, this.room, this.joined);
    const name = model.roomNames[j]!;
    const room = model.rooms[j]!;
    const got = await exchangeAll(real, c, `HISTORY ${name} LATEST ${this.limit}`);
    const expected = none(model);
    if (!room.members.includes(c)) expected[c] = [['ERR', 'NOT_IN_ROOM', 'HISTORY']];
    else {
      const page = room.history.slice(-this.limit);
      expected[c] = [...page.map((p) => ['HIST', ...p]), ['ENDHIST', name, String(page.length)]];
    }
    compare(got, expected, this.toString(), model);
  }
  toString(): string {
    return `History(${this.client}, ${this.joined ? 'joined ' : ''}room ${this.room}, LATEST ${this.limit})`;
  }
}

const client = fc.nat({ max: MAX_CLIENTS - 1 });
const room = fc.nat({ max: ROOMS - 1 });
// Texts with spaces, colons, a tab, two- and four-byte characters; now and then empty.
const text = fc.oneof(
  { weight: 1, arbitrary: fc.constant('') },
  { weight: 9, arbitrary: fc.string({ unit: fc.constantFrom('a', 'b', 'Z', '0', ' ', ':', '#', '\t', 'é', '😀'), minLength: 1, maxLength: 8 }) },
);

/** Mostly a room the client is in (see pickRoom), sometimes any room. */
const joined = fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) });
const kind = fc.constantFrom<'say' | 'me'>('say', 'say', 'me');
const say = fc.tuple(client, room, joined, text, kind).map(([c, r, j, t, k]) => new Say(c, r, j, t, k));
const join = fc.tuple(client, room).map(([c, r]) => new Join(c, r));

// JOIN and SAY are drawn more often than the others, so that rooms fill up and talk.
const commandArbs = [
  join,
  join,
  join,
  say,
  say,
  say,
  say,
  fc.tuple(client, room, joined, text).map(([c, r, j, t]) => new Part(c, r, j, t)),
  fc.tuple(client, client, text).map(([c, d, t]) => new Pm(c, d, t)),
  fc.tuple(client, fc.oneof(fc.constant<'fresh'>('fresh'), client)).map(([c, to]) => new Nick(c, to)),
  fc.tuple(client, room, joined, text).map(([c, r, j, t]) => new Topic(c, r, j, t)),
  fc.tuple(client, room).map(([c, r]) => new Who(c, r)),
  fc.tuple(client, room, joined, fc.integer({ min: 1, max: 5 })).map(([c, r, j, l]) => new History(c, r, j, l)),
];

let runs = 0;

/** Fresh clients in no room, and the empty model of a run. */
async function setup(count: number): Promise<{ model: Model; real: Real }> {
  // Short enough for NAMELEN and ROOMLEN with what is appended below.
  const tag = `${uniqueName('p').slice(0, 10)}r${(++runs).toString(36)}`;
  const clients: LineClient[] = [];
  for (let i = 0; i < count; i++) {
    const c = await suite.connect();
    clients.push(c);
    await c.register(`${tag}c${i}`);
  }
  for (const c of clients) await leaveLobby(c);
  for (const c of clients) await c.barrier();
  const model: Model = {
    tag,
    roomNames: Array.from({ length: ROOMS }, (_, j) => `#${tag}x${j}`),
    names: clients.map((c) => c.name!),
    rooms: Array.from({ length: ROOMS }, () => ({ members: [], topic: '', history: [], lastSeq: 0 })),
    conversations: new Map(),
    ids: new Set(),
    lastTime: 0,
    nextNick: 0,
  };
  return { model, real: { clients } };
}

describe('the server against a model of rooms and messages', () => {
  it(
    '[ROOM-3] [ROOM-4] [ROOM-6] [ROOM-7] [ROOM-8] [MSG-1] [MSG-2] [MSG-3] [MSG-4] [MSG-5] [MSG-6] [MSG-9] [MSG-10] [NAME-3] [NAME-4] [PRES-3] [HIST-2] [HIST-3] [HIST-4] random JOIN, PART, SAY, ME, private SAY, NICK, TOPIC, WHO and HISTORY: every client receives exactly what the model says',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 3, max: MAX_CLIENTS }), fc.commands(commandArbs, { maxCommands: 40, size: 'max' }), async (count, commands) => {
          let real: Real | undefined;
          try {
            await fc.asyncModelRun(async () => {
              const run = await setup(count);
              real = run.real;
              return run;
            }, commands);
          } finally {
            // Every run's clients are closed, passing or failing (the suite closes any left over).
            await Promise.all((real?.clients ?? []).map((c) => c.destroy()));
          }
        }),
        // Bounded: a failure shrinks for at most this long, then reports what it has.
        { numRuns: 30, interruptAfterTimeLimit: 40_000 },
      );
    },
    60_000,
  );
});
