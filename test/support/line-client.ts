/**
 * A raw protocol client for tests: real TCP on loopback, our own framer and
 * parser, and `send`/`expect` helpers in the style of nats-server's
 * test/test.go. It never sleeps: `barrier()` is a PING/PONG round trip, which
 * SPEC [PING-1] makes a barrier for every earlier reply.
 */
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { LineFramer } from '../../src/protocol/framer.ts';
import { parseLine, type Message } from '../../src/protocol/parser.ts';
import { Inbox } from './inbox.ts';

export interface Received extends Message {
  /** The line as received, without LF. */
  readonly raw: string;
}

export interface ConnectOptions {
  readonly localAddress?: string;
  /** Wait for the greeting before resolving (default true). */
  readonly greeting?: boolean;
  /**
   * Answer a `PING` from the server with `PONG` at once, as every client
   * must ([PING-1]), and keep it out of the inbox (default true). A server
   * MAY ping idle clients ([PING-3]); without this, conformance runs against
   * such a server would see stray lines and timeouts.
   */
  readonly answerPings?: boolean;
}

/**
 * What the server put on the wire, below the line level, so tests can check
 * the framing rules of everything they received ([FRAME-3], [LIMIT-6]).
 */
export interface WireStats {
  /** Bytes received. */
  bytes: number;
  /** Complete lines received (LF-terminated). */
  lines: number;
  /** CR bytes anywhere in the stream; a linechat server never sends CR. */
  crBytes: number;
  /** Lines that were empty. */
  emptyLines: number;
  /** Longest line, in bytes, without its LF. */
  longestLine: number;
  /** Lines that did not parse as a message (first few only, as hex). */
  malformed: string[];
  /** Bytes after the last LF when the connection closed. */
  unterminated: number;
  /** PINGs from the server that were answered. */
  pingsAnswered: number;
}

const DEFAULT_TIMEOUT = 10_000;
let tokens = 0;

export class LineClient {
  readonly socket: Socket;
  /** Every message received and not yet consumed, oldest first. */
  readonly inbox = new Inbox<Received>();
  greeting?: Received;
  name?: string;
  /** The WELCOME of the last successful `register()`. */
  welcome?: Received;
  /** The key that WELCOME gave ([NAME-5]): `register(name, key)` takes the name back as its holder. */
  key?: string;
  /** The lobby join `register()` consumed after WELCOME: JOIN, ROOM, HIST…, ENDHIST ([SESSION-5]). */
  lobbyJoin: Received[] = [];
  /** Resolves when the socket has closed, for whatever reason. */
  readonly closed: Promise<void>;
  /** Framing facts about everything received; see WireStats. */
  readonly wire: WireStats = {
    bytes: 0,
    lines: 0,
    crBytes: 0,
    emptyLines: 0,
    longestLine: 0,
    malformed: [],
    unterminated: 0,
    pingsAnswered: 0,
  };
  #closedByUs = false;

