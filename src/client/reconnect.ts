/**
 * Reconnection policy: a supervisor that owns the current ChatConnection and,
 * when it drops without the user leaving, makes a new one ([CLIENT-6]).
 *
 * One ChatConnection is one TCP connection and stays so; everything that
 * spans connections lives here: the backoff between attempts, taking the
 * name back ([CLIENT-7]), the queue of messages typed while disconnected
 * ([CLIENT-8]), reporting SAYs whose ECHO never came ([CLIENT-9]) and the
 * bounded wait at end of input ([CLIENT-10]), and through Conversations
 * the rooms it is in, joined again after a reconnect, and what it missed
 * meanwhile, each message shown once ([HIST-6]). It reports SessionEvents
 * and knows nothing about terminals, like the connection.
 *
 * Unconfirmed SAYs are reported, never resent: the server may have relayed
 * one just before the connection died, and nothing in protocol version 1
 * lets a client ask, so a resend could show it twice to everyone. Telling
 * the user leaves the choice to the one person who can judge it.
 *
 * Time and chance are injected (Scheduler, random) so tests drive every
 * timer by hand and never sleep.
 */
import { ChatConnection, type ConnectionOptions, type ServerLimits } from './connection.ts';
import { Conversations } from './conversations.ts';
import { Listeners, describeConnectFailure, type ClientEvent, type Outgoing, type SessionEvent, type SessionListener } from './events.ts';
import { MessageKind } from '../protocol/messages.ts';
import { DEFAULT_BACKOFF, DEFAULT_RECONNECT_TIMEOUT_MS, REAL_SCHEDULER, backoffDelay, type Backoff, type Scheduler } from './backoff.ts';
import { DEFAULT_QUEUE_LIMITS, Outbox, type QueueLimits } from './outbox.ts';

export interface SupervisorOptions extends ConnectionOptions {
  /** False keeps the behaviour of a client without reconnection: a drop ends the session. */
  readonly reconnect?: boolean;
  /** After end of input, how long to wait for the server to come back before giving up. */
  readonly reconnectTimeoutMs?: number;
  readonly backoff?: Backoff;
  readonly queueLimits?: QueueLimits;
  /** How many message ids to remember for showing each message once. */
  readonly seenCapacity?: number;
}

export interface SupervisorDeps {
  readonly scheduler?: Scheduler;
  /** In [0, 1), like Math.random. */
  readonly random?: () => number;
}

export class ChatSupervisor {
  #connection: ChatConnection | undefined;
  /** The current connection has registered and had its first WHO. */
  #ready = false;
  /** Some connection of this session has registered; only then is a drop worth a reconnect. */
  #registeredOnce = false;
  /** The name to take back: the last one the server confirmed. */
  #wanted: string | undefined;
  /** The key WELCOME gave for that name, sent with it on reconnecting ([NAME-5]). */
  #key: string | undefined;
  #limits: ServerLimits | undefined;
  #lobby: string | undefined;
  #attempt = 0;
  /** An ERR that arrived during a reconnect attempt: the best account of why it failed. */
  #attemptError: string | undefined;
  #retryTimer: unknown;
  #deadlineTimer: unknown;
  /** The user asked to leave (exit, /quit, a signal); nothing reconnects after that. */
  #leaving = false;
  /** End of input: deliver what is queued, then leave. */
  #ending = false;
  #ended = false;
  #undelivered = 0;
  readonly #outbox: Outbox;
  readonly #conversations: Conversations;
  readonly #options: SupervisorOptions;
  readonly #scheduler: Scheduler;
  readonly #random: () => number;
  readonly #listeners = new Listeners<SessionEvent>();

  constructor(options: SupervisorOptions, deps: SupervisorDeps = {}) {
    this.#options = options;
    this.#wanted = options.name;
    this.#outbox = new Outbox(options.queueLimits ?? DEFAULT_QUEUE_LIMITS);
    this.#conversations = new Conversations((event) => this.#emit(event), options.seenCapacity);
    this.#scheduler = deps.scheduler ?? REAL_SCHEDULER;
    this.#random = deps.random ?? Math.random;
  }

