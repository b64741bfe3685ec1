/**
 * Where history lives (SPEC §7): the contract both stores keep, the memory
 * store (the default) and the SQLite store (`--db PATH`).
 *
 * A store numbers every message it keeps: `num` is one counter for the whole
 * store, so it orders messages across rooms by the moment they were
 * accepted, and the message id is made from it (`idPrefix` + `num` in base
 * 36). The server can therefore turn any id it issued back into a position,
 * even one whose message has since been pruned, while clients treat ids as
 * opaque ([MSG-4]). `seq` counts within one target (a room, or a private
 * conversation) and is what clients see as order ([MSG-5]).
 *
 * Appending is synchronous and cheap; `commit()` makes everything appended
 * since the last commit durable, and the server calls it before any byte
 * that mentions those messages is written to a socket ([STORE-1]).
 */
import type { ChatMessage, MessageKind } from '../../protocol/messages.ts';
import { foldName } from '../../protocol/names.ts';

/** A message as the hub hands it to the store: everything but its numbers. */
export interface Draft {
  /** The target key: a folded room name, or `privateKey(a, b)`. */
  readonly target: string;
  readonly from: string;
  /** The room or recipient as shown on the wire. */
  readonly to: string;
  readonly kind: MessageKind;
  readonly text: string;
  /** Milliseconds since the epoch; never less than the previous message's ([MSG-6]). */
  readonly time: number;
}

export interface StoredMessage extends ChatMessage {
  /** Store-wide acceptance order; `id` is derived from it. */
  readonly num: number;
  readonly target: string;
}

/** One end of a page: a position (the `num` of an id) or a time. Bounds are exclusive. */
export type Bound = { readonly by: 'num'; readonly num: number } | { readonly by: 'time'; readonly time: number };

/** Pages of history, always returned oldest first ([HIST-2]). */
export type StoreQuery =
  /** The last `limit` messages. */
  | { readonly kind: 'latest'; readonly limit: number }
  /** The last `limit` messages before `bound`. */
  | { readonly kind: 'before'; readonly bound: Bound; readonly limit: number }
  /** The first `limit` messages after `bound`. */
  | { readonly kind: 'after'; readonly bound: Bound; readonly limit: number }
  /** The first `limit` messages after `from` and before `to`. */
  | { readonly kind: 'between'; readonly from: Bound; readonly to: Bound; readonly limit: number };

/** A room as kept across restarts (SQLite only). */
export interface StoredRoom {
  /** The folded name. */
  readonly key: string;
  /** The name as its creator wrote it. */
  readonly name: string;
  readonly topic: string;
  readonly setter: string;
  readonly topicTime: number;
}

/**
 * Who holds a name, for private history ([NAME-5], [HIST-5]): the hash of
 * the key its holder was given, and the last message number before the
 * holder took the name. A new holder reads nothing of the name's private
 * history from before its own tenure.
 */
export interface Tenure {
  readonly keyHash: string;
  readonly floor: number;
}

export interface HistoryStore {
  /** True when history, rooms and topics outlive the process (SQLite). */
  readonly persistent: boolean;
  /** Stamps `draft` with `num`, `id` and the next `seq` of its target, and keeps it. */
  append(draft: Draft): StoredMessage;
  /**
   * A page from one target, or several merged in acceptance order
   * (`HISTORY *`), of the messages numbered above `floor` (default 0).
   */
  page(targets: readonly string[], query: StoreQuery, floor?: number): StoredMessage[];
  /** The number of the last message appended, or 0. */
  lastNum(): number;
  /** The tenure of a folded name, if one was recorded. */
  tenure(name: string): Tenure | undefined;
  /** Records a tenure; durable with the next commit. */
  saveTenure(name: string, tenure: Tenure): void;
  /** The time of the newest message kept, or 0: the hub never stamps earlier ([MSG-6]), restarts included. */
  newestTime(): number;
  /** The `num` of an id this store issued, or undefined for any other string. */
  numOf(id: string): number | undefined;
  /** The private-conversation keys that `name` (folded) takes part in. */
  conversationsOf(name: string): string[];
  /** The rooms kept from earlier runs (empty for the memory store). */
  rooms(): StoredRoom[];
  /** Keeps a room's name and topic (a no-op for the memory store). */
  saveRoom(room: StoredRoom): void;
  /** Makes every message appended so far durable ([STORE-1]); throws StorageError when it cannot ([STORE-3]). */
  commit(): void;
  close(): void;
}

/** The store could not keep or read a message; `code` says which way. */
export class StorageError extends Error {
  override readonly name = 'StorageError';
  constructor(
    readonly code: 'OPEN_FAILED' | 'CORRUPT' | 'WRITE_FAILED' | 'COMMIT_FAILED',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The target key of the private conversation between two names ([HIST-1]); the same whichever sends. */
export function privateKey(a: string, b: string): string {
  const [x, y] = [foldName(a), foldName(b)].sort();
  return `@${x}@${y}`;
}

/** The two folded names of a private key. */
export function privateParties(key: string): [string, string] {
  const [, a = '', b = ''] = key.split('@');
  return [a, b];
}

/** Ids are the prefix and the number in base 36 ([MSG-4]). */
export function formatId(prefix: string, num: number): string {
  return prefix + num.toString(36);
}

/** The number in an id made by formatId with this prefix, or undefined. */
export function parseId(prefix: string, id: string): number | undefined {
  if (!id.startsWith(prefix)) return undefined;
  const digits = id.slice(prefix.length);
  if (!/^[1-9a-z][0-9a-z]{0,10}$/.test(digits)) return undefined;
  const num = parseInt(digits, 36);
  return Number.isSafeInteger(num) ? num : undefined;
}

/** True when `m` lies strictly after `bound`. */
export function isAfter(m: StoredMessage, bound: Bound): boolean {
  return bound.by === 'num' ? m.num > bound.num : m.time > bound.time;
}

/** True when `m` lies strictly before `bound`. */
export function isBefore(m: StoredMessage, bound: Bound): boolean {
  return bound.by === 'num' ? m.num < bound.num : m.time < bound.time;
}

/** Merges pages of several targets in acceptance order and applies the query's limit to the whole. */
export function mergePages(pages: readonly StoredMessage[][], query: StoreQuery): StoredMessage[] {
  if (pages.length === 1) return pages[0]!;
  const merged = pages.flat().sort((a, b) => a.num - b.num);
  const fromEnd = query.kind === 'latest' || query.kind === 'before';
  return fromEnd ? merged.slice(Math.max(0, merged.length - query.limit)) : merged.slice(0, query.limit);
}