  private constructor(socket: Socket, answerPings: boolean) {
    this.socket = socket;
    const wire = this.wire;
    const framer = new LineFramer(
      { line: 1 << 20, readCap: 2 << 20 },
      {
        line: (bytes) => {
          wire.lines++;
          if (bytes.length === 0) wire.emptyLines++;
          wire.longestLine = Math.max(wire.longestLine, bytes.length);
          const result = parseLine(bytes);
          if (result.kind !== 'message') {
            if (wire.malformed.length < 10) wire.malformed.push(bytes.toString('hex'));
            return;
          }
          const { command, params } = result.message;
          if (answerPings && command === 'PING' && params.length === 1 && !this.inbox.isClosed) {
            wire.pingsAnswered++;
            socket.write(`PONG ${params[0]!.includes(' ') || params[0]!.startsWith(':') ? ':' : ''}${params[0]!}\n`);
            return;
          }
          this.inbox.push({ ...result.message, raw: bytes.toString('utf8') });
        },
        lineTooLong: () => {},
        overflow: () => socket.destroy(new Error('test client read cap')),
      },
    );
    socket.on('data', (chunk: Buffer) => {
      wire.bytes += chunk.length;
      for (let i = chunk.indexOf(0x0d); i !== -1; i = chunk.indexOf(0x0d, i + 1)) wire.crBytes++;
      framer.push(chunk);
    });
    socket.on('error', () => {});
    // Not events.once(): that rejects on 'error', and a socket error is just
    // one more way for the connection to end.
    this.closed = new Promise<void>((resolve) => socket.once('close', () => resolve())).then(() => {
      // A line cut short by our own destroy() is not the server's fault.
      if (!this.#closedByUs) wire.unterminated = framer.buffered;
      this.inbox.close();
    });
  }

  static async connect(host: string, port: number, options: ConnectOptions = {}): Promise<LineClient> {
    const socket = connect({ host, port, localAddress: options.localAddress, noDelay: true });
    const client = new LineClient(socket, options.answerPings !== false);
    try {
      await once(socket, 'connect');
      if (options.greeting !== false) client.greeting = await client.expect('LINECHAT');
    } catch (error) {
      socket.destroy();
      throw error;
    }
    return client;
  }

  get isClosed(): boolean {
    return this.inbox.isClosed;
  }

  /** Sends one line; the LF is added. */
  send(line: string): void {
    this.socket.write(line + '\n');
  }

  /** Sends raw bytes exactly as given. */
  write(bytes: Buffer | string): void {
    this.socket.write(bytes);
  }

  /**
   * Sends raw bytes and resolves once they have been handed to the kernel
   * (the write callback), or at once if the socket is already gone.
   */
  writeFlushed(bytes: Buffer | string): Promise<void> {
    if (this.socket.destroyed || !this.socket.writable) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.write(bytes, () => resolve());
    });
  }

  /** Removes and returns every message received and not yet consumed. */
  take(): Received[] {
    return this.inbox.take();
  }

  /**
   * Resolves once the connection has closed, with every message received and
   * not yet consumed (removed from the inbox). Rejects on timeout.
   */
  async untilClosed(timeoutMs = DEFAULT_TIMEOUT): Promise<Received[]> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.closed,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`connection still open after ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
    return this.take();
  }

  /**
   * Consumes messages until one matches and returns it. Messages before it
   * are dropped. Rejects on timeout or when the connection closes first.
   */
  expect(match: string | ((m: Received) => boolean), timeoutMs = DEFAULT_TIMEOUT): Promise<Received> {
    const test = typeof match === 'string' ? (m: Received) => m.command === match : match;
    return this.inbox.next(
      test,
      timeoutMs,
      `connection closed while waiting for ${String(match)}`,
      `timed out after ${timeoutMs} ms waiting for ${String(match)}`,
    );
  }


  /**
   * PING/PONG round trip. Resolves with every message that arrived before
   * the PONG (consumed), i.e. all replies to lines sent before the barrier.
   */
  async barrier(timeoutMs = DEFAULT_TIMEOUT): Promise<Received[]> {
    const token = `b${process.pid}x${++tokens}`;
    this.send(`PING ${token}`);
    const before: Received[] = [];
    await this.expect((m) => {
      if (m.command === 'PONG' && m.params[0] === token) return true;
      before.push(m);
      return false;
    }, timeoutMs);
    return before;
  }

  /**
   * The room the greeting names as `LOBBY=<room>` ([ROOM-2]), or undefined
   * when it names none (or the greeting was not read).
   */
  get lobby(): string | undefined {
    if (this.greeting === undefined) return undefined;
    for (const kv of this.greeting.params.slice(2, -1)) {
      if (kv.startsWith('LOBBY=') && kv.length > 'LOBBY='.length) return kv.slice('LOBBY='.length);
    }
    return undefined;
  }

  /**
   * HELLO 1 [name [key]], then waits for WELCOME (or ERR, which it throws);
   * returns the registered name, and keeps WELCOME's key in `key`. When the greeting announced a lobby, it also
   * consumes the lobby join that follows WELCOME ([SESSION-5]): everything up
   * to and including `ENDHIST <lobby> <n>`, kept in `lobbyJoin` (the JOIN,
   * ROOM, HIST… and ENDHIST lines, WELCOME excluded). With no greeting read
   * (`connect({ greeting: false })`) the lobby is unknown and those lines
   * stay in the inbox.
   */
  async register(name?: string, key?: string): Promise<string> {
    this.send(name === undefined ? 'HELLO 1' : key === undefined ? `HELLO 1 ${name}` : `HELLO 1 ${name} ${key}`);
    const reply = await this.expect((m) => m.command === 'WELCOME' || m.command === 'ERR');
    if (reply.command === 'ERR') throw new Error(`registration failed: ${reply.raw}`);
    this.name = reply.params[0]!;
    this.welcome = reply;
    // WELCOME <name> <key> :<text>; a server without keys sends no middle key.
    this.key = reply.params.length >= 3 ? reply.params[1] : undefined;
    this.lobbyJoin = [];
    const lobby = this.lobby;
    if (lobby !== undefined) this.lobbyJoin = await this.joined(lobby);
    return this.name;
  }

  /**
   * Consumes the replies of this client's own join of `room` ([ROOM-3]): up
   * to and including `ENDHIST <room> <n>` (the room compared without regard
   * to ASCII case), and returns them all, in order.
   */
  async joined(room: string, timeoutMs = DEFAULT_TIMEOUT): Promise<Received[]> {
    const key = foldCase(room);
    const got: Received[] = [];
    await this.expect((m) => {
      got.push(m);
      return m.command === 'ENDHIST' && foldCase(m.params[0] ?? '') === key;
    }, timeoutMs);
    return got;
  }

  /** The names `WHO [<room>]` lists right now ([PRES-3]), in the server's order. */
  async who(room?: string): Promise<string[]> {
    return (await this.whoIdle(room)).map((u) => u.name);
  }

  /** `WHO [<room>]` as `USER <name> <idle>` lines: each name with its idle seconds. */
  async whoIdle(room?: string): Promise<Array<{ name: string; idle: number }>> {
    this.send(room === undefined ? 'WHO' : `WHO ${room}`);
    const users: Array<{ name: string; idle: number }> = [];
    const end = await this.expect((m) => {
      if (m.command === 'USER') users.push({ name: m.params[0]!, idle: Number(m.params[1]) });
      return m.command === 'ENDWHO' || (m.command === 'ERR' && m.params[1] === 'WHO');
    });
    if (end.command === 'ERR') throw new Error(`WHO failed: ${end.raw}`);
    return users;
  }

  /** Closes abruptly; resolves once the socket is closed. */
  async destroy(): Promise<void> {
    if (!this.inbox.isClosed) this.#closedByUs = true;
    this.socket.destroy();
    await this.closed;
  }

  /** Closes with a TCP RST instead of a FIN; resolves once the socket is closed. */
  async resetAndDestroy(): Promise<void> {
    if (!this.inbox.isClosed) this.#closedByUs = true;
    if (!this.socket.destroyed) this.socket.resetAndDestroy();
    await this.closed;
  }

  /** Half-closes (sends FIN) after any pending writes; the server then closes its side. */
  end(): void {
    this.socket.end();
  }
}

/** Tracks every client a test opens, so teardown can close them all. */
export class ClientPool {
  readonly #clients = new Set<LineClient>();
  constructor(
    private readonly host: () => { host: string; port: number },
  ) {}

  async connect(options?: ConnectOptions): Promise<LineClient> {
    const { host, port } = this.host();
    const client = await LineClient.connect(host, port, options);
    this.#clients.add(client);
    return client;
  }

  /** Every client opened since the last closeAll, open or not. */
  get clients(): readonly LineClient[] {
    return [...this.#clients];
  }

  /** Connects and registers; a unique name is chosen when none is given. */
  async user(name: string = uniqueName(), options?: ConnectOptions): Promise<LineClient> {
    const client = await this.connect(options);
    await client.register(name);
    return client;
  }

  async closeAll(): Promise<void> {
    const all = [...this.#clients];
    this.#clients.clear();
    await Promise.all(all.map((c) => c.destroy()));
  }
}

/** ASCII letters folded to lower case, the way names and rooms compare ([NAME-2], [ROOM-1]). */
export function foldCase(s: string): string {
  return s.replace(/[A-Z]+/g, (c) => c.toLowerCase());
}

let names = 0;
/** A name no other test (or test run against a shared server) will pick. */
export function uniqueName(prefix = 'u'): string {
  return `${prefix}${process.pid.toString(36)}${(++names).toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`.slice(0, 24);
}
