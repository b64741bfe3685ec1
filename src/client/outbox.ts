/**
 * Messages typed while disconnected ([CLIENT-8]): kept in order, each with
 * its target and kind, and sent once connected again, up to a bound in
 * lines and in bytes of text; past it a message is refused (and the user
 * told), never dropped without a word.
 */
import type { Outgoing } from './events.ts';

export interface QueueLimits {
  readonly lines: number;
  readonly bytes: number;
}

/** Enough for a long paste; bounded so that a long outage cannot grow memory, or flood the server on return, without limit. */
export const DEFAULT_QUEUE_LIMITS: QueueLimits = Object.freeze({ lines: 100, bytes: 64 * 1024 });

const encoder = new TextEncoder();

/** Messages typed while disconnected, in order, bounded in count and in bytes. */
export class Outbox {
  #messages: Outgoing[] = [];
  #bytes = 0;
  constructor(readonly limits: QueueLimits) {}

  get size(): number {
    return this.#messages.length;
  }

  /** Keeps `message`, or returns the limit it would break. */
  add(message: Outgoing): 'lines' | 'bytes' | undefined {
    const bytes = encoder.encode(message.text).length;
    if (this.#messages.length >= this.limits.lines) return 'lines';
    if (this.#bytes + bytes > this.limits.bytes) return 'bytes';
    this.#messages.push(message);
    this.#bytes += bytes;
    return undefined;
  }

  /** Empties the queue and returns what it held, oldest first. */
  take(): Outgoing[] {
    const messages = this.#messages;
    this.#messages = [];
    this.#bytes = 0;
    return messages;
  }
}
