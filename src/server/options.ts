/**
 * Server options, resolved once into a frozen object: defaults, then the
 * environment, then the command line. Every check names the field and the
 * value it rejected.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_LIMITS, checkLimits, type Limits } from '../protocol/limits.ts';

export interface ServerOptions {
  readonly host: string;
  readonly port: number;
  readonly serverName: string;
  readonly limits: Limits;
  /** Bytes waiting to be sent to one client before it is cut off as a slow consumer. */
  readonly sendQueue: number;
  /** How long a closing connection may take to flush before it is destroyed. */
  readonly lingerMs: number;
  /** How long shutdown waits for clients to take their last lines. */
  readonly shutdownMs: number;
}

export const DEFAULT_OPTIONS: ServerOptions = Object.freeze({
  host: '127.0.0.1',
  port: 4444,
  serverName: 'linechat',
  limits: DEFAULT_LIMITS,
  sendQueue: 1 << 20,
  lingerMs: 5_000,
  shutdownMs: 1_000,
});

export class OptionError extends Error {
  override readonly name = 'OptionError';
}

/** One option: its flag, its environment variable and how to read it. */
const FIELDS = {
  host: { env: 'LINECHAT_HOST', help: 'address to listen on', parse: text },
  port: { env: 'LINECHAT_PORT', help: 'TCP port; 0 picks a free one', parse: integer(0, 65535) },
  'server-name': { env: 'LINECHAT_SERVER_NAME', help: 'name announced in the greeting', parse: serverName },
  'max-line': { env: 'LINECHAT_MAX_LINE', help: 'longest line accepted, in bytes (LINE)', parse: integer(64, 1 << 20) },
  'read-cap': { env: 'LINECHAT_READ_CAP', help: 'bytes without a line end before a client is cut off (READCAP)', parse: integer(65, 1 << 24) },
  'max-name': { env: 'LINECHAT_MAX_NAME', help: 'longest user name, in bytes (NAMELEN)', parse: integer(1, 64) },
} as const;
type Field = keyof typeof FIELDS;

function text(value: string, field: string): string {
  if (value === '') throw new OptionError(`${field} must not be empty`);
  return value;
}

function serverName(value: string, field: string): string {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(value)) {
    throw new OptionError(`${field} must be 1-64 characters of A-Z a-z 0-9 . _ -, got ${JSON.stringify(value)}`);
  }
  return value;
}

function integer(min: number, max: number) {
  return (value: string, field: string): number => {
    const n = /^\d+$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new OptionError(`${field} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
    }
    return n;
  };
}

export const SERVER_USAGE = `Usage: npx tsx src/server.ts start [options]

Starts the linechat server (protocol: SPEC.md).

Options:
${Object.entries(FIELDS)
  .map(([flag, f]) => `  --${flag.padEnd(13)} ${f.help} (env ${f.env}; default ${defaultOf(flag as Field)})`)
  .join('\n')}
  --help          show this help`;

function defaultOf(field: Field): string | number {
  switch (field) {
    case 'host': return DEFAULT_OPTIONS.host;
    case 'port': return DEFAULT_OPTIONS.port;
    case 'server-name': return DEFAULT_OPTIONS.serverName;
    case 'max-line': return DEFAULT_LIMITS.line;
    case 'read-cap': return DEFAULT_LIMITS.readCap;
    case 'max-name': return DEFAULT_LIMITS.nameLength;
  }
}

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
  const read = <T>(field: Field, fallback: T, parse: (value: string, source: string) => T): T => {
    const flag = (parsed.values as Record<string, string | boolean | undefined>)[field];
    if (typeof flag === 'string') return parse(flag, `--${field}`);
    const value = env[FIELDS[field].env];
    return value === undefined ? fallback : parse(value, FIELDS[field].env);
  };

  const limits: Limits = {
    line: read('max-line', DEFAULT_LIMITS.line, FIELDS['max-line'].parse),
    readCap: read('read-cap', DEFAULT_LIMITS.readCap, FIELDS['read-cap'].parse),
    nameLength: read('max-name', DEFAULT_LIMITS.nameLength, FIELDS['max-name'].parse),
  };
  if (limits.readCap <= limits.line) {
    throw new OptionError(`--read-cap (${limits.readCap}) must be greater than --max-line (${limits.line})`);
  }
  const options: ServerOptions = {
    ...DEFAULT_OPTIONS,
    host: read('host', DEFAULT_OPTIONS.host, FIELDS.host.parse),
    port: read('port', DEFAULT_OPTIONS.port, FIELDS.port.parse),
    serverName: read('server-name', DEFAULT_OPTIONS.serverName, FIELDS['server-name'].parse),
    limits: Object.freeze(checkLimits(limits)),
  };
  return { command: 'start', options: Object.freeze(options) };
}
