/**
 * Client options, resolved once into a frozen object: defaults, then the
 * environment, then the command line. Every error names the option (or the
 * variable) and the value it rejected, in one line.
 */
import { parseArgs } from 'node:util';
import { nameProblem } from '../protocol/names.ts';

export interface ClientOptions {
  readonly host: string;
  readonly port: number;
  /** Undefined lets the server assign a guest name ([SESSION-4]). */
  readonly name: string | undefined;
}

export type ParsedClientArgs =
  | { readonly command: 'help' }
  | { readonly command: 'run'; readonly options: ClientOptions };

export const DEFAULT_CLIENT_OPTIONS: ClientOptions = Object.freeze({ host: '127.0.0.1', port: 4444, name: undefined });

export class OptionError extends Error {
  override readonly name = 'OptionError';
}

type Field = 'host' | 'port' | 'name';
const ENV: Record<Field, string> = { host: 'LINECHAT_HOST', port: 'LINECHAT_PORT', name: 'LINECHAT_NAME' };

export const CLIENT_USAGE = `Usage: npx tsx src/client.ts [options]

Connects to a linechat server and lets you chat in the terminal.

Options:
  --host <host>   server address (default 127.0.0.1; env LINECHAT_HOST)
  --port <port>   server TCP port, 1-65535 (default 4444; env LINECHAT_PORT)
  --name <name>   name to join with; without it the server picks a guest
                  name (env LINECHAT_NAME)
  -h, --help      show this help

Type 'exit' or /quit to leave, /help for the chat commands.
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

const CHECK: { [F in Field]: (value: string, source: string) => ClientOptions[F] } = { host, port, name };

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
      help: { type: 'boolean', short: 'h' },
    },
  });
  const given: Partial<Record<Field, string>> = {};
  let help = false;
  for (const token of tokens) {
    if (token.kind === 'positional') throw new OptionError(`unexpected argument ${JSON.stringify(token.value)}`);
    if (token.kind !== 'option') continue;
    if (token.name === 'help') {
      if (token.value !== undefined) throw new OptionError(`${token.rawName} takes no value`);
      help = true;
    } else if (token.name === 'host' || token.name === 'port' || token.name === 'name') {
      if (token.value === undefined) throw new OptionError(`${token.rawName} needs a value`);
      given[token.name] = token.value;
    } else {
      throw new OptionError(`unknown option ${token.rawName}`);
    }
  }
  if (help) return { command: 'help' };

  const resolve = <F extends Field>(field: F): ClientOptions[F] => {
    const flag = given[field];
    if (flag !== undefined) return CHECK[field](flag, `--${field}`);
    const fromEnv = env[ENV[field]];
    // An empty variable counts as unset, as is usual in shells.
    if (fromEnv !== undefined && fromEnv !== '') return CHECK[field](fromEnv, ENV[field]);
    return DEFAULT_CLIENT_OPTIONS[field];
  };
  const options: ClientOptions = Object.freeze({ host: resolve('host'), port: resolve('port'), name: resolve('name') });
  return { command: 'run', options };
}
