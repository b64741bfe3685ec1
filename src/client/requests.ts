/**
 * The requests a client has sent and the server has not answered yet.
 * [MSG-8] makes a server answer lines in the order they arrived, each SAY
 * with exactly one ECHO or ERR, so the oldest entry is always the one the
 * next reply belongs to. That is what lets the client say which message an
 * ERR rejected, and know when everything it sent has been acknowledged.
 */

export type RequestCommand = 'HELLO' | 'SAY' | 'NICK' | 'WHO' | 'QUIT';

export interface Request {
  readonly command: RequestCommand;
  /** The text or name the request carried, for telling the user what failed. */
  readonly text: string;
}

export class RequestQueue {
  #pending: Request[] = [];
  #waiters: Array<() => void> = [];

  /** Unanswered requests, oldest first. */
  get items(): readonly Request[] {
    return this.#pending;
  }

  push(request: Request): void {
    this.#pending.push(request);
  }

  /**
   * Removes and returns the request a reply answers. An ERR (`command`
   * undefined) answers the oldest request, whatever it was. Any other reply
   * answers the oldest request of its kind: normally that is the oldest of
   * all, and a reply that matches nothing (a NICK we did not ask for) is
   * simply not ours.
   */
  settle(command: RequestCommand | undefined): Request | undefined {
    const index = command === undefined ? 0 : this.#pending.findIndex((r) => r.command === command);
    if (index < 0 || index >= this.#pending.length) return undefined;
    const [request] = this.#pending.splice(index, 1);
    if (this.#pending.length === 0) this.abandon();
    return request;
  }

  /** Resolves when nothing is pending, or when `abandon` gives up waiting. */
  whenEmpty(): Promise<void> {
    if (this.#pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Releases everyone waiting; used when no more replies can come. */
  abandon(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}
