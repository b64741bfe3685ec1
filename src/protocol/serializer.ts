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

/** The last parameter of a line with its separator: ` value`, or ` :value` when it must be trailing ([LINE-3]). */
export function lastParam(value: string, index = 0, command = 'line'): string {
  if (FORBIDDEN.test(value)) throw new TypeError(`parameter ${index} of ${command} holds a control character`);
  return isMiddle(value) ? ' ' + value : ' :' + value;
}

/** One wire line, LF included ([FRAME-3]). */
export function formatLine(command: string, ...params: string[]): string {
  if (!COMMAND.test(command)) throw new TypeError(`invalid command word: ${JSON.stringify(command)}`);
  let line = command;
  const last = params.length - 1;
  for (let i = 0; i < last; i++) {
    const param = params[i]!;
    if (FORBIDDEN.test(param)) throw new TypeError(`parameter ${i} of ${command} holds a control character`);
    if (!isMiddle(param)) throw new TypeError(`parameter ${i} of ${command} must be a middle parameter: ${JSON.stringify(param)}`);
    line += ' ' + param;
  }
  if (last >= 0) line += lastParam(params[last]!, last, command);
  return line + '\n';
}
