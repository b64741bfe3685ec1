import { readFileSync } from 'node:fs';
/**
 * ChatServer in-process, over loopback, with a recording log. Clients are
 * the raw LineClient of test/support; every wait is on a line, a close or a
 * PING barrier ([PING-1]), never a fixed sleep.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { ChatServer, ServerState } from '../../../src/server/chat-server.ts';
import { DEFAULT_OPTIONS, type ServerOptions } from '../../../src/server/options.ts';
import { DEFAULT_LIMITS, SERVER_LINE_OVERHEAD, type Limits } from '../../../src/protocol/limits.ts';
import { LineFramer } from '../../../src/protocol/framer.ts';
import { parseLine } from '../../../src/protocol/parser.ts';
import { ClientPool, type LineClient, type Received } from '../../support/line-client.ts';
import type { HistoryStore } from '../../../src/server/history/store.ts';
import { TestStore } from './fakes.ts';

interface Started {
  readonly server: ChatServer;
  readonly address: AddressInfo;
  readonly pool: ClientPool;
  readonly logs: string[];
}

const started: Started[] = [];
/** Sockets a test opens without the pool. */
const rawSockets = new Set<Socket>();

afterEach(async () => {
  for (const socket of rawSockets) socket.destroy();
  rawSockets.clear();
  const all = started.splice(0);
  await Promise.all(all.map((s) => s.pool.closeAll()));
  await Promise.all(all.map((s) => s.server.shutdown()));
});

type Overrides = Partial<Omit<ServerOptions, 'limits'>> & { limits?: Partial<Limits> };

function options(overrides: Overrides = {}): ServerOptions {
  return {
    ...DEFAULT_OPTIONS,
    port: 0,
    ...overrides,
    limits: { ...DEFAULT_LIMITS, ...overrides.limits },
  };
}

async function start(overrides: Overrides = {}, store?: HistoryStore): Promise<Started> {
  const logs: string[] = [];
  const server = new ChatServer(options(overrides), (line) => logs.push(line), store);
  const entry: Started = {
    server,
    logs,
    // Filled in below; the pool only reads it when a client connects.
    address: undefined as unknown as AddressInfo,
    pool: new ClientPool(() => ({ host: entry.address.address, port: entry.address.port })),
  };
  started.push(entry);
  (entry as { address: AddressInfo }).address = await server.listen();
  return entry;
}

/** Round trips a barrier on `observer` until `condition` holds. */
async function settle(observer: LineClient, condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await observer.barrier();
  expect(condition()).toBe(true);
}

/** Lets the event loop turn (no timers) until `condition` holds. */
async function turnsUntil(condition: () => boolean, maxTurns = 100): Promise<void> {
  for (let i = 0; i < maxTurns && !condition(); i++) await nextTurn();
  expect(condition()).toBe(true);
}

/** Every message a closed client received and nobody consumed. */
async function rest(client: LineClient): Promise<Received[]> {
  await client.closed;
  return client.inbox.take();
}

describe('ChatServer.listen', () => {
  it('resolves with the address really bound', async () => {
    const { server, address } = await start();
    expect(address.address).toBe('127.0.0.1');
    expect(address.port).toBeGreaterThan(0);
    expect(server.state).toBe(ServerState.Listening);
  });

  it('rejects with EADDRINUSE when the port is taken, and the first server keeps working', async () => {
    const first = await start();
    const logs: string[] = [];
    const second = new ChatServer(options({ port: first.address.port }), (line) => logs.push(line));
    await expect(second.listen()).rejects.toMatchObject({ code: 'EADDRINUSE' });
    expect(second.state).toBe(ServerState.Idle);
    await second.shutdown();
    expect(second.state).toBe(ServerState.Stopped);
    expect(logs).toEqual([]);
    const client = await first.pool.connect();
    expect(client.greeting?.command).toBe('LINECHAT');
  });
});