  /** The limits the server announced last; undefined before the first registration. */
  get limits(): ServerLimits | undefined {
    return this.#limits;
  }
  get nameLimit(): number | undefined {
    return this.#limits?.nameLength;
  }
  /** The lobby the server announced last. */
  get lobby(): string | undefined {
    return this.#lobby;
  }
  /** The rooms this session is in, in the order they were joined; kept while disconnected, to be joined again. */
  get rooms(): string[] {
    return this.#conversations.rooms;
  }
  /** The room as the server writes it, when the session is in it. */
  room(name: string): string | undefined {
    return this.#conversations.room(name);
  }
  /** The name the session has, or asks for back while disconnected. */
  get name(): string | undefined {
    return this.#wanted;
  }
  get isReady(): boolean {
    return this.#ready && !this.#leaving;
  }
  get isEnded(): boolean {
    return this.#ended;
  }
  /** Messages waiting for the connection to come back. */
  get queued(): number {
    return this.#outbox.size;
  }

  subscribe(listener: SessionListener): () => void {
    return this.#listeners.subscribe(listener);
  }

  #emit(event: SessionEvent): void {
    this.#listeners.emit(event);
  }

  /** Opens the first connection; rejects with ConnectError when even that fails, which is never retried. */
  async start(): Promise<void> {
    const connection = this.#adopt();
    try {
      await connection.open();
    } catch (error) {
      this.#connection = undefined;
      this.#ended = true;
      throw error;
    }
  }

  /** Sends a message to `target` (a room or a user; undefined is the lobby) now, or queues it while disconnected, or refuses it when the queue is full. */
  say(target: string | undefined, text: string): void {
    this.#send({ target, kind: MessageKind.Say, text });
  }

  /** Sends an action ([MSG-9]) like `say`. */
  me(target: string | undefined, text: string): void {
    this.#send({ target, kind: MessageKind.Me, text });
  }

  #send(message: Outgoing): void {
    if (this.#ended || this.#leaving) return;
    const connection = this.#connection;
    // The queue is flushed the moment a connection is ready, so while ready
    // it is empty and sending directly keeps the order.
    if (connection !== undefined && this.#ready) {
      sendOn(connection, message);
      return;
    }
    const refused = this.#outbox.add(message);
    if (refused === undefined) return this.#emit({ type: 'queued', count: this.#outbox.size });
    this.#undelivered++;
    const max = refused === 'lines' ? this.#outbox.limits.lines : this.#outbox.limits.bytes;
    this.#emit({ type: 'refused', message, limit: refused, max });
  }

  /** Asks for a new name: 'sent', 'same' (already the name) or 'offline' (not sent). */
  nick(name: string): 'sent' | 'same' | 'offline' {
    const connection = this.#live();
    if (connection === undefined) return 'offline';
    return connection.nick(name) ? 'sent' : 'same';
  }

  /*
   * Requests other than messages are not queued while disconnected: a /who
   * answered minutes later, or a /join into a changed server, would mislead.
   * Each returns false when it was not sent.
   */

  /** Asks who is online, or who is in `room`. */
  who(room?: string): boolean {
    return this.#ask((c) => c.who(room));
  }
  join(room: string): boolean {
    return this.#ask((c) => c.join(room));
  }
  part(room: string, reason = ''): boolean {
    return this.#ask((c) => c.part(room, reason));
  }
  listRooms(): boolean {
    return this.#ask((c) => c.rooms());
  }
  /** Asks for a room's topic, or sets it when `text` is given. */
  topic(room: string, text?: string): boolean {
    return this.#ask((c) => c.topic(room, text));
  }
  /** Asks for the last `limit` messages of `target` ([HIST-2]); shown as history, seen before or not. */
  history(target: string, limit: number): boolean {
    return this.#ask((c) => c.history(target, { kind: 'latest', limit }));
  }

  #live(): ChatConnection | undefined {
    return this.isReady ? this.#connection : undefined;
  }

  #ask(send: (connection: ChatConnection) => void): boolean {
    const connection = this.#live();
    if (connection === undefined) return false;
    send(connection);
    return true;
  }

  /** Leaves as the user asked: QUIT when connected, and never reconnects afterwards. */
  quit(reason = ''): void {
    if (this.#ended || this.#leaving) return;
    this.#leaving = true;
    this.#cancelTimers();
    const connection = this.#connection;
    // Its close (or failed open) then ends the session.
    if (connection !== undefined && !connection.isClosed) void connection.quit(reason);
    else this.#end(true);
  }

  /** Leaves at once, without waiting for BYE (a second Ctrl+C). */
  close(): void {
    if (this.#ended) return;
    this.#leaving = true;
    this.#cancelTimers();
    const connection = this.#connection;
    if (connection !== undefined && !connection.isClosed) void connection.close();
    else this.#end(true);
  }

  /**
   * End of input: deliver everything queued, wait until the server has
   * answered it, then QUIT. While disconnected, waits for the server at most
   * `reconnectTimeoutMs` ([CLIENT-10]).
   */
  endOfInput(): void {
    if (this.#ended || this.#leaving || this.#ending) return;
    this.#ending = true;
    const connection = this.#connection;
    if (connection !== undefined && this.#ready) return this.#deliverThenQuit(connection);
    if (this.#outbox.size === 0) return this.quit('');
    this.#startDeadline();
  }

  #adopt(): ChatConnection {
    const connection = new ChatConnection({ ...this.#options, name: this.#wanted, key: this.#key });
    this.#connection = connection;
    connection.subscribe((event) => this.#onEvent(connection, event));
    return connection;
  }

  #onEvent(connection: ChatConnection, event: ClientEvent): void {
    // Events of a connection we have let go of are old news.
    if (connection !== this.#connection || this.#ended) return;
    if (this.#conversations.handle(event)) return;
    switch (event.type) {
      case 'ready':
        return this.#onReady(connection, event);
      case 'closed':
        return this.#onClosed(connection, event.cause, event.reason);
      case 'message':
      case 'history':
        return; // Conversations shows them
      case 'nick':
        if (event.own) this.#wanted = event.to;
        break;
      case 'error':
        // E.g. TOO_MANY_CONNECTIONS instead of a greeting: shown as the
        // attempt's failure, not as a line of its own.
        if (this.#registeredOnce && !this.#ready) {
          this.#attemptError = `${event.text} (${event.code})`;
          return;
        }
        break;
    }
    this.#emit(event);
  }

  #onReady(connection: ChatConnection, event: Extract<ClientEvent, { type: 'ready' }>): void {
    // Registered just as the user left: the QUIT already sent will end it.
    if (this.#leaving) return;
    const wanted = this.#wanted;
    this.#ready = true;
    this.#attempt = 0;
    this.#wanted = event.name;
    this.#key = connection.key;
    this.#limits = connection.limits;
    this.#lobby = connection.lobby;
    this.#scheduler.clearTimeout(this.#deadlineTimer);
    this.#deadlineTimer = undefined;
    const again = this.#registeredOnce;
    this.#registeredOnce = true;
    // Rooms are joined again before the queue is sent, so a queued message to a room finds us in it.
    // Once the user is leaving, the catch-up asks for nothing more.
    const port = {
      joinedByServer: event.joined,
      historyPage: connection.limits.historyPage,
      join: (room: string, tag: string) => {
        if (connection.canSend) connection.join(room, tag);
      },
      history: (target: string, query: Parameters<ChatConnection['history']>[1], tag: string) => {
        if (connection.canSend) connection.history(target, query, tag);
      },
    };
    const rooms = this.#conversations.connected(event.name, port, again);
    if (again) this.#emit({ type: 'reconnected', name: event.name, wanted, users: event.users, rooms });
    else this.#emit(event);
    if (this.#leaving) return; // a listener quit
    const queued = this.#outbox.take();
    if (queued.length > 0) {
      this.#emit({ type: 'flushed', count: queued.length });
      for (const message of queued) sendOn(connection, message);
    }
    if (this.#ending) this.#deliverThenQuit(connection);
  }

  #deliverThenQuit(connection: ChatConnection): void {
    void connection.settled().then(() => {
      // A drop while waiting is handled by #onClosed instead.
      if (connection === this.#connection && this.#ready) this.quit('');
    });
  }

  #onClosed(connection: ChatConnection, cause: Extract<ClientEvent, { type: 'closed' }>['cause'], reason: string): void {
    const wasReady = this.#ready;
    this.#connection = undefined;
    this.#ready = false;
    this.#conversations.disconnected();
    const unconfirmed = connection.pending.flatMap((r): Outgoing[] =>
      r.command === 'SAY' || r.command === 'ME'
        ? [{ target: r.target, kind: r.command === 'ME' ? MessageKind.Me : MessageKind.Say, text: r.text }]
        : [],
    );
    if (this.#leaving) {
      this.#reportUnconfirmed(unconfirmed);
      return this.#end(true);
    }
    if (!wasReady && this.#registeredOnce) {
      // A reconnect attempt that got a TCP connection but not a registration.
      const why = this.#attemptError ?? (cause === 'eof' ? 'the server closed the connection' : reason);
      this.#emit({ type: 'attempt-failed', attempt: this.#attempt, reason: why });
      return this.#retry();
    }
    this.#emit({ type: 'disconnected', cause, reason });
    this.#reportUnconfirmed(unconfirmed);
    // A first connection that never registered is a failure to connect, not a drop.
    if (!this.#registeredOnce || this.#options.reconnect === false) return this.#end(false);
    if (this.#ending && this.#outbox.size === 0) return this.#end(true);
    this.#retry();
  }

  #reportUnconfirmed(messages: readonly Outgoing[]): void {
    if (messages.length === 0) return;
    this.#undelivered += messages.length;
    this.#emit({ type: 'unconfirmed', messages });
  }

  #retry(): void {
    if (this.#ending) this.#startDeadline();
    this.#attempt++;
    const delayMs = backoffDelay(this.#attempt, this.#options.backoff ?? DEFAULT_BACKOFF, this.#random);
    this.#emit({ type: 'reconnecting', attempt: this.#attempt, delayMs });
    this.#retryTimer = this.#scheduler.setTimeout(() => {
      this.#retryTimer = undefined;
      this.#tryConnect();
    }, delayMs);
  }

  #tryConnect(): void {
    if (this.#ended || this.#leaving) return;
    this.#attemptError = undefined;
    const connection = this.#adopt();
    connection.open().catch((error: unknown) => {
      if (connection !== this.#connection || this.#ended) return;
      this.#connection = undefined;
      if (this.#leaving) return this.#end(true);
      this.#emit({ type: 'attempt-failed', attempt: this.#attempt, reason: describeConnectFailure(error) });
      this.#retry();
    });
  }

  #startDeadline(): void {
    if (this.#deadlineTimer !== undefined) return;
    const afterMs = this.#options.reconnectTimeoutMs ?? DEFAULT_RECONNECT_TIMEOUT_MS;
    this.#deadlineTimer = this.#scheduler.setTimeout(() => {
      this.#deadlineTimer = undefined;
      if (this.#ready || this.#ended) return;
      this.#emit({ type: 'gave-up', afterMs });
      this.#leaving = true;
      const attempt = this.#connection;
      this.#connection = undefined;
      void attempt?.close();
      this.#end(false);
    }, afterMs);
  }

  #cancelTimers(): void {
    this.#scheduler.clearTimeout(this.#retryTimer);
    this.#scheduler.clearTimeout(this.#deadlineTimer);
    this.#retryTimer = undefined;
    this.#deadlineTimer = undefined;
  }

  #end(left: boolean): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#cancelTimers();
    this.#connection = undefined;
    this.#ready = false;
    const unsent = this.#outbox.take();
    if (unsent.length > 0) {
      this.#undelivered += unsent.length;
      this.#emit({ type: 'unsent', messages: unsent });
    }
    this.#emit({ type: 'ended', left, undelivered: this.#undelivered });
  }
}

function sendOn(connection: ChatConnection, message: Outgoing): void {
  if (message.kind === MessageKind.Me) connection.me(message.target, message.text);
  else connection.say(message.target, message.text);
}
