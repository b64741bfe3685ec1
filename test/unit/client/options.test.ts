import { describe, expect, it } from 'vitest';
import { OptionError, parseClientArgs } from '../../../src/client/options.ts';

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
  it('defaults to 127.0.0.1:4444 and a server-chosen name', () => {
    expect(run([])).toEqual({ host: '127.0.0.1', port: 4444, name: undefined });
  });

  it('takes --host, --port and --name, in both --opt v and --opt=v forms', () => {
    expect(run(['--host', 'chat.example', '--port=5000', '--name', 'alice'])).toEqual({ host: 'chat.example', port: 5000, name: 'alice' });
  });

  it('reads LINECHAT_HOST, LINECHAT_PORT and LINECHAT_NAME; the command line wins; empty means unset', () => {
    const env = { LINECHAT_HOST: '10.0.0.1', LINECHAT_PORT: '4000', LINECHAT_NAME: 'bob' };
    expect(run([], env)).toEqual({ host: '10.0.0.1', port: 4000, name: 'bob' });
    expect(run(['--port', '4001', '--name', 'carol'], env)).toEqual({ host: '10.0.0.1', port: 4001, name: 'carol' });
    expect(run([], { LINECHAT_NAME: '', LINECHAT_PORT: '' })).toEqual({ host: '127.0.0.1', port: 4444, name: undefined });
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
    for (const message of messages) expect(message).not.toContain('\n');
  });
});
