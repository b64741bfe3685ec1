/**
 * What a test connection has received and not yet looked at, and promises
 * that wait for it: the queue behind `expect()` in the raw test client
 * (line-client.ts) and in the client tests' scripted server. Waiting is on
 * arrival and on close, never on time, except for the timeout that turns a
 * hang into a failure.
 */
export class Inbox<T> {
  readonly #items: T[] = [];
  readonly #waiters = new Set<() => void>();
  #closed = false;

  get isClosed(): boolean {
    return this.#closed;
  }

  push(...items: T[]): void {
    this.#items.push(...items);
    this.#wake();
  }

  /** No more items will come; waiters that still wait are told. */
  close(): void {
    this.#closed = true;
    this.#wake();
  }

  /** Removes and returns everything not yet consumed. */
  take(): T[] {
    return this.#items.splice(0);
  }

  /** Runs `watcher` now and after every arrival and the close, for as long as the inbox lives. */
  watch(watcher: () => void): void {
    this.#waiters.add(watcher);
    watcher();
  }

  /**
   * Consumes items until one passes `test` and resolves with it; the items
   * before it are dropped. Rejects with `closedMessage` if the inbox closes
   * first, or with `timeoutMessage` after `timeoutMs`.
   */
  next(test: (item: T) => boolean, timeoutMs: number, closedMessage: string, timeoutMessage: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        while (this.#items.length > 0) {
          const item = this.#items.shift()!;
          if (test(item)) return done(() => resolve(item));
        }
        if (this.#closed) done(() => reject(new Error(closedMessage)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(timeoutMessage))), timeoutMs);
      const done = (settle: () => void) => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        settle();
      };
      this.#waiters.add(check);
      check();
    });
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }
}
