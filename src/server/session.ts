/** One connected client as the hub sees it (SPEC §4 session states). */
import type { Connection } from './transport.ts';
import type { Room } from './room.ts';

export const SessionState = {
  /** Connected and greeted; no name yet. */
  Greeting: 'greeting',
  /** Has a name and is online. */
  Registered: 'registered',
  /** Removed from the hub; its connection is closing or closed. */
  Gone: 'gone',
} as const;
export type SessionState = (typeof SessionState)[keyof typeof SessionState];

export class Session {
  state: SessionState = SessionState.Greeting;
  /** The name as its owner wrote it; set while Registered. */
  name = '';
  /** The rooms it is in. */
  readonly rooms = new Set<Room>();
  /** When it last sent SAY or ME, or registered: what WHO reports as idle time ([PRES-3]). */
  lastSpoke = 0;
  /** The secret given in WELCOME; the same key takes a name back as the same holder ([NAME-5]). */
  key = '';
  /** The last message number before it took its name: its private history starts after it ([HIST-5]). */
  privateFloor = 0;

  constructor(
    /** Connection number, for logs. */
    readonly id: number,
    readonly connection: Connection,
  ) {}

  /** How this session appears in the server log. */
  get label(): string {
    return this.state === SessionState.Registered ? this.name : `#${this.id} (${this.connection.remote})`;
  }

  send(line: Buffer | string): void {
    this.connection.send(line);
  }
}
