/**
 * Server options, resolved once into a frozen object: defaults, then the
 * environment, then the command line. Every check names the flag or the
 * variable, and the value it rejected.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_LIMITS, SERVER_LINE_OVERHEAD, checkLimits, type Limits } from '../protocol/limits.ts';
import { roomProblem } from '../protocol/names.ts';

export interface ServerOptions {
  readonly host: string;
  readonly port: number;
  readonly serverName: string;
  readonly limits: Limits;
  /** Bytes waiting to be sent to one client before it is cut off as a slow consumer. */
  readonly sendQueue: number;
  /** Lines one client may send back to back before flood control delays them. */
  readonly floodBurst: number;
  /** Lines per second one client may send after the burst; 0 turns flood control off. */
  readonly floodRate: number;
  /** Bytes of received lines waiting for flood control before a client is cut off. */
  readonly inputQueue: number;
  /** Idle time after which the server PINGs a client. */
  readonly pingIntervalMs: number;
  /** Time after that PING within which some line must arrive. */
  readonly pingTimeoutMs: number;
  /** Time a connection has to finish HELLO. */
  readonly registerTimeoutMs: number;
  /** Open connections in all. */
  readonly maxConnections: number;
  /** Open connections from one IP address. */
  readonly maxPerIp: number;
  /** How long a closing connection may take to flush before it is destroyed. */
  readonly lingerMs: number;
  /** How long shutdown waits for clients to take their last lines. */
  readonly shutdownMs: number;
  /** Whether the log has a line, with the text, for every message. */
  readonly logMessages: boolean;
  /** The room every client joins on registering, or undefined for none. */
  readonly lobby: string | undefined;
  /** Rooms one client may be in at once (MAXJOIN). */
  readonly maxJoins: number;
  /** Rooms that may exist at once. */
  readonly maxRooms: number;
  /** Messages kept per room or private conversation; 0 (only with a database) keeps all. */
  readonly history: number;
  /** Messages the in-memory store keeps in all. */
  readonly historyMemory: number;
  /** Messages replayed when a client joins a room (REPLAY). */
  readonly replay: number;
  /** The SQLite database file, or undefined to keep history in memory. */
  readonly db: string | undefined;
  /** `full`: fsync every commit; `normal`: survive a killed process, not a crashed machine. */
  readonly dbSync: 'full' | 'normal';
}

export const DEFAULT_OPTIONS: ServerOptions = Object.freeze({
  host: '127.0.0.1',
  port: 4444,
  serverName: 'linechat',
  limits: DEFAULT_LIMITS,
  sendQueue: 1 << 20,
  floodBurst: 20,
  floodRate: 10,
  inputQueue: 256 << 10,
  pingIntervalMs: 60_000,
  pingTimeoutMs: 60_000,
  registerTimeoutMs: 30_000,
  maxConnections: 10_000,
  maxPerIp: 64,
  lingerMs: 5_000,
  shutdownMs: 1_000,
  logMessages: true,
  lobby: '#lobby',
  maxJoins: 50,
  maxRooms: 10_000,
  history: 1000,
  historyMemory: 100_000,
  replay: 20,
  db: undefined,
  dbSync: 'full',
});

export class OptionError extends Error {
  override readonly name = 'OptionError';
}

type Parse<T> = (value: string, source: string) => T;

interface Field<T> {
  readonly env: string;
  readonly help: string;
  readonly parse: Parse<T>;
  /** Reads the default from DEFAULT_OPTIONS, in the unit the flag takes. */
  readonly shown: string;
}

const text: Parse<string> = (value, source) => {
  if (value === '') throw new OptionError(`${source} must not be empty`);
  return value;
};

const serverName: Parse<string> = (value, source) => {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(value)) {
    throw new OptionError(`${source} must be 1-64 characters of A-Z a-z 0-9 . _ -, got ${JSON.stringify(value)}`);
  }
  return value;
};

