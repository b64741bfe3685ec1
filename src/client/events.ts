/**
 * What a connection reports to whoever shows it: plain data, one union, so
 * the terminal, the tests and the reconnecting supervisor all consume the
 * same thing. Received text in these events is raw; it must go through
 * `sanitize` before it reaches a terminal ([CLIENT-1]).
 *
 * `SessionEvent` is what the supervisor (reconnect.ts) reports for a whole
 * session, which may span several connections: the connection events except
 * `closed`, which it turns into `disconnected` and finally `ended`.
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

/** Subscribers to one kind of event; a listener may unsubscribe while being called. */
export class Listeners<E> {
  readonly #set = new Set<(event: E) => void>();

  subscribe(listener: (event: E) => void): () => void {
    this.#set.add(listener);
    return () => this.#set.delete(listener);
  }

  emit(event: E): void {
    for (const listener of [...this.#set]) listener(event);
  }
}

export type SessionEvent =
  | Exclude<ClientEvent, { readonly type: 'closed' }>
  /** A connection that had registered (or the first one) ended without the user leaving. */
  | { readonly type: 'disconnected'; readonly cause: CloseCause; readonly reason: string }
  /** SAYs sent on a connection that ended before their ECHO or ERR came ([CLIENT-9]). */
  | { readonly type: 'unconfirmed'; readonly texts: readonly string[] }
  | { readonly type: 'reconnecting'; readonly attempt: number; readonly delayMs: number }
  | { readonly type: 'attempt-failed'; readonly attempt: number; readonly reason: string }
  | {
      readonly type: 'reconnected';
      readonly name: string;
      /** The name asked for; differs from `name` when the server refused it ([CLIENT-7]). */
      readonly wanted: string | undefined;
      readonly users: readonly string[];
    }
  /** A message was kept to send once connected again; `count` are waiting now. */
  | { readonly type: 'queued'; readonly count: number }
  /** A message was not kept because the queue is full ([CLIENT-8]). */
  | { readonly type: 'refused'; readonly text: string; readonly limit: 'lines' | 'bytes'; readonly max: number }
  | { readonly type: 'flushed'; readonly count: number }
  /** End of input, and the server did not come back in time ([CLIENT-10]). */
  | { readonly type: 'gave-up'; readonly afterMs: number }
  /** Queued messages that will never be sent, because the session ends. */
  | { readonly type: 'unsent'; readonly texts: readonly string[] }
  | {
      readonly type: 'ended';
      /** True when the user (or end of input) ended the session, false when the server went away for good. */
      readonly left: boolean;
      /** Messages of this session not known to have reached the server: unconfirmed, refused or unsent. */
      readonly undelivered: number;
    };

export type SessionListener = (event: SessionEvent) => void;

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

/** Why a connection attempt failed, in a few words: the socket error rather than the whole ConnectError sentence. */
export function describeConnectFailure(error: unknown): string {
  if (error instanceof ConnectError && error.cause instanceof Error) return describeSocketError(error.cause);
  return error instanceof Error ? error.message : String(error);
}
