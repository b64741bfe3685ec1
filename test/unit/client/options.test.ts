import { describe, expect, it } from 'vitest';
import { OptionError, parseClientArgs } from '../../../src/client/options.ts';

const RECONNECT = { reconnect: true, reconnectTimeoutMs: 60_000, color: true };
const run = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
  const parsed = parseClientArgs(argv, env);
  if (parsed.command !== 'run') throw new Error('expected run');
  return parsed.options;
};
const fails = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
  try {
    parseClientArgs(argv, env);
  } catch (error) {
    expect(error).toBeInstanceOf(OptionError);
    return (error as Error).message;
  }
  throw new Error('expected an OptionError');
};

describe('client options', () => {
  it('defaults to 127.0.0.1:4444, a server-chosen name, reconnecting, and 60 s to wait for the server at end of input', () => {
    expect(run([])).toEqual({ host: '127.0.0.1', port: 4444, name: undefined, ...RECONNECT });
  });

  it('takes --host, --port and --name, in both --opt v and --opt=v forms', () => {
    expect(run(['--host', 'chat.example', '--port=5000', '--name', 'alice'])).toEqual({ host: 'chat.example', port: 5000, name: 'alice', ...RECONNECT });
  });

  it('reads LINECHAT_HOST, LINECHAT_PORT and LINECHAT_NAME; the command line wins; empty means unset', () => {
    const env = { LINECHAT_HOST: '10.0.0.1', LINECHAT_PORT: '4000', LINECHAT_NAME: 'bob' };
    expect(run([], env)).toEqual({ host: '10.0.0.1', port: 4000, name: 'bob', ...RECONNECT });
    expect(run(['--port', '4001', '--name', 'carol'], env)).toEqual({ host: '10.0.0.1', port: 4001, name: 'carol', ...RECONNECT });
    expect(run([], { LINECHAT_NAME: '', LINECHAT_PORT: '' })).toEqual({ host: '127.0.0.1', port: 4444, name: undefined, ...RECONNECT });
  });

  it('[CLIENT-6] --no-reconnect or LINECHAT_NO_RECONNECT=1 turns reconnection off', () => {
    expect(run(['--no-reconnect']).reconnect).toBe(false);
    expect(run([], { LINECHAT_NO_RECONNECT: '1' }).reconnect).toBe(false);
    expect(run([], { LINECHAT_NO_RECONNECT: 'true' }).reconnect).toBe(false);
    expect(run([], { LINECHAT_NO_RECONNECT: '0' }).reconnect).toBe(true);
    expect(run([], { LINECHAT_NO_RECONNECT: '' }).reconnect).toBe(true);
    expect(run(['--no-reconnect'], { LINECHAT_NO_RECONNECT: '0' }).reconnect).toBe(false);
  });

  it('[CLIENT-10] --reconnect-timeout and LINECHAT_RECONNECT_TIMEOUT take seconds, fractions allowed; the command line wins', () => {
    expect(run(['--reconnect-timeout', '5']).reconnectTimeoutMs).toBe(5_000);
    expect(run(['--reconnect-timeout=0.25']).reconnectTimeoutMs).toBe(250);
    expect(run(['--reconnect-timeout', '0']).reconnectTimeoutMs).toBe(0);
    expect(run([], { LINECHAT_RECONNECT_TIMEOUT: '90' }).reconnectTimeoutMs).toBe(90_000);
    expect(run(['--reconnect-timeout', '2'], { LINECHAT_RECONNECT_TIMEOUT: '90' }).reconnectTimeoutMs).toBe(2_000);
  });

  it('--no-color or LINECHAT_NO_COLOR=1 turns colour off; the command line wins', () => {
    expect(run([]).color).toBe(true);
    expect(run(['--no-color']).color).toBe(false);
    expect(run([], { LINECHAT_NO_COLOR: '1' }).color).toBe(false);
    expect(run([], { LINECHAT_NO_COLOR: '0' }).color).toBe(true);
    expect(run([], { LINECHAT_NO_COLOR: '' }).color).toBe(true);
    expect(run(['--no-color'], { LINECHAT_NO_COLOR: '0' }).color).toBe(false);
    expect(fails(['--no-color=yes'])).toBe('--no-color takes no value');
    expect(fails([], { LINECHAT_NO_COLOR: 'maybe' })).toBe('LINECHAT_NO_COLOR must be 1 or 0, got "maybe"');
  });

  it('resolves into a frozen object', () => {
    expect(Object.isFrozen(run([]))).toBe(true);
  });

  it('--help and -h ask for help', () => {
    expect(parseClientArgs(['--help'], {})).toEqual({ command: 'help' });
    expect(parseClientArgs(['-h', '--port', 'abc'], {})).toEqual({ command: 'help' });
  });

  it('names the option and the value it rejects, in one line', () => {
    const messages = [
      fails(['--port', 'abc']),
      fails(['--port', '0']),
      fails(['--port', '65536']),
      fails(['--port', '1e3']),
      fails([], { LINECHAT_PORT: 'x' }),
      fails(['--name', 'no spaces']),
      fails(['--name', 'you']),
      fails(['--host', '']),
      fails(['--port']),
      fails(['--colour']),
      fails(['stray']),
      fails(['--help=yes']),
      fails(['--no-reconnect=yes']),
      fails(['--reconnect-timeout', '-1']),
      fails(['--reconnect-timeout', '86401']),
      fails(['--reconnect-timeout', 'soon']),
      fails([], { LINECHAT_NO_RECONNECT: 'maybe' }),
      fails([], { LINECHAT_RECONNECT_TIMEOUT: '1e3' }),
      fails(['--reconnect-timeout']),
    ];
    expect(messages[0]).toBe('--port must be a port number from 1 to 65535, got "abc"');
    expect(messages[4]).toBe('LINECHAT_PORT must be a port number from 1 to 65535, got "x"');
    expect(messages[5]).toMatch(/^--name got "no spaces": /);
    expect(messages[6]).toMatch(/^--name got "you": .*reserved/);
    expect(messages[7]).toBe('--host must be a host name or address, got ""');
    expect(messages[8]).toBe('--port needs a value');
    expect(messages[9]).toBe('unknown option --colour');
    expect(messages[10]).toBe('unexpected argument "stray"');
    expect(messages[11]).toBe('--help takes no value');
    expect(messages[12]).toBe('--no-reconnect takes no value');
    expect(messages[13]).toBe('--reconnect-timeout must be a number of seconds from 0 to 86400, got "-1"');
    expect(messages[14]).toBe('--reconnect-timeout must be a number of seconds from 0 to 86400, got "86401"');
    expect(messages[15]).toBe('--reconnect-timeout must be a number of seconds from 0 to 86400, got "soon"');
    expect(messages[16]).toBe('LINECHAT_NO_RECONNECT must be 1 or 0, got "maybe"');
    expect(messages[17]).toBe('LINECHAT_RECONNECT_TIMEOUT must be a number of seconds from 0 to 86400, got "1e3"');
    expect(messages[18]).toBe('--reconnect-timeout needs a value');
    for (const message of messages) expect(message).not.toContain('\n');
  });
});
