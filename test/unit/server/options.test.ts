import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_OPTIONS, OptionError, SERVER_USAGE, parseServerArgs, type ServerOptions } from '../../../src/server/options.ts';
import { DEFAULT_LIMITS } from '../../../src/protocol/limits.ts';

afterEach(() => {
  vi.unstubAllEnvs();
});

/** The options of a `start` command, failing the test on anything else. */
function start(argv: readonly string[], env: NodeJS.ProcessEnv = {}): ServerOptions {
  const parsed = parseServerArgs(argv, env);
  if (parsed.command !== 'start') throw new Error(`expected start, got ${parsed.command}`);
  return parsed.options;
}

/** The OptionError that parsing throws. */
function failure(argv: readonly string[], env: NodeJS.ProcessEnv = {}): OptionError {
  try {
    parseServerArgs(argv, env);
  } catch (error) {
    expect(error).toBeInstanceOf(OptionError);
    return error as OptionError;
  }
  throw new Error(`expected an OptionError for ${JSON.stringify(argv)}`);
}

describe('parseServerArgs: defaults', () => {
  it('gives the defaults for a bare `start`', () => {
    expect(start(['start'])).toEqual(DEFAULT_OPTIONS);
    expect(DEFAULT_OPTIONS).toMatchObject({
      host: '127.0.0.1',
      port: 4444,
      serverName: 'linechat',
      limits: { line: 2048, readCap: 16384, nameLength: 24 },
    });
  });

  it('returns frozen options with frozen limits', () => {
    const options = start(['start']);
    expect(Object.isFrozen(options)).toBe(true);
    expect(Object.isFrozen(options.limits)).toBe(true);
    expect(Object.isFrozen(DEFAULT_OPTIONS)).toBe(true);
  });

  it('keeps the defaults that have no flag', () => {
    const options = start(['start', '--port', '1']);
    expect(options.sendQueue).toBe(DEFAULT_OPTIONS.sendQueue);
    expect(options.lingerMs).toBe(DEFAULT_OPTIONS.lingerMs);
    expect(options.shutdownMs).toBe(DEFAULT_OPTIONS.shutdownMs);
  });

  it('reads only the environment it is given, not process.env', () => {
    vi.stubEnv('LINECHAT_PORT', '5555');
    expect(start(['start']).port).toBe(4444);
    expect(start(['start'], process.env).port).toBe(5555);
  });

  it('keeps the shutdown within the 2 seconds SPEC [SHUT-3] recommends', () => {
    expect(DEFAULT_OPTIONS.shutdownMs).toBeLessThan(2_000);
  });
});

describe('parseServerArgs: flags and environment', () => {
  const cases: Array<[flag: string, env: string, value: string, pick: (o: ServerOptions) => unknown, expected: unknown]> = [
    ['--host', 'LINECHAT_HOST', '0.0.0.0', (o) => o.host, '0.0.0.0'],
    ['--port', 'LINECHAT_PORT', '0', (o) => o.port, 0],
    ['--port', 'LINECHAT_PORT', '65535', (o) => o.port, 65535],
    ['--server-name', 'LINECHAT_SERVER_NAME', 'chat.example-1_x', (o) => o.serverName, 'chat.example-1_x'],
    ['--max-line', 'LINECHAT_MAX_LINE', '64', (o) => o.limits.line, 64],
    ['--read-cap', 'LINECHAT_READ_CAP', '100000', (o) => o.limits.readCap, 100000],
    ['--max-name', 'LINECHAT_MAX_NAME', '64', (o) => o.limits.nameLength, 64],
    ['--max-name', 'LINECHAT_MAX_NAME', '1', (o) => o.limits.nameLength, 1],
  ];

  it.each(cases)('%s sets it', (flag, _env, value, pick, expected) => {
    expect(pick(start(['start', flag, value]))).toBe(expected);
    expect(pick(start(['start', `${flag}=${value}`]))).toBe(expected);
  });

  it.each(cases)('%s can come from %s', (_flag, env, value, pick, expected) => {
    expect(pick(start(['start'], { [env]: value }))).toBe(expected);
  });

  it.each(cases)('%s beats %s', (flag, env, value, pick, expected) => {
    const other = flag === '--max-name' ? '30' : flag === '--port' ? '7' : flag === '--host' ? 'localhost' : flag === '--server-name' ? 'other' : '5000';
    const env2 = flag === '--max-line' ? { [env]: other, LINECHAT_READ_CAP: '10000' } : { [env]: other };
    expect(pick(start(['start', flag, value], env2))).toBe(expected);
  });

  it('accepts flags before the command', () => {
    expect(start(['--port', '99', 'start']).port).toBe(99);
  });

  it('ignores unrelated environment variables', () => {
    expect(start(['start'], { PORT: '1', LINECHAT_OTHER: 'x' })).toEqual(DEFAULT_OPTIONS);
  });
});

