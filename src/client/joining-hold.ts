/**
 * What a connection holds while it joins ([SESSION-5]): the lobby's JOIN,
 * ROOM and replay, and anything else that arrives before the first WHO is
 * answered, to be reported just after `ready`.
 *
 * Bounded, whatever a server sends before that WHO's answer: a HIST batch
 * counts as its messages, anything else as one, and past the capacity the
 * oldest events are dropped, except our own joins, which say which rooms we
 * are in. When nothing but those is left (a server that says it joined us
 * to thousands of rooms), the newest goes. `take` says how many were
 * dropped, for the user to be told.
 */
import type { ClientEvent } from './events.ts';

export class JoiningHold {
  #events: ClientEvent[] = [];
  /** What `#events` holds, counted as the capacity counts it. */
  #size = 0;
  #dropped = 0;

  constructor(readonly capacity: number) {}

  /** The rooms the server joined us to, among the events held. */
  get joined(): string[] {
    return this.#events.flatMap((e) => (isOwnJoin(e) ? [e.room] : []));
  }

  hold(event: ClientEvent): void {
    this.#events.push(event);
    this.#size += sizeOf(event);
    while (this.#size > this.capacity) {
      const index = this.#events.findIndex((e) => !isOwnJoin(e));
      const [dropped] = this.#events.splice(index < 0 ? this.#events.length - 1 : index, 1);
      this.#size -= sizeOf(dropped!);
      this.#dropped++;
    }
  }

  /** Everything held, oldest first, and how many events were dropped; empties the hold. */
  take(): { events: ClientEvent[]; dropped: number } {
    const taken = { events: this.#events, dropped: this.#dropped };
    this.clear();
    return taken;
  }

  clear(): void {
    this.#events = [];
    this.#size = 0;
    this.#dropped = 0;
  }
}

/** A HIST batch counts as its messages, anything else as one. */
function sizeOf(event: ClientEvent): number {
  return event.type === 'history' ? Math.max(1, event.messages.length) : 1;
}

function isOwnJoin(event: ClientEvent): event is Extract<ClientEvent, { type: 'join' }> {
  return event.type === 'join' && event.own;
}
