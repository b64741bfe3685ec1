/**
 * The terminal side of the client: reads what the user types, shows what the
 * connection reports.
 *
 * Interactive (stdin and stdout are terminals): a readline prompt `You: `.
 * Lines arriving while the user types are printed above the prompt, and the
 * half-typed line is redrawn below them. The line readline echoed on Enter is
 * erased, because an own message is shown only when its ECHO arrives
 * ([CLIENT-2]); showing both would print it twice.
 *
 * Piped: no prompt and no escape sequences; one output line per event. At
 * end of input the client waits until the server has answered everything
 * sent, then quits, so `printf 'hi\n' | linechat` delivers "hi" for sure.
 *
 * Input stays open while the supervisor reconnects: what is typed then is
 * queued by the supervisor, and this side only shows what it reports.
 */
import { clearScreenDown, createInterface, cursorTo, moveCursor, type Interface } from 'node:readline';
import { stripVTControlCharacters } from 'node:util';
import { nameProblem } from '../protocol/names.ts';
import type { SessionEvent } from './events.ts';
import { CONNECTED_LINES, echoedRows, formatSessionEvent } from './format.ts';
import { HELP_LINES, interpret, type Action } from './input.ts';
import type { ChatSupervisor } from './reconnect.ts';
import { sanitize } from './sanitize.ts';

export const PROMPT = 'You: ';

export interface TerminalIO {
  readonly input: NodeJS.ReadableStream;
  readonly output: NodeJS.WritableStream & { readonly columns?: number };
  /** Prompt and cursor control; only when both ends are terminals. */
  readonly interactive: boolean;
}

export class ChatTerminal {
  readonly #client: ChatSupervisor;
  readonly #io: TerminalIO;
  #rl: Interface | undefined;
  /** The prompt is on screen, so printing must go above it. */
  #prompting = false;
  #leaving = false;
  #finished = false;
  #resolveDone!: (code: number) => void;
  readonly #done: Promise<number>;

  constructor(client: ChatSupervisor, io: TerminalIO) {
    this.#client = client;
    this.#io = io;
    this.#done = new Promise((resolve) => (this.#resolveDone = resolve));
    client.subscribe((event) => this.#onEvent(event));
  }

  /**
   * Runs until the session ends; resolves with the exit code: 0 after the
   * user left with every message acknowledged, 1 when the server went away
   * for good or some message may not have arrived.
   */
  run(): Promise<number> {
    this.#print(CONNECTED_LINES);
    return this.#done;
  }

  /** Leaves as the user asked: QUIT, then wait (bounded) for BYE. A second call closes at once. */
  leave(reason = ''): void {
    if (this.#finished) return;
    if (this.#leaving) {
      this.#client.close();
      return;
    }
    this.#leaving = true;
    this.#stopInput();
    this.#client.quit(reason);
  }

  #onEvent(event: SessionEvent): void {
    this.#print(formatSessionEvent(event));
    if (event.type === 'ready') this.#startInput();
    else if (event.type === 'ended') this.#finish(event.left && event.undelivered === 0 ? 0 : 1);
  }

  #startInput(): void {
    if (this.#rl !== undefined || this.#leaving || this.#finished) return;
    const { input, output, interactive } = this.#io;
    const rl = interactive
      ? createInterface({ input, output, prompt: PROMPT, terminal: true, historySize: 100 })
      : createInterface({ input, terminal: false, crlfDelay: Infinity });
    this.#rl = rl;
    rl.on('line', (line) => {
      if (interactive) this.#eraseEcho(line);
      this.#act(interpret(line));
      if (interactive && !this.#leaving && !this.#finished) rl.prompt(true);
    });
    // Ctrl+C in raw mode arrives here, not as a process signal.
    rl.on('SIGINT', () => this.leave());
    rl.on('close', () => {
      if (this.#rl === undefined) return; // closed by #stopInput, which tidied up
      if (this.#prompting) this.#clearInputRows(rl.getCursorPos().rows);
      this.#rl = undefined;
      this.#prompting = false;
      if (this.#leaving || this.#finished) return;
      // End of input (Ctrl+D, or the end of a pipe): deliver, then quit.
      this.#leaving = true;
      this.#client.endOfInput();
    });
    if (interactive) {
      rl.prompt();
      this.#prompting = true;
    }
  }

  #stopInput(): void {
    const rl = this.#rl;
    if (rl === undefined) return;
    if (this.#prompting) this.#clearInputRows(rl.getCursorPos().rows);
    this.#prompting = false;
    this.#rl = undefined;
    rl.close();
  }

  #act(action: Action): void {
    if (this.#leaving || this.#finished) return;
    const client = this.#client;
    switch (action.kind) {
      case 'nothing':
        return;
      case 'say':
        // Sent, or queued while disconnected; the supervisor reports which.
        return client.say(action.text);
      case 'quit':
        return this.leave(action.reason);
      case 'nick': {
        const problem = nameProblem(action.name, client.nameLimit);
        if (problem !== undefined) return this.#print([`! ${problem}`]);
        const outcome = client.nick(action.name);
        if (outcome === 'same') this.#print([`* You are already ${sanitize(action.name)}`]);
        else if (outcome === 'offline') this.#print([notConnected('/nick')]);
        return;
      }
      case 'who':
        if (!client.who()) this.#print([notConnected('/who')]);
        return;
      case 'help':
        return this.#print(HELP_LINES);
      case 'usage':
        return this.#print([`! Usage: ${action.usage}`]);
      case 'unknown':
        return this.#print([
          `! Unknown command ${sanitize(action.command)}; nothing was sent.`,
          ...HELP_LINES,
        ]);
    }
  }

  /**
   * Prints whole lines. With the prompt on screen, the input rows are
   * cleared first and redrawn after, so the user's half-typed text and
   * cursor survive a message arriving mid-word.
   */
  #print(lines: readonly string[]): void {
    if (lines.length === 0) return;
    const text = lines.map((line) => line + '\n').join('');
    const rl = this.#rl;
    if (!this.#prompting || rl === undefined) {
      this.#io.output.write(text);
      return;
    }
    const rows = rl.getCursorPos().rows;
    this.#clearInputRows(rows);
    // readline's redraw first moves up by the row it last drew the cursor
    // on (`prevRows`); the blank rows give it room to do so without climbing
    // into our text. That count is not always the cursor's real row (after a
    // paste that wrapped it can still be 0), so it is read, not assumed.
    const climb = (rl as unknown as { prevRows?: unknown }).prevRows;
    this.#io.output.write(text + '\n'.repeat(typeof climb === 'number' && climb >= 0 ? climb : rows));
    rl.prompt(true);
  }

  #clearInputRows(cursorRow: number): void {
    const output = this.#io.output;
    if (cursorRow > 0) moveCursor(output, 0, -cursorRow);
    cursorTo(output, 0);
    clearScreenDown(output);
  }

  /** Erases the prompt and line readline left on screen when Enter was pressed. */
  #eraseEcho(line: string): void {
    const rows = echoedRows(PROMPT + stripVTControlCharacters(line), this.#io.output.columns ?? Infinity);
    moveCursor(this.#io.output, 0, -rows);
    cursorTo(this.#io.output, 0);
    clearScreenDown(this.#io.output);
  }

  #finish(code: number): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#stopInput();
    this.#resolveDone(code);
  }
}

/** Commands are not queued: a /who answered minutes later, or a rename into a changed room, would mislead. */
function notConnected(command: string): string {
  return `! Not connected; ${command} was not sent. Try again when the connection is back.`;
}
