/**
 * The server's command line: --help, and bad option values, which must give
 * a clear error naming the option and exit code 2 without starting. These
 * run our own program, so they are skipped in conformance mode.
 */
import { describe, expect } from 'vitest';
import { runServerCli } from '../support/server-process.ts';
import { itOwnServer } from '../support/target.ts';

const OPTIONS = [
  '--host',
  '--port',
  '--server-name',
  '--max-line',
  '--read-cap',
  '--max-name',
  '--lobby',
  '--max-joins',
  '--max-rooms',
  '--history',
  '--history-memory',
  '--replay',
  '--db',
  '--db-sync',
];

describe.concurrent('server command line', () => {
  for (const flag of ['--help', '-h']) {
    itOwnServer(`${flag} prints the usage with every option and exits 0 without starting`, async () => {
      const run = await runServerCli([flag]);
      expect(run.code).toBe(0);
      for (const option of OPTIONS) expect(run.stdout).toContain(option);
      expect(run.stdout).not.toMatch(/Server started/);
      expect(run.stderr).toBe('');
    });
  }

  const bad: Array<[string, string[], RegExp, NodeJS.ProcessEnv?]> = [
    ['a port that is not a number', ['start', '--port', 'abc'], /--port/],
    ['a port above 65535', ['start', '--port', '70000'], /--port/],
    ['a negative port', ['start', '--port=-1'], /--port/],
    ['a fractional port', ['start', '--port', '1.5'], /--port/],
    ['--port without a value', ['start', '--port'], /--port/],
    ['a zero --max-line', ['start', '--max-line', '0'], /--max-line/],
    ['a --max-line that is not a number', ['start', '--max-line', 'lots'], /--max-line/],
    ['[LIMIT-4] a --read-cap not greater than --max-line', ['start', '--max-line', '100', '--read-cap', '100'], /--read-cap/],
    ['a zero --max-name', ['start', '--max-name', '0'], /--max-name/],
    ['a --server-name with a space', ['start', '--server-name', 'has space'], /--server-name/],
    ['an empty --host', ['start', '--host', ''], /--host/],
    ['an unknown option', ['start', '--bogus'], /--bogus/],
    ['no command', [], /start/],
    ['an unknown command', ['launch'], /launch|start/],
    ['a bad value in the environment', ['start'], /LINECHAT_PORT/, { LINECHAT_PORT: 'abc' }],
    ['[ROOM-1] a --lobby that is not a room name', ['start', '--lobby', 'lobby'], /--lobby/],
    ['a zero --max-joins', ['start', '--max-joins', '0'], /--max-joins/],
    ['a zero --max-rooms', ['start', '--max-rooms', '0'], /--max-rooms/],
    ['--history 0 without --db (history in memory must be bounded)', ['start', '--history', '0'], /--history 0.*--db/],
    ['LINECHAT_HISTORY=0 without a database', ['start'], /--history 0.*--db/, { LINECHAT_HISTORY: '0' }],
    ['a --replay above HISTLIMIT', ['start', '--replay', '501'], /--replay/],
    ['a --db-sync that is neither full nor normal', ['start', '--db-sync', 'off'], /--db-sync/],
    ['an empty --db', ['start', '--db', ''], /--db/],
  ];
  for (const [what, args, names, env] of bad) {
    itOwnServer(`${what} gives a clear error naming it and exit code 2, without starting`, async () => {
      const run = await runServerCli(args, env === undefined ? {} : { env });
      expect(run.signal).toBeNull();
      expect(run.code, run.stderr).toBe(2);
      const first = run.stderr.split('\n')[0]!;
      expect(first).toMatch(names);
      expect(run.stderr).not.toMatch(/^\s+at /m);
      expect(run.stdout).not.toMatch(/Server started/);
    });
  }
});
