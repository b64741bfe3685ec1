/** The server log: one line per event, in the spirit of the original's. */

export type Log = (line: string) => void;

// Names and texts are checked on input, but bidi and other format characters
// are legal in text and would garble an operator's terminal.
const UNPRINTABLE = /[\p{Cc}\p{Cf}\u2028\u2029]/gu;

export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}

/** A log that writes timestamped lines to a stream. */
export function streamLog(stream: NodeJS.WritableStream, clock: () => Date = () => new Date()): Log {
  return (line) => {
    stream.write(`${clock().toISOString()} ${printable(line)}\n`);
  };
}

export const silentLog: Log = () => {};
