/**
 * The framer turns a byte stream into lines ([FRAME-1]..[FRAME-6], [LIMIT-2],
 * [LIMIT-3]). It is pure: no sockets, no timers, no decoding. Bytes are split
 * on LF first and only whole lines are handed on, so a UTF-8 character split
 * across chunks is never seen in halves ([FRAME-4]).
 *
 * Memory contract: at most `line + 1` bytes of an unfinished line are kept
 * (the +1 is a CR that may turn out to belong to the terminator). Beyond that
 * the line is doomed, so its bytes are only counted, never stored.
 */

export interface FramerSink {
  /** A complete line without its terminator; at most `line` bytes. */
  line(bytes: Buffer): void;
  /** A terminated line longer than `line` bytes was dropped ([LIMIT-2]). */
  lineTooLong(length: number): void;
  /** More than `readCap` bytes came without a line end ([LIMIT-3]). Final. */
  overflow(): void;
}

export interface FramerLimits {
  readonly line: number;
  readonly readCap: number;
}

export const FramerState = {
  /** Collecting a line that may still be accepted. */
  Collecting: 'collecting',
  /** The current line is already too long; counting bytes until its LF. */
  Discarding: 'discarding',
  /** The read cap was passed; every further byte is ignored. */
  Overflowed: 'overflowed',
} as const;
export type FramerState = (typeof FramerState)[keyof typeof FramerState];

const LF = 0x0a;
const CR = 0x0d;
const EMPTY = Buffer.alloc(0);

export class LineFramer {
  #state: FramerState = FramerState.Collecting;
  /** Kept bytes of the unfinished line (only while Collecting). */
  #parts: Buffer[] = [];
  /** Bytes since the last LF, kept or not. */
  #length = 0;
  /** Whether the last byte counted was a CR (it may belong to a CR LF). */
  #lastCr = false;
  readonly #limits: FramerLimits;
  readonly #sink: FramerSink;

  constructor(limits: FramerLimits, sink: FramerSink) {
    this.#limits = limits;
    this.#sink = sink;
  }

  get state(): FramerState {
    return this.#state;
  }

  /** Bytes of the unfinished line currently held in memory. */
  get buffered(): number {
    let n = 0;
    for (const part of this.#parts) n += part.length;
    return n;
  }

  push(chunk: Buffer): void {
    let start = 0;
    while (this.#state !== FramerState.Overflowed && start < chunk.length) {
      const lf = chunk.indexOf(LF, start);
      if (lf === -1) {
        this.#append(chunk, start, chunk.length, true);
        return;
      }
      if (!this.#append(chunk, start, lf, false)) return;
      this.#endLine();
      start = lf + 1;
    }
  }

  /** Adds bytes to the unfinished line; false once the read cap is passed. */
  #append(chunk: Buffer, from: number, to: number, copy: boolean): boolean {
    const n = to - from;
    if (n === 0) return true;
    this.#length += n;
    this.#lastCr = chunk[to - 1] === CR;
    if (this.#length > this.#limits.readCap) {
      this.#state = FramerState.Overflowed;
      this.#parts = [];
      this.#sink.overflow();
      return false;
    }
    if (this.#state === FramerState.Discarding) return true;
    if (this.#length > this.#limits.line + 1) {
      this.#state = FramerState.Discarding;
      this.#parts = [];
      return true;
    }
    // A slice that outlives this call is copied, so a small tail never pins
    // a large socket chunk in memory.
    const part = chunk.subarray(from, to);
    this.#parts.push(copy ? Buffer.from(part) : part);
    return true;
  }

  #endLine(): void {
    const length = this.#length;
    const discarding = this.#state === FramerState.Discarding;
    const lastCr = this.#lastCr;
    const parts = this.#parts;
    this.#parts = [];
    this.#length = 0;
    this.#lastCr = false;
    this.#state = FramerState.Collecting;

    if (discarding) {
      // Lengths count the line without its terminator, CR LF or LF ([FRAME-2]).
      this.#sink.lineTooLong(lastCr ? length - 1 : length);
      return;
    }
    let line = parts.length === 0 ? EMPTY : parts.length === 1 ? parts[0]! : Buffer.concat(parts, length);
    if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
    if (line.length > this.#limits.line) this.#sink.lineTooLong(line.length);
    else this.#sink.line(line);
  }
}
