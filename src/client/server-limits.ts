/**
 * The limits a server announced in its greeting ([LIMIT-1]), as the client
 * uses them, with the SPEC defaults for any key that is absent or absurd.
 * Keys this client does not know are ignored ([SESSION-2]).
 */
import { DEFAULT_LIMITS } from '../protocol/limits.ts';

/** What the greeting announced ([LIMIT-1]), or the SPEC defaults where it did not. */
export interface ServerLimits {
  readonly line: number;
  readonly nameLength: number;
  readonly roomLength: number;
  readonly topicLength: number;
  /** HISTLIMIT: most messages one HISTORY reply holds. */
  readonly historyPage: number;
  /** MAXJOIN: rooms one client may be in. */
  readonly maxJoin: number;
  /** REPLAY: messages a join replays. */
  readonly replay: number;
}

export const DEFAULT_SERVER_LIMITS: ServerLimits = Object.freeze({
  line: DEFAULT_LIMITS.line,
  nameLength: DEFAULT_LIMITS.nameLength,
  roomLength: DEFAULT_LIMITS.roomLength,
  topicLength: DEFAULT_LIMITS.topicLength,
  historyPage: DEFAULT_LIMITS.historyPage,
  maxJoin: 50,
  replay: 20,
});

/** The limits in a greeting's keys. */
export function readServerLimits(keys: ReadonlyMap<string, string>): ServerLimits {
  const d = DEFAULT_SERVER_LIMITS;
  return Object.freeze({
    line: positive(keys.get('LINE'), 64) ?? d.line,
    nameLength: positive(keys.get('NAMELEN'), 1) ?? d.nameLength,
    roomLength: positive(keys.get('ROOMLEN'), 2) ?? d.roomLength,
    topicLength: positive(keys.get('TOPICLEN'), 1) ?? d.topicLength,
    historyPage: positive(keys.get('HISTLIMIT'), 1) ?? d.historyPage,
    maxJoin: positive(keys.get('MAXJOIN'), 1) ?? d.maxJoin,
    replay: positive(keys.get('REPLAY'), 0) ?? d.replay,
  });
}

function positive(value: string | undefined, min: number): number | undefined {
  if (value === undefined || !/^[0-9]{1,9}$/.test(value)) return undefined;
  const n = Number(value);
  return n >= min ? n : undefined;
}