describe('ChatServer: a session', () => {
  it('greets first, announcing the version, the server name and every limit it was given [SESSION-1] [LIMIT-1]', async () => {
    const { pool } = await start({
      serverName: 'test-server',
      limits: { line: 100, readCap: 300, nameLength: 10, roomLength: 12, topicLength: 90, historyPage: 40 },
    });
    const client = await pool.connect();
    expect(client.greeting?.params.slice(0, 8)).toEqual([
      '1',
      'test-server',
      'LINE=100',
      'READCAP=300',
      'NAMELEN=10',
      'ROOMLEN=12',
      'TOPICLEN=90',
      'HISTLIMIT=40',
    ]);
    const d = DEFAULT_OPTIONS;
    expect(client.greeting?.params.slice(8, -1)).toEqual([
      `SENDQ=${d.sendQueue}`,
      `BURST=${d.floodBurst}`,
      `RATE=${d.floodRate}`,
      `PING=${d.pingIntervalMs / 1000}`,
      `PINGTIMEOUT=${d.pingTimeoutMs / 1000}`,
      `REGTIMEOUT=${d.registerTimeoutMs / 1000}`,
      `MAXJOIN=${d.maxJoins}`,
      `REPLAY=${d.replay}`,
      'LOBBY=#lobby',
    ]);
    expect(client.greeting?.params).toHaveLength(18);
  });

  it('announces by default exactly the keys and defaults of the SPEC §3 table [LIMIT-1]', async () => {
    const spec = readFileSync(new URL('../../../SPEC.md', import.meta.url), 'utf8');
    const section = spec.slice(spec.indexOf('## 3. Limits'), spec.indexOf('### Flood control'));
    // A default is a number, or a room name in backquotes (LOBBY).
    const table = [...section.matchAll(/^\| `([A-Z]+)` \| [^|]+ \| (?:(\d+)|`(#[^`]+)`) \|$/gm)].map((m) => `${m[1]}=${m[2] ?? m[3]}`);
    expect(table.map((kv) => kv.split('=')[0])).toEqual([
      'LINE',
      'READCAP',
      'NAMELEN',
      'ROOMLEN',
      'TOPICLEN',
      'HISTLIMIT',
      'SENDQ',
      'BURST',
      'RATE',
      'PING',
      'PINGTIMEOUT',
      'REGTIMEOUT',
      'MAXJOIN',
      'REPLAY',
      'LOBBY',
    ]);
    const { pool } = await start({});
    const client = await pool.connect();
    expect(client.greeting?.params.slice(2, -1)).toEqual(table);
  });

  it('announces the hardening policies it was given, durations in seconds [SESSION-1] [LIMIT-1]', async () => {
    const { pool } = await start({
      sendQueue: 50_000,
      floodBurst: 7,
      floodRate: 0.5,
      pingIntervalMs: 1_500,
      pingTimeoutMs: 250,
      registerTimeoutMs: 10_000,
      maxJoins: 3,
      replay: 0,
      lobby: '#Hall',
    });
    const client = await pool.connect();
    const keys = client.greeting?.params.slice(2, -1) ?? [];
    expect(keys).toEqual([
      `LINE=${DEFAULT_LIMITS.line}`,
      `READCAP=${DEFAULT_LIMITS.readCap}`,
      `NAMELEN=${DEFAULT_LIMITS.nameLength}`,
      `ROOMLEN=${DEFAULT_LIMITS.roomLength}`,
      `TOPICLEN=${DEFAULT_LIMITS.topicLength}`,
      `HISTLIMIT=${DEFAULT_LIMITS.historyPage}`,
      'SENDQ=50000',
      'BURST=7',
      'RATE=0.5',
      'PING=1.5',
      'PINGTIMEOUT=0.25',
      'REGTIMEOUT=10',
      'MAXJOIN=3',
      'REPLAY=0',
      'LOBBY=#Hall',
    ]);
    // Every key is one middle parameter of the form KEY=value.
    for (const key of keys) expect(key).toMatch(/^[A-Z]+=([0-9.]+|#[A-Za-z0-9_-]+)$/);
  });

  it('announces no LOBBY without a lobby, and joins nobody to one [ROOM-2] [SESSION-5]', async () => {
    const { pool } = await start({ lobby: undefined });
    const client = await pool.connect();
    expect(client.greeting?.params.some((p) => p.startsWith('LOBBY='))).toBe(false);
    expect(client.lobby).toBeUndefined();
    await client.register('alone');
    expect(await client.barrier()).toEqual([]);
    client.send('ROOMS');
    expect((await client.barrier()).map((m) => m.raw)).toEqual(['ENDROOMS 0']);
    client.send('SAY :hello?');
    expect((await client.barrier()).map((m) => m.params.slice(0, 2))).toEqual([['NOT_IN_ROOM', 'SAY']]);
  });

  it('joins every client to the lobby right after WELCOME, before its next line [SESSION-5] [ROOM-2] [HIST-4]', async () => {
    const { pool } = await start({ replay: 2 });
    const alice = await pool.user('alice');
    expect(alice.lobbyJoin.map((m) => m.raw)).toEqual(['JOIN #lobby alice', 'ROOM #lobby 1 :', 'ENDHIST #lobby 0']);
    for (const text of ['one', 'two', 'three']) alice.send(`SAY :${text}`);
    await alice.barrier();
    const bob = await pool.connect();
    // HELLO and the next line in one packet: the lobby join still comes first.
    bob.write('HELLO 1 bob\nWHO\n');
    const lines = await bob.barrier();
    expect(lines.map((m) => m.command)).toEqual(['WELCOME', 'JOIN', 'ROOM', 'HIST', 'HIST', 'ENDHIST', 'USER', 'USER', 'ENDWHO']);
    expect(lines.filter((m) => m.command === 'HIST').map((m) => m.params[6])).toEqual(['two', 'three']);
    expect(lines[2]?.raw).toBe('ROOM #lobby 2 :');
  });

  it('enforces the limits it announced [LIMIT-1]', async () => {
    const { pool } = await start({ limits: { line: 100, readCap: 300, nameLength: 10 } });
    const client = await pool.connect();
    client.send('HELLO 1 ' + 'a'.repeat(11));
    expect((await client.expect('ERR')).params[0]).toBe('BAD_NAME');
    client.send('FOO ' + 'x'.repeat(96)); // 100 bytes: fits
    client.send('FOO ' + 'x'.repeat(97)); // 101 bytes: too long
    const replies = await client.barrier();
    expect(replies.map((m) => m.params.slice(0, 2))).toEqual([
      ['UNKNOWN_COMMAND', 'FOO'],
      ['LINE_TOO_LONG', '*'],
    ]);
  });

  it('registers, relays, lists, renames and quits, and logs each step', async () => {
    const { server, pool, logs } = await start();
    const alice = await pool.user('alice');
    const bob = await pool.connect();
    const bobPort = bob.socket.localPort;
    expect(server.connections).toBe(2);
    expect(server.online).toBe(1);
    bob.send('HELLO 1 bob');
    expect((await bob.expect('WELCOME')).params[0]).toBe('bob');
    expect((await alice.expect('JOIN')).params).toEqual(['#lobby', 'bob']);

    alice.send('SAY :hello bob');
    const echo = await alice.expect('ECHO');
    const message = await bob.expect('MSG');
    expect(message.params).toEqual(echo.params);
    expect(message.params.slice(3)).toEqual(['alice', '#lobby', 'say', 'hello bob']);

    expect(await bob.who()).toEqual(['alice', 'bob']);
    bob.send('NICK Robert');
    expect((await bob.expect('NICK')).params).toEqual(['bob', 'Robert']);
    expect((await alice.expect('NICK')).params).toEqual(['bob', 'Robert']);

    bob.send('QUIT :off now');
    const after = await rest(bob);
    expect(after.map((m) => m.raw)).toEqual(['BYE :off now']);
    expect((await alice.expect('LEAVE')).raw).toBe('LEAVE #lobby Robert quit :off now');
    // Gone from WHO before any later reply [PRES-2].
    expect(await alice.who()).toEqual(['alice']);
    expect(server.online).toBe(1);

    expect(logs.some((l) => l.startsWith('New connection: 127.0.0.1:'))).toBe(true);
    expect(logs).toContain(`Registered 127.0.0.1:${bobPort} (#2) as bob`);
    expect(logs).toContain(`Message ${echo.params[0]} from alice to #lobby: hello bob`);
    expect(logs).toContain('Renamed bob to Robert');
    expect(logs).toContain('Disconnected Robert (quit: off now)');
  });

  it('with --log-messages off, logs no message text but every other step', async () => {
    const { pool, logs } = await start({ logMessages: false });
    const alice = await pool.user('alice');
    const bob = await pool.user('bob');
    alice.send('SAY :a private matter');
    expect((await bob.expect('MSG')).params[6]).toBe('a private matter');
    await alice.expect('ECHO');
    alice.send(`SAY bob :another private matter`);
    expect((await bob.expect('MSG')).params.slice(4)).toEqual(['bob', 'say', 'another private matter']);
    expect(logs.some((l) => l.includes('a private matter'))).toBe(false);
    expect(logs.some((l) => l.endsWith(' as bob'))).toBe(true);
  });

  it('sends the replies queued before BYE, then processes no line after QUIT, even in the same packet [QUIT-1] [QUIT-2]', async () => {
    const { pool } = await start();
    const watcher = await pool.user('watcher');
    const quitter = await pool.user('quitter');
    quitter.write('WHO\nQUIT\nSAY :after quit\nNICK other\n');
    // The replies queued before BYE go out first [QUIT-1].
    expect((await rest(quitter)).map((m) => m.raw.replace(/^(USER \S+) \d+$/, '$1 <idle>'))).toEqual([
      'USER quitter <idle>',
      'USER watcher <idle>',
      'ENDWHO 2',
      'BYE',
    ]);
    expect((await watcher.expect('LEAVE')).raw).toBe('LEAVE #lobby quitter quit');
    const later = await watcher.barrier();
    expect(later).toEqual([]);
    expect(await watcher.who()).toEqual(['watcher']);
  });

  it('ignores an empty or blank line without a reply [FRAME-5]', async () => {
    const { pool } = await start();
    const client = await pool.connect();
    client.write('\n   \r\n\r\n');
    expect(await client.barrier()).toEqual([]);
  });

  it.each([
    ['BAD_UTF8', Buffer.from([0x53, 0x41, 0x59, 0x20, 0x3a, 0xc3, 0x28, 0x0a]), 'SAY'],
    ['BAD_CHAR', Buffer.from('SAY :a\u0007b\n'), 'SAY'],
    ['BAD_CHAR', Buffer.from('SAY :a\rb\n'), 'SAY'],
    ['UNKNOWN_COMMAND', Buffer.from('123 go\n'), '*'],
  ])('answers ERR %s and keeps the connection usable [FRAME-7] [FRAME-8] [LINE-5] [ERR-2]', async (code, bytes, command) => {
    const { pool } = await start();
    const talker = await pool.user();
    const listener = await pool.user();
    await talker.barrier(); // consumes the listener's JOIN
    talker.write(bytes);
    const replies = await talker.barrier();
    expect(replies.map((m) => m.params.slice(0, 2))).toEqual([[code, command]]);
    expect(await listener.barrier()).toEqual([]);
    talker.send('SAY :still here');
    expect((await talker.expect('ECHO')).params[6]).toBe('still here');
  });

  it('answers a line over LINE with ERR LINE_TOO_LONG, relays none of it, and stays open [LIMIT-2]', async () => {
    const { pool } = await start({ limits: { line: 64, readCap: 1000 } });
    const talker = await pool.user();
    const listener = await pool.user();
    await talker.barrier(); // consumes the listener's JOIN
    talker.send('SAY :' + 'x'.repeat(100));
    const replies = await talker.barrier();
    expect(replies.map((m) => m.params[0])).toEqual(['LINE_TOO_LONG']);
    expect(await listener.barrier()).toEqual([]);
  });

  it('cuts off a client that sends more than READCAP bytes without a line end, with reason error [LIMIT-3] [ERR-2]', async () => {
    const { server, pool, logs } = await start({ limits: { line: 64, readCap: 128 } });
    const watcher = await pool.user('watcher');
    const flooder = await pool.user('flooder');
    flooder.write('y'.repeat(129));
    const last = await rest(flooder);
    expect(last.map((m) => m.params.slice(0, 2))).toEqual([['INPUT_OVERFLOW', '*']]);
    expect((await watcher.expect('LEAVE')).params).toEqual(['#lobby', 'flooder', 'error', 'INPUT_OVERFLOW']);
    await settle(watcher, () => server.connections === 1);
    expect(logs).toContain('Disconnected flooder (error: INPUT_OVERFLOW)');
  });

  it('announces LEAVE lost on EOF, also after a half-written line, which is dropped [QUIT-3] [FRAME-6]', async () => {
    const { server, pool } = await start();
    const watcher = await pool.user('watcher');
    const leaver = await pool.user('leaver');
    leaver.socket.end('SAY :never finished');
    expect((await watcher.expect((m) => m.command === 'LEAVE' || m.command === 'MSG')).raw).toBe(
      'LEAVE #lobby leaver lost :Connection closed',
    );
    await leaver.closed;
    await settle(watcher, () => server.connections === 1 && server.online === 1);
  });

  it('announces LEAVE lost on a reset [QUIT-3] [PRES-1]', async () => {
    const { server, pool } = await start();
    const watcher = await pool.user('watcher');
    const leaver = await pool.user('leaver');
    leaver.socket.resetAndDestroy();
    const leave = await watcher.expect('LEAVE');
    expect(leave.params.slice(0, 3)).toEqual(['#lobby', 'leaver', 'lost']);
    expect(leave.params[3]).toMatch(/^Connection error: /);
    await settle(watcher, () => server.connections === 1 && server.online === 1);
    expect(await watcher.who()).toEqual(['watcher']);
  });

  it('does not announce a client that leaves before registering [PRES-4]', async () => {
    const { server, pool } = await start();
    const watcher = await pool.user('watcher');
    const stranger = await pool.connect();
    await settle(watcher, () => server.connections === 2);
    await stranger.destroy();
    await settle(watcher, () => server.connections === 1);
    expect(await watcher.barrier()).toEqual([]);
  });

  it('returns connections and online to 0 once every client has gone [QUIT-3]', async () => {
    const { server, pool } = await start();
    const observer = await pool.connect(); // not registered: never online
    const clients = await Promise.all(['a1', 'a2', 'a3'].map((n) => pool.user(n)));
    const stranger = await pool.connect();
    await settle(observer, () => server.connections === 5 && server.online === 3);
    clients[0]!.send('QUIT');
    clients[1]!.socket.end();
    clients[2]!.socket.resetAndDestroy();
    stranger.socket.end();
    await settle(observer, () => server.connections === 1 && server.online === 0);
    await observer.destroy();
    // The observer was the last one; a fresh one is then the only connection.
    const fresh = await pool.connect();
    await settle(fresh, () => server.connections === 1 && server.online === 0);
  });

  it('disconnects a client that stops reading with SLOW_CONSUMER, without holding up the others [LIMIT-7]', async () => {
    const sendQueue = 64 * 1024;
    // Flood control off: the talker sends as fast as the round trips allow.
    const { server, pool } = await start({ sendQueue, floodRate: 0 });
    const talker = await pool.user('talker');
    const sleeper = await pool.user('sleeper');
    sleeper.socket.pause();
    const text = 'z'.repeat(1900);
    let said = 0;
    let leave: Received | undefined;
    while (leave === undefined) {
      expect(said).toBeLessThan(100_000);
      // Few enough per round trip that the talker's own ECHOs, queued in
      // one turn, stay well under its sendQueue.
      talker.write(`SAY :${text}\n`.repeat(10));
      said += 10;
      const got = await talker.barrier();
      // The talker is never held up: every SAY is acknowledged.
      expect(got.filter((m) => m.command === 'ECHO')).toHaveLength(10);
      leave = got.find((m) => m.command === 'LEAVE');
    }
    expect(leave.params).toEqual(['#lobby', 'sleeper', 'error', 'SLOW_CONSUMER']);
    expect(await talker.who()).toEqual(['talker']);
    // The sleeper wakes up: it gets every message it was sent, in order and
    // without gaps, then the error as its last line, then the close.
    sleeper.socket.resume();
    const got = await rest(sleeper);
    const last = got.at(-1);
    expect(last?.params.slice(0, 2)).toEqual(['SLOW_CONSUMER', '*']);
    const seqs = got.filter((m) => m.command === 'MSG').map((m) => Number(m.params[1]));
    expect(seqs.length).toBeGreaterThan(0);
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
    expect(got.filter((m) => m.command !== 'MSG')).toEqual([last]);
    await settle(talker, () => server.connections === 1);
  });

  it('answers a handler that throws with ERR INTERNAL_ERROR, closing only that connection [ERR-2]', async () => {
    // The one natural way in: the injected log throws inside the SAY handler
    // (its line is `Message <id> from <name> to <target>: <text>`).
    const logs: string[] = [];
    const boom = new TypeError('log failed');
    const server = new ChatServer(options(), (line) => {
      logs.push(line);
      if (/^Message \S+ from victim to #lobby: trigger$/.test(line)) throw boom;
    });
    const address = await server.listen();
    const pool = new ClientPool(() => ({ host: address.address, port: address.port }));
    started.push({ server, address, pool, logs });
    const watcher = await pool.user('watcher');
    const victim = await pool.user('victim');
    await watcher.barrier();
    victim.send('SAY :trigger');
    victim.send('SAY :not processed');
    const got = await rest(victim);
    expect(got.map((m) => m.command)).toEqual(['ECHO', 'ERR']);
    expect(got[1]?.params.slice(0, 2)).toEqual(['INTERNAL_ERROR', '*']);
    const seen = [await watcher.expect('MSG'), await watcher.expect('LEAVE')];
    expect(seen[0]?.params[6]).toBe('trigger');
    expect(seen[1]?.params).toEqual(['#lobby', 'victim', 'error', 'INTERNAL_ERROR']);
    expect(logs.some((l) => l.startsWith('Internal error on victim: TypeError: log failed'))).toBe(true);
    // Everyone else carries on.
    watcher.send('SAY :still up');
    expect((await watcher.expect('ECHO')).params[6]).toBe('still up');
    expect(await watcher.who()).toEqual(['watcher']);
  });

  it('keeps every line it sends within LINE + 512 bytes [LIMIT-6]', async () => {
    const { pool, logs } = await start({ limits: { nameLength: 64 } });
    const line = DEFAULT_LIMITS.line;
    const longest = 'N'.repeat(64);
    const a = await pool.user(longest);
    const b = await pool.user();
    const stranger = await pool.connect();
    await a.barrier(); // consumes b's JOIN
    const room = '#' + 'R'.repeat(DEFAULT_LIMITS.roomLength - 1);
    const fill = (head: string) => head + 'é'.repeat(Math.floor((line - Buffer.byteLength(head)) / 2));
    const probes = [
      'HELLO ' + '9'.repeat(line - 'HELLO '.length),
      'NICK ' + '!'.repeat(line - 'NICK '.length),
      fill('SAY :'),
      fill(`SAY ${b.name} :`),
      `JOIN ${room}`,
      fill(`SAY ${room} :`),
      `TOPIC ${room} :` + 'é'.repeat(DEFAULT_LIMITS.topicLength / 2),
      'QUITTINGTIMEQUITTINGTIMEQUITTING' + ' x'.repeat((line - 32) / 2),
      `HISTORY * LATEST ${DEFAULT_LIMITS.historyPage}`,
    ];
    for (const probe of probes) expect(Buffer.byteLength(probe)).toBeLessThanOrEqual(line);
    stranger.send(probes[0]!);
    for (const probe of probes) a.send(probe);
    const all = [...(await stranger.barrier()), ...(await a.barrier()), ...(await b.barrier())];
    // a: ERR ERR ECHO ECHO JOIN ROOM ENDHIST ECHO TOPIC ERR HIST×3 ENDHIST; b: MSG MSG; the stranger: ERR.
    expect(all.map((m) => m.command).sort()).toEqual(
      ['ECHO', 'ECHO', 'ECHO', 'ENDHIST', 'ENDHIST', 'ERR', 'ERR', 'ERR', 'ERR', 'HIST', 'HIST', 'HIST', 'JOIN', 'MSG', 'MSG', 'ROOM', 'TOPIC'].sort(),
    );
    for (const m of all) expect(Buffer.byteLength(m.raw)).toBeLessThanOrEqual(line + SERVER_LINE_OVERHEAD);
    expect(logs.length).toBeGreaterThan(0);
  });
});

describe('ChatServer: the write barrier [STORE-1] [STORE-3]', () => {
  it('commits the store before it writes, and leaves `failed` pending while commits succeed', async () => {
    const store = new TestStore({ persistent: true });
    const { server, pool } = await start({}, store);
    const alice = await pool.user('alice');
    const before = store.commits;
    expect(before).toBeGreaterThan(0); // the greeting, WELCOME and the lobby join were written
    alice.send('SAY :kept');
    await alice.expect('ECHO');
    expect(store.commits).toBeGreaterThan(before);
    const outcome = await Promise.race([server.failed.then(() => 'failed'), alice.barrier().then(() => 'running')]);
    expect(outcome).toBe('running');
  });

  it('when a commit fails, writes nothing more: every connection is dropped, `failed` resolves, the store is left alone [STORE-3]', async () => {
    const store = new TestStore({ persistent: true });
    const { server, pool, logs, address } = await start({}, store);
    const alice = await pool.user('alice');
    const bob = await pool.user('bob');
    const stranger = await pool.connect();
    await alice.barrier(); // bob's JOIN
    const received = [alice, bob, stranger].map((c) => c.wire.bytes);
    store.failCommit = true;
    alice.send('SAY :in doubt');
    const error = await server.failed;
    expect(error).toMatchObject({ name: 'StorageError', code: 'COMMIT_FAILED' });
    // Neither the ECHO nor the MSG, nor anything else, reached anyone.
    for (const [i, client] of [alice, bob, stranger].entries()) {
      expect(await client.untilClosed()).toEqual([]);
      expect(client.wire.bytes).toBe(received[i]);
    }
    expect(server.state).toBe(ServerState.Stopping);
    expect(logs.some((l) => l.startsWith('Database failure') && l.includes('the disk went away'))).toBe(true);
    // No new connection is taken.
    const refused = connect({ host: address.address, port: address.port });
    rawSockets.add(refused);
    const [connectError] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
    expect(connectError.code).toBe('ECONNREFUSED');
    // Shutting down afterwards does not touch the store in doubt.
    await server.shutdown();
    expect(store.closed).toBe(false);
  });

  it('closes the store on an ordinary shutdown', async () => {
    const store = new TestStore();
    const { server } = await start({}, store);
    await server.shutdown();
    expect(store.closed).toBe(true);
  });

  it('answers ERR STORAGE_FAILED SAY to a message the store refuses, delivers nothing and stays up [STORE-3]', async () => {
    const store = new TestStore();
    const { pool } = await start({}, store);
    const alice = await pool.user('alice');
    const bob = await pool.user('bob');
    await alice.barrier();
    store.failAppend = true;
    alice.send('SAY :refused');
    expect((await alice.barrier()).map((m) => m.params.slice(0, 2))).toEqual([['STORAGE_FAILED', 'SAY']]);
    expect(await bob.barrier()).toEqual([]);
    store.failAppend = false;
    alice.send('SAY :accepted');
    expect((await bob.expect('MSG')).params[6]).toBe('accepted');
  });
});

/** Answers every PING `client` receives with its PONG, as a real client does [CLIENT-5]; counts them. */
function answerPings(client: LineClient): { readonly count: number } {
  const counter = { count: 0 };
  const framer = new LineFramer(
    { line: 1 << 20, readCap: 2 << 20 },
    {
      line: (bytes) => {
        const result = parseLine(bytes);
        if (result.kind !== 'message' || result.message.command !== 'PING') return;
        counter.count++;
        client.send(`PONG ${result.message.params[0]}`);
      },
      lineTooLong: () => {},
      overflow: () => {},
    },
  );
  client.socket.on('data', (chunk: Buffer) => framer.push(chunk));
  return counter;
}

/** Active timers in this process. */
const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('ChatServer: flood control', () => {
  it('delays lines over BURST instead of dropping them: every SAY is answered, in order [LIMIT-1] [MSG-8]', async () => {
    const { pool } = await start({ floodBurst: 3, floodRate: 100 });
    const talker = await pool.user('talker');
    const listener = await pool.user('listener');
    await talker.barrier(); // consumes the listener's JOIN
    const t0 = performance.now();
    talker.write(Array.from({ length: 10 }, (_, i) => `SAY :m${i}\n`).join(''));
    const replies = await talker.barrier();
    const elapsed = performance.now() - t0;
    expect(replies.map((m) => m.params[6])).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`));
    expect(replies.every((m) => m.command === 'ECHO')).toBe(true);
    // At most BURST (3) went at once; each of the other 7 waited 10 ms for its token.
    expect(elapsed).toBeGreaterThanOrEqual(50);
    const relayed = await listener.barrier();
    expect(relayed.map((m) => m.params[6])).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`));
  });

  it('cuts off a client whose held lines pass the input bound with ERR FLOOD, reason error [ERR-2] [PRES-1]', async () => {
    const { server, pool, logs } = await start({ floodBurst: 1, floodRate: 1, inputQueue: 100 });
    const watcher = await pool.user('watcher');
    const flooder = await pool.connect();
    flooder.write(`HELLO 1 flooder\n` + `SAY :${'x'.repeat(60)}\n`.repeat(3));
    const got = await rest(flooder);
    // It did register, and was joined to the lobby ([SESSION-5]), then cut off.
    expect(got.map((m) => m.command)).toEqual(['WELCOME', 'JOIN', 'ROOM', 'ENDHIST', 'ERR']);
    expect(got[4]?.params.slice(0, 2)).toEqual(['FLOOD', '*']);
    expect((await watcher.expect('JOIN')).params).toEqual(['#lobby', 'flooder']);
    expect((await watcher.expect('LEAVE')).params).toEqual(['#lobby', 'flooder', 'error', 'FLOOD']);
    await settle(watcher, () => server.connections === 1);
    expect(logs).toContain('Disconnected flooder (error: FLOOD)');
  });
});

describe('ChatServer: connection limits', () => {
  it('refuses a connection over the per-IP limit with ERR TOO_MANY_CONNECTIONS as its first and only line, then closes; other addresses are still admitted', async () => {
    const { server, pool, logs } = await start({ maxPerIp: 2 });
    const first = await pool.connect({ localAddress: '127.0.0.1' });
    await pool.connect({ localAddress: '127.0.0.1' });
    const refused = await pool.connect({ localAddress: '127.0.0.1', greeting: false });
    const got = await rest(refused);
    expect(got).toHaveLength(1);
    expect(got[0]?.command).toBe('ERR');
    expect(got[0]?.params.slice(0, 2)).toEqual(['TOO_MANY_CONNECTIONS', '*']);
    expect(got[0]?.params[2]).toContain('127.0.0.1');
    expect(logs.some((l) => l.startsWith('Refused 127.0.0.1:') && l.includes('Too many connections from 127.0.0.1'))).toBe(true);
    // Other addresses have their own count.
    const two = await pool.connect({ localAddress: '127.0.0.2' });
    const three = await pool.connect({ localAddress: '127.0.0.3' });
    expect(two.greeting?.command).toBe('LINECHAT');
    expect(three.greeting?.command).toBe('LINECHAT');
    expect(await two.barrier()).toEqual([]);
    expect(server.stats()).toEqual({ connections: 4, online: 0, addresses: 3, admitted: 4 });
    // A connection that closes gives its place back.
    await first.destroy();
    await settle(two, () => server.stats().admitted === 3);
    const again = await pool.connect({ localAddress: '127.0.0.1' });
    expect(again.greeting?.command).toBe('LINECHAT');
    await again.register('again');
  });

  it('refuses any connection once the server holds maxConnections, with ERR TOO_MANY_CONNECTIONS', async () => {
    const { server, pool } = await start({ maxConnections: 2 });
    const a = await pool.connect({ localAddress: '127.0.0.1' });
    await pool.connect({ localAddress: '127.0.0.2' });
    const refused = await pool.connect({ localAddress: '127.0.0.3', greeting: false });
    const got = await rest(refused);
    expect(got.map((m) => m.params.slice(0, 2))).toEqual([['TOO_MANY_CONNECTIONS', '*']]);
    expect(server.connections).toBe(2);
    await a.register('still-fine');
    expect(await a.who()).toEqual(['still-fine']);
  });

  it('a refused peer that never reads does not hold up shutdown beyond shutdownMs [SHUT-3]', async () => {
    const { server, pool, address, logs } = await start({ maxPerIp: 1, shutdownMs: 100, lingerMs: 60_000 });
    await pool.connect();
    // Paused before anything arrives: it never reads the ERR and the FIN, so it never closes.
    const sleeper = connect({ host: address.address, port: address.port });
    rawSockets.add(sleeper);
    sleeper.pause();
    sleeper.on('error', () => {});
    await once(sleeper, 'connect');
    await turnsUntil(() => logs.some((l) => l.startsWith('Refused ')), 10_000);
    const t0 = performance.now();
    await server.shutdown();
    expect(performance.now() - t0).toBeLessThan(2_000);
    expect(server.state).toBe(ServerState.Stopped);
  });
});

describe('ChatServer: registration timeout', () => {
  it('sends ERR REGISTRATION_TIMEOUT and closes a connection that has not registered in time, PINGs or not', async () => {
    const { server, pool, logs } = await start({ registerTimeoutMs: 300 });
    const member = await pool.user('member');
    const t0 = performance.now();
    const silent = await pool.connect();
    const pinger = await pool.connect();
    pinger.send('PING alive'); // a sign of life, but not a registration
    pinger.send('HELLO 1 you'); // a failed HELLO does not register either
    const [silentGot, pingerGot] = await Promise.all([rest(silent), rest(pinger)]);
    const elapsed = performance.now() - t0;
    expect(silentGot.map((m) => m.params.slice(0, 2))).toEqual([['REGISTRATION_TIMEOUT', '*']]);
    expect(pingerGot.map((m) => m.command)).toEqual(['PONG', 'ERR', 'ERR']);
    expect(pingerGot.map((m) => m.params[0])).toEqual(['alive', 'BAD_NAME', 'REGISTRATION_TIMEOUT']);
    expect(elapsed).toBeGreaterThanOrEqual(290);
    // Nobody was online, so nobody left [PRES-4]; the member, registered in time, stays.
    expect(await member.barrier()).toEqual([]);
    expect(await member.who()).toEqual(['member']);
    await settle(member, () => server.connections === 1);
    expect(logs.some((l) => /^Disconnected #\d+ \(127\.0\.0\.1:\d+\) \(error: REGISTRATION_TIMEOUT\)$/.test(l))).toBe(true);
  });
});

describe('ChatServer: keepalive [PING-3]', () => {
  it('keeps a client that answers PINGs; drops one that does not with ERR PING_TIMEOUT, and others see LEAVE <name> timeout [PRES-1]', async () => {
    // A timeout long enough that answering never races a busy test machine.
    const { server, pool, logs } = await start({ pingIntervalMs: 100, pingTimeoutMs: 300 });
    // Both see PINGs as lines: one answers them by hand, the other never does.
    const answerer = await pool.user('answerer', { answerPings: false });
    const answered = answerPings(answerer);
    const silent = await pool.user('silent', { answerPings: false });
    const got = await rest(silent);
    expect(got.map((m) => m.raw)).toEqual(['PING keepalive-1', 'ERR PING_TIMEOUT * :No reply to PING within 0.3 s']);
    const leave = await answerer.expect('LEAVE');
    expect(leave.raw).toBe('LEAVE #lobby silent timeout :No reply to PING within 0.3 s');
    expect(logs).toContain('Disconnected silent (timeout: No reply to PING within 0.3 s)');
    // The answerer was PINGed too, and answering keeps it online, PING after PING.
    expect(answered.count).toBeGreaterThanOrEqual(1);
    await answerer.expect((m) => m.command === 'PING' && answered.count >= 4);
    expect(await answerer.who()).toEqual(['answerer']);
    expect(server.online).toBe(1);
    expect(answerer.isClosed).toBe(false);
  });

  it('does not PING a client that keeps sending lines', async () => {
    const { pool } = await start({ pingIntervalMs: 250, pingTimeoutMs: 250 });
    const busy = await pool.user('busy');
    const t0 = performance.now();
    const seen: string[] = [];
    // Round trips for 3 ping intervals: each one is a line that shows life.
    while (performance.now() - t0 < 750) seen.push(...(await busy.barrier()).map((m) => m.command));
    expect(seen).toEqual([]);
  });

  it('an unregistered client that does not answer is dropped too, without a LEAVE [PRES-4]', async () => {
    const { server, pool } = await start({ pingIntervalMs: 100, pingTimeoutMs: 300 });
    const watcher = await pool.user('watcher', { answerPings: false });
    answerPings(watcher);
    const stranger = await pool.connect({ answerPings: false });
    const got = await rest(stranger);
    expect(got.map((m) => m.command)).toEqual(['PING', 'ERR']);
    expect(got[1]?.params.slice(0, 2)).toEqual(['PING_TIMEOUT', '*']);
    await settle(watcher, () => server.connections === 1);
    const later = await watcher.barrier();
    expect(later.filter((m) => m.command !== 'PING')).toEqual([]);
  });
});

describe('ChatServer: timers per connection', () => {
  it('a connection owns a keepalive timer, and a registration timer only until it registers; none once closed [QUIT-3]', async () => {
    const { server, pool } = await start({ registerTimeoutMs: 60_000 });
    const baseline = timers();
    const client = await pool.connect();
    // Accepted and greeted, not registered: keepalive + registration.
    expect(timers()).toBe(baseline + 2);
    client.send('HELLO 1 you'); // a failed HELLO keeps it in the greeting state
    await client.barrier();
    expect(timers()).toBe(baseline + 2);
    await client.register('member');
    await client.barrier();
    expect(timers()).toBe(baseline + 1);
    client.send('QUIT');
    await client.closed;
    await turnsUntil(() => server.connections === 0 && timers() === baseline, 100_000);
    expect(timers()).toBe(baseline);
  });
});

describe('ChatServer.stats [QUIT-3]', () => {
  it('counts connections, online users and addresses, and returns to zero once everything has closed', async () => {
    const { server, pool } = await start({ maxPerIp: 2 });
    expect(server.stats()).toEqual({ connections: 0, online: 0, addresses: 0, admitted: 0 });
    const baseline = timers();
    const a = await pool.user('a');
    const b = await pool.connect({ localAddress: '127.0.0.1' });
    await b.register('b');
    const c = await pool.connect({ localAddress: '127.0.0.2' });
    const refused = await pool.connect({ localAddress: '127.0.0.1', greeting: false });
    await rest(refused);
    await settle(c, () => server.stats().online === 2);
    expect(server.stats()).toEqual({ connections: 3, online: 2, addresses: 2, admitted: 3 });
    a.send('QUIT');
    b.socket.resetAndDestroy();
    c.socket.end();
    await Promise.all([a.closed, b.closed, c.closed]);
    // Until the server has seen every close; no keepalive, registration or linger timer is left.
    await turnsUntil(() => server.stats().connections === 0 && timers() === baseline, 100_000);
    expect(server.stats()).toEqual({ connections: 0, online: 0, addresses: 0, admitted: 0 });
    expect(timers()).toBe(baseline);
  });
});

describe('ChatServer.shutdown', () => {
  it('sends SHUTDOWN to every client, registered or not, as its last line, closes, and resolves [SHUT-1] [SHUT-2]', async () => {
    const { server, pool, address } = await start();
    const alice = await pool.user('alice');
    const bob = await pool.user('bob');
    const stranger = await pool.connect();
    await alice.barrier();
    const stopping = server.shutdown('Back soon');
    expect(server.state).toBe(ServerState.Stopping);
    expect(server.shutdown()).toBe(stopping);
    await stopping;
    expect(server.state).toBe(ServerState.Stopped);
    for (const client of [alice, bob, stranger]) {
      // No LEAVE for each user: SHUTDOWN says they are all gone [SHUT-2].
      expect((await rest(client)).map((m) => m.raw)).toEqual(['SHUTDOWN :Back soon']);
    }
    expect(server.connections).toBe(0);
    expect(server.online).toBe(0);
    // It stopped accepting [SHUT-3].
    const refused = connect({ host: address.address, port: address.port });
    const [error] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
    expect(error.code).toBe('ECONNREFUSED');
  });

  it('sends SHUTDOWN after the replies already queued for a client [SHUT-1]', async () => {
    const logs: string[] = [];
    let server!: ChatServer;
    // Shut down from inside the SAY handler: ECHO and MSG are queued, not yet
    // written. Its log line is `Message <id> from <name> to <target>: <text>`.
    server = new ChatServer(options(), (line) => {
      logs.push(line);
      if (/^Message \S+ from alice /.test(line)) void server.shutdown('now');
    });
    const address = await server.listen();
    const pool = new ClientPool(() => ({ host: address.address, port: address.port }));
    started.push({ server, address, pool, logs });
    const alice = await pool.user('alice');
    const bob = await pool.user('bob');
    await alice.barrier();
    alice.send('SAY :last words');
    alice.send('SAY :never processed');
    expect((await rest(alice)).map((m) => m.command)).toEqual(['ECHO', 'SHUTDOWN']);
    expect((await rest(bob)).map((m) => m.command)).toEqual(['MSG', 'SHUTDOWN']);
    await server.shutdown();
  });

  it('destroys a client that does not read after shutdownMs, well before the linger time [SHUT-3]', async () => {
    const { server, pool } = await start({ shutdownMs: 100, lingerMs: 60_000 });
    const sleeper = await pool.user('sleeper');
    const reader = await pool.connect();
    await sleeper.barrier();
    sleeper.socket.pause(); // it never reads the FIN, so it never closes
    const t0 = performance.now();
    await server.shutdown();
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(90);
    expect(elapsed).toBeLessThan(10_000);
    expect(server.state).toBe(ServerState.Stopped);
    expect((await rest(reader)).map((m) => m.command)).toEqual(['SHUTDOWN']);
    // The sleeper's socket was destroyed, and shutdown() waited for it.
    expect(server.connections).toBe(0);
    sleeper.socket.resume();
    await sleeper.closed;
  });

  it('counts no connection once shutdown() has resolved, even when it had to destroy sockets [SHUT-3] [QUIT-3]', async () => {
    const { server, pool } = await start({ shutdownMs: 50, lingerMs: 60_000 });
    const sleeper = await pool.user('sleeper');
    await sleeper.barrier();
    sleeper.socket.pause();
    await server.shutdown();
    expect(server.connections).toBe(0);
  });

  it('can stop a server that never listened', async () => {
    const server = new ChatServer(options(), () => {});
    await server.shutdown();
    expect(server.state).toBe(ServerState.Stopped);
  });
});