function integer(min: number, max: number): Parse<number> {
  return (value, source) => {
    const n = /^\d+$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new OptionError(`${source} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
    }
    return n;
  };
}

/** A non-negative decimal number, for rates and seconds. */
function decimal(min: number, max: number, scale = 1): Parse<number> {
  return (value, source) => {
    const n = /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
    if (!(n >= min && n <= max)) {
      throw new OptionError(`${source} must be a number from ${min} to ${max}, got ${JSON.stringify(value)}`);
    }
    return scale === 1 ? n : Math.round(n * scale);
  };
}

const onOff: Parse<boolean> = (value, source) => {
  if (value !== 'on' && value !== 'off') throw new OptionError(`${source} must be on or off, got ${JSON.stringify(value)}`);
  return value === 'on';
};

/** A room name, or null for `none` (undefined already means "not given"). */
const lobby: Parse<string | null> = (value, source) => {
  if (value === 'none') return null;
  const problem = roomProblem(value, DEFAULT_LIMITS.roomLength);
  if (problem !== undefined) throw new OptionError(`${source} must be a room name or none: ${problem}, got ${JSON.stringify(value)}`);
  return value;
};

const dbSync: Parse<'full' | 'normal'> = (value, source) => {
  if (value !== 'full' && value !== 'normal') throw new OptionError(`${source} must be full or normal, got ${JSON.stringify(value)}`);
  return value;
};

const seconds = (min: number, max: number) => decimal(min, max, 1000);
/** The most bytes one socket read delivers (libuv's read buffer). */
const READ_SIZE = 65_536;
const d = DEFAULT_OPTIONS;

/** Every option: its flag (the key), its environment variable and how to read it. */
const FIELDS = {
  host: { env: 'LINECHAT_HOST', help: 'address to listen on', parse: text, shown: d.host },
  port: { env: 'LINECHAT_PORT', help: 'TCP port; 0 picks a free one', parse: integer(0, 65535), shown: `${d.port}` },
  'server-name': { env: 'LINECHAT_SERVER_NAME', help: 'name announced in the greeting', parse: serverName, shown: d.serverName },
  'max-line': { env: 'LINECHAT_MAX_LINE', help: 'LINE: longest line accepted, bytes', parse: integer(64, 1 << 20), shown: `${d.limits.line}` },
  'read-cap': { env: 'LINECHAT_READ_CAP', help: 'READCAP: bytes without a line end before a client is cut off', parse: integer(65, 1 << 24), shown: `${d.limits.readCap}` },
  'max-name': { env: 'LINECHAT_MAX_NAME', help: 'NAMELEN: longest user name, bytes', parse: integer(1, 64), shown: `${d.limits.nameLength}` },
  'max-sendq': { env: 'LINECHAT_MAX_SENDQ', help: 'SENDQ: bytes waiting for one client before it is cut off as a slow consumer', parse: integer(4096, 1 << 30), shown: `${d.sendQueue}` },
  'flood-burst': { env: 'LINECHAT_FLOOD_BURST', help: 'BURST: lines a client may send back to back', parse: integer(1, 1_000_000), shown: `${d.floodBurst}` },
  'flood-rate': { env: 'LINECHAT_FLOOD_RATE', help: 'RATE: lines per second after the burst; 0 turns flood control off', parse: decimal(0, 1_000_000), shown: `${d.floodRate}` },
  'max-input': { env: 'LINECHAT_MAX_INPUT', help: 'bytes of lines held back by flood control before a client is cut off', parse: integer(65536, 1 << 30), shown: `${d.inputQueue}` },
  'ping-interval': { env: 'LINECHAT_PING_INTERVAL', help: 'PING: seconds of silence before the server sends PING', parse: seconds(0.05, 86400), shown: `${d.pingIntervalMs / 1000}` },
  'ping-timeout': { env: 'LINECHAT_PING_TIMEOUT', help: 'PINGTIMEOUT: seconds to answer that PING before being cut off', parse: seconds(0.05, 86400), shown: `${d.pingTimeoutMs / 1000}` },
  'register-timeout': { env: 'LINECHAT_REGISTER_TIMEOUT', help: 'REGTIMEOUT: seconds to finish HELLO', parse: seconds(0.05, 86400), shown: `${d.registerTimeoutMs / 1000}` },
  'max-connections': { env: 'LINECHAT_MAX_CONNECTIONS', help: 'open connections in all', parse: integer(1, 1_000_000), shown: `${d.maxConnections}` },
  linger: { env: 'LINECHAT_LINGER', help: 'seconds a closing connection may take to flush and close before it is dropped', parse: seconds(0.05, 600), shown: `${d.lingerMs / 1000}` },
  'max-per-ip': { env: 'LINECHAT_MAX_PER_IP', help: 'open connections from one IP address', parse: integer(1, 1_000_000), shown: `${d.maxPerIp}` },
  'log-messages': { env: 'LINECHAT_LOG_MESSAGES', help: 'on: a log line with the text of every message; off: none', parse: onOff, shown: d.logMessages ? 'on' : 'off' },
  lobby: { env: 'LINECHAT_LOBBY', help: 'LOBBY: the room every client joins on registering; none for no lobby', parse: lobby, shown: d.lobby ?? 'none' },
  'max-joins': { env: 'LINECHAT_MAX_JOINS', help: 'MAXJOIN: rooms one client may be in at once', parse: integer(1, 10_000), shown: `${d.maxJoins}` },
  'max-rooms': { env: 'LINECHAT_MAX_ROOMS', help: 'rooms that may exist at once, persistent ones included', parse: integer(1, 10_000_000), shown: `${d.maxRooms}` },
  history: { env: 'LINECHAT_HISTORY', help: 'messages kept per room or private conversation; 0 keeps all (only with --db)', parse: integer(0, 1_000_000_000), shown: `${d.history}` },
  'history-memory': { env: 'LINECHAT_HISTORY_MEMORY', help: 'messages the in-memory history keeps in all (without --db)', parse: integer(1, 100_000_000), shown: `${d.historyMemory}` },
  replay: { env: 'LINECHAT_REPLAY', help: 'REPLAY: messages replayed to a client that joins a room', parse: integer(0, 1_000_000), shown: `${d.replay}` },
  db: { env: 'LINECHAT_DB', help: 'SQLite file for history, rooms and topics (created if missing); without it history is in memory', parse: text, shown: 'none' },
  'db-sync': { env: 'LINECHAT_DB_SYNC', help: 'full: fsync every commit (survives power loss); normal: survives a killed server, not a crashed machine', parse: dbSync, shown: d.dbSync },
} as const satisfies Record<string, Field<unknown>>;
type Flag = keyof typeof FIELDS;
type Values = { [F in Flag]: ReturnType<(typeof FIELDS)[F]['parse']> | undefined };

export const SERVER_USAGE = `Usage: npx tsx src/server.ts start [options]

Starts the linechat server (protocol: SPEC.md).

Options (each also read from its environment variable; a flag wins):
${Object.entries(FIELDS)
  .map(([flag, f]) => `  --${flag.padEnd(17)} ${f.help}\n  ${' '.repeat(19)} default ${f.shown}; env ${f.env}`)
  .join('\n')}
  --help              show this help`;

export type ParsedCommand = { command: 'help' } | { command: 'start'; options: ServerOptions };

/** Reads `start [options]` / `--help` from argv and the environment. */
export function parseServerArgs(argv: readonly string[], env: NodeJS.ProcessEnv = {}): ParsedCommand {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        ...Object.fromEntries(Object.keys(FIELDS).map((flag) => [flag, { type: 'string' as const }])),
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new OptionError((error as Error).message);
  }
  if (parsed.values.help) return { command: 'help' };
  const [command, ...extra] = parsed.positionals;
  if (command !== 'start' || extra.length > 0) {
    throw new OptionError(`expected the command "start", got ${JSON.stringify(parsed.positionals.join(' '))}`);
  }

  // A bad value is reported under the name the user gave it: flag or variable.
  const flags = parsed.values as Record<string, string | boolean | undefined>;
  const values = {} as Record<Flag, unknown>;
  for (const [flag, field] of Object.entries(FIELDS) as Array<[Flag, Field<unknown>]>) {
    const fromFlag = flags[flag];
    const fromEnv = env[field.env];
    values[flag] =
      typeof fromFlag === 'string' ? field.parse(fromFlag, `--${flag}`) : fromEnv === undefined ? undefined : field.parse(fromEnv, field.env);
  }
  return { command: 'start', options: resolve(values as Values) };
}

function resolve(v: Values): ServerOptions {
  const limits: Limits = {
    line: v['max-line'] ?? d.limits.line,
    readCap: v['read-cap'] ?? d.limits.readCap,
    nameLength: v['max-name'] ?? d.limits.nameLength,
    roomLength: d.limits.roomLength,
    topicLength: Math.min(d.limits.topicLength, v['max-line'] ?? d.limits.line),
    historyPage: d.limits.historyPage,
  };
  if (limits.readCap <= limits.line) {
    throw new OptionError(`--read-cap (${limits.readCap}) must be greater than --max-line (${limits.line})`);
  }
  const sendQueue = v['max-sendq'] ?? d.sendQueue;
  // Otherwise one long message would cut off every client that receives it.
  if (sendQueue < 4 * (limits.line + SERVER_LINE_OVERHEAD)) {
    throw new OptionError(`--max-sendq (${sendQueue}) must be at least 4 × (--max-line + ${SERVER_LINE_OVERHEAD}) = ${4 * (limits.line + SERVER_LINE_OVERHEAD)}`);
  }
  const inputQueue = v['max-input'] ?? d.inputQueue;
  // Flood control holds what one read brought (64 KiB) and a line begun
  // before it; a smaller bound would cut off a client that only waits.
  if (inputQueue < limits.line + READ_SIZE) {
    throw new OptionError(`--max-input (${inputQueue}) must be at least --max-line + ${READ_SIZE} = ${limits.line + READ_SIZE}`);
  }
  const db = v.db;
  const history = v.history ?? d.history;
  if (history === 0 && db === undefined) {
    throw new OptionError('--history 0 (keep everything) needs --db; in memory history must be bounded');
  }
  const replay = v.replay ?? d.replay;
  if (replay > limits.historyPage) throw new OptionError(`--replay must be at most HISTLIMIT (${limits.historyPage}), got ${replay}`);
  return Object.freeze({
    ...d,
    lobby: v.lobby === undefined ? d.lobby : (v.lobby ?? undefined),
    maxJoins: v['max-joins'] ?? d.maxJoins,
    maxRooms: v['max-rooms'] ?? d.maxRooms,
    history,
    historyMemory: v['history-memory'] ?? d.historyMemory,
    replay,
    db,
    dbSync: v['db-sync'] ?? d.dbSync,
    host: v.host ?? d.host,
    port: v.port ?? d.port,
    serverName: v['server-name'] ?? d.serverName,
    limits: Object.freeze(checkLimits(limits)),
    sendQueue,
    floodBurst: v['flood-burst'] ?? d.floodBurst,
    floodRate: v['flood-rate'] ?? d.floodRate,
    inputQueue,
    pingIntervalMs: v['ping-interval'] ?? d.pingIntervalMs,
    pingTimeoutMs: v['ping-timeout'] ?? d.pingTimeoutMs,
    registerTimeoutMs: v['register-timeout'] ?? d.registerTimeoutMs,
    maxConnections: v['max-connections'] ?? d.maxConnections,
    maxPerIp: v['max-per-ip'] ?? d.maxPerIp,
    lingerMs: v.linger ?? d.lingerMs,
    logMessages: v['log-messages'] ?? d.logMessages,
  });
}
