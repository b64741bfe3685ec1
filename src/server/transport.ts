/**
 * Transport: one TCP socket with its read limits and its send queue.
 * It knows lines and bytes, not chat.
 *
 * Send-queue contract (see also SPEC [MSG-7], [QUIT-1], [SHUT-1]):
 * - `send()` never blocks and never reorders: bytes leave in the order they
 *   were queued, for the life of the connection.
 * - Producers only enqueue. One drain path (`flush`, run once per event-loop
 *   turn by the Flusher, and again on 'drain') writes, so every line queued
 *   in one turn goes out in one corked batch (one writev).
 * - When `write()` reports a full socket buffer, nothing more is written
 *   until 'drain'; the bytes wait here, counted.
 * - The queue is bounded: queued bytes plus the socket's own buffer may not
 *   pass `sendQueue`. Passing it marks the connection as a slow consumer;
 *   the close happens in a microtask, never inside the producer's loop.
 * - `close()` is the one way out. It happens once; later sends are dropped.
 */
import type { Socket } from 'node:net';
import { LineFramer, type FramerLimits } from '../protocol/framer.ts';

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
}

/** Why the transport itself ended a connection. */
export type TransportEnd =
  | { kind: 'eof' }
  | { kind: 'error'; error: Error }
  | { kind: 'slow-consumer' }
  | { kind: 'overflow' };

export interface ConnectionEvents {
  line(bytes: Buffer): void;
  lineTooLong(length: number): void;
  /**
   * The transport is ending the connection by itself. The owner must call
   * `close()` (possibly with a last line); until it does, nothing is read.
   */
  ended(why: TransportEnd): void;
}

/** Batches writes: each dirty connection is flushed once per event-loop turn. */
export class Flusher {
  #dirty = new Set<Connection>();
  #scheduled = false;

  schedule(connection: Connection): void {
    this.#dirty.add(connection);
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(this.#run);
  }

  #run = (): void => {
    this.#scheduled = false;
    const dirty = this.#dirty;
    this.#dirty = new Set();
    for (const connection of dirty) connection.flush();
  };
}

export class Connection {
  readonly socket: Socket;
  readonly remote: string;
  #state: ConnectionState = ConnectionState.Open;
  /** Set once the transport has decided to end the connection by itself. */
  #failure: TransportEnd | undefined;
  #queue: Buffer[] = [];
  #queued = 0;
  #blocked = false;
  #linger: NodeJS.Timeout | undefined;
  readonly #framer: LineFramer;
  readonly #limits: TransportLimits;
  readonly #flusher: Flusher;
  readonly #events: ConnectionEvents;
  readonly #closed: Promise<void>;

  constructor(socket: Socket, limits: TransportLimits, flusher: Flusher, events: ConnectionEvents) {
    this.socket = socket;
    this.remote = `${socket.remoteAddress}:${socket.remotePort}`;
    this.#limits = limits;
    this.#flusher = flusher;
    this.#events = events;
    this.#framer = new LineFramer(limits, {
      line: (bytes) => {
        if (this.#live) events.line(bytes);
      },
      lineTooLong: (length) => {
        if (this.#live) events.lineTooLong(length);
      },
      overflow: () => this.#end({ kind: 'overflow' }),
    });
    socket.setNoDelay(true);
    // Input keeps being read (and ignored) while closing, so the peer's FIN
    // is seen and the socket closes promptly.
    socket.on('data', (chunk: Buffer) => this.#framer.push(chunk));
    socket.on('drain', () => {
      this.#blocked = false;
      this.flush();
    });
    socket.on('end', () => this.#end({ kind: 'eof' }));
    socket.on('error', (error) => this.#end({ kind: 'error', error }));
    this.#closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.#state = ConnectionState.Closed;
        clearTimeout(this.#linger);
        this.#linger = undefined;
        this.#queue = [];
        this.#queued = 0;
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

  /** Queues whole lines. Returns false if they were not queued. */
  send(data: Buffer | string): boolean {
    if (!this.#live) return false;
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    if (this.pending + bytes.length > this.#limits.sendQueue) {
      // Dropping the line would break this peer's order ([MSG-7]), so the
      // peer loses the connection instead.
      this.#end({ kind: 'slow-consumer' });
      return false;
    }
    this.#enqueue(bytes);
    return true;
  }

  #enqueue(bytes: Buffer): void {
    this.#queue.push(bytes);
    this.#queued += bytes.length;
    this.#flusher.schedule(this);
  }

  /** Writes the queue to the socket, corked into one batch. */
  flush(): void {
    if (this.#blocked || this.#queue.length === 0 || this.socket.destroyed) return;
    const queue = this.#queue;
    this.#queue = [];
    this.#queued = 0;
    this.socket.cork();
    let ok = true;
    for (const bytes of queue) ok = this.socket.write(bytes);
    this.socket.uncork();
    if (!ok) this.#blocked = true;
  }

  /**
   * The one way a connection ends: queues `lastLines` (exempt from the queue
   * bound), hands everything queued to the socket, half-closes, and destroys
   * the socket if it has not closed within the linger time. Idempotent.
   */
  close(lastLines?: string): void {
    if (this.#state !== ConnectionState.Open) return;
    this.#state = ConnectionState.Closing;
    if (this.socket.destroyed) return;
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
    this.#failure = why;
    // A slow consumer is found inside a producer's loop (a broadcast over
    // all users); the owner hears of it after that loop has finished.
    if (why.kind === 'slow-consumer') queueMicrotask(() => this.#events.ended(why));
    else this.#events.ended(why);
  }
}
