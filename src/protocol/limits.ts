/**
 * Protocol limits (SPEC §3). Every limit is counted in bytes of UTF-8 and is
 * announced in the greeting, so this is the one place that names them.
 */
export interface Limits {
  /** Longest line accepted from a client, without its terminator. */
  readonly line: number;
  /** Most bytes read without finding a line end before the connection is cut. */
  readonly readCap: number;
  /** Longest user name. */
  readonly nameLength: number;
  /** Longest room name, `#` included. */
  readonly roomLength: number;
  /** Longest topic. */
  readonly topicLength: number;
  /** Most messages one HISTORY reply holds. */
  readonly historyPage: number;
}

export const DEFAULT_LIMITS: Limits = Object.freeze({
  line: 2048,
  readCap: 16384,
  nameLength: 24,
  roomLength: 32,
  topicLength: 300,
  historyPage: 500,
});

/** Server lines are at most this much longer than `line` ([LIMIT-6]). */
export const SERVER_LINE_OVERHEAD = 512;

/** The greeting keys, in the order they are announced. */
export function limitKeys(limits: Limits): Array<[key: string, value: number]> {
  return [
    ['LINE', limits.line],
    ['READCAP', limits.readCap],
    ['NAMELEN', limits.nameLength],
    ['ROOMLEN', limits.roomLength],
    ['TOPICLEN', limits.topicLength],
    ['HISTLIMIT', limits.historyPage],
  ];
}

/** Throws a RangeError naming the field when a set of limits is unusable. */
export function checkLimits(limits: Limits): Limits {
  const positive = (field: string, value: number, min: number) => {
    if (!Number.isSafeInteger(value) || value < min) {
      throw new RangeError(`${field} must be an integer >= ${min}, got ${value}`);
    }
  };
  positive('line', limits.line, 64);
  positive('readCap', limits.readCap, 65);
  positive('nameLength', limits.nameLength, 1);
  positive('roomLength', limits.roomLength, 2);
  positive('topicLength', limits.topicLength, 1);
  positive('historyPage', limits.historyPage, 1);
  if (limits.readCap <= limits.line) {
    throw new RangeError(`readCap (${limits.readCap}) must be greater than line (${limits.line}) [LIMIT-4]`);
  }
  // A server line carries a name, a room and a topic or text besides LINE ([LIMIT-6]).
  if (limits.nameLength + limits.roomLength > 200) {
    throw new RangeError(`nameLength + roomLength must be at most 200, got ${limits.nameLength + limits.roomLength}`);
  }
  if (limits.topicLength > limits.line) {
    throw new RangeError(`topicLength (${limits.topicLength}) must not be greater than line (${limits.line})`);
  }
  return limits;
}
