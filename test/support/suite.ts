/**
 * Shared wiring for the integration and conformance tests: one target per
 * test file, a client pool closed after every test, the limits read from the
 * server's greeting, unique names that fit the server's NAMELEN, and checks
 * on the raw wire of every connection a test opened.
 *
 * Rules that keep the tests trustworthy against a shared server
 * (CHAT_SERVER=host:port):
 * - never assume who else is online: look only at names this test created,
 *   or compare to a baseline;
 * - read limits from the greeting (`suite.limits`), never assume defaults;
 * - synchronise on protocol events (`barrier()`, `expect()`), never sleep;
 * - a test that sends more lines than flood control lets through at once
 *   uses `itVolume`, and its file starts the server with `--flood-rate 0`.
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { ClientPool, LineClient, foldCase, uniqueName, type ConnectOptions, type Received } from './line-client.ts';
import { EXTERNAL_SERVER, openTarget, type Target } from './target.ts';
import { cutAt } from './chunks.ts';

export interface ServerInfo {
  readonly versions: readonly string[];
  readonly serverName: string;
  /** Every key=value of the greeting. */
  readonly keys: ReadonlyMap<string, string>;
  /** `LINE`: longest line the server accepts. */
  readonly line: number;
  /** `READCAP`: most bytes without a line end. */
  readonly readCap: number;
  /** `NAMELEN`: longest name. */
  readonly nameLen: number;
  /** `ROOMLEN`: longest room name, `#` included ([ROOM-1]). */
  readonly roomLen: number;
  /** `TOPICLEN`: longest topic, bytes ([ROOM-7]). */
  readonly topicLen: number;
  /** `HISTLIMIT`: most messages in one HISTORY reply ([HIST-2]). */
  readonly histLimit: number;
  /** `MAXJOIN`: rooms one client may be in at once ([ROOM-3]). */
  readonly maxJoin: number;
  /** `REPLAY`: messages replayed on joining a room ([HIST-4]). */
  readonly replay: number;
  /** `LOBBY`: the room every client joins on registering ([ROOM-2]); undefined when there is none. */
  readonly lobby: string | undefined;
  /**
   * `RATE` ([FLOOD-1]): lines per second a connection may send after its
   * burst. 0 when the server announces 0 or no `RATE`: no flood control.
   */
  readonly floodRate: number;
  readonly text: string;
}

/** Reads a greeting line: `LINECHAT <versions> <server-name> <key=value>... :<text>` ([SESSION-1]). */
export function readGreeting(m: Received): ServerInfo {
  if (m.command !== 'LINECHAT' || m.params.length < 3) throw new Error(`not a greeting: ${m.raw}`);
  const keys = new Map<string, string>();
  for (const kv of m.params.slice(2, -1)) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new Error(`greeting key without "=": ${JSON.stringify(kv)} in ${m.raw}`);
    keys.set(kv.slice(0, eq), kv.slice(eq + 1));
  }
  const int = (key: string) => {
    const value = keys.get(key);
    if (value === undefined || !/^[0-9]+$/.test(value)) throw new Error(`greeting has no integer ${key}: ${m.raw}`);
    return Number(value);
  };
  const decimal = (key: string) => {
    const value = keys.get(key);
    if (value === undefined || !/^[0-9]+(\.[0-9]+)?$/.test(value)) throw new Error(`greeting has no number ${key}: ${m.raw}`);
    return Number(value);
  };
  return {
    versions: m.params[0]!.split(','),
    serverName: m.params[1]!,
    keys,
    line: int('LINE'),
    readCap: int('READCAP'),
    nameLen: int('NAMELEN'),
    roomLen: int('ROOMLEN'),
    topicLen: int('TOPICLEN'),
    histLimit: int('HISTLIMIT'),
    maxJoin: int('MAXJOIN'),
    replay: int('REPLAY'),
    lobby: keys.get('LOBBY') || undefined,
    floodRate: keys.has('RATE') ? decimal('RATE') : 0,
    text: m.params[m.params.length - 1]!,
  };
}

/**
 * Commands the server sends on its own initiative, about other clients or
 * rooms. A JOIN or LEAVE of the client itself, a NICK that renames it and a
 * TOPIC it set are replies to its own lines, not notices.
 */
