/**
 * What the load generator writes to each server under test, in that
 * server's own line format. Everything it reads back is left to the
 * PayloadScanner, so no peer gets a cheaper or dearer parser than another.
 */

export const SERVER_KINDS = ['linechat', 'naive', 'redis', 'ngircd'] as const;
export type ServerKind = (typeof SERVER_KINDS)[number];

export interface Wire {
  /** Bytes a receiver sends once connected, to be in the room. */
  receiver(name: string): string;
  /** Bytes the publisher sends once connected, before its first message. */
  publisher(name: string): string;
  /** One message carrying `payload` to everyone in the room. */
  publish(payload: string): string;
  /**
   * What a receiver sees once it is in the room, or '' when the server says
   * nothing (the publisher's repeated first message then tells).
   */
  readonly ready: string;
}

const ROOM = 'bench';

export const WIRES: Record<ServerKind, Wire> = {
  // linechat: one room for everybody (SPEC §5).
  linechat: {
    receiver: (name) => `HELLO 1 ${name}\n`,
    publisher: (name) => `HELLO 1 ${name}\n`,
    publish: (payload) => `SAY :${payload}\n`,
    ready: 'WELCOME ',
  },
  // bench/fanout/naive-relay.ts: every line goes to every other connection.
  naive: {
    receiver: () => '',
    publisher: () => '',
    publish: (payload) => `${payload}\n`,
    ready: '',
  },
  // Redis pub/sub, inline commands. The payload has no spaces.
  redis: {
    receiver: () => `SUBSCRIBE ${ROOM}\r\n`,
    publisher: () => '',
    publish: (payload) => `PUBLISH ${ROOM} ${payload}\r\n`,
    ready: 'subscribe\r\n',
  },
  // IRC (RFC 2812): the publisher joins too, as ngircd's channels are +n.
  ngircd: {
    receiver: (name) => `NICK ${name}\r\nUSER ${name} 0 * :${name}\r\nJOIN #${ROOM}\r\n`,
    publisher: (name) => `NICK ${name}\r\nUSER ${name} 0 * :${name}\r\nJOIN #${ROOM}\r\n`,
    publish: (payload) => `PRIVMSG #${ROOM} :${payload}\r\n`,
    // RPL_ENDOFNAMES: the JOIN is complete.
    ready: ' 366 ',
  },
};
