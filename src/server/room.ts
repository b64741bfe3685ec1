/** A room (SPEC §5): its members, its fan-out group and its topic. */
import { Fanout, type FanoutScheduler } from './fanout.ts';
import type { Session } from './session.ts';

export interface Topic {
  readonly text: string;
  /** Who set it; `*` when it was never set. */
  readonly setter: string;
  readonly time: number;
}

export const NO_TOPIC: Topic = Object.freeze({ text: '', setter: '*', time: 0 });

export class Room {
  readonly members = new Set<Session>();
  /** What every member receives about this room, in one order for all ([ROOM-8]). */
  readonly fanout: Fanout;
  topic: Topic;
  /** The lobby never disappears ([ROOM-2]). */
  readonly isLobby: boolean;
  /** Some message of this room is kept in the database. */
  hasHistory: boolean;
  /** Its name and topic are saved in the database. */
  stored: boolean;

  constructor(
    /** The folded name: the key rooms are compared by ([ROOM-1]). */
    readonly key: string,
    /** The name as its creator wrote it. */
    readonly name: string,
    scheduler: FanoutScheduler,
    maxHeldBytes: number | undefined,
    /** History is kept in a database, so a room can outlive its members and the process. */
    readonly withDatabase: boolean,
    options: { isLobby?: boolean; stored?: boolean; hasHistory?: boolean; topic?: Topic },
  ) {
    this.fanout = new Fanout(scheduler, maxHeldBytes);
    this.isLobby = options.isLobby ?? false;
    this.stored = options.stored ?? false;
    this.hasHistory = options.hasHistory ?? false;
    this.topic = options.topic ?? NO_TOPIC;
  }

  /** Whether it stays when its last member leaves ([ROOM-6]): the lobby, and with a database a room with history or a topic. */
  get persistent(): boolean {
    return this.isLobby || (this.withDatabase && (this.hasHistory || this.topic.text !== ''));
  }

  /** Sends one line to every member but `except`; see Fanout.publish for `holdMs`. */
  publish(line: string, except?: Session, holdMs = 0): void {
    this.fanout.publish(Buffer.from(line), except?.connection, holdMs);
  }
}
