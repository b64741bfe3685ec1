/**
 * The real client in a real terminal: tmux runs `src/client.ts` in a
 * detached session of a fixed size (100×30, TZ=UTC, LANG=C.UTF-8, colour
 * on), the test types with `send-keys` and reads the screen with
 * `capture-pane`. Every wait polls the screen until what is expected is
 * there, with a deadline; nothing sleeps for a fixed time. Each test has its
 * own tmux server (`-L`), killed in teardown whatever happened.
 *
 * Skipped when tmux is not installed.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { CLIENT_ENTRY } from '../support/server-process.ts';
import { ClientPool, uniqueName, type LineClient } from '../support/line-client.ts';
import { openTarget, type Target } from '../support/target.ts';
import { displayWidth } from '../../src/client/width.ts';

const run = promisify(execFile);
const HAS_TMUX = spawnSync('tmux', ['-V']).status === 0;
const TIMEOUT = 30_000;
const WAIT_MS = 10_000;
const POLL_MS = 25;
const COLUMNS = 100;
const ROWS = 30;

/** Single quotes for sh. */
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** One tmux server with one session running the client. */
class Terminal {
  readonly socket = `linechat-${process.pid}-${uniqueName('t')}`;
  #started = false;

  async tmux(...args: string[]): Promise<string> {
    const { stdout } = await run('tmux', ['-L', this.socket, ...args], { encoding: 'utf8' });
    return stdout;
  }

  /** Starts the client in a detached session; the pane stays after it exits, so a crash can be read. */
  async start(clientArgs: readonly string[]): Promise<void> {
    const env = ['TZ=UTC', 'LANG=C.UTF-8', 'LC_ALL=C.UTF-8', 'TERM=tmux-256color', 'NO_COLOR=', 'FORCE_COLOR=', 'LINECHAT_NO_COLOR='];
    const command = ['env', ...env, process.execPath, '--import', 'tsx', CLIENT_ENTRY, ...clientArgs].map(quote).join(' ');
    this.#started = true;
    await this.tmux('new-session', '-d', '-x', String(COLUMNS), '-y', String(ROWS), '-s', 'chat', '-c', process.cwd(), command, ';', 'set-option', '-t', 'chat', 'remain-on-exit', 'on');
  }

  /** Keys by tmux name (`Enter`, `Tab`, `C-u`). */
  async keys(...keys: string[]): Promise<void> {
    await this.tmux('send-keys', '-t', 'chat', ...keys);
  }

  /** Text typed as it is. */
  async type(text: string): Promise<void> {
    await this.tmux('send-keys', '-t', 'chat', '-l', text);
  }

  /** The screen's rows, trailing spaces trimmed. */
  async screen(): Promise<string[]> {
    return (await this.tmux('capture-pane', '-p', '-t', 'chat')).replace(/\n$/, '').split('\n');
  }

  /** Whether the client rang the terminal bell (tmux keeps a flag per window). */
  async bell(): Promise<boolean> {
    return (await this.tmux('display-message', '-p', '-t', 'chat', '#{window_bell_flag}')).trim() === '1';
  }

  async cursor(): Promise<{ x: number; y: number }> {
    const [x, y] = (await this.tmux('display-message', '-p', '-t', 'chat', '#{cursor_x} #{cursor_y}')).trim().split(' ').map(Number);
    return { x: x!, y: y! };
  }

