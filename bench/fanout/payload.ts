/**
 * The benchmark's 64-byte payload and the scanner that finds it again in
 * whatever a server delivers. Pure: no I/O, no clock.
 *
 *   ^SSSSSSSSSS@TTTTTTTTTTTTxxxxxxxx…   (64 bytes in all)
 *
 * `^` marks the payload, S is the message's sequence number (10 digits), T
 * the send time in microseconds since the generator started (12 digits), and
 * `x` pads to 64 bytes. Every peer's line format carries the payload
 * unchanged, and none of them uses `^` anywhere else in the lines the
 * benchmark makes it send, so one `indexOf` per message finds it in linechat's
 * `MSG … :payload`, IRC's `PRIVMSG #room :payload` and Redis's RESP frames
 * alike: the receiving cost per message is the same whichever server sends.
 */

export const PAYLOAD_BYTES = 64;
const MARK = 0x5e; // ^
const SEQ_DIGITS = 10;
const TIME_DIGITS = 12;
/** Bytes from the mark to the end of the send time: what the scanner must see whole. */
const HEAD = 1 + SEQ_DIGITS + 1 + TIME_DIGITS;
const PAD = 'x'.repeat(PAYLOAD_BYTES - HEAD);

/** The payload of message `seq`, sent `micros` after the generator started. */
export function payload(seq: number, micros: number): string {
  return `^${String(seq).padStart(SEQ_DIGITS, '0')}@${String(Math.max(0, Math.floor(micros))).padStart(TIME_DIGITS, '0')}${PAD}`;
}

export type PayloadSink = (seq: number, micros: number) => void;

function digits(bytes: Buffer, at: number, count: number): number {
  let n = 0;
  for (let i = at; i < at + count; i++) n = n * 10 + (bytes[i]! - 0x30);
  return n;
}

/**
 * Finds payloads in a byte stream cut into arbitrary chunks, calling `sink`
 * once per payload, in stream order. Chunks may live in a buffer that is
 * reused after `push` returns (net's `onread`): a payload cut by a chunk end
 * is copied, nothing else is kept.
 */
export class PayloadScanner {
  /** The start of a payload that the last chunk cut short. */
  #carry: Buffer | undefined;
  readonly #sink: PayloadSink;

  constructor(sink: PayloadSink) {
    this.#sink = sink;
  }

  push(chunk: Buffer): void {
    let from = 0;
    const carry = this.#carry;
    if (carry !== undefined) {
      const missing = HEAD - carry.length;
      if (chunk.length < missing) {
        this.#carry = Buffer.concat([carry, chunk]);
        return;
      }
      this.#carry = undefined;
      const head = Buffer.concat([carry, chunk.subarray(0, missing)]);
      this.#sink(digits(head, 1, SEQ_DIGITS), digits(head, 2 + SEQ_DIGITS, TIME_DIGITS));
      from = missing;
    }
    for (;;) {
      const at = chunk.indexOf(MARK, from);
      if (at === -1) return;
      if (at + HEAD > chunk.length) {
        this.#carry = Buffer.from(chunk.subarray(at));
        return;
      }
      this.#sink(digits(chunk, at + 1, SEQ_DIGITS), digits(chunk, at + 2 + SEQ_DIGITS, TIME_DIGITS));
      from = at + HEAD;
    }
  }
}