describe('parseServerArgs: help', () => {
  it.each([[['--help']], [['-h']], [['start', '--help']], [['--help', 'anything']], [['start', '--port', '1', '-h']]])(
    '%j asks for help',
    (argv) => {
      expect(parseServerArgs(argv)).toEqual({ command: 'help' });
    },
  );

  it('the usage names every flag, its environment variable and its default', () => {
    for (const [flag, env] of [
      ['--host', 'LINECHAT_HOST'],
      ['--port', 'LINECHAT_PORT'],
      ['--server-name', 'LINECHAT_SERVER_NAME'],
      ['--max-line', 'LINECHAT_MAX_LINE'],
      ['--read-cap', 'LINECHAT_READ_CAP'],
      ['--max-name', 'LINECHAT_MAX_NAME'],
      ['--help', ''],
    ] as const) {
      expect(SERVER_USAGE).toContain(flag);
      expect(SERVER_USAGE).toContain(env);
    }
    for (const value of ['127.0.0.1', '4444', 'linechat', String(DEFAULT_LIMITS.line), String(DEFAULT_LIMITS.readCap), String(DEFAULT_LIMITS.nameLength)]) {
      expect(SERVER_USAGE).toContain(`default ${value})`);
    }
    expect(SERVER_USAGE).toMatch(/^Usage: .*start/);
  });
});

describe('parseServerArgs: errors name what they reject', () => {
  it.each([[[]], [['run']], [['START']], [['start', 'now']], [['--port', '1']]])('%j is not the command `start`', (argv) => {
    const error = failure(argv);
    expect(error.message).toContain('start');
    expect(error.name).toBe('OptionError');
  });

  it.each([['--bogus'], ['-x'], ['--port-number=1']])('rejects the unknown flag %s', (flag) => {
    expect(failure(['start', flag]).message).toContain(flag.replace(/=.*/, ''));
  });

  it('rejects a flag without its value', () => {
    expect(failure(['start', '--port']).message).toContain('--port');
  });

  it.each([
    ['--port', 'abc'],
    ['--port', '-1'],
    ['--port', '65536'],
    ['--port', '1.5'],
    ['--port', '1e3'],
    ['--port', ''],
    ['--port', ' 80'],
    ['--port', '99999999999999999999'],
    ['--max-line', '63'],
    ['--max-line', String((1 << 20) + 1)],
    ['--read-cap', '64'],
    ['--max-name', '0'],
    ['--max-name', '65'],
    ['--server-name', 'two words'],
    ['--server-name', ''],
    ['--server-name', 'x'.repeat(65)],
    ['--server-name', 'naïve'],
    ['--host', ''],
  ])('%s %j is rejected with a message naming %s and the value', (flag, value) => {
    const message = failure(['start', `${flag}=${value}`]).message;
    expect(message).toContain(flag);
    if (value !== '') expect(message).toContain(JSON.stringify(value));
  });

  it('rejects a bad value from the environment too, naming the variable', () => {
    const message = failure(['start'], { LINECHAT_PORT: 'http' }).message;
    expect(message).toContain('LINECHAT_PORT');
    expect(message).toContain('"http"');
  });

  it('requires READCAP to be greater than LINE, naming both [LIMIT-4]', () => {
    for (const [line, readCap] of [
      ['1000', '1000'],
      ['2048', '1024'],
    ]) {
      const message = failure(['start', '--max-line', line!, '--read-cap', readCap!]).message;
      expect(message).toContain('--read-cap');
      expect(message).toContain('--max-line');
      expect(message).toContain(line!);
    }
    expect(start(['start', '--max-line', '1000', '--read-cap', '1001']).limits).toEqual({
      line: 1000,
      readCap: 1001,
      nameLength: 24,
    });
  });

  it('checks READCAP against a LINE from the environment, and against the default [LIMIT-4]', () => {
    expect(failure(['start'], { LINECHAT_MAX_LINE: '20000' }).message).toContain('--read-cap (16384)');
    expect(failure(['start', '--read-cap', '2048']).message).toContain('--max-line (2048)');
  });
});
