/**
 * Messages typed while disconnected ([CLIENT-8]): kept in order and sent
 * once connected again, up to a bound in lines and in bytes; past it a
 * message is refused (and the user told), never dropped without a word.
 */

export interface QueueLimits {
  readonly lines: number;
  readonly bytes: number;
}

/** Enough for a long paste; bounded so that a long outage cannot grow memory, or flood the server on return, without limit. */
export const DEFAULT_QUEUE_LIMITS: QueueLimits = Object.freeze({ lines: 100, bytes: 64 * 1024 });

const encoder = new TextEncoder();

/** Messages typed while disconnected, in order, bounded in count and in bytes. */
export class Outbox {
  #texts: string[] = [];
  #bytes = 0;
  constructor(readonly limits: QueueLimits) {}

  get size(): number {
    return this.#texts.length;
  }

  /** Keeps `text`, or returns the limit it would break. */
  add(text: string): 'lines' | 'bytes' | undefined {
    const bytes = encoder.encode(text).length;
    if (this.#texts.length >= this.limits.lines) return 'lines';
    if (this.#bytes + bytes > this.limits.bytes) return 'bytes';
    this.#texts.push(text);
    this.#bytes += bytes;
    return undefined;
  }

  /** Empties the queue and returns what it held, oldest first. */
  take(): string[] {
    const texts = this.#texts;
    this.#texts = [];
    this.#bytes = 0;
    return texts;
  }
}
