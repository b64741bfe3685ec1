/**
 * The hub owns who is online and delivers messages. It is the single owner
 * of that state (REFERENCES §1 #4): every change is a plain method call on
 * the event loop, so delivery never sees a list change under it. Domain
 * failures are thrown as ProtocolError; the dispatcher turns them into
 * replies.
 */
import { ProtocolError } from '../protocol/errors.ts';
import { foldName, nameProblem } from '../protocol/names.ts';
import { serverLine, type ChatMessage, type LeaveReason } from '../protocol/messages.ts';
import { Session, SessionState } from './session.ts';
import { Fanout, type FanoutScheduler } from './fanout.ts';

export interface HubOptions {
  readonly nameLength: number;
  /** Milliseconds since the epoch; injected so tests control time. */
  readonly clock: () => number;
  /** Makes message ids unique across server runs. */
  readonly idPrefix: string;
  /** Picks guest numbers; injected so tests are deterministic. */
  readonly random: () => number;
  /** Ends each turn's broadcasts (the server's Flusher). */
  readonly scheduler: FanoutScheduler;
  /** Bytes of held presence lines after which they are sent at once (see Fanout). */
  readonly maxHeldBytes?: number;
}

/**
 * How long JOIN and LEAVE may wait to be sent with others ([PRES-5]): a burst
 * of arrivals then costs each client one write per 50 ms, not one per line.
 */
export const PRESENCE_HOLD_MS = 50;

export class Hub {
  /** Registered sessions by folded name ([NAME-2]). */
  readonly #users = new Map<string, Session>();
  /** Every registered session's connection: who a broadcast reaches. */
  readonly #everyone: Fanout;
  #seq = 0;
  readonly #options: HubOptions;

  constructor(options: HubOptions) {
    this.#options = options;
    this.#everyone = new Fanout(options.scheduler, options.maxHeldBytes);
  }

  get online(): number {
    return this.#users.size;
  }

  /** Registers `session` under `requested`, or a guest name ([SESSION-4]). */
  register(session: Session, requested: string | undefined): string {
    const name = requested === undefined ? this.#guestName() : this.#checkFree(requested, 'HELLO');
    session.name = name;
    session.state = SessionState.Registered;
    this.#users.set(foldName(name), session);
    this.#everyone.add(session.connection);
    this.broadcast(serverLine.join(name), session, PRESENCE_HOLD_MS);
    return name;
  }

  /** Renames; returns the old name, or undefined for a no-op ([NAME-3], [NAME-4]). */
  rename(session: Session, name: string): string | undefined {
    const old = session.name;
    if (name === old) return undefined;
    const caseOnly = foldName(name) === foldName(old);
    if (caseOnly) this.#checkValid(name, 'NICK');
    else this.#checkFree(name, 'NICK');
    this.#users.delete(foldName(old));
    session.name = name;
    this.#users.set(foldName(name), session);
    this.broadcast(serverLine.nick(old, name));
    return old;
  }

  /** Stamps and delivers a message: MSG to the others, ECHO to the sender ([MSG-2], [MSG-3]). */
  say(session: Session, text: string): ChatMessage {
    const seq = ++this.#seq;
    const message: ChatMessage = {
      id: `${this.#options.idPrefix}-${seq.toString(36)}`,
      seq,
      time: this.#options.clock(),
      from: session.name,
      text,
    };
    const [msg, echo] = serverLine.messageAndEcho(message);
    this.broadcast(msg, session);
    session.send(echo);
    return message;
  }

  /** Takes a session offline and tells the others; false if it was not online. */
  remove(session: Session, reason: LeaveReason, text: string): boolean {
    const wasOnline = session.state === SessionState.Registered;
    session.state = SessionState.Gone;
    if (!wasOnline) return false;
    this.#users.delete(foldName(session.name));
    this.#everyone.remove(session.connection);
    this.broadcast(serverLine.leave(session.name, reason, text), undefined, PRESENCE_HOLD_MS);
    return true;
  }

  /** Takes everyone offline without announcing it, as SHUTDOWN already says so ([SHUT-2]). */
  removeAll(): void {
    for (const session of this.#users.values()) {
      session.state = SessionState.Gone;
      this.#everyone.remove(session.connection);
    }
    this.#users.clear();
  }

  /** Online names, ordered without regard to case ([PRES-3]). */
  who(): string[] {
    return [...this.#users.keys()].sort().map((folded) => this.#users.get(folded)!.name);
  }

  /** Sends one line to every online session except `except`, encoded once; see Fanout.publish for `holdMs`. */
  broadcast(line: string, except?: Session, holdMs = 0): void {
    this.#everyone.publish(Buffer.from(line), except?.connection, holdMs);
  }

  #checkValid(name: string, command: string): void {
    const problem = nameProblem(name, this.#options.nameLength);
    if (problem !== undefined) throw new ProtocolError('BAD_NAME', command, problem);
  }

  #checkFree(name: string, command: string): string {
    this.#checkValid(name, command);
    if (this.#users.has(foldName(name))) {
      throw new ProtocolError('NAME_IN_USE', command, `The name ${name} is in use`);
    }
    return name;
  }

  /**
   * `guest-` and four digits, or fewer when NAMELEN is short; more digits
   * when the space is crowded ([SESSION-4]).
   */
  #guestName(): string {
    const maxDigits = this.#options.nameLength - 'guest-'.length;
    for (let digits = Math.min(4, maxDigits); digits >= 1 && digits <= maxDigits; digits++) {
      const low = digits === 1 ? 1 : 10 ** (digits - 1);
      const span = 10 ** digits - low;
      for (let attempt = 0; attempt < 20; attempt++) {
        const name = `guest-${low + Math.floor(this.#options.random() * span)}`;
        if (!this.#users.has(name)) return name;
      }
    }
    throw new ProtocolError('BAD_NAME', 'HELLO', 'No guest name is free; choose a name');
  }
}
