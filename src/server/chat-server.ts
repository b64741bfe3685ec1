/**
 * The server: accepts sockets, wires each one's transport to a session, the
 * hub and the command table, and shuts everything down in order.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { memoryStore } from './history/open.ts';
import type { HistoryStore } from './history/store.ts';
import { ProtocolError, type ErrorCode } from '../protocol/errors.ts';
import { limitKeys } from '../protocol/limits.ts';
import { LeaveReason, SUPPORTED_VERSIONS, serverLine } from '../protocol/messages.ts';
import { commandOf, parseLine } from '../protocol/parser.ts';
import { Admission, normalizeIp } from './admission.ts';
import { Watchdog } from './watchdog.ts';
import { dispatch, replyError, type CommandContext } from './commands.ts';
import { Hub } from './hub.ts';
import type { Log } from './log.ts';
import type { ServerOptions } from './options.ts';
import { Session, SessionState } from './session.ts';
import { Connection, Flusher, type TransportEnd, type TransportLimits, type TransportPolicy } from './transport.ts';

export const ServerState = {
  Idle: 'idle',
  Listening: 'listening',
  Stopping: 'stopping',
  Stopped: 'stopped',
} as const;
export type ServerState = (typeof ServerState)[keyof typeof ServerState];

export class ChatServer {
  #state: ServerState = ServerState.Idle;
  #nextId = 1;
  #stopped: Promise<void> | undefined;
  readonly #sessions = new Set<Session>();
  /** Sockets refused over a connection limit, until they close. */
  readonly #refused = new Map<Socket, Promise<void>>();
  /** The registration timer of each session still in the greeting state ([PING-5]). */
  readonly #registering = new Map<Session, NodeJS.Timeout>();
  readonly #server: Server;
  readonly #hub: Hub;
  readonly #flusher: Flusher;
  readonly #store: HistoryStore;
  /** Set once the store failed to commit: nothing more may be written ([STORE-3]). */
  #storeFailure: Error | undefined;
  #resolveFailed!: (error: Error) => void;
  /** Resolves if the server had to stop because its database failed; the process should exit 1. */
  readonly failed: Promise<Error>;
  readonly #admission: Admission;
  readonly #policy: TransportPolicy = { free: isKeepalive, clock: Date.now };
  readonly #greeting: Buffer;
  readonly #transportLimits: TransportLimits;
  readonly #options: ServerOptions;
  readonly #log: Log;
  readonly #context: CommandContext;

  /** `store` defaults to history in memory; the server closes it on shutdown. */
  constructor(options: ServerOptions, log: Log, store: HistoryStore = memoryStore(options)) {
    this.#options = options;
    this.#log = log;
    this.#store = store;
    this.failed = new Promise((resolve) => (this.#resolveFailed = resolve));
    this.#flusher = new Flusher(() => this.#commit());
    this.#hub = new Hub({
      nameLength: options.limits.nameLength,
      roomLength: options.limits.roomLength,
      topicLength: options.limits.topicLength,
      clock: Date.now,
      random: Math.random,
      scheduler: this.#flusher,
      store,
      lobby: options.lobby,
      maxJoins: options.maxJoins,
      maxRooms: options.maxRooms,
      replay: options.replay,
      // A quarter of SENDQ: a burst of JOIN/LEAVE lines never cuts off a client that reads.
      maxHeldBytes: Math.floor(options.sendQueue / 4),
    });
    this.#transportLimits = {
      ...options.limits,
      sendQueue: options.sendQueue,
      lingerMs: options.lingerMs,
      floodBurst: options.floodBurst,
      floodRate: options.floodRate,
      inputQueue: options.inputQueue,
    };
    this.#admission = new Admission(options);
    this.#greeting = Buffer.from(
      serverLine.greeting(
        SUPPORTED_VERSIONS,
        options.serverName,
        greetingKeys(options),
        `Welcome to ${options.serverName}. Send HELLO 1 <name> to join.`,
      ),
    );
    this.#context = {
      hub: this.#hub,
      log,
      logMessages: options.logMessages,
      historyPage: options.limits.historyPage,
      disconnect: (session, reason, text, lastLine) => this.#disconnect(session, reason, text, lastLine),
    };
    this.#server = createServer((socket) => this.#accept(socket));
    this.#server.on('error', (error) => {
      // Errors after listen() (e.g. EMFILE on accept) must not take down the
      // sessions that are already connected.
      if (this.#state === ServerState.Listening) log(`Server error: ${error.message}`);
    });
  }

  get state(): ServerState {
    return this.#state;
  }

  /** Open connections, registered or not. */
  get connections(): number {
    return this.#sessions.size;
  }

  get online(): number {
    return this.#hub.online;
  }

  /** Counters for the operator's SIGUSR2 report and for leak checks. */
  stats(): { connections: number; online: number; addresses: number; admitted: number } {
    return {
      connections: this.#sessions.size,
      online: this.#hub.online,
      addresses: this.#admission.addresses,
      admitted: this.#admission.total,
    };
  }

  /** Binds and resolves with the address really bound; rejects with the listen error. */
  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const fail = (error: Error) => reject(error);
      this.#server.once('error', fail);
      this.#server.listen({ host: this.#options.host, port: this.#options.port }, () => {
        this.#server.off('error', fail);
        this.#state = ServerState.Listening;
        resolve(this.#server.address() as AddressInfo);
      });
    });
  }

  /**
   * Stops accepting, sends SHUTDOWN to every client after what is already
   * queued for it ([SHUT-1]), and waits for the sockets to close, destroying
   * any still open after `shutdownMs` ([SHUT-3]).
   */
  shutdown(text = 'The server is stopping'): Promise<void> {
    this.#stopped ??= this.#shutdown(text);
    return this.#stopped;
  }

  async #shutdown(text: string): Promise<void> {
    this.#state = ServerState.Stopping;
    const listenerClosed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    const line = serverLine.shutdown(text);
    const sessions = [...this.#sessions];
    for (const session of sessions) {
      session.state = SessionState.Gone;
      session.connection.close(line);
    }
    // Everyone gets SHUTDOWN, which stands for every user leaving ([SHUT-2]).
    this.#hub.removeAll();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.#options.shutdownMs);
    });
    // Refused sockets hold the listener open too, until they close.
    const refused = [...this.#refused.values()];
    await Promise.race([Promise.all([...sessions.map((s) => s.connection.closed), ...refused]), deadline]);
    clearTimeout(timer);
    const stragglers = [...this.#sessions];
    for (const session of stragglers) session.connection.destroy();
    const refusedStragglers = [...this.#refused];
    for (const [socket] of refusedStragglers) socket.destroy();
    await Promise.all([
      listenerClosed,
      ...stragglers.map((s) => s.connection.closed),
      ...refusedStragglers.map(([, closed]) => closed),
    ]);
    if (this.#storeFailure === undefined) this.#store.close();
    this.#state = ServerState.Stopped;
  }

  /**
   * The write barrier ([STORE-1]): commits what the hub accepted before any
   * byte about it is written. A commit that fails leaves those messages in
   * doubt, so nothing more is written at all: every connection is dropped
   * and `failed` resolves ([STORE-3]).
   */
  #commit(): boolean {
    if (this.#storeFailure !== undefined) return false;
    try {
      this.#store.commit();
      return true;
    } catch (error) {
      this.#storeFailure = error as Error;
      this.#log(`Database failure, stopping without acknowledging anything more: ${(error as Error).message}`);
      this.#state = ServerState.Stopping;
      this.#server.close();
      for (const session of this.#sessions) session.connection.destroy();
      this.#resolveFailed(error as Error);
      return false;
    }
  }

  #accept(socket: Socket): void {
    if (this.#state !== ServerState.Listening) {
      socket.destroy();
      return;
    }
    const ip = normalizeIp(socket.remoteAddress);
    const admitted = this.#admission.admit(ip);
    if (!admitted.ok) {
      this.#refuse(socket, admitted.why);
      return;
    }
    // Method shorthand, not arrows: tsx keeps function names by defining a
    // `name` property on every arrow it can name, which costs each closure
    // a property array (~250 bytes per connection per handler).
    const server = this;
    const connection: Connection = new Connection(socket, this.#transportLimits, this.#flusher, this.#policy, {
      line(bytes) {
        server.#onLine(session, bytes);
      },
      lineTooLong(length) {
        server.#fail(session, 'LINE_TOO_LONG', `Line of ${length} bytes is over the limit of ${server.#options.limits.line}`);
      },
      ended(why) {
        server.#onEnded(session, why);
      },
    });
    const session = new Session(this.#nextId++, connection);
    this.#sessions.add(session);
    const keepalive = this.#watch(session);
    this.#registering.set(
      session,
      setTimeout(() => {
        this.#registering.delete(session);
        if (session.state === SessionState.Greeting) {
          this.#fail(session, 'REGISTRATION_TIMEOUT', `No HELLO within ${this.#options.registerTimeoutMs / 1000} s`);
        }
      }, this.#options.registerTimeoutMs),
    );
    void connection.closed.then(() => {
      this.#stopRegistrationTimer(session);
      keepalive.stop();
      this.#admission.release(ip);
      this.#sessions.delete(session);
    });
    this.#log(`New connection: ${connection.remote} (#${session.id})`);
    session.send(this.#greeting);
  }

  /** PINGs the session when idle; ends it when even that gets no answer ([PING-3]). */
  #watch(session: Session): Watchdog {
    const { connection } = session;
    const server = this; // method shorthand for the handlers, as in #accept
    let pings = 0;
    return new Watchdog(
      {
        idleMs: this.#options.pingIntervalMs,
        timeoutMs: this.#options.pingTimeoutMs,
        clock: this.#policy.clock,
        // Lines held back by flood control show the peer is alive and busy.
        lastSeen() {
          return connection.inputPending > 0 ? server.#policy.clock() : connection.lastInput;
        },
      },
      {
        ping() {
          session.send(serverLine.ping(`keepalive-${++pings}`));
        },
        expire() {
          server.#fail(session, 'PING_TIMEOUT', `No reply to PING within ${server.#options.pingTimeoutMs / 1000} s`);
        },
      },
    );
  }

  /** Over a connection limit: one ERR line instead of the greeting, then close. */
  #refuse(socket: Socket, why: string): void {
    this.#log(`Refused ${socket.remoteAddress}:${socket.remotePort}: ${why}`);
    socket.on('error', () => socket.destroy());
    socket.end(serverLine.error('TOO_MANY_CONNECTIONS', '*', why));
    // A peer that never reads must not hold the socket open, nor hold up shutdown.
    const linger = setTimeout(() => socket.destroy(), this.#options.lingerMs);
    this.#refused.set(
      socket,
      new Promise((resolve) =>
        socket.once('close', () => {
          clearTimeout(linger);
          this.#refused.delete(socket);
          resolve();
        }),
      ),
    );
  }

  #fail(session: Session, code: ErrorCode, detail: string): void {
    replyError(this.#context, session, new ProtocolError(code, '*', detail));
  }

  #onLine(session: Session, bytes: Buffer): void {
    const greeting = session.state === SessionState.Greeting;
    const result = parseLine(bytes);
    try {
      if (result.kind === 'message') dispatch(this.#context, session, result.message);
      else if (result.kind === 'error') {
        replyError(this.#context, session, new ProtocolError(result.code, result.command, result.detail));
      }
    } catch (error) {
      // A bug in one handler costs that one connection, never the server.
      this.#log(`Internal error on ${session.label}: ${(error as Error).stack ?? String(error)}`);
      replyError(this.#context, session, new ProtocolError('INTERNAL_ERROR', '*', 'Internal server error'));
    }
    // Just registered (or gone): the registration timer has nothing left to
    // watch. Checked on the transition only, not on every line of a chat.
    if (greeting && session.state !== SessionState.Greeting) this.#stopRegistrationTimer(session);
  }

  #stopRegistrationTimer(session: Session): void {
    const timer = this.#registering.get(session);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.#registering.delete(session);
  }

  #onEnded(session: Session, why: TransportEnd): void {
    const { limits, sendQueue, inputQueue } = this.#options;
    switch (why.kind) {
      case 'eof':
        return this.#disconnect(session, LeaveReason.Lost, 'Connection closed');
      case 'error':
        return this.#disconnect(session, LeaveReason.Lost, `Connection error: ${errorCode(why.error)}`);
      case 'overflow':
        return this.#fail(session, 'INPUT_OVERFLOW', `More than ${limits.readCap} bytes without a line end`);
      case 'slow-consumer':
        return this.#fail(session, 'SLOW_CONSUMER', `More than ${sendQueue} bytes waiting to be read`);
      case 'flood':
        return this.#fail(session, 'FLOOD', `More than ${inputQueue} bytes of input waiting for flood control`);
    }
  }

  #disconnect(session: Session, reason: LeaveReason, text: string, lastLine?: string): void {
    if (session.state === SessionState.Gone) return;
    const label = session.label;
    this.#hub.remove(session, reason, text);
    this.#log(`Disconnected ${label} (${reason}${text === '' ? '' : `: ${text}`})`);
    session.connection.close(lastLine);
  }
}

/** The limits and policies a client can see, for the greeting ([LIMIT-1]). */
function greetingKeys(options: ServerOptions): Array<[string, number | string]> {
  return [
    ...limitKeys(options.limits),
    ['SENDQ', options.sendQueue],
    ['BURST', options.floodBurst],
    ['RATE', options.floodRate],
    ['PING', options.pingIntervalMs / 1000],
    ['PINGTIMEOUT', options.pingTimeoutMs / 1000],
    ['REGTIMEOUT', options.registerTimeoutMs / 1000],
    ['MAXJOIN', options.maxJoins],
    ['REPLAY', options.replay],
    ...(options.lobby === undefined ? [] : [['LOBBY', options.lobby] as [string, string]]),
  ];
}

/** PING and PONG cost no flood-control token. */
function isKeepalive(line: Buffer): boolean {
  // Cheap first test: most lines do not start with P.
  let i = 0;
  while (line[i] === 0x20) i++;
  if ((line[i]! | 0x20) !== 0x70) return false;
  const command = commandOf(line);
  return command === 'PING' || command === 'PONG';
}

function errorCode(error: Error): string {
  return (error as NodeJS.ErrnoException).code ?? error.message;
}

