/**
 * Terminal styles for the client's own UI: one `Style` object that is either
 * ANSI or plain, so callers never branch on whether colour is on.
 *
 * The functions only add SGR sequences around their input; they do not
 * sanitise it. Received text must already have been through `sanitize` or
 * `renderMarkup` ([CLIENT-1]).
 *
 * SGR has no stack: `ESC[22m` ends bold whoever turned it on, and ends dim
 * too. So each function re-opens its own attribute after every reset of it
 * found inside its input (as chalk does), and styles nest: a bold span from
 * `renderMarkup` inside `history()` ends the bold and the line stays dim, and
 * a coloured `name()` inside `private()` gives the line its magenta back.
 *
 * Choices, for 16-colour terminals on dark and light themes alike:
 * - `name`: one of eight foreground colours, chosen by a hash of the folded
 *   name so that a person keeps their colour across runs and renames that
 *   only change case. Black, white and grey vanish on one theme or the
 *   other; red is kept for errors and magenta for private messages.
 * - `own`: bold in the default colour, so your name never looks like
 *   someone else's colour.
 * - `notice`, `time`: dim, to recede behind conversation.
 * - `error`: red.
 * - `mention`: bold reverse video, which stands out on every theme and keeps
 *   a coloured name inside it readable (the colour becomes the background).
 * - `room`: bold; rooms are few and read as headings.
 * - `private`: magenta.
 * - `history`: dim, so replayed messages read as older than live ones.
 *   Not italic: italic is markup's `_italic_`, which would then vanish.
 */
import { foldName } from '../protocol/names.ts';

export interface Style {
  readonly color: boolean;
  /** A user's name in the colour that name always gets. */
  name(name: string): string;
  own(text: string): string;
  notice(text: string): string;
  error(text: string): string;
  mention(text: string): string;
  time(text: string): string;
  room(text: string): string;
  private(text: string): string;
  history(text: string): string;
}

/** An SGR attribute: the parameter that turns it on and the one that turns it off. */
type Attribute = readonly [on: number, off: number];

const BOLD: Attribute = [1, 22];
const DIM: Attribute = [2, 22];
const REVERSE: Attribute = [7, 27];
const RED: Attribute = [31, 39];
const MAGENTA: Attribute = [35, 39];

/** Green, yellow, blue, cyan and their bright forms. */
export const NAME_COLORS: readonly number[] = [32, 33, 34, 36, 92, 93, 94, 96];

function paint(...attributes: Attribute[]): (text: string) => string {
  return (text) =>
    attributes.reduceRight((inner, [on, off]) => {
      const open = `\x1b[${on}m`;
      const close = `\x1b[${off}m`;
      return open + inner.replaceAll(close, close + open) + close;
    }, text);
}

/** FNV-1a over the UTF-16 code units: small, and the same on every run. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The SGR foreground colour `name` is always shown in. */
export function nameColor(name: string): number {
  return NAME_COLORS[hash(foldName(name)) % NAME_COLORS.length]!;
}

const same = (text: string): string => text;

const PLAIN: Style = Object.freeze({
  color: false,
  name: same,
  own: same,
  notice: same,
  error: same,
  mention: same,
  time: same,
  room: same,
  private: same,
  history: same,
});

const ANSI: Style = Object.freeze({
  color: true,
  name: (name: string) => paint([nameColor(name), 39])(name),
  own: paint(BOLD),
  notice: paint(DIM),
  error: paint(RED),
  mention: paint(BOLD, REVERSE),
  time: paint(DIM),
  room: paint(BOLD),
  private: paint(MAGENTA),
  history: paint(DIM),
});

export function createStyle(options: { readonly color: boolean }): Style {
  return options.color ? ANSI : PLAIN;
}

export interface ColorContext {
  /** Whether the output is a terminal. */
  readonly isTTY: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** `--color` (true), `--no-color` (false), or neither given (undefined). */
  readonly flag: boolean | undefined;
}

/**
 * Whether to colour output. The first of these that has a say decides:
 * 1. the command-line flag;
 * 2. `NO_COLOR` set and not empty turns colour off (https://no-color.org);
 * 3. `FORCE_COLOR` set and not empty turns it on, even into a pipe, except
 *    that `0` and `false` turn it off, as in Node and chalk;
 * 4. `TERM=dumb` turns it off: such a terminal prints escapes literally;
 * 5. otherwise colour is on exactly when the output is a terminal.
 */
export function colorEnabled({ isTTY, env, flag }: ColorContext): boolean {
  if (flag !== undefined) return flag;
  if (nonEmpty(env.NO_COLOR)) return false;
  const force = env.FORCE_COLOR;
  if (nonEmpty(force)) return force !== '0' && force !== 'false';
  if (env.TERM === 'dumb') return false;
  return isTTY;
}

function nonEmpty(value: string | undefined): value is string {
  return value !== undefined && value !== '';
}
