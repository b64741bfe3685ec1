/**
 * A scripted linechat server for client tests: real TCP on 127.0.0.1, port
 * 0, with the test deciding every byte it sends. It can say things the real
 * server never would (ESC in a name, C1 in a text, no BYE), which is what
 * the client's defences are for. Lines are split by the protocol's own
 * framer; waiting is on received lines, never on time.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { LineFramer } from '../../../src/protocol/framer.ts';
import { parseText } from '../../../src/protocol/parser.ts';
import { Inbox } from '../../support/inbox.ts';

const WAIT_MS = 10_000;

/** What the fake server announces unless a test says otherwise: the SPEC's defaults. */
export const GREETING_KEYS = 'LINE=2048 READCAP=16384 NAMELEN=24 ROOMLEN=32 TOPICLEN=300 HISTLIMIT=500 MAXJOIN=50 REPLAY=20 LOBBY=#lobby';

/** The `<time>` of every message the well-behaved fake server echoes: 2025-11-27 09:42:03 UTC. */
export const FAKE_TIME = 1764236523001;

export interface BehaveOptions {
  /** The room every client is joined to on registering; undefined for none. Default `#lobby`. */
  readonly lobby?: string | undefined;
  /** Commands the test answers by hand. */
  readonly manual?: readonly string[];
}

export class FakePeer {
  /** Lines received from the client, decoded, oldest first; consumed by `expect`. */
  readonly inbox = new Inbox<string>();
  /** Every line ever received. */
  readonly received: string[] = [];
  readonly closed: Promise<void>;

  constructor(readonly socket: Socket) {
    const framer = new LineFramer(
      { line: 1 << 20, readCap: 2 << 20 },
      {
        line: (bytes) => {
          const line = bytes.toString('utf8');
          // `received` first: watchers woken by the inbox read it.
          this.received.push(line);
          this.inbox.push(line);
        },
        lineTooLong: () => {},
        overflow: () => socket.destroy(),
      },
    );
    socket.on('data', (chunk: Buffer) => framer.push(chunk));
    socket.on('error', () => {});
    this.closed = once(socket, 'close').then(() => this.inbox.close());
  }

  get isClosed(): boolean {
    return this.inbox.isClosed;
  }

  /** Sends one line (LF added) or raw bytes as given. */
  send(line: string): void {
    this.socket.write(line + '\n');
  }

  write(bytes: Buffer | string): void {
    this.socket.write(bytes);
  }

  greet(keys = GREETING_KEYS, serverName = 'fake'): void {
    this.send(`LINECHAT 1 ${serverName} ${keys} :Welcome to the fake server`);
  }

  /** Consumes received lines until one matches (a string matches as a prefix). */
  expect(match: string | RegExp | ((line: string) => boolean), timeoutMs = WAIT_MS): Promise<string> {
    const test =
      typeof match === 'string' ? (l: string) => l.startsWith(match) : match instanceof RegExp ? (l: string) => match.test(l) : match;
    return this.inbox.next(test, timeoutMs, `client closed before sending ${String(match)}`, `no line ${String(match)} within ${timeoutMs} ms`);
  }


