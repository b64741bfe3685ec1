/**
 * Message → line (SPEC §2). The inverse of `parseText`: for every message
 * whose parameters are valid, `parseText(formatLine(m))` gives `m` back.
 * Values come from the server or client itself, so an unencodable one is a
 * programming error and throws.
 */

const COMMAND = /^[A-Z]{1,32}$/;
// Controls are never legal on the wire ([FRAME-8]); LF would split the line.
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/;

/** True when `value` can be sent as a middle (not trailing) parameter. */
export function isMiddle(value: string): boolean {
  return value.length > 0 && value.charCodeAt(0) !== 0x3a && !value.includes(' ');
}

/** One wire line, LF included ([FRAME-3]). */
export function formatLine(command: string, ...params: string[]): string {
  if (!COMMAND.test(command)) throw new TypeError(`invalid command word: ${JSON.stringify(command)}`);
  let line = command;
  const last = params.length - 1;
  for (let i = 0; i <= last; i++) {
    const param = params[i]!;
    if (FORBIDDEN.test(param)) throw new TypeError(`parameter ${i} of ${command} holds a control character`);
    if (isMiddle(param)) {
      line += ' ' + param;
    } else if (i === last) {
      line += ' :' + param;
    } else {
      throw new TypeError(`parameter ${i} of ${command} must be a middle parameter: ${JSON.stringify(param)}`);
    }
  }
  return line + '\n';
}