const NOTICES = new Set(['JOIN', 'LEAVE', 'MSG', 'NICK', 'TOPIC', 'PING']);

/**
 * The messages that are replies to `client`'s own lines: drops notices
 * (JOIN, LEAVE, MSG, NICK, TOPIC, server PING) that a shared server or an
 * earlier test may cause at any time, keeping those about `client` itself:
 * `JOIN`/`LEAVE <room> <client>`, a `NICK` from or to its name, and a
 * `TOPIC <room> <client> …` it set. (So the answer to a `TOPIC <room>`
 * query about a topic someone else set is dropped too: read that one with
 * `expect`.)
 */
export function repliesOf(client: LineClient, messages: readonly Received[]): Received[] {
  return messages.filter((m) => {
    if (!NOTICES.has(m.command)) return true;
    switch (m.command) {
      case 'NICK':
        return m.params[0] === client.name || m.params[1] === client.name;
      case 'JOIN':
      case 'LEAVE':
      case 'TOPIC':
        return m.params[1] === client.name;
      default:
        return false;
    }
  });
}

/**
 * `SAY [<target>] :<text>` (`ME` with `kind: 'me'`), then waits for its
 * acknowledgement ([MSG-8]): the `ECHO`, or the `ERR` for that command,
 * which it returns. Lines before it are consumed and dropped.
 */
export async function say(client: LineClient, text: string, target?: string, kind: 'say' | 'me' = 'say'): Promise<Received> {
  const command = kind === 'me' ? 'ME' : 'SAY';
  client.send(target === undefined ? `${command} :${text}` : `${command} ${target} :${text}`);
  return client.expect((m) => m.command === 'ECHO' || (m.command === 'ERR' && m.params[1] === command));
}

/**
 * `JOIN <room>`, then waits for this client's own join replies ([ROOM-3]):
 * `JOIN <room> <name>`, `ROOM`, the `HIST` replay and `ENDHIST <room> <n>`,
 * which it returns in order. Throws with the line when the server answers
 * `ERR … JOIN`.
 */
export async function joinRoom(client: LineClient, room: string): Promise<Received[]> {
  client.send(`JOIN ${room}`);
  const key = foldCase(room);
  const got: Received[] = [];
  const last = await client.expect((m) => {
    if (m.command === 'ERR' && m.params[1] === 'JOIN') return true;
    if (got.length > 0 || (m.command === 'JOIN' && foldCase(m.params[0] ?? '') === key && m.params[1] === client.name)) got.push(m);
    return m.command === 'ENDHIST' && got.length > 0 && foldCase(m.params[0] ?? '') === key;
  });
  if (last.command === 'ERR') throw new Error(`JOIN ${room} failed: ${last.raw}`);
  return got;
}

/** The parameters of a `MSG`/`ECHO`/`HIST` line by name ([MSG-2]); throws for any other line. */
export function messageOf(m: Received): { id: string; seq: number; time: number; from: string; to: string; kind: string; text: string } {
  if (!['MSG', 'ECHO', 'HIST'].includes(m.command) || m.params.length !== 7) throw new Error(`not a message line: ${m.raw}`);
  const [id, seq, time, from, to, kind, text] = m.params as [string, string, string, string, string, string, string];
  return { id, seq: Number(seq), time: Number(time), from, to, kind, text };
}

/** Asserts that `m` is `ERR <code> <command> :<text>` ([ERR-1]). */
export function expectErr(m: Received | undefined, code: string, command?: string | readonly string[]): void {
  expect(m, `expected ERR ${code}`).toBeDefined();
  expect(m!.command, `expected ERR ${code}, got: ${m!.raw}`).toBe('ERR');
  expect(m!.params, `ERR has <code> <command> :<text>: ${m!.raw}`).toHaveLength(3);
  expect(m!.params[0], m!.raw).toBe(code);
  expect(m!.params[1], m!.raw).toMatch(/^([A-Z]{1,32}|\*)$/);
  if (command !== undefined) {
    const allowed = typeof command === 'string' ? [command] : command;
    expect(allowed, `ERR command field of ${m!.raw}`).toContain(m!.params[1]);
  }
}

