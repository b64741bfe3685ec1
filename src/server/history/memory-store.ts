/**
 * History in memory, the default store: bounded per target (`--history`)
 * and in all (`--history-memory`), so a server that runs for months, or a
 * client that opens thousands of private conversations, cannot grow it
 * without limit. It keeps at most the last `total` messages accepted, and
 * of those at most `perTarget` per target. Nothing outlives the process.
 *
 * Appending is on the relay's hot path, so both bounds cost O(1) and no
 * allocation beyond the message: a target's messages are an array read
 * from `head` (compacted now and then), and the total bound is a ring of
 * the last `total` messages accepted. A message that leaves the ring
 * leaves its target too, if it is still there: it is then that target's
 * oldest, since the ring and every target are in acceptance order.
 */
import {
  formatId,
  isAfter,
  isBefore,
  mergePages,
  parseId,
  privateParties,
  type Tenure,
  type Draft,
  type HistoryStore,
  type StoreQuery,
  type StoredMessage,
  type StoredRoom,
} from './store.ts';

/** Names whose tenure is remembered (about 100 bytes each). */
const MAX_TENURES = 100_000;

export interface MemoryStoreOptions {
  /** Messages kept per room or private conversation. */
  readonly perTarget: number;
  /** Messages kept in all. */
  readonly total: number;
  /** Makes ids unique across runs, since the numbers start again at 1. */
  readonly idPrefix: string;
}

/** One target's messages, oldest first, from `head` on (shifting an array is O(n)). */
interface Target {
  readonly key: string;
  messages: StoredMessage[];
  head: number;
  lastSeq: number;
}

export class MemoryStore implements HistoryStore {
  readonly persistent = false;
  readonly #targets = new Map<string, Target>();
  /** The last `total` messages accepted; `#next` is where the next one goes once it is full. */
  readonly #ring: StoredMessage[] = [];
  #next = 0;
  #count = 0;
  #num = 0;
  #newestTime = 0;
  /** Tenures by folded name, least recently used first. */
  readonly #tenures = new Map<string, Tenure>();
  /** Private keys by folded name. */
  readonly #conversations = new Map<string, Set<string>>();
  readonly #options: MemoryStoreOptions;

  constructor(options: MemoryStoreOptions) {
    this.#options = options;
  }

  /** Messages kept now. */
  get size(): number {
    return this.#count;
  }

  append(draft: Draft): StoredMessage {
    let target = this.#targets.get(draft.target);
    if (target === undefined) {
      target = { key: draft.target, messages: [], head: 0, lastSeq: 0 };
      this.#targets.set(draft.target, target);
      if (draft.target.startsWith('@')) for (const name of privateParties(draft.target)) this.#link(name, draft.target);
    }
    const num = ++this.#num;
    const message: StoredMessage = {
      id: formatId(this.#options.idPrefix, num),
      seq: ++target.lastSeq,
      time: draft.time,
      from: draft.from,
      to: draft.to,
      kind: draft.kind,
      text: draft.text,
      num,
      target: draft.target,
    };
    target.messages.push(message);
    this.#count++;
    this.#newestTime = draft.time;
    if (target.messages.length - target.head > this.#options.perTarget) this.#pruneOldest(target);
    if (this.#ring.length < this.#options.total) {
      this.#ring.push(message);
      return message;
    }
    const leaving = this.#ring[this.#next]!;
    this.#ring[this.#next] = message;
    this.#next = (this.#next + 1) % this.#options.total;
    const owner = this.#targets.get(leaving.target);
    if (owner !== undefined && owner.messages[owner.head] === leaving) this.#pruneOldest(owner);
    return message;
  }

  page(targets: readonly string[], query: StoreQuery, floor = 0): StoredMessage[] {
    return mergePages(
      targets.map((key) => this.#pageOf(key, query, floor)),
      query,
    );
  }

  lastNum(): number {
    return this.#num;
  }

  tenure(name: string): Tenure | undefined {
    const tenure = this.#tenures.get(name);
    // Read on every HELLO and NICK: a name in use moves to the young end, so
    // the bound forgets names nobody has used for longest.
    if (tenure !== undefined) {
      this.#tenures.delete(name);
      this.#tenures.set(name, tenure);
    }
    return tenure;
  }

  saveTenure(name: string, tenure: Tenure): void {
    // Least recently used out: a name forgotten here starts afresh, the safe way round.
    this.#tenures.delete(name);
    this.#tenures.set(name, tenure);
    if (this.#tenures.size > MAX_TENURES) this.#tenures.delete(this.#tenures.keys().next().value!);
  }

  newestTime(): number {
    return this.#newestTime;
  }

  numOf(id: string): number | undefined {
    const num = parseId(this.#options.idPrefix, id);
    return num !== undefined && num <= this.#num ? num : undefined;
  }

  conversationsOf(name: string): string[] {
    return [...(this.#conversations.get(name) ?? [])];
  }

  rooms(): StoredRoom[] {
    return [];
  }

  saveRoom(): void {}

  commit(): void {}

  close(): void {}

  #pageOf(key: string, query: StoreQuery, floor: number): StoredMessage[] {
    const target = this.#targets.get(key);
    if (target === undefined) return [];
    const messages = target.messages;
    const head = floor === 0 ? target.head : firstIndex(messages, target.head, (m) => m.num > floor);
    const end = messages.length;
    switch (query.kind) {
      case 'latest':
        return messages.slice(Math.max(head, end - query.limit), end);
      case 'before': {
        const stop = firstIndex(messages, head, (m) => !isBefore(m, query.bound));
        return messages.slice(Math.max(head, stop - query.limit), stop);
      }
      case 'after': {
        const start = firstIndex(messages, head, (m) => isAfter(m, query.bound));
        return messages.slice(start, start + query.limit);
      }
      case 'between': {
        const start = firstIndex(messages, head, (m) => isAfter(m, query.from));
        const stop = firstIndex(messages, head, (m) => !isBefore(m, query.to));
        return start < stop ? messages.slice(start, Math.min(stop, start + query.limit)) : [];
      }
    }
  }

  #pruneOldest(target: Target): void {
    target.messages[target.head] = undefined as unknown as StoredMessage;
    target.head++;
    this.#count--;
    if (target.head === target.messages.length) this.#forget(target);
    else if (target.head > 1024 && target.head * 2 > target.messages.length) {
      target.messages = target.messages.slice(target.head);
      target.head = 0;
    }
  }

  /** A target with no messages left is forgotten, its sequence with it ([MSG-5]). */
  #forget(target: Target): void {
    this.#targets.delete(target.key);
    if (!target.key.startsWith('@')) return;
    for (const name of privateParties(target.key)) {
      const keys = this.#conversations.get(name);
      keys?.delete(target.key);
      if (keys?.size === 0) this.#conversations.delete(name);
    }
  }

  #link(name: string, key: string): void {
    let keys = this.#conversations.get(name);
    if (keys === undefined) this.#conversations.set(name, (keys = new Set()));
    keys.add(key);
  }
}

/** The first index from `from` at which `test` holds; `test` must be false, then true, along the array. */
function firstIndex(messages: readonly StoredMessage[], from: number, test: (m: StoredMessage) => boolean): number {
  let low = from;
  let high = messages.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (test(messages[mid]!)) high = mid;
    else low = mid + 1;
  }
  return low;
}
