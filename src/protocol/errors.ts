/**
 * The error registry (SPEC §10). Codes are stable; the text is for people.
 * `fatal` errors are followed by a close ([ERR-2]).
 */
export const ERRORS = {
  LINE_TOO_LONG: { fatal: false, text: 'Line too long' },
  INPUT_OVERFLOW: { fatal: true, text: 'Too many bytes without a line end' },
  BAD_UTF8: { fatal: false, text: 'Line is not valid UTF-8' },
  BAD_CHAR: { fatal: false, text: 'Line contains a forbidden control character' },
  UNKNOWN_COMMAND: { fatal: false, text: 'Unknown command' },
  BAD_PARAMS: { fatal: false, text: 'Wrong parameters' },
  NOT_REGISTERED: { fatal: false, text: 'Say HELLO first' },
  ALREADY_REGISTERED: { fatal: false, text: 'Already registered' },
  UNSUPPORTED_VERSION: { fatal: false, text: 'Unsupported protocol version' },
  BAD_NAME: { fatal: false, text: 'Invalid name' },
  NAME_IN_USE: { fatal: false, text: 'Name is in use' },
  BAD_ROOM: { fatal: false, text: 'Invalid room name' },
  NO_SUCH_ROOM: { fatal: false, text: 'No such room' },
  NOT_IN_ROOM: { fatal: false, text: 'You are not in that room' },
  ALREADY_IN_ROOM: { fatal: false, text: 'You are already in that room' },
  TOO_MANY_ROOMS: { fatal: false, text: 'Too many rooms' },
  NO_SUCH_USER: { fatal: false, text: 'No such user online' },
  UNKNOWN_MESSAGE: { fatal: false, text: 'No such message id' },
  STORAGE_FAILED: { fatal: false, text: 'The message could not be stored' },
  SLOW_CONSUMER: { fatal: true, text: 'Too much output is waiting to be read' },
  FLOOD: { fatal: true, text: 'Too much input is waiting to be processed' },
  PING_TIMEOUT: { fatal: true, text: 'No reply to PING' },
  REGISTRATION_TIMEOUT: { fatal: true, text: 'HELLO did not arrive in time' },
  TOO_MANY_CONNECTIONS: { fatal: true, text: 'Too many connections' },
  INTERNAL_ERROR: { fatal: true, text: 'Internal server error' },
} as const satisfies Record<string, { fatal: boolean; text: string }>;

export type ErrorCode = keyof typeof ERRORS;

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERRORS, code);
}

export function isFatal(code: ErrorCode): boolean {
  return ERRORS[code].fatal;
}

/**
 * A protocol error raised by domain code. Exactly one place (the server's
 * dispatcher) turns it into an `ERR` line, so handlers never format replies
 * for failures themselves.
 */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly code: ErrorCode;
  /** The offending command word in upper case, or `*`. */
  readonly command: string;

  constructor(code: ErrorCode, command: string, detail?: string, options?: { cause?: unknown }) {
    super(detail ?? ERRORS[code].text, options);
    this.code = code;
    this.command = command;
  }

  get fatal(): boolean {
    return isFatal(this.code);
  }
}
