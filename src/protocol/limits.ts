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
}

export const DEFAULT_LIMITS: Limits = Object.freeze({
  line: 2048,
  readCap: 16384,
  nameLength: 24,
});

/** Server lines are at most this much longer than `line` ([LIMIT-6]). */
export const SERVER_LINE_OVERHEAD = 512;

/** The greeting keys, in the order they are announced. */
export function limitKeys(limits: Limits): Array<[key: string, value: number]> {
  return [
    ['LINE', limits.line],
    ['READCAP', limits.readCap],
    ['NAMELEN', limits.nameLength],
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
  if (limits.readCap <= limits.line) {
    throw new RangeError(`readCap (${limits.readCap}) must be greater than line (${limits.line}) [LIMIT-4]`);
  }
  return limits;
}
