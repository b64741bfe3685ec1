/**
 * The ids of the messages already shown, so that each is shown once
 * although it may arrive several times: live, in a join's replay, and again
 * in a reconnect's catch-up ([HIST-6]).
 *
 * Bounded: a ring of the last `capacity` ids plus a Set for lookups. The
 * oldest id is forgotten first; by then its message is far older than
 * anything a replay or catch-up brings back (a replay is REPLAY messages, a
 * catch-up starts at the last id seen), so forgetting it cannot show it
 * twice in practice. Memory is at most `capacity` ids of at most 64 bytes.
 */

/** SPEC [CLIENT-11]: the last 4096 ids, eight times the largest page a default server sends (HISTLIMIT 500). */
export const DEFAULT_SEEN_CAPACITY = 4096;

export class SeenIds {
  readonly #ring: Array<string | undefined>;
  readonly #set = new Set<string>();
  #next = 0;

  constructor(readonly capacity = DEFAULT_SEEN_CAPACITY) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be an integer >= 1, got ${capacity}`);
    this.#ring = new Array<string | undefined>(capacity);
  }

  get size(): number {
    return this.#set.size;
  }

  has(id: string): boolean {
    return this.#set.has(id);
  }

  /** Remembers `id`; false when it was already remembered (the message was shown before). */
  add(id: string): boolean {
    if (this.#set.has(id)) return false;
    const evicted = this.#ring[this.#next];
    if (evicted !== undefined) this.#set.delete(evicted);
    this.#ring[this.#next] = id;
    this.#next = (this.#next + 1) % this.capacity;
    this.#set.add(id);
    return true;
  }
}
