/**
 * Client options, resolved once into a frozen object: defaults, then the
 * environment, then the command line. Every error names the option (or the
 * variable) and the value it rejected, in one line.
 */
import { parseArgs } from 'node:util';
import { nameProblem } from '../protocol/names.ts';
import { DEFAULT_RECONNECT_TIMEOUT_MS } from './backoff.ts';

export interface ClientOptions {
  readonly host: string;
  readonly port: number;
  /** Undefined lets the server assign a guest name ([SESSION-4]). */
  readonly name: string | undefined;
  /** Reconnect when the connection drops ([CLIENT-6]); false exits 1 instead. */
  readonly reconnect: boolean;
  /** After end of input, how long to wait for the server to come back ([CLIENT-10]). */
  readonly reconnectTimeoutMs: number;
  /**
   * False when the user turned colour off (--no-color, LINECHAT_NO_COLOR=1).
   * True only allows colour: it is still used only on a terminal, and
   * NO_COLOR and FORCE_COLOR are honoured (src/client/style.ts).
   */
  readonly color: boolean;
}

export type ParsedClientArgs =
  | { readonly command: 'help' }
  | { readonly command: 'run'; readonly options: ClientOptions };

export const DEFAULT_CLIENT_OPTIONS: ClientOptions = Object.freeze({
  host: '127.0.0.1',
  port: 4444,
  name: undefined,
  reconnect: true,
  reconnectTimeoutMs: DEFAULT_RECONNECT_TIMEOUT_MS,
  color: true,
});

export class OptionError extends Error {
  override readonly name = 'OptionError';
}

type Field = 'host' | 'port' | 'name' | 'reconnectTimeoutMs';
const ENV: Record<Field, string> = {
  host: 'LINECHAT_HOST',
  port: 'LINECHAT_PORT',
  name: 'LINECHAT_NAME',
  reconnectTimeoutMs: 'LINECHAT_RECONNECT_TIMEOUT',
};
const FLAG: Record<Field, string> = { host: '--host', port: '--port', name: '--name', reconnectTimeoutMs: '--reconnect-timeout' };
const NO_RECONNECT_ENV = 'LINECHAT_NO_RECONNECT';
const NO_COLOR_ENV = 'LINECHAT_NO_COLOR';
/** setTimeout cannot wait longer than 2^31-1 ms; a day is more than anyone needs. */
const MAX_RECONNECT_TIMEOUT_S = 86_400;

export const CLIENT_USAGE = `Usage: npx tsx src/client.ts [options]

Connects to a linechat server and lets you chat in the terminal.

Options:
  --host <host>   server address (default 127.0.0.1; env LINECHAT_HOST)
  --port <port>   server TCP port, 1-65535 (default 4444; env LINECHAT_PORT)
  --name <name>   name to join with; without it the server picks a guest
                  name (env LINECHAT_NAME)
  --no-reconnect  exit with status 1 when the connection drops, instead of
                  reconnecting (env LINECHAT_NO_RECONNECT=1)
  --reconnect-timeout <seconds>
                  at end of input, how long to wait for a lost server to
                  come back before giving up with status 1 (default 60;
                  env LINECHAT_RECONNECT_TIMEOUT)
  --no-color      no colours or text styles, even on a terminal
                  (env LINECHAT_NO_COLOR=1; NO_COLOR is honoured too)
  -h, --help      show this help

Type 'exit' or /quit to leave, /help for the chat commands.
Plain text goes to the active room (the lobby at first, shown in the
prompt); /join, /switch and /msg change where it goes.
When the connection drops, the client reconnects by itself and takes its
name back; messages typed meanwhile are sent once it is back.
With stdin not a terminal, every input line is sent and the client quits
at end of input once the server has acknowledged everything sent.`;

const PORT = /^[0-9]{1,5}$/;

function host(value: string, source: string): string {
  if (value.trim() === '' || /\s/.test(value)) throw new OptionError(`${source} must be a host name or address, got ${JSON.stringify(value)}`);
  return value;
}

