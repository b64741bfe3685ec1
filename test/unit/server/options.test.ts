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
      limits: { line: 2048, readCap: 16384, nameLength: 24, roomLength: 32, topicLength: 300, historyPage: 500 },
    });
  });

  it('has the rooms and history defaults of SPEC §3 and the README', () => {
    expect(DEFAULT_OPTIONS).toMatchObject({
      lobby: '#lobby',
      maxJoins: 50,
      maxRooms: 10_000,
      history: 1000,
      historyMemory: 100_000,
      replay: 20,
      db: undefined,
      dbSync: 'full',
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

  it('has the hardening defaults', () => {
    expect(DEFAULT_OPTIONS).toMatchObject({
      sendQueue: 1 << 20,
      floodBurst: 20,
      floodRate: 10,
      inputQueue: 256 << 10,
      pingIntervalMs: 60_000,
      pingTimeoutMs: 60_000,
      registerTimeoutMs: 30_000,
      maxConnections: 10_000,
      maxPerIp: 64,
    });
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

describe('parseServerArgs: hardening flags and environment', () => {
  const cases: Array<[flag: string, env: string, value: string, pick: (o: ServerOptions) => unknown, expected: unknown, other: string]> = [
    ['--max-sendq', 'LINECHAT_MAX_SENDQ', '20000', (o) => o.sendQueue, 20_000, '30000'],
    ['--max-sendq', 'LINECHAT_MAX_SENDQ', String(1 << 30), (o) => o.sendQueue, 1 << 30, '30000'],
    ['--flood-burst', 'LINECHAT_FLOOD_BURST', '1', (o) => o.floodBurst, 1, '7'],
    ['--flood-burst', 'LINECHAT_FLOOD_BURST', '1000000', (o) => o.floodBurst, 1_000_000, '7'],
    ['--flood-rate', 'LINECHAT_FLOOD_RATE', '0.5', (o) => o.floodRate, 0.5, '3'],
    ['--flood-rate', 'LINECHAT_FLOOD_RATE', '2.25', (o) => o.floodRate, 2.25, '3'],
    ['--flood-rate', 'LINECHAT_FLOOD_RATE', '0', (o) => o.floodRate, 0, '3'],
    ['--flood-rate', 'LINECHAT_FLOOD_RATE', '100', (o) => o.floodRate, 100, '3'],
    ['--max-input', 'LINECHAT_MAX_INPUT', '1048576', (o) => o.inputQueue, 1 << 20, '100000'],
    ['--ping-interval', 'LINECHAT_PING_INTERVAL', '1.5', (o) => o.pingIntervalMs, 1_500, '9'],
    ['--ping-interval', 'LINECHAT_PING_INTERVAL', '0.05', (o) => o.pingIntervalMs, 50, '9'],
    ['--ping-interval', 'LINECHAT_PING_INTERVAL', '86400', (o) => o.pingIntervalMs, 86_400_000, '9'],
    ['--ping-timeout', 'LINECHAT_PING_TIMEOUT', '0.25', (o) => o.pingTimeoutMs, 250, '9'],
    ['--ping-timeout', 'LINECHAT_PING_TIMEOUT', '120', (o) => o.pingTimeoutMs, 120_000, '9'],
    ['--register-timeout', 'LINECHAT_REGISTER_TIMEOUT', '0.1', (o) => o.registerTimeoutMs, 100, '9'],
    ['--register-timeout', 'LINECHAT_REGISTER_TIMEOUT', '10', (o) => o.registerTimeoutMs, 10_000, '9'],
    ['--max-connections', 'LINECHAT_MAX_CONNECTIONS', '1', (o) => o.maxConnections, 1, '50'],
    ['--max-connections', 'LINECHAT_MAX_CONNECTIONS', '1000000', (o) => o.maxConnections, 1_000_000, '50'],
    ['--max-per-ip', 'LINECHAT_MAX_PER_IP', '1', (o) => o.maxPerIp, 1, '50'],
    ['--max-per-ip', 'LINECHAT_MAX_PER_IP', '1000000', (o) => o.maxPerIp, 1_000_000, '50'],
    ['--linger', 'LINECHAT_LINGER', '0.5', (o) => o.lingerMs, 500, '9'],
    ['--linger', 'LINECHAT_LINGER', '600', (o) => o.lingerMs, 600_000, '9'],
    ['--log-messages', 'LINECHAT_LOG_MESSAGES', 'off', (o) => o.logMessages, false, 'on'],
  ];

  it.each(cases)('%s %s sets it', (flag, _env, value, pick, expected) => {
    expect(pick(start(['start', flag, value]))).toBe(expected);
    expect(pick(start(['start', `${flag}=${value}`]))).toBe(expected);
  });

  it.each(cases)('%s can come from %s (%s)', (_flag, env, value, pick, expected) => {
    expect(pick(start(['start'], { [env]: value }))).toBe(expected);
  });

  it.each(cases)('%s beats %s (%s)', (flag, env, value, pick, expected, other) => {
    expect(pick(start(['start', flag, value], { [env]: other }))).toBe(expected);
    expect(pick(start(['start'], { [env]: other }))).not.toBe(expected);
  });

  it('changes only its own field: every other option keeps its default', () => {
    const options = start(['start', '--flood-rate', '0.5', '--ping-interval', '2']);
    expect(options).toEqual({ ...DEFAULT_OPTIONS, floodRate: 0.5, pingIntervalMs: 2_000 });
  });

  it('reads seconds as decimals and stores whole milliseconds', () => {
    expect(start(['start', '--ping-interval', '0.0504']).pingIntervalMs).toBe(50);
    expect(start(['start', '--ping-timeout', '2.0']).pingTimeoutMs).toBe(2_000);
    expect(start(['start', '--register-timeout', '0.3']).registerTimeoutMs).toBe(300);
    expect(start(['start'], { LINECHAT_PING_TIMEOUT: '1.25' }).pingTimeoutMs).toBe(1_250);
  });

  it.each([
    ['--max-sendq', '4095'],
    ['--max-sendq', String((1 << 30) + 1)],
    ['--max-sendq', '1.5'],
    ['--flood-burst', '0'],
    ['--flood-burst', '1.5'],
    ['--flood-burst', '1000001'],
    ['--flood-rate', '-1'],
    ['--flood-rate', '1e3'],
    ['--flood-rate', '.5'],
    ['--flood-rate', '0.5.1'],
    ['--flood-rate', '1000001'],
    ['--flood-rate', 'Infinity'],
    ['--flood-rate', 'NaN'],
    ['--flood-rate', ''],
    ['--max-input', '65535'],
    ['--max-input', 'lots'],
    ['--ping-interval', '0.04'],
    ['--ping-interval', '0'],
    ['--ping-interval', '86401'],
    ['--ping-interval', '1s'],
    ['--ping-interval', '-5'],
    ['--ping-timeout', '0.049'],
    ['--ping-timeout', ' 1'],
    ['--register-timeout', '0'],
    ['--register-timeout', '1e2'],
    ['--max-connections', '0'],
    ['--max-connections', '2.5'],
    ['--max-per-ip', '0'],
    ['--linger', '0'],
    ['--linger', '601'],
    ['--max-per-ip', '-1'],
  ])('%s %j is rejected with a message naming %s and the value', (flag, value) => {
    const message = failure(['start', `${flag}=${value}`]).message;
    expect(message).toContain(flag);
    if (value !== '') expect(message).toContain(JSON.stringify(value));
  });

  it('rejects a bad hardening value from the environment, naming the variable', () => {
    for (const [env, value] of [
      ['LINECHAT_FLOOD_RATE', 'fast'],
      ['LINECHAT_PING_INTERVAL', '0.01'],
      ['LINECHAT_MAX_PER_IP', '0'],
    ]) {
      const message = failure(['start'], { [env!]: value! }).message;
      expect(message).toContain(env);
      expect(message).toContain(JSON.stringify(value));
    }
  });

  it('requires --max-sendq to hold 4 of the longest server lines, 4 × (--max-line + 512), naming both', () => {
    // The default LINE 2048: at least 4 × 2560 = 10240.
    expect(start(['start', '--max-sendq', '10240']).sendQueue).toBe(10_240);
    const message = failure(['start', '--max-sendq', '10239']).message;
    expect(message).toContain('--max-sendq (10239)');
    expect(message).toContain('--max-line');
    expect(message).toContain('10240');
    // It follows LINE, from a flag or from the environment.
    expect(start(['start', '--max-line', '64', '--max-sendq', '4096']).sendQueue).toBe(4_096);
    expect(failure(['start', '--max-line', '4096', '--max-sendq', '18431']).message).toContain('18432');
    expect(start(['start', '--max-line', '4096', '--max-sendq', '18432']).sendQueue).toBe(18_432);
    expect(failure(['start'], { LINECHAT_MAX_LINE: '8192', LINECHAT_MAX_SENDQ: '20000' }).message).toContain('--max-sendq (20000)');
    // The default sendQueue is checked too.
    const big = failure(['start', '--max-line', String(1 << 20), '--read-cap', String(1 << 21)]).message;
    expect(big).toContain(`--max-sendq (${DEFAULT_OPTIONS.sendQueue})`);
  });

  it('requires --max-input to hold one read of 64 KiB and a line, --max-line + 65536, naming both', () => {
    expect(start(['start', '--max-input', String(2048 + 65_536)]).inputQueue).toBe(2048 + 65_536);
    const message = failure(['start', '--max-input', String(2048 + 65_535)]).message;
    expect(message).toContain(`--max-input (${2048 + 65_535})`);
    expect(message).toContain('--max-line');
    expect(start(['start', '--max-line', '64', '--max-input', '65600']).inputQueue).toBe(65_600);
    // A long LINE needs more than the default input bound.
    const long = ['--max-line', '500000', '--read-cap', '600000', '--max-sendq', '4000000'];
    expect(failure(['start', ...long]).message).toContain(`--max-input (${DEFAULT_OPTIONS.inputQueue})`);
    expect(start(['start', ...long, '--max-input', '565536']).inputQueue).toBe(565_536);
  });
});

describe('parseServerArgs: rooms and history flags and environment', () => {
  const cases: Array<[flag: string, env: string, value: string, pick: (o: ServerOptions) => unknown, expected: unknown, other: string]> = [
    ['--lobby', 'LINECHAT_LOBBY', '#hall', (o) => o.lobby, '#hall', '#other'],
    ['--lobby', 'LINECHAT_LOBBY', '#Main_Hall-2', (o) => o.lobby, '#Main_Hall-2', '#other'],
    ['--lobby', 'LINECHAT_LOBBY', 'none', (o) => o.lobby, undefined, '#other'],
    ['--max-joins', 'LINECHAT_MAX_JOINS', '1', (o) => o.maxJoins, 1, '7'],
    ['--max-joins', 'LINECHAT_MAX_JOINS', '10000', (o) => o.maxJoins, 10_000, '7'],
    ['--max-rooms', 'LINECHAT_MAX_ROOMS', '1', (o) => o.maxRooms, 1, '7'],
    ['--max-rooms', 'LINECHAT_MAX_ROOMS', '10000000', (o) => o.maxRooms, 10_000_000, '7'],
    ['--history', 'LINECHAT_HISTORY', '1', (o) => o.history, 1, '7'],
    ['--history', 'LINECHAT_HISTORY', '1000000000', (o) => o.history, 1_000_000_000, '7'],
    ['--history-memory', 'LINECHAT_HISTORY_MEMORY', '1', (o) => o.historyMemory, 1, '7'],
    ['--history-memory', 'LINECHAT_HISTORY_MEMORY', '100000000', (o) => o.historyMemory, 100_000_000, '7'],
    ['--replay', 'LINECHAT_REPLAY', '0', (o) => o.replay, 0, '7'],
    ['--replay', 'LINECHAT_REPLAY', '500', (o) => o.replay, 500, '7'],
    ['--db', 'LINECHAT_DB', '/var/lib/linechat/chat.db', (o) => o.db, '/var/lib/linechat/chat.db', 'other.db'],
    ['--db', 'LINECHAT_DB', 'relative path.db', (o) => o.db, 'relative path.db', 'other.db'],
    ['--db-sync', 'LINECHAT_DB_SYNC', 'normal', (o) => o.dbSync, 'normal', 'full'],
    ['--db-sync', 'LINECHAT_DB_SYNC', 'full', (o) => o.dbSync, 'full', 'normal'],
  ];

  it.each(cases)('%s %s sets it', (flag, _env, value, pick, expected) => {
    expect(pick(start(['start', flag, value]))).toBe(expected);
    expect(pick(start(['start', `${flag}=${value}`]))).toBe(expected);
  });

  it.each(cases)('%s can come from %s (%s)', (_flag, env, value, pick, expected) => {
    expect(pick(start(['start'], { [env]: value }))).toBe(expected);
  });

  it.each(cases)('%s beats %s (%s)', (flag, env, value, pick, expected, other) => {
    expect(pick(start(['start', flag, value], { [env]: other }))).toBe(expected);
    expect(pick(start(['start'], { [env]: other }))).not.toBe(expected);
  });

  it('changes only its own field: every other option keeps its default', () => {
    expect(start(['start', '--lobby', 'none', '--replay', '3'])).toEqual({ ...DEFAULT_OPTIONS, lobby: undefined, replay: 3 });
    expect(start(['start', '--db', 'x.db', '--history', '0'])).toEqual({ ...DEFAULT_OPTIONS, db: 'x.db', history: 0 });
  });

  it.each([
    ['--lobby', 'lobby'],
    ['--lobby', '#'],
    ['--lobby', '#-x'],
    ['--lobby', '#two words'],
    ['--lobby', '#caf\u00e9'],
    ['--lobby', '#' + 'a'.repeat(32)],
    ['--lobby', 'None'],
    ['--max-joins', '0'],
    ['--max-joins', '10001'],
    ['--max-joins', '1.5'],
    ['--max-rooms', '0'],
    ['--max-rooms', '10000001'],
    ['--history', '-1'],
    ['--history', '1000000001'],
    ['--history', 'all'],
    ['--history-memory', '0'],
    ['--history-memory', '100000001'],
    ['--replay', '-1'],
    ['--replay', 'some'],
    ['--db', ''],
    ['--db-sync', 'off'],
    ['--db-sync', 'FULL'],
    ['--db-sync', ''],
  ])('%s %j is rejected with a message naming %s and the value', (flag, value) => {
    const message = failure(['start', `${flag}=${value}`]).message;
    expect(message).toContain(flag);
    if (value !== '') expect(message).toContain(JSON.stringify(value));
  });

  it('takes a lobby of exactly ROOMLEN characters, # included [ROOM-1]', () => {
    const longest = '#' + 'a'.repeat(31);
    expect(start(['start', '--lobby', longest]).lobby).toBe(longest);
  });

  it('rejects --history 0 (keep everything) without --db, from a flag or the environment: memory must be bounded', () => {
    for (const [argv, env] of [
      [['start', '--history', '0'], {}],
      [['start'], { LINECHAT_HISTORY: '0' }],
      [['start', '--history', '0', '--history-memory', '5'], {}],
    ] as Array<[string[], NodeJS.ProcessEnv]>) {
      const message = failure(argv, env).message;
      expect(message).toContain('--history 0');
      expect(message).toContain('--db');
    }
    expect(start(['start', '--history', '0', '--db', 'chat.db']).history).toBe(0);
    expect(start(['start'], { LINECHAT_HISTORY: '0', LINECHAT_DB: 'chat.db' }).history).toBe(0);
  });

  it('rejects --replay above HISTLIMIT, naming both', () => {
    const message = failure(['start', '--replay', '501']).message;
    expect(message).toContain('--replay');
    expect(message).toContain('HISTLIMIT (500)');
    expect(message).toContain('501');
    expect(failure(['start'], { LINECHAT_REPLAY: '100000' }).message).toContain('--replay');
  });

  it('keeps TOPICLEN within LINE when --max-line is short [LIMIT-6]', () => {
    expect(start(['start', '--max-line', '64']).limits.topicLength).toBe(64);
    expect(start(['start', '--max-line', '299']).limits.topicLength).toBe(299);
    expect(start(['start', '--max-line', '4096', '--read-cap', '8192', '--max-sendq', '20000']).limits.topicLength).toBe(300);
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
    const d = DEFAULT_OPTIONS;
    for (const [flag, env, value] of [
      ['--host', 'LINECHAT_HOST', '127.0.0.1'],
      ['--port', 'LINECHAT_PORT', '4444'],
      ['--server-name', 'LINECHAT_SERVER_NAME', 'linechat'],
      ['--max-line', 'LINECHAT_MAX_LINE', String(DEFAULT_LIMITS.line)],
      ['--read-cap', 'LINECHAT_READ_CAP', String(DEFAULT_LIMITS.readCap)],
      ['--max-name', 'LINECHAT_MAX_NAME', String(DEFAULT_LIMITS.nameLength)],
      ['--max-sendq', 'LINECHAT_MAX_SENDQ', String(d.sendQueue)],
      ['--flood-burst', 'LINECHAT_FLOOD_BURST', String(d.floodBurst)],
      ['--flood-rate', 'LINECHAT_FLOOD_RATE', String(d.floodRate)],
      ['--max-input', 'LINECHAT_MAX_INPUT', String(d.inputQueue)],
      // Durations are shown in seconds, the unit the flags take.
      ['--ping-interval', 'LINECHAT_PING_INTERVAL', String(d.pingIntervalMs / 1000)],
      ['--ping-timeout', 'LINECHAT_PING_TIMEOUT', String(d.pingTimeoutMs / 1000)],
      ['--register-timeout', 'LINECHAT_REGISTER_TIMEOUT', String(d.registerTimeoutMs / 1000)],
      ['--max-connections', 'LINECHAT_MAX_CONNECTIONS', String(d.maxConnections)],
      ['--max-per-ip', 'LINECHAT_MAX_PER_IP', String(d.maxPerIp)],
      ['--linger', 'LINECHAT_LINGER', String(d.lingerMs / 1000)],
      ['--lobby', 'LINECHAT_LOBBY', '#lobby'],
      ['--max-joins', 'LINECHAT_MAX_JOINS', String(d.maxJoins)],
      ['--max-rooms', 'LINECHAT_MAX_ROOMS', String(d.maxRooms)],
      ['--history', 'LINECHAT_HISTORY', String(d.history)],
      ['--history-memory', 'LINECHAT_HISTORY_MEMORY', String(d.historyMemory)],
      ['--replay', 'LINECHAT_REPLAY', String(d.replay)],
      ['--db', 'LINECHAT_DB', 'none'],
      ['--db-sync', 'LINECHAT_DB_SYNC', 'full'],
    ] as const) {
      expect(SERVER_USAGE).toContain(`${flag} `);
      // The default and the variable are on the flag's own entry.
      const entry = SERVER_USAGE.slice(SERVER_USAGE.indexOf(`${flag} `)).split(/\n(?=  --)/)[0]!;
      expect(entry).toContain(`default ${value}; env ${env}`);
    }
    expect(SERVER_USAGE).toContain('--help');
    expect(SERVER_USAGE).toMatch(/^Usage: .*start/);
  });

  it('the usage has an entry for exactly the flags parseServerArgs accepts', () => {
    const flags = [...SERVER_USAGE.matchAll(/^  (--[a-z-]+)/gm)].map((m) => m[1]!);
    expect(flags.sort()).toEqual(
      [
        '--flood-burst',
        '--flood-rate',
        '--help',
        '--host',
        '--linger',
        '--max-connections',
        '--max-input',
        '--max-line',
        '--max-name',
        '--max-per-ip',
        '--max-sendq',
        '--ping-interval',
        '--ping-timeout',
        '--port',
        '--read-cap',
        '--register-timeout',
        '--server-name',
        '--log-messages',
        '--lobby',
        '--max-joins',
        '--max-rooms',
        '--history',
        '--history-memory',
        '--replay',
        '--db',
        '--db-sync',
      ].sort(),
    );
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
    ['--log-messages', 'no'],
    ['--log-messages', 'OFF'],
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
      ...DEFAULT_LIMITS,
      line: 1000,
      readCap: 1001,
    });
  });

  it('checks READCAP against a LINE from the environment, and against the default [LIMIT-4]', () => {
    expect(failure(['start'], { LINECHAT_MAX_LINE: '20000' }).message).toContain('--read-cap (16384)');
    expect(failure(['start', '--read-cap', '2048']).message).toContain('--max-line (2048)');
  });
});
