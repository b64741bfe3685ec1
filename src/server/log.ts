/** The server log: one line per event, in the spirit of the original's. */

export type Log = (line: string) => void;

// Names and texts are checked on input, but bidi and other format characters
// are legal in text and would garble an operator's terminal.
const UNPRINTABLE = /[\p{Cc}\p{Cf}\u2028\u2029]/gu;

export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}

/**
 * Log output that may wait to be written before lines are dropped. Node
 * writes stdout to a pipe or socket asynchronously, so a reader slower than
 * the chat (a busy log collector, a stopped `| less`) would otherwise make
 * the server hold the whole backlog: one line, with the full text, per
 * message ([LIMIT-7] bounds what waits for clients; this bounds the log).
 */
export const LOG_BACKLOG = 1 << 20;

/**
 * A log that writes timestamped lines to a stream. While more than
 * `backlog` bytes wait to be written, lines are dropped and counted; the
 * next line written after that says how many were lost.
 */
export function streamLog(
  stream: NodeJS.WritableStream,
  clock: () => Date = () => new Date(),
  backlog: number = LOG_BACKLOG,
): Log {
  let dropped = 0;
  return (line) => {
    const waiting = (stream as { writableLength?: number }).writableLength ?? 0;
    if (waiting > backlog) {
      dropped++;
      return;
    }
    if (dropped > 0) {
      stream.write(`${clock().toISOString()} ${dropped} log ${dropped === 1 ? 'line' : 'lines'} dropped: the log output was not keeping up\n`);
      dropped = 0;
    }
    stream.write(`${clock().toISOString()} ${printable(line)}\n`);
  };
}

export const silentLog: Log = () => {};