/** The matching messages among `messages`. */
export function about(messages: readonly Received[], names: Iterable<string>): Received[] {
  const set = new Set(names);
  return messages.filter((m) => m.params.some((p) => set.has(p)));
}

/**
 * Waits until `count` messages matching `match` have arrived (others are
 * consumed and dropped) and returns them.
 */
export async function collect(
  client: LineClient,
  count: number,
  match: (m: Received) => boolean,
  timeoutMs = 20_000,
): Promise<Received[]> {
  const got: Received[] = [];
  if (count === 0) return got;
  await client.expect((m) => {
    if (match(m)) got.push(m);
    return got.length >= count;
  }, timeoutMs);
  return got;
}

/** Consumes messages up to and including the first that matches; returns them all. */
export async function upTo(client: LineClient, match: (m: Received) => boolean, timeoutMs?: number): Promise<Received[]> {
  const got: Received[] = [];
  await client.expect((m) => {
    got.push(m);
    return match(m);
  }, timeoutMs);
  return got;
}

/**
 * Writes `pieces` one after another, each handed to the kernel before the
 * next, with a PING/PONG round trip through the server on `sync` in between.
 * The round trip makes it very likely that the server has read each piece
 * on its own, so lines really are split across reads; the tests never depend
 * on that, they check the result is the same however the bytes arrive.
 */
export async function writePieces(client: LineClient, pieces: readonly (Buffer | string)[], sync?: LineClient): Promise<void> {
  for (const piece of pieces) {
    await client.writeFlushed(piece);
    if (sync !== undefined) await sync.barrier();
  }
}

/**
 * A barrier on each client, dropping what arrived: after it, notices caused
 * by the test's set-up (JOINs of its own clients) are out of the way.
 */
export async function settle(...clients: LineClient[]): Promise<void> {
  await Promise.all(clients.map((c) => c.barrier()));
}

/** Splits `bytes` at the given offsets. */
export function splitAt(bytes: Buffer, offsets: readonly number[]): Buffer[] {
  // Only offsets inside the line: no empty pieces.
  return cutAt(bytes, offsets.filter((o) => o > 0 && o < bytes.length));
}

/** Whether `list` is sorted ignoring ASCII case (folding to lower or to upper case). */
export function isSortedIgnoringCase(list: readonly string[]): boolean {
  const sorted = (fold: (s: string) => string) =>
    list.every((name, i) => i === 0 || fold(list[i - 1]!) <= fold(name));
  const lower = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
  const upper = (s: string) => s.replace(/[a-z]/g, (c) => c.toUpperCase());
  return sorted(lower) || sorted(upper);
}

export interface Suite {
  /** The server under test (available from beforeAll on). */
  readonly target: Target;
  readonly pool: ClientPool;
  /** What the server announced in its greeting. */
  readonly info: ServerInfo;
  /** True when this run started the server itself (not conformance mode). */
  readonly own: boolean;
  /** Every name a test in this file registered or tried to register. */
  readonly names: ReadonlySet<string>;
  /** A fresh name no other test or user will pick, at most NAMELEN long. */
  name(prefix?: string): string;
  /** A fresh name of exactly `length` characters (letters and digits). */
  nameOfLength(length: number, prefix?: string): string;
  /** A fresh room name (`#` and letters and digits) no other test will pick, at most ROOMLEN long. */
  room(prefix?: string): string;
  /** Records a name the server assigned (a guest name), for `foreign`. */
  remember(name: string): void;
  /** Connects; waits for the greeting unless told otherwise. */
  connect(options?: ConnectOptions): Promise<LineClient>;
  /** Connects and registers under `name` (or a fresh one). */
  user(name?: string): Promise<LineClient>;
  /** Connects and registers `count` users at once. */
  users(count: number, prefix?: string): Promise<LineClient[]>;
  /**
   * The online names that no test in this file created. In own-server mode
   * this must be empty; against a shared server it is whatever others do.
   */
  foreign(names: readonly string[]): string[];
}

/**
 * Sets up a test file: opens the target in beforeAll (our own server,
 * started with `serverArgs`, or CHAT_SERVER), closes every client after each
 * test and checks its wire, and stops the server in afterAll.
 */