function port(value: string, source: string): number {
  const n = PORT.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= 65535)) throw new OptionError(`${source} must be a port number from 1 to 65535, got ${JSON.stringify(value)}`);
  return n;
}

function name(value: string, source: string): string {
  // The server's NAMELEN is not known yet; a name that is too long for it
  // is refused at HELLO and the client falls back to a guest name.
  const problem = nameProblem(value, Number.MAX_SAFE_INTEGER);
  if (problem !== undefined) throw new OptionError(`${source} got ${JSON.stringify(value)}: ${problem}`);
  return value;
}

function seconds(value: string, source: string): number {
  const n = /^[0-9]{1,6}(\.[0-9]{1,3})?$/.test(value) ? Number(value) : NaN;
  if (!(n >= 0 && n <= MAX_RECONNECT_TIMEOUT_S)) {
    throw new OptionError(`${source} must be a number of seconds from 0 to ${MAX_RECONNECT_TIMEOUT_S}, got ${JSON.stringify(value)}`);
  }
  return Math.round(n * 1000);
}

function flag(value: string, source: string): boolean {
  const word = value.toLowerCase();
  if (['1', 'true', 'yes'].includes(word)) return true;
  if (['0', 'false', 'no'].includes(word)) return false;
  throw new OptionError(`${source} must be 1 or 0, got ${JSON.stringify(value)}`);
}

const SWITCHES = new Set(['help', 'no-reconnect', 'no-color']);

const CHECK: { [F in Field]: (value: string, source: string) => ClientOptions[F] } = { host, port, name, reconnectTimeoutMs: seconds };
const FIELD_OF_OPTION: Record<string, Field> = { host: 'host', port: 'port', name: 'name', 'reconnect-timeout': 'reconnectTimeoutMs' };

export function parseClientArgs(argv: readonly string[], env: NodeJS.ProcessEnv): ParsedClientArgs {
  // Parsed non-strictly and checked here, so that every complaint can name
  // the option in our own words instead of parseArgs' multi-line advice.
  const { tokens } = parseArgs({
    args: [...argv],
    strict: false,
    allowPositionals: true,
    tokens: true,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      name: { type: 'string' },
      'reconnect-timeout': { type: 'string' },
      'no-reconnect': { type: 'boolean' },
      'no-color': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const given: Partial<Record<Field, string>> = {};
  const switches = new Set<string>();
  for (const token of tokens) {
    if (token.kind === 'positional') throw new OptionError(`unexpected argument ${JSON.stringify(token.value)}`);
    if (token.kind !== 'option') continue;
    const field = FIELD_OF_OPTION[token.name];
    if (SWITCHES.has(token.name)) {
      if (token.value !== undefined) throw new OptionError(`${token.rawName} takes no value`);
      switches.add(token.name);
    } else if (field !== undefined) {
      if (token.value === undefined) throw new OptionError(`${token.rawName} needs a value`);
      given[field] = token.value;
    } else {
      throw new OptionError(`unknown option ${token.rawName}`);
    }
  }
  if (switches.has('help')) return { command: 'help' };

  const resolve = <F extends Field>(field: F): ClientOptions[F] => {
    const value = given[field];
    if (value !== undefined) return CHECK[field](value, FLAG[field]);
    const fromEnv = env[ENV[field]];
    // An empty variable counts as unset, as is usual in shells.
    if (fromEnv !== undefined && fromEnv !== '') return CHECK[field](fromEnv, ENV[field]);
    return DEFAULT_CLIENT_OPTIONS[field];
  };
  // A switch on the command line wins; otherwise its variable, 1 or 0.
  const off = (option: string, variable: string) => {
    if (switches.has(option)) return true;
    const value = env[variable];
    return value !== undefined && value !== '' && flag(value, variable);
  };
  const options: ClientOptions = Object.freeze({
    host: resolve('host'),
    port: resolve('port'),
    name: resolve('name'),
    reconnect: !off('no-reconnect', NO_RECONNECT_ENV),
    reconnectTimeoutMs: resolve('reconnectTimeoutMs'),
    color: !off('no-color', NO_COLOR_ENV),
  });
  return { command: 'run', options };
}
