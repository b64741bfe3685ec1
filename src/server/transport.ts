/**
 * Transport: one TCP socket with its read limits and its send queue.
 * It knows lines and bytes, not chat.
 *
 * Send-queue contract (see also SPEC [MSG-7], [QUIT-1], [SHUT-1]):
 * - `send()` never blocks and never reorders: bytes leave in the order they
 *   were queued, for the life of the connection.
 * - Producers only enqueue. Writes happen at the end of the event-loop turn
 *   (the Flusher), on 'drain' and in `close()`, so every line queued in one
 *   turn goes out in one `write()`.
 * - Broadcasts reach a connection through a Fanout group (fanout.ts), which
 *   hands it each turn's lines as one shared Buffer, written at once when
 *   nothing else waits; a private `send()` first catches up with its groups,
 *   so order is kept.
 * - When `write()` reports a full socket buffer, nothing more is written
 *   until 'drain'; the bytes wait here, counted.
 * - The queue is bounded: queued bytes plus the socket's own buffer may not
 *   pass `sendQueue`. Passing it marks the connection as a slow consumer;
 *   the close happens in a microtask, never inside the producer's loop. A
 *   group's lines count once they are handed over: at the end of the turn
 *   they were published in, or for held presence lines within the hold time
 *   (bounded in bytes, see Fanout).
 * - `close()` is the one way out. It happens once; later sends are dropped.
 * - Before any `write()`, the Flusher's write barrier runs: with a database,
 *   it commits the messages accepted so far, so no byte about a message
 *   leaves before the message is durable (SPEC [STORE-1]). A barrier that
 *   fails drops the connection instead of writing.
 *
 * Input contract (flood control, RFC 1459 §8.10):
 * - Each line costs one token from a TokenBucket; PING and PONG are free.
 * - A line without a token waits in the inbox, in order, and the socket is
 *   paused, so the kernel's window fills and TCP pushes back on the sender.
 *   Nothing is dropped. A timer resumes when the next token is due.
 * - Only when the inbox holds more than `inputQueue` bytes (one read can
 *   bring many lines) is the connection ended as a flood.
 * - The peer's FIN comes after every line it sent: held lines are delivered
 *   first, then `ended({kind: 'eof'})`. The write side stays open for their
 *   replies until the owner calls `close()`.
 */
import type { Socket } from 'node:net';
import { LineFramer, type FramerLimits } from '../protocol/framer.ts';
import { TokenBucket } from './token-bucket.ts';
import type { Fanout, FanoutMember, FanoutScheduler } from './fanout.ts';

export const ConnectionState = {
  Open: 'open',
  Closing: 'closing',
  Closed: 'closed',
} as const;
export type ConnectionState = (typeof ConnectionState)[keyof typeof ConnectionState];

export interface TransportLimits extends FramerLimits {
  /** Most bytes waiting to be sent before the peer counts as a slow consumer. */
  readonly sendQueue: number;
  /** How long a closing socket may take to flush and close before it is destroyed. */
  readonly lingerMs: number;
  /** Lines that may arrive back to back before flood control delays them. */
  readonly floodBurst: number;
  /** Lines per second after the burst; 0 turns flood control off. */
  readonly floodRate: number;
  /** Bytes of received, unprocessed lines before the connection counts as a flood. */
  readonly inputQueue: number;
}

/** What the transport needs to know about lines without knowing the protocol. */
export interface TransportPolicy {
  /** Lines that cost no token (PING, PONG). */
  free(line: Buffer): boolean;
  /** Milliseconds since the epoch; injected so tests control time. */
  clock(): number;
}

/** Why the transport itself ended a connection. */
export type TransportEnd =
  | { kind: 'eof' }
  | { kind: 'error'; error: Error }
  | { kind: 'slow-consumer' }
  | { kind: 'overflow' }
  | { kind: 'flood' };

export interface ConnectionEvents {
  line(bytes: Buffer): void;
  lineTooLong(length: number): void;
  /**
   * The transport is ending the connection by itself. The owner must call
   * `close()` (possibly with a last line); until it does, nothing is read.
   */
  ended(why: TransportEnd): void;
}

