/**
 * What a connection reports to whoever shows it: plain data, one union, so
 * the terminal, the tests and a future reconnecting supervisor all consume
 * the same thing. Received text in these events is raw; it must go through
 * `sanitize` before it reaches a terminal ([CLIENT-1]).
 */
import type { ChatMessage } from '../protocol/messages.ts';
import type { Request } from './requests.ts';

export type CloseCause =
  /** We asked to leave (quit() or close()). */
  | 'quit'
  /** The server closed the connection. */
  | 'eof'
  /** A socket error such as a reset. */
  | 'error'
  /** The handshake could not complete; the reason says why. */
  | 'failed';

export type ClientEvent =
  | { readonly type: 'name-rejected'; readonly name: string; readonly code: string; readonly text: string }
  | {
      readonly type: 'ready';
      readonly name: string;
      /** True when the server chose the name. */
      readonly assigned: boolean;
      readonly users: readonly string[];
      readonly serverName: string;
    }
  | { readonly type: 'who'; readonly users: readonly string[] }
  | { readonly type: 'message'; readonly own: boolean; readonly message: ChatMessage }
  | { readonly type: 'join'; readonly name: string }
  | { readonly type: 'leave'; readonly name: string; readonly reason: string; readonly text: string }
  | { readonly type: 'nick'; readonly from: string; readonly to: string; readonly own: boolean }
  | {
      readonly type: 'error';
      readonly code: string;
      readonly command: string;
      readonly text: string;
      /** The request this ERR answers, when there was one. */
      readonly request: Request | undefined;
    }
  | { readonly type: 'shutdown'; readonly text: string }
  | { readonly type: 'warning'; readonly text: string }
  | { readonly type: 'closed'; readonly cause: CloseCause; readonly reason: string };

export type Listener = (event: ClientEvent) => void;

/** Why a connection could not be made, in words fit for a one-line error. */
export class ConnectError extends Error {
  override readonly name = 'ConnectError';
}

const SOCKET_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by the server',
  EPIPE: 'connection closed by the server',
  ENOTFOUND: 'unknown host',
  EAI_AGAIN: 'cannot resolve the host name',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EADDRNOTAVAIL: 'address not available',
};

/** A socket error as a few words for people rather than an errno. */
export function describeSocketError(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  return (code !== undefined ? SOCKET_ERRORS[code] : undefined) ?? error.message;
}
