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

export interface Received extends Message {
  /** The line as received, without LF. */
  readonly raw: string;
}

export interface ConnectOptions {
  readonly localAddress?: string;
  /** Wait for the greeting before resolving (default true). */
  readonly greeting?: boolean;
}

const DEFAULT_TIMEOUT = 10_000;
let tokens = 0;

export class LineClient {
  readonly socket: Socket;
  /** Every message received and not yet consumed, oldest first. */
  readonly inbox: Received[] = [];
  greeting?: Received;
  name?: string;
  /** Resolves when the socket has closed, for whatever reason. */
  readonly closed: Promise<void>;
  #waiters = new Set<() => void>();
  #isClosed = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    const framer = new LineFramer(
      { line: 1 << 20, readCap: 2 << 20 },
      {
        line: (bytes) => {
          const result = parseLine(bytes);
          if (result.kind !== 'message') return;
          this.inbox.push({ ...result.message, raw: bytes.toString('utf8') });
          this.#wake();
        },
        lineTooLong: () => {},
        overflow: () => socket.destroy(new Error('test client read cap')),
      },
    );
    socket.on('data', (chunk: Buffer) => framer.push(chunk));
    socket.on('error', () => {});
    this.closed = once(socket, 'close').then(() => {
      this.#isClosed = true;
      this.#wake();
    });
  }

  static async connect(host: string, port: number, options: ConnectOptions = {}): Promise<LineClient> {
    const socket = connect({ host, port, localAddress: options.localAddress, noDelay: true });
    const client = new LineClient(socket);
    await once(socket, 'connect');
    if (options.greeting !== false) client.greeting = await client.expect('LINECHAT');
    return client;
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
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
   * Consumes messages until one matches and returns it. Messages before it
   * are dropped. Rejects on timeout or when the connection closes first.
   */
  expect(match: string | ((m: Received) => boolean), timeoutMs = DEFAULT_TIMEOUT): Promise<Received> {
    const test = typeof match === 'string' ? (m: Received) => m.command === match : match;
    return new Promise((resolve, reject) => {
      const check = () => {
        while (this.inbox.length > 0) {
          const m = this.inbox.shift()!;
          if (test(m)) return done(() => resolve(m));
        }
        if (this.#isClosed) done(() => reject(new Error(`connection closed while waiting for ${String(match)}`)));
      };
      const timer = setTimeout(
        () => done(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${String(match)}`))),
        timeoutMs,
      );
      const done = (settle: () => void) => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        settle();
      };
      this.#waiters.add(check);
      check();
    });
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

  /** HELLO 1 [name], then waits for WELCOME; returns the registered name. */
  async register(name?: string): Promise<string> {
    this.send(name === undefined ? 'HELLO 1' : `HELLO 1 ${name}`);
    const reply = await this.expect((m) => m.command === 'WELCOME' || m.command === 'ERR');
    if (reply.command === 'ERR') throw new Error(`registration failed: ${reply.raw}`);
    this.name = reply.params[0]!;
    return this.name;
  }

  /** The names `WHO` lists right now. */
  async who(): Promise<string[]> {
    this.send('WHO');
    const names: string[] = [];
    await this.expect((m) => {
      if (m.command === 'USER') names.push(m.params[0]!);
      return m.command === 'ENDWHO';
    });
    return names;
  }

  /** Closes abruptly; resolves once the socket is closed. */
  async destroy(): Promise<void> {
    this.socket.destroy();
    await this.closed;
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

  /** Connects and registers; a unique name is chosen when none is given. */
  async user(name: string = uniqueName()): Promise<LineClient> {
    const client = await this.connect();
    await client.register(name);
    return client;
  }

  async closeAll(): Promise<void> {
    const all = [...this.#clients];
    this.#clients.clear();
    await Promise.all(all.map((c) => c.destroy()));
  }
}

let names = 0;
/** A name no other test (or test run against a shared server) will pick. */
export function uniqueName(prefix = 'u'): string {
  return `${prefix}${process.pid.toString(36)}${(++names).toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`.slice(0, 24);
}