export function useServer(serverArgs: readonly string[] = []): Suite {
  let target: Target | undefined;
  let info: ServerInfo | undefined;
  const names = new Set<string>();
  const pool = new ClientPool(() => {
    if (target === undefined) throw new Error('the target is not open yet');
    return target;
  });

  beforeAll(async () => {
    target = await openTarget(serverArgs);
    const probe = await LineClient.connect(target.host, target.port);
    try {
      info = readGreeting(probe.greeting!);
    } finally {
      await probe.destroy();
    }
  });

  afterEach(async () => {
    const clients = pool.clients;
    try {
      // [FRAME-3] [LIMIT-6] hold for every line of every test, not only the
      // tests about them.
      for (const client of clients) {
        const where = `wire of a connection (${client.name ?? 'unregistered'})`;
        expect(client.wire.crBytes, `${where}: CR bytes`).toBe(0);
        expect(client.wire.emptyLines, `${where}: empty lines`).toBe(0);
        expect(client.wire.malformed, `${where}: lines that are not messages`).toEqual([]);
        expect(client.wire.unterminated, `${where}: bytes after the last LF`).toBe(0);
        if (info !== undefined) expect(client.wire.longestLine, `${where}: longest line`).toBeLessThanOrEqual(info.line + 512);
      }
    } finally {
      await pool.closeAll();
    }
  });

  afterAll(async () => {
    await pool.closeAll();
    await target?.close();
  });

  const suite: Suite = {
    get target() {
      if (target === undefined) throw new Error('the target is not open yet');
      return target;
    },
    pool,
    get info() {
      if (info === undefined) throw new Error('the greeting has not been read yet');
      return info;
    },
    own: EXTERNAL_SERVER === undefined,
    names,
    name(prefix = 'u') {
      const max = Math.min(suite.info.nameLen, 24);
      let name = uniqueName(prefix);
      if (name.length > max) {
        name = prefix;
        while (name.length < max) name += Math.floor(Math.random() * 36).toString(36);
        name = name.slice(0, max);
      }
      names.add(name);
      return name;
    },
    nameOfLength(length, prefix = 'n') {
      for (;;) {
        let name = uniqueName(prefix).slice(0, length);
        if (name.length < length || length < 12) {
          name = prefix.slice(0, length);
          while (name.length < length) name += Math.floor(Math.random() * 36).toString(36);
        }
        if (names.has(name)) continue;
        names.add(name);
        return name;
      }
    },
    room(prefix = 'r') {
      return `#${uniqueName(prefix)}`.slice(0, Math.min(suite.info.roomLen, 25));
    },
    remember(name) {
      names.add(name);
    },
    connect: (options) => pool.connect(options),
    async user(name) {
      const client = await pool.connect();
      const registered = await client.register(name ?? suite.name());
      names.add(registered);
      return client;
    },
    users(count, prefix = 'u') {
      return Promise.all(Array.from({ length: count }, () => suite.user(suite.name(prefix))));
    },
    foreign: (online) => online.filter((n) => !names.has(n)),
  };
  return suite;
}

/** Why a test that needs volume is skipped against a server with flood control on. */
export const NEEDS_FLOOD_OFF = 'needs flood control off: start the server with --flood-rate 0';

/**
 * A test that sends more lines from one connection than flood control
 * ([FLOOD-1]) lets through at once, so that with `RATE` lines per second it
 * would only time out. On our own server its file must start the server with
 * `--flood-rate 0` (the test fails if the greeting announces another RATE).
 * Against CHAT_SERVER it is skipped, saying why, when the greeting announces
 * a RATE other than 0.
 */
export function itVolume(suite: Suite, name: string, fn: () => Promise<void>, timeout?: number): void {
  const shown = suite.own ? name : `${name} (needs flood control off)`;
  it(
    shown,
    async (context) => {
      const rate = suite.info.floodRate;
      if (rate !== 0) {
        if (suite.own) throw new Error(`this file's server must be started with --flood-rate 0; its greeting announces RATE=${rate}`);
        context.skip(`${NEEDS_FLOOD_OFF} (the server announces RATE=${rate})`);
      }
      await fn();
    },
    timeout,
  );
}