  /** Polls the screen until `test` holds, or fails with the screen as it last was. */
  async waitFor(what: string, test: (rows: string[]) => boolean, timeoutMs = WAIT_MS): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const rows = await this.screen();
      if (test(rows)) return rows;
      if (Date.now() > deadline) throw new Error(`screen never showed ${what} within ${timeoutMs} ms:\n${rows.join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  /** Waits until the last row with text (the input line) is exactly `line`. */
  waitForInput(line: string): Promise<string[]> {
    return this.waitFor(`the input line ${JSON.stringify(line)}`, (rows) => lastRow(rows) === line);
  }

  async kill(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    await this.tmux('kill-server').catch(() => {});
  }
}

function lastRow(rows: readonly string[]): string | undefined {
  for (let i = rows.length - 1; i >= 0; i--) if (rows[i] !== '') return rows[i];
  return undefined;
}

const STAMP = /^\[\d\d:\d\d\] /;
/** Rows that read `[HH:MM] <body>`. */
const chatRows = (rows: readonly string[], body: string) => rows.filter((r) => STAMP.test(r) && r.replace(STAMP, '') === body);

let target: Target;
let pool: ClientPool;
const terminals: Terminal[] = [];

beforeAll(async () => {
  if (!HAS_TMUX) return;
  target = await openTarget();
  pool = new ClientPool(() => target);
}, TIMEOUT);

afterEach(async () => {
  await Promise.all(terminals.splice(0).map((t) => t.kill()));
  await pool?.closeAll();
});

afterAll(async () => {
  await target?.close();
});

/** The client in tmux, registered as a fresh name, its prompt on screen. */
async function client(): Promise<{ term: Terminal; name: string }> {
  const term = new Terminal();
  terminals.push(term);
  const name = uniqueName('a');
  await term.start(['--host', target.host, '--port', String(target.port), '--name', name]);
  await term.waitFor('the lobby prompt', (rows) => rows.some((r) => r.startsWith(`You are ${name}.`)) && lastRow(rows) === '#lobby>');
  return { term, name };
}

async function saysInLobby(peer: LineClient, text: string): Promise<void> {
  await saysIn(peer, '#lobby', text);
}

async function saysIn(peer: LineClient, room: string, text: string): Promise<void> {
  peer.send(`SAY ${room} :${text}`);
  await peer.expect('ECHO');
}

describe.skipIf(!HAS_TMUX)(`the client in a terminal (tmux ${COLUMNS}×${ROWS})`, () => {
  it('[CLIENT-2] a message arriving mid-line is printed above the prompt and the half-typed line survives; Enter sends it once', async () => {
    const { term, name } = await client();
    await term.type('hello wor');
    await term.waitForInput('#lobby> hello wor');
    const bob = await pool.user();
    await saysInLobby(bob, 'incoming while you type');
    const rows = await term.waitFor('the message', (r) => chatRows(r, `${bob.name}: incoming while you type`).length === 1);
    expect(lastRow(rows)).toBe('#lobby> hello wor');
    const message = rows.findIndex((r) => r.endsWith(`${bob.name}: incoming while you type`));
    expect(message).toBeLessThan(rows.lastIndexOf('#lobby> hello wor'));
    expect((await term.cursor()).x).toBe('#lobby> hello wor'.length);

    await term.type('ld');
    await term.keys('Enter');
    const said = await bob.expect((m) => m.command === 'MSG' && m.params[3] === name);
    expect(said.params.slice(4)).toEqual(['#lobby', 'say', 'hello world']);
    const after = await term.waitFor('the own line', (r) => chatRows(r, 'You: hello world').length === 1 && lastRow(r) === '#lobby>');
    // The echo readline drew on Enter was erased: the text is on screen once.
    expect(after.filter((r) => r.includes('hello world'))).toHaveLength(1);

    // A line ending a few columns short of the edge: erasing its echo must
    // measure the prompt without its colour codes, or it erases a row too many.
    await saysInLobby(bob, 'the row above');
    await term.waitFor('the row above', (r) => chatRows(r, `${bob.name}: the row above`).length === 1);
    const nearlyFull = 'y'.repeat(COLUMNS - '#lobby> '.length - 3);
    await term.type(nearlyFull);
    await term.waitForInput(`#lobby> ${nearlyFull}`);
    await term.keys('Enter');
    const final = await term.waitFor('the long own line', (r) => r.some((row) => row.startsWith('[') && row.includes('You: yyy')) && lastRow(r) === '#lobby>');
    expect(chatRows(final, `${bob.name}: the row above`)).toHaveLength(1);
    expect(chatRows(final, 'You: hello world')).toHaveLength(1);
  }, TIMEOUT);

  it('completes a command with Tab, then a user name, then a room', async () => {
    const bob = await pool.user(uniqueName('zq'));
    const { term } = await client();
    await term.type('/jo');
    await term.keys('Tab');
    await term.waitForInput('#lobby> /join');
    expect((await term.cursor()).x).toBe('#lobby> /join '.length);
    await term.type('#lob');
    await term.keys('Tab');
    await term.waitForInput('#lobby> /join #lobby');
    await term.keys('C-u');
    await term.waitForInput('#lobby>');
    // The first word of a message: the name, addressed.
    await term.type(bob.name!.slice(0, 4));
    await term.keys('Tab');
    await term.waitForInput(`#lobby> ${bob.name}:`);
    await term.type('hi');
    await term.keys('Enter');
    expect((await bob.expect('MSG')).params[6]).toBe(`${bob.name}: hi`);
  }, TIMEOUT);

  it('[MARKUP-5] shows emoji (from :shortcodes: and ZWJ sequences), and typing emoji keeps the input line and cursor right, wrapped lines too', async () => {
    const { term, name } = await client();
    const bob = await pool.user();
    await saysInLobby(bob, 'party :tada: with the 👩‍👩‍👧 family');
    await term.waitFor('the emoji', (r) => chatRows(r, `${bob.name}: party 🎉 with the 👩‍👩‍👧 family`).length === 1);

    await term.type('🎉 yay');
    await term.waitForInput('#lobby> 🎉 yay');
    await saysInLobby(bob, 'more while you type 👍');
    const rows = await term.waitFor('the second message', (r) => chatRows(r, `${bob.name}: more while you type 👍`).length === 1);
    expect(lastRow(rows)).toBe('#lobby> 🎉 yay');
    await term.type(' and more');
    await term.waitForInput('#lobby> 🎉 yay and more');
    expect((await term.cursor()).x).toBe(displayWidth('#lobby> 🎉 yay and more'));

    // A line that wraps, with a wide character at the edge: both rows survive a message.
    await term.keys('C-u');
    const long = 'x'.repeat(COLUMNS - '#lobby> '.length - 1) + '日本 end';
    await term.type(long);
    await term.waitFor('the wrapped input', (r) => r.at(-1) !== undefined && lastRow(r) === '日本 end');
    await saysInLobby(bob, 'third');
    const wrapped = await term.waitFor('the third message', (r) => chatRows(r, `${bob.name}: third`).length === 1);
    const inputRow = wrapped.lastIndexOf('日本 end');
    expect(wrapped[inputRow - 1]).toBe(`#lobby> ${'x'.repeat(COLUMNS - '#lobby> '.length - 1)}`);
    await term.keys('C-u');
    await term.type('🎉 sent');
    await term.keys('Enter');
    expect((await bob.expect((m) => m.command === 'MSG' && m.params[3] === name)).params[6]).toBe('🎉 sent');
    const after = await term.waitFor('the own line', (r) => chatRows(r, 'You: 🎉 sent').length === 1 && lastRow(r) === '#lobby>');
    expect(after.filter((r) => r.includes('🎉 sent'))).toHaveLength(1);
    expect(after.filter((r) => r.includes('日本 end'))).toHaveLength(0);
  }, TIMEOUT);

  it('[ROOM-3] [CLIENT-13] /join puts the room in the prompt; a live mention rings the bell, the same words in the replay do not', async () => {
    const { term, name } = await client();
    const bob = await pool.user();
    const room = `#${uniqueName('t')}`;
    bob.send(`JOIN ${room}`);
    await bob.joined(room);
    bob.send(`SAY ${room} :earlier, ${name} was mentioned`);
    await bob.expect('ECHO');
    await term.type(`/join ${room}`);
    await term.keys('Enter');
    await term.waitFor('the replay and the room prompt', (r) => chatRows(r, `(history) ${room} ${bob.name}: earlier, ${name} was mentioned`).length === 1 && lastRow(r) === `${room}>`);
    await saysIn(bob, room, 'nothing for you here');
    await term.waitFor('a plain message', (r) => chatRows(r, `${room} ${bob.name}: nothing for you here`).length === 1);
    expect(await term.bell()).toBe(false);
    await saysIn(bob, room, `hey ${name.toUpperCase()}, welcome`);
    await term.waitFor('the mention', (r) => chatRows(r, `${room} ${bob.name}: hey ${name.toUpperCase()}, welcome`).length === 1 && lastRow(r) === `${room}>`);
    expect(await term.bell()).toBe(true);
  }, TIMEOUT);
});