/** Runs before any bytes are written to a socket; false forbids the write ([STORE-1]). */
export type WriteBarrier = () => boolean;

/**
 * Batches writes: at the end of each event-loop turn, every group that
 * published hands its batch to its members, then each dirty connection is
 * flushed once.
 */
export class Flusher implements FanoutScheduler {
  #dirty = new Set<Connection>();
  #groups = new Set<Fanout>();
  #scheduled = false;
  #flushing = false;
  /** Called by every connection before it writes. */
  readonly beforeWrite: WriteBarrier;

  constructor(beforeWrite: WriteBarrier = () => true) {
    this.beforeWrite = beforeWrite;
  }

  /** True while the end-of-turn flush runs: bytes handed over then may be written at once. */
  get flushing(): boolean {
    return this.#flushing;
  }

  schedule(connection: Connection): void {
    this.#dirty.add(connection);
    this.#arm();
  }

  scheduleGroup(group: Fanout): void {
    this.#groups.add(group);
    this.#arm();
  }

  later(run: () => void, ms: number): () => void {
    const timer = setTimeout(run, ms);
    return () => clearTimeout(timer);
  }

  #arm(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(this.#run);
  }

  #run = (): void => {
    this.#scheduled = false;
    this.#flushing = true;
    try {
      const groups = this.#groups;
      this.#groups = new Set();
      for (const group of groups) group.flush();
      const dirty = this.#dirty;
      this.#dirty = new Set();
      for (const connection of dirty) connection.flush();
    } finally {
      this.#flushing = false;
    }
  };
}

/** A received line waiting for its token, or the length of a dropped over-long line. */
type Input = Buffer | number;

export class Connection implements FanoutMember {
  readonly socket: Socket;
  readonly remote: string;
  /** When input last arrived (policy clock); read by the keepalive watchdog. */
  lastInput: number;
  #state: ConnectionState = ConnectionState.Open;
  /** Set once the transport has decided to end the connection by itself. */
  #failure: TransportEnd | undefined;
  #queue: Buffer[] = [];
  #queued = 0;
  #blocked = false;
  /** The fan-out groups this connection is in. */
  readonly #groups = new Set<Fanout>();
  #linger: NodeJS.Timeout | undefined;
  /** Bytes read and thrown away since close() began. */
  #ignored = 0;
  #inbox: Input[] = [];
  #inboxBytes = 0;
  #resume: NodeJS.Timeout | undefined;
  /** The peer's FIN arrived while lines were held; reported once they are delivered. */
  #eofHeld = false;
  readonly #bucket: TokenBucket;
  readonly #policy: TransportPolicy;
  readonly #framer: LineFramer;
  readonly #limits: TransportLimits;
  readonly #flusher: Flusher;
  readonly #events: ConnectionEvents;
  readonly #closed: Promise<void>;

