/**
 * The requests a client has sent and the server has not answered yet.
 * [MSG-8] makes a server answer lines in the order they arrived, so the
 * oldest entry is always the one the next reply belongs to. That is what
 * lets the client say which message an ERR rejected, which room a WHO
 * listed, which HISTORY a batch answers, and know when everything it sent
 * has been acknowledged.
 *
 * Each request is settled by its final reply line:
 *
 *   HELLO   WELCOME (or ERR)
 *   SAY, ME ECHO
 *   NICK    NICK <own name> <new>
 *   WHO     ENDWHO
 *   JOIN    ENDHIST of the join's replay (after JOIN, ROOM and the HIST lines)
 *   PART    LEAVE <room> <own name> part
 *   ROOMS   ENDROOMS
 *   TOPIC   TOPIC <room> ..., only as the next reply due: any other is a change
 *   HISTORY ENDHIST
 *   QUIT    BYE
 *
 * and any of them by an ERR.
 */

export type RequestCommand = 'HELLO' | 'SAY' | 'ME' | 'NICK' | 'WHO' | 'JOIN' | 'PART' | 'ROOMS' | 'TOPIC' | 'HISTORY' | 'QUIT';

export interface Request {
  readonly command: RequestCommand;
  /** The text or name the request carried, for telling the user what failed. */
  readonly text: string;
  /** The room or user it was about, when it names one. */
  readonly target?: string | undefined;
  /** Who asked, so a reply can be routed (e.g. a reconnect's catch-up, not the user). */
  readonly tag?: string | undefined;
}

export class RequestQueue {
  #pending: Request[] = [];
  #waiters: Array<() => void> = [];

  /** Unanswered requests, oldest first. */
  get items(): readonly Request[] {
    return this.#pending;
  }

  /** The request the next reply belongs to. */
  get head(): Request | undefined {
    return this.#pending[0];
  }

  push(request: Request): void {
    this.#pending.push(request);
  }

  /**
   * Removes and returns the request a reply answers. An ERR (`match`
   * undefined) answers the oldest request, whatever it was. Any other reply
   * answers the oldest request it matches (a command or a list of them, or
   * a test): normally that is the oldest of all, and a reply that matches
   * nothing (a NICK we did not ask for) is simply not ours.
   */
  settle(match: RequestCommand | readonly RequestCommand[] | ((r: Request) => boolean) | undefined): Request | undefined {
    const test =
      match === undefined
        ? () => true
        : typeof match === 'function'
          ? match
          : typeof match === 'string'
            ? (r: Request) => r.command === match
            : (r: Request) => match.includes(r.command);
    const index = this.#pending.findIndex(test);
    if (index < 0) return undefined;
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
