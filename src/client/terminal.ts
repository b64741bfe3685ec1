/**
 * The terminal side of the client: reads what the user types, shows what
 * the session reports. What a line or an event means is the view's
 * business (chat-view.ts); this file moves text between it and readline.
 *
 * Interactive (stdin and stdout are terminals): a readline prompt naming
 * the active room or conversation (`#lobby> `), tab completion, and the
 * bell for a mention. Lines arriving while the user types are printed above
 * the prompt, and the half-typed line is redrawn below them. The line
 * readline echoed on Enter is erased, because an own message is shown only
 * when its ECHO arrives ([CLIENT-2]); showing both would print it twice.
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
import { ChatView } from './chat-view.ts';
import type { SessionEvent } from './events.ts';
import { CONNECTED_LINES, type Render } from './format.ts';
import { interpret } from './input.ts';
import type { ChatSupervisor } from './reconnect.ts';
import { echoedRows } from './width.ts';

const BELL = '\u0007';

export interface TerminalIO {
  readonly input: NodeJS.ReadableStream;
  readonly output: NodeJS.WritableStream & { readonly columns?: number };
  /** Prompt and cursor control; only when both ends are terminals. */
  readonly interactive: boolean;
  /** Colours, markup and the clock. */
  readonly render: Render;
  /** Shortcode names, for completion. */
  readonly emoji?: readonly string[];
}

export class ChatTerminal {
  readonly #client: ChatSupervisor;
  readonly #io: TerminalIO;
  readonly #view: ChatView;
  #rl: Interface | undefined;
  /** The prompt is on screen, so printing must go above it. */
  #prompting = false;
  /** The prompt readline was last given. */
  #prompt = '';
  #leaving = false;
  #finished = false;
  #resolveDone!: (code: number) => void;
  readonly #done: Promise<number>;

  constructor(client: ChatSupervisor, io: TerminalIO) {
    this.#client = client;
    this.#io = io;
    this.#view = new ChatView(client, io.render, { interactive: io.interactive, emoji: io.emoji });
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
    const { lines, bell } = this.#view.onEvent(event);
    this.#print(lines, bell);
    if (event.type === 'ready') this.#startInput();
    else if (event.type === 'ended') this.#finish(event.left && event.undelivered === 0 ? 0 : 1);
  }

  #startInput(): void {
    if (this.#rl !== undefined || this.#leaving || this.#finished) return;
    const { input, output, interactive } = this.#io;
    this.#prompt = this.#view.prompt;
    const rl = interactive
      ? createInterface({
          input,
          output,
          prompt: this.#prompt,
          terminal: true,
          historySize: 100,
          completer: (line: string) => this.#view.complete(line),
        })
      : createInterface({ input, terminal: false, crlfDelay: Infinity });
    this.#rl = rl;
    rl.on('line', (line) => {
      if (interactive) {
        this.#eraseEcho(line);
        // The prompt is off screen until it is drawn again below, so what
        // the command reports (even at once, like "queued") prints plainly.
        this.#prompting = false;
      }
      const action = interpret(line);
      if (action.kind === 'quit') return this.leave(action.reason);
      if (this.#leaving || this.#finished) return;
      const lines = this.#view.act(action);
      if (!interactive) return this.#print(lines);
      this.#io.output.write(lines.map((l) => l + '\n').join(''));
      this.#prompt = this.#view.prompt;
      rl.setPrompt(this.#prompt);
      rl.prompt(true);
      this.#prompting = true;
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

  /**
   * Prints whole lines. With the prompt on screen, the input rows are
   * cleared first and redrawn after, so the user's half-typed text and
   * cursor survive a message arriving mid-word; the prompt changes here too
   * when the active target did.
   */
  #print(lines: readonly string[], bell = false): void {
    const rl = this.#rl;
    const prompt = this.#view.prompt;
    if (lines.length === 0 && (prompt === this.#prompt || rl === undefined)) return;
    const text = lines.map((line) => line + '\n').join('') + (bell && this.#io.interactive ? BELL : '');
    if (!this.#prompting || rl === undefined) {
      this.#io.output.write(text);
      return;
    }
    // Rows are counted with the prompt that is on screen, before it changes.
    const rows = rl.getCursorPos().rows;
    this.#clearInputRows(rows);
    // readline's redraw first moves up by the row it last drew the cursor
    // on (`prevRows`); the blank rows give it room to do so without climbing
    // into our text. That count is not always the cursor's real row (after a
    // paste that wrapped it can still be 0), so it is read, not assumed.
    const climb = (rl as unknown as { prevRows?: unknown }).prevRows;
    this.#io.output.write(text + '\n'.repeat(typeof climb === 'number' && climb >= 0 ? climb : rows));
    if (prompt !== this.#prompt) {
      this.#prompt = prompt;
      rl.setPrompt(prompt);
    }
    rl.prompt(true);
  }

  #clearInputRows(cursorRow: number): void {
    const output = this.#io.output;
    if (cursorRow > 0) moveCursor(output, 0, -cursorRow);
    cursorTo(output, 0);
    clearScreenDown(output);
  }

  /**
   * Erases the prompt and line readline left on screen when Enter was
   * pressed. readline measures the prompt without its colour codes, and so
   * does this.
   */
  #eraseEcho(line: string): void {
    const shown = stripVTControlCharacters(this.#prompt) + stripVTControlCharacters(line);
    const rows = echoedRows(shown, this.#io.output.columns ?? Infinity);
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