  constructor(
    socket: Socket,
    limits: TransportLimits,
    flusher: Flusher,
    policy: TransportPolicy,
    events: ConnectionEvents,
  ) {
    this.socket = socket;
    this.remote = `${socket.remoteAddress}:${socket.remotePort}`;
    this.#limits = limits;
    this.#flusher = flusher;
    this.#policy = policy;
    this.#events = events;
    this.lastInput = policy.clock();
    this.#bucket = new TokenBucket(limits.floodBurst, limits.floodRate, this.lastInput);
    // Method shorthand, not arrows: tsx names arrows by defining a property
    // on each one, which costs every connection ~250 bytes per arrow.
    const connection = this;
    this.#framer = new LineFramer(limits, {
      line(bytes) {
        connection.#receive(bytes);
      },
      lineTooLong(length) {
        connection.#receive(length);
      },
      overflow() {
        connection.#end({ kind: 'overflow' });
      },
    });
    socket.setNoDelay(true);
    // Node would end the write side one tick after the peer's FIN, before
    // the replies to lines still held by flood control are written; close()
    // ends it instead.
    socket.allowHalfOpen = true;
    // Input keeps being read (and ignored) while closing, so the peer's FIN
    // is seen and the socket closes promptly.
    socket.on('data', (chunk: Buffer) => {
      this.lastInput = policy.clock();
      if (this.#state === ConnectionState.Open) {
        this.#framer.push(chunk);
        return;
      }
      // Closing: input is read only so that the peer's FIN is seen. A peer
      // that keeps streaming is not worth the CPU; it waits, unread, for
      // the linger timer.
      this.#ignored += chunk.length;
      if (this.#ignored > limits.readCap) socket.pause();
    });
    socket.on('drain', () => {
      this.#blocked = false;
      this.flush();
    });
    socket.on('end', () => {
      if (this.#inbox.length > 0) this.#eofHeld = true;
      else this.#end({ kind: 'eof' });
    });
    socket.on('error', (error) => this.#end({ kind: 'error', error }));
    this.#closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.#state = ConnectionState.Closed;
        this.#leaveGroups();
        clearTimeout(this.#linger);
        this.#linger = undefined;
        this.#queue = [];
        this.#queued = 0;
        this.#dropInbox();
        resolve();
      });
    });
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** Open and not yet failed: input is processed and output accepted. */
  get #live(): boolean {
    return this.#state === ConnectionState.Open && this.#failure === undefined;
  }

  /** Bytes waiting: in this queue and in the socket's own buffer. */
  get pending(): number {
    return this.#queued + this.socket.writableLength;
  }

  /** Resolves once the socket has fully closed. */
  get closed(): Promise<void> {
    return this.#closed;
  }

  /** Bytes of received lines waiting for flood control. */
  get inputPending(): number {
    return this.#inboxBytes;
  }

  #receive(input: Input): void {
    if (!this.#live) return;
    if (this.#inbox.length === 0 && this.#admit(input)) {
      this.#deliver(input);
      return;
    }
    // Held lines are copied: the framer's may point into a reused chunk.
    const held = typeof input === 'number' ? input : Buffer.from(input);
    this.#inbox.push(held);
    this.#inboxBytes += typeof held === 'number' ? 0 : held.length;
    if (this.#inboxBytes > this.#limits.inputQueue) {
      this.#end({ kind: 'flood' });
      return;
    }
    if (this.#resume === undefined) {
      this.socket.pause();
      this.#schedule();
    }
  }

  /** Takes a token for `input`, unless it is free. */
  #admit(input: Input): boolean {
    return (typeof input !== 'number' && this.#policy.free(input)) || this.#bucket.take(this.#policy.clock());
  }

  #deliver(input: Input): void {
    if (typeof input === 'number') this.#events.lineTooLong(input);
    else this.#events.line(input);
  }

  #schedule(): void {
    this.#resume = setTimeout(Connection.#drainInboxOf, this.#bucket.waitMs(this.#policy.clock()), this);
  }

  static #drainInboxOf(connection: Connection): void {
    connection.#drainInbox();
  }

  #drainInbox(): void {
    this.#resume = undefined;
    while (this.#inbox.length > 0 && this.#live) {
      const input = this.#inbox[0]!;
      if (!this.#admit(input)) {
        this.#schedule();
        return;
      }
      this.#inbox.shift();
      this.#inboxBytes -= typeof input === 'number' ? 0 : input.length;
      this.#deliver(input);
    }
    if (!this.#live) return;
    if (this.#eofHeld) this.#end({ kind: 'eof' });
    else this.socket.resume();
  }

  #dropInbox(): void {
    clearTimeout(this.#resume);
    this.#resume = undefined;
    this.#inbox = [];
    this.#inboxBytes = 0;
  }

  /**
   * Queues whole lines: a reply, or a line for this peer alone. Returns
   * false if they were not queued. A reply is taken whole when what waited
   * before it was within the bound, so a peer that asks for a long list
   * (a page of history, ROOMS, WHO) is never cut off for asking; what waits
   * is then at most `sendQueue` plus one reply, and the next line finds it
   * over the bound if the peer does not read.
   */
  send(data: Buffer | string): boolean {
    if (!this.#live) return false;
    // Broadcast lines published before this one go first.
    for (const group of this.#groups) group.catchUp(this);
    return this.#take(typeof data === 'string' ? Buffer.from(data) : data, 0);
  }

  /**
   * Whole lines from a fan-out group, in the group's order; false if they
   * were not taken. Only groups call this: it does not catch up (`send` does).
   */
  deliver(bytes: Buffer): boolean {
    return this.#take(bytes, bytes.length);
  }

  /** Takes `bytes` unless what waits, plus `counted` of them, is over the bound. */
  #take(bytes: Buffer, counted: number): boolean {
    if (!this.#live) return false;
    if (this.pending + counted > this.#limits.sendQueue) {
      // Dropping the line would break this peer's order ([MSG-7]), so the
      // peer loses the connection instead.
      this.#end({ kind: 'slow-consumer' });
      return false;
    }
    if (this.#flusher.flushing && this.#queue.length === 0 && !this.#blocked) {
      // A group's turn batch for an idle connection: one write() now, rather
      // than a queue entry and a second pass over every member.
      this.#write(bytes);
      return true;
    }
    this.#enqueue(bytes);
    return true;
  }

  enter(group: Fanout): void {
    this.#groups.add(group);
  }

  exit(group: Fanout): void {
    this.#groups.delete(group);
  }

  /** Takes every line its groups still owe it, and leaves them. */
  #leaveGroups(): void {
    for (const group of [...this.#groups]) group.remove(this);
  }

  #enqueue(bytes: Buffer): void {
    this.#queue.push(bytes);
    this.#queued += bytes.length;
    this.#flusher.schedule(this);
  }

  /** Writes the queue to the socket with one `write()`. */
  flush(): void {
    if (this.#blocked || this.#queue.length === 0 || this.socket.destroyed) return;
    const queue = this.#queue;
    const bytes = queue.length === 1 ? queue[0]! : Buffer.concat(queue, this.#queued);
    this.#queue = [];
    this.#queued = 0;
    this.#write(bytes);
  }

  #write(bytes: Buffer): void {
    if (!this.#flusher.beforeWrite()) {
      this.socket.destroy();
      return;
    }
    if (!this.socket.write(bytes)) this.#blocked = true;
  }

  /**
   * The one way a connection ends: queues `lastLines` (exempt from the queue
   * bound), hands everything queued to the socket, half-closes, and destroys
   * the socket if it has not closed within the linger time. Idempotent.
   */
  close(lastLines?: string): void {
    if (this.#state !== ConnectionState.Open) return;
    this.#leaveGroups();
    this.#state = ConnectionState.Closing;
    this.#dropInbox();
    if (this.socket.destroyed) return;
    // Read (and ignore, up to READCAP bytes) again, so the peer's FIN is seen.
    this.socket.resume();
    if (lastLines !== undefined) this.#enqueue(Buffer.from(lastLines));
    // Bytes behind a full socket buffer still go out in order; the linger
    // timer bounds how long a peer that does not read can hold them.
    this.#blocked = false;
    this.flush();
    this.socket.end();
    this.#linger = setTimeout(() => this.socket.destroy(), this.#limits.lingerMs);
  }

  /** Drops the socket at once, without flushing. */
  destroy(): void {
    if (this.#state === ConnectionState.Closed) return;
    this.#state = ConnectionState.Closing;
    this.socket.destroy();
  }

  /** Reports a transport-side end to the owner, once; the owner then calls close(). */
  #end(why: TransportEnd): void {
    // After a socket error nothing more can be written.
    if (why.kind === 'error') this.socket.destroy();
    if (!this.#live) return;
    // Broadcasts its groups still owe this peer go before whatever ends it
    // (a peer that half-closed still reads). Not for a slow consumer: it is
    // over the bound already, and found inside a group's flush.
    if (why.kind !== 'error' && why.kind !== 'slow-consumer') {
      for (const group of this.#groups) group.catchUp(this);
      if (!this.#live) return; // catching up found it a slow consumer
    }
    this.#failure = why;
    // A slow consumer is found inside a producer's loop (a group's flush or
    // catch-up); the owner hears of it after that loop has finished.
    if (why.kind === 'slow-consumer') queueMicrotask(() => this.#events.ended(why));
    else this.#events.ended(why);
  }
}