  /**
   * Answers like a well-behaved server from now on: WELCOME and the lobby's
   * JOIN, ROOM and (empty) replay; WHO; ECHO for SAY and ME; JOIN, PART,
   * ROOMS, TOPIC and HISTORY (always empty); BYE. `users` are the others
   * online; the client's own name is added to WHO. Commands named in
   * `manual` are left for the test to answer.
   */
  behave(users: readonly string[] = [], options: BehaveOptions = {}): void {
    const lobby = 'lobby' in options ? options.lobby : '#lobby';
    const manual = new Set(options.manual ?? []);
    const rooms = new Set<string>();
    let name = '';
    let seq = 0;
    const joinReplies = (room: string, members: number) => {
      rooms.add(room);
      this.send(`JOIN ${room} ${name}`);
      this.send(`ROOM ${room} ${members} :`);
      this.send(`ENDHIST ${room} 0`);
    };
    const answer = (line: string) => {
      const parsed = parseText(line);
      if (parsed.kind !== 'message') return;
      const { command, params } = parsed.message;
      if (manual.has(command)) return;
      switch (command) {
        case 'HELLO':
          name = params[1] ?? 'guest-4821';
          this.send(`WELCOME ${name} key-${name} :Hello ${name}`);
          if (lobby !== undefined) joinReplies(lobby, users.length + 1);
          return;
        case 'WHO': {
          const all = [...users, name].sort();
          for (const user of all) this.send(`USER ${user} 0`);
          return this.send(`ENDWHO ${all.length}`);
        }
        case 'SAY':
        case 'ME': {
          const target = params.length >= 2 ? params[0]! : (lobby ?? '#lobby');
          seq++;
          return this.send(`ECHO id${seq} ${seq} ${FAKE_TIME} ${name} ${target} ${command.toLowerCase()} :${params.at(-1)}`);
        }
        case 'JOIN':
          return joinReplies(params[0]!, 1);
        case 'PART':
          rooms.delete(params[0]!);
          return this.send(`LEAVE ${params[0]} ${name} part${params[1] === undefined ? '' : ` :${params[1]}`}`);
        case 'ROOMS':
          for (const room of rooms) this.send(`ROOM ${room} 1 :`);
          return this.send(`ENDROOMS ${rooms.size}`);
        case 'TOPIC':
          return params.length === 1 ? this.send(`TOPIC ${params[0]} * 0 :`) : this.send(`TOPIC ${params[0]} ${name} ${FAKE_TIME} :${params[1]}`);
        case 'HISTORY':
          return this.send(`ENDHIST ${params[0]} 0`);
        case 'QUIT':
          this.send('BYE');
          this.socket.end();
          return;
      }
    };
    // Reads `received`, not the inbox, so the test can still `expect` lines.
    let next = this.received.length;
    const drain = () => {
      while (next < this.received.length) answer(this.received[next++]!);
    };
    this.inbox.watch(drain);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export class FakeServer {
  readonly peers: FakePeer[] = [];
  #taken = 0;
  #arrivals: Array<(peer: FakePeer) => void> = [];

  private constructor(readonly server: Server) {
    server.on('connection', (socket) => {
      const peer = new FakePeer(socket);
      this.peers.push(peer);
      const waiter = this.#arrivals.shift();
      waiter?.(peer);
    });
  }

  /** Listens on `port`, or a free one; a given port lets a test "restart" a server where clients expect it. */
  static async start(port = 0): Promise<FakeServer> {
    const server = createServer();
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    return new FakeServer(server);
  }

  get host(): string {
    return '127.0.0.1';
  }

  get port(): number {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('fake server is not listening');
    return address.port;
  }

  /** The next connection, or one that arrived and was not yet taken. */
  accept(timeoutMs = WAIT_MS): Promise<FakePeer> {
    const taken = this.#taken;
    const waiting = this.peers[taken];
    if (waiting !== undefined) {
      this.#taken++;
      return Promise.resolve(waiting);
    }
    return new Promise((resolve, reject) => {
      const arrive = (peer: FakePeer) => {
        clearTimeout(timer);
        this.#taken++;
        resolve(peer);
      };
      const timer = setTimeout(() => {
        this.#arrivals = this.#arrivals.filter((a) => a !== arrive);
        reject(new Error(`no connection within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#arrivals.push(arrive);
    });
  }

  async close(): Promise<void> {
    for (const peer of this.peers) peer.destroy();
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * Everything an event source reported, and a way to wait for the next one
 * of a kind. Each event is handed out once, so a test can wait for the
 * second `reconnecting` after the first.
 */
export class EventProbe<E extends { readonly type: string }> {
  readonly events: E[] = [];
  readonly #taken = new Set<number>();
  #waiters = new Set<() => void>();

  constructor(source: { subscribe(listener: (event: E) => void): unknown }) {
    source.subscribe((event) => {
      this.events.push(event);
      for (const waiter of [...this.#waiters]) waiter();
    });
  }

  /** Every event of `type` so far. */
  all<T extends E['type']>(type: T): Array<Extract<E, { type: T }>> {
    return this.events.filter((e): e is Extract<E, { type: T }> => e.type === type);
  }

  next<T extends E['type']>(type: T, match: (e: Extract<E, { type: T }>) => boolean = () => true, timeoutMs = WAIT_MS): Promise<Extract<E, { type: T }>> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const index = this.events.findIndex((e, i) => !this.#taken.has(i) && e.type === type && match(e as Extract<E, { type: T }>));
        if (index < 0) return;
        this.#taken.add(index);
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve(this.events[index] as Extract<E, { type: T }>);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`no ${type} event within ${timeoutMs} ms; got ${JSON.stringify(this.events.map((e) => e.type))}`));
      }, timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }
}

/** A Scheduler whose timers run only when the test says so: no test waits for a backoff. */
export class ManualScheduler {
  readonly #timers = new Map<number, { readonly callback: () => void; readonly ms: number }>();
  #nextId = 0;

  setTimeout(callback: () => void, ms: number): unknown {
    const id = ++this.#nextId;
    this.#timers.set(id, { callback, ms });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  /** Delays of the timers still pending, oldest first. */
  get delays(): number[] {
    return [...this.#timers.values()].map((t) => t.ms);
  }

  /** Runs the oldest pending timer with delay `ms` (any delay when omitted) now. */
  fire(ms?: number): void {
    const entry = [...this.#timers].find(([, t]) => ms === undefined || t.ms === ms);
    if (entry === undefined) throw new Error(`no pending timer${ms === undefined ? '' : ` of ${ms} ms`}; pending: ${JSON.stringify(this.delays)}`);
    this.#timers.delete(entry[0]);
    entry[1].callback();
  }
}
