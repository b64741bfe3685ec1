/**
 * What a connection reports to whoever shows it: plain data, one union, so
 * the terminal, the tests and the reconnecting supervisor all consume the
 * same thing. Received text in these events is raw; it must go through
 * `sanitize` before it reaches a terminal ([CLIENT-1]).
 *
 * `SessionEvent` is what the supervisor (reconnect.ts) reports for a whole
 * session, which may span several connections: the connection events except
 * `closed`, which it turns into `disconnected` and finally `ended`, and
 * except live messages and history batches, which it turns into one
 * `message` per message to show, de-duplicated by id.
 */
import type { ChatMessage, MessageKind } from '../protocol/messages.ts';
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

/** One `USER` line of a WHO reply ([PRES-3]). */
export interface UserInfo {
  readonly name: string;
  /** Seconds since the user last sent a message. */
  readonly idle: number;
}

/** One `ROOM` line ([ROOM-5]). */
export interface RoomInfo {
  readonly room: string;
  readonly members: number;
  readonly topic: string;
}

/** A message the user typed, with where it goes; kept across a drop ([CLIENT-8]). */
export interface Outgoing {
  /** A room or a user name; undefined sends to the lobby ([MSG-1]). */
  readonly target: string | undefined;
  readonly kind: MessageKind;
  readonly text: string;
}

export type ClientEvent =
  | { readonly type: 'name-rejected'; readonly name: string; readonly code: string; readonly text: string }
  | {
      readonly type: 'ready';
      readonly name: string;
      /** True when the server chose the name. */
      readonly assigned: boolean;
      readonly users: readonly string[];
      readonly serverName: string;
      /** Rooms the server joined us to while registering (the lobby, [SESSION-5]); their events follow. */
      readonly joined: readonly string[];
    }
  | { readonly type: 'who'; readonly room: string | undefined; readonly users: readonly UserInfo[] }
  /** A live message: `MSG`, or `ECHO` (`own`) of one we sent. */
  | { readonly type: 'message'; readonly own: boolean; readonly message: ChatMessage }
  /** A batch of `HIST` lines and its `ENDHIST` ([HIST-3]): a join's replay or a HISTORY reply. */
  | { readonly type: 'history'; readonly target: string; readonly messages: readonly ChatMessage[]; readonly request: Request | undefined }
  | { readonly type: 'join'; readonly room: string; readonly name: string; readonly own: boolean }
  | { readonly type: 'leave'; readonly room: string; readonly name: string; readonly reason: string; readonly text: string; readonly own: boolean }
  /** The `ROOM` line that follows our own `JOIN` ([ROOM-3]). */
  | ({ readonly type: 'room' } & RoomInfo)
  /** The reply to `ROOMS` ([ROOM-5]). */
  | { readonly type: 'rooms'; readonly rooms: readonly RoomInfo[] }
  /** A topic: the answer to our TOPIC (`request`), or a change someone made. */
  | {
      readonly type: 'topic';
      readonly room: string;
      readonly setter: string;
      readonly time: number;
      readonly text: string;
      readonly request: Request | undefined;
    }
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

/**
 * Where a message shown to the user comes from: `live` as it was sent,
 * `replay` the recent history a join brings ([HIST-4]), `history` a page the
 * user asked for, `missed` what a reconnect caught up on ([HIST-6]).
 */
export type Origin = 'live' | 'replay' | 'history' | 'missed';

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
  | Exclude<ClientEvent, { readonly type: 'closed' | 'message' | 'history' }>
  /**
   * A message to show, once: every id is shown at most once per session,
   * whether it came live, in a replay or in a catch-up (`/history` pages
   * excepted, which show what was asked for). `own` is true for the ECHO of
   * our message and for history we sent.
   */
  | { readonly type: 'message'; readonly own: boolean; readonly message: ChatMessage; readonly origin: Origin }
  /** Announces the messages of a `/history` page or a catch-up, before them; `more` when not all were fetched. */
  | { readonly type: 'batch'; readonly target: string; readonly origin: 'history' | 'missed'; readonly count: number; readonly more: boolean }
  /** The server did not know the last id seen in `target` (UNKNOWN_MESSAGE): its latest messages are fetched instead. */
  | { readonly type: 'history-reset'; readonly target: string }
  /** A connection that had registered (or the first one) ended without the user leaving. */
  | { readonly type: 'disconnected'; readonly cause: CloseCause; readonly reason: string }
  /** Messages sent on a connection that ended before their ECHO or ERR came ([CLIENT-9]). */
  | { readonly type: 'unconfirmed'; readonly messages: readonly Outgoing[] }
  | { readonly type: 'reconnecting'; readonly attempt: number; readonly delayMs: number }
  | { readonly type: 'attempt-failed'; readonly attempt: number; readonly reason: string }
  | {
      readonly type: 'reconnected';
      readonly name: string;
      /** The name asked for; differs from `name` when the server refused it ([CLIENT-7]). */
      readonly wanted: string | undefined;
      readonly users: readonly string[];
      /** Rooms being joined again (the lobby is joined by the server). */
      readonly rooms: readonly string[];
    }
  /** A message was kept to send once connected again; `count` are waiting now. */
  | { readonly type: 'queued'; readonly count: number }
  /** A message was not kept because the queue is full ([CLIENT-8]). */
  | { readonly type: 'refused'; readonly message: Outgoing; readonly limit: 'lines' | 'bytes'; readonly max: number }
  | { readonly type: 'flushed'; readonly count: number }
  /** End of input, and the server did not come back in time ([CLIENT-10]). */
  | { readonly type: 'gave-up'; readonly afterMs: number }
  /** Queued messages that will never be sent, because the session ends. */
  | { readonly type: 'unsent'; readonly messages: readonly Outgoing[] }
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
