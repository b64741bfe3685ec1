/**
 * Inline markup in message text: how the client shows `*bold*`, `_italic_`,
 * `` `code` `` and `:shortcode:`. The wire carries the text exactly as typed;
 * markup is only a way of showing it.
 *
 * - [MARKUP-1] Markup is how a client shows message text; it is not part of
 *   the protocol, and a server relays text unchanged. A client that shows
 *   text without styles MUST show every character as typed, delimiters and
 *   backslashes included, after [CLIENT-1]; the one change it may make is
 *   showing known shortcodes as emoji ([MARKUP-5]).
 * - [MARKUP-2] `*` marks bold, `_` italic and `` ` `` code. One of these is an
 *   opening delimiter when it is at the start of the text or after a
 *   character that is not a letter, digit or combining mark (\p{L}, \p{N},
 *   \p{M}), and is followed by a character that is not white space
 *   (\p{White_Space}). It is a closing delimiter when it is preceded by a
 *   character that is not white space, and followed by the end of the text or
 *   by a character that is not a letter, digit or combining mark. Two or more
 *   of the same delimiter character in a row (`**`, `__`, ``` `` ```) are
 *   never delimiters; an escaped one ([MARKUP-4]) does not count towards a
 *   row. So `snake_case_name`, `2*3*4`, `a * b * c` and `**x**` stay literal.
 * - [MARKUP-3] The text is read twice. The first pass goes left to right and
 *   takes, at each point, the first that applies: an escape ([MARKUP-4]); a
 *   code span, from an opening backtick to the nearest closing backtick
 *   after it, whose content is shown literally (no bold, italic, escapes or
 *   shortcodes inside); a known shortcode ([MARKUP-5]); else one character.
 *   The second pass finds bold and italic among the characters the first
 *   left, left to right: an opener pairs with the nearest closer of the same
 *   character after it that lies inside the same enclosing span (escapes,
 *   code spans and shortcodes are never delimiters). A delimiter that does
 *   not pair is literal text. Bold and italic nest inside each other
 *   (`*bold _both_*`) and may contain code spans and shortcodes.
 * - [MARKUP-4] Outside code spans, a backslash before `*`, `_`, `` ` `` or
 *   `:` makes that character literal and is itself not shown (`\*`, `\_`,
 *   `` \` ``, `\:`). Any other backslash is literal, so `\\server\share`
 *   shows as typed.
 * - [MARKUP-5] Outside code spans, `:name:`, where name is 1–32 characters
 *   from `a-z 0-9 _ + -` and the first colon is not escaped, is a shortcode.
 *   A known name (src/client/emoji.ts: gemoji names and some Slack ones)
 *   shows as its emoji, so its characters are never bold or italic
 *   delimiters. An unknown name is left as typed, and its closing colon may
 *   open the next shortcode (`:notanemoji:` stays as it is; `12:30:smile:`
 *   shows as 12:30😄).
 * - [MARKUP-6] A known shortcode followed at once by `:skin-tone-N:`, N from
 *   2 to 6, shows its emoji with the skin-tone modifier U+1F3FB + (N − 2)
 *   placed right after the emoji's first Emoji_Modifier_Base code point
 *   (replacing a VS16 that follows it), provided the result is an RGI emoji
 *   (`:wave::skin-tone-3:` → 👋🏼, `:point_up::skin-tone-4:` → ☝🏽). Otherwise
 *   `:skin-tone-N:` is an ordinary, unknown shortcode, shown as typed
 *   (`:family::skin-tone-3:` → 👪:skin-tone-3:).
 * - [MARKUP-7] A client that styles markup MUST pass all text it shows
 *   through [CLIENT-1], MUST emit no control sequence but the SGR styles of
 *   its markup, and MUST close every style it opened before the end of the
 *   message, so that no message can leave the terminal styled.
 *
 * Styles: bold is SGR 1/22 and italic 3/23, as typed. Code is reverse video
 * (7/27): it swaps the terminal's own colours, so it is readable on every
 * theme and colour depth (a monochrome terminal included), and it marks the
 * span's extent as a box the way code is shown elsewhere; dim would be
 * unreadable on some terminals and a colour would clash with name colours.
 * Each style is closed with its own reset (22, 23, 27), never with SGR 0,
 * so markup inside a line styled by src/client/style.ts does not end the
 * line's own colour.
 */
import { emojiFor, isShortcodeChar, MAX_SHORTCODE_LENGTH, withSkinTone } from './emoji.ts';
import { sanitize } from './sanitize.ts';

/** A run of text shown with the same styles. */
export interface Span {
  readonly text: string;
  readonly bold: boolean;
  readonly italic: boolean;
  readonly code: boolean;
}

export interface RenderOptions {
  /** Show markup as terminal styles (true) or show the text as typed (false). */
  readonly styles: boolean;
  /** Show known shortcodes as emoji. */
  readonly emoji: boolean;
}

type Flags = Omit<Span, 'text'>;
const PLAIN: Flags = { bold: false, italic: false, code: false };

/** One piece of the typed text and the forms it is shown in. */
interface Piece {
  /** Exactly as typed. */
  readonly typed: string;
  /** As shown when styled: '' for a delimiter, the character alone for an escape. */
  readonly shown: string;
  /** What a known shortcode becomes when emoji are on. */
  readonly emoji: string | undefined;
  /** Shared by every piece of a span, so a piece costs no copy of them. */
  readonly flags: Flags;
}

function piece(flags: Flags, typed: string, shown = typed, emoji?: string): Piece {
  return { typed, shown, emoji, flags };
}

/** What the first pass finds, at code-point positions [start, end) of the text. */
type Atom =
  | { readonly kind: 'char'; readonly start: number }
  | { readonly kind: 'text'; readonly start: number; readonly end: number }
  | { readonly kind: 'escape'; readonly start: number }
  | { readonly kind: 'code'; readonly start: number; readonly end: number }
  | ShortcodeAtom;
interface ShortcodeAtom {
  readonly kind: 'shortcode';
  readonly start: number;
  readonly end: number;
  readonly emoji: string;
}

const ESCAPABLE = new Set(['*', '_', '`', ':']);
/** The characters markup is made of; any other is always shown as it is. */
const MARKUP_CHARS = new Set([...ESCAPABLE, '\\']);
const EMPHASIS: Readonly<Record<string, 'bold' | 'italic'>> = { '*': 'bold', _: 'italic' };
const WORD = /^[\p{L}\p{N}\p{M}]$/u;
const SPACE = /^\p{White_Space}$/u;
const SKIN_TONE = /^:skin-tone-([2-6]):$/;
const SKIN_TONE_LENGTH = ':skin-tone-2:'.length;

/** The text as code points, with what [MARKUP-2] asks of each delimiter. */
class Text {
  readonly chars: readonly string[];
  /** True at a character made literal by a backslash ([MARKUP-4]). */
  readonly escaped: boolean[];

  constructor(text: string) {
    // Code points, so an astral letter is one neighbour and a lone surrogate is kept.
    this.chars = Array.from(text);
    this.escaped = this.chars.map(() => false);
  }

  private inRow(at: number): boolean {
    const char = this.chars[at];
    return (this.chars[at - 1] === char && !this.escaped[at - 1]) || this.chars[at + 1] === char;
  }

  canOpen(at: number): boolean {
    const before = this.chars[at - 1];
    const after = this.chars[at + 1];
    return !isWord(before) && after !== undefined && !SPACE.test(after) && !this.inRow(at);
  }

  canClose(at: number): boolean {
    const before = this.chars[at - 1];
    return before !== undefined && !SPACE.test(before) && !isWord(this.chars[at + 1]) && !this.inRow(at);
  }
}

function isWord(char: string | undefined): boolean {
  return char !== undefined && WORD.test(char);
}

/**
 * First pass ([MARKUP-3], [MARKUP-4], [MARKUP-5]): escapes, code spans and
 * shortcodes, left to right. Escapes are marked as they are met, so whether
 * the character before a delimiter was escaped is known when it is tested.
 */
function scan(text: Text): Atom[] {
  const { chars } = text;
  const atoms: Atom[] = [];
  // Closing backticks do not depend on escapes (they are tested inside a
  // code span, where there are none), so one forward-moving cursor finds the
  // nearest one for each opener, keeping the pass linear.
  const codeClosers = chars.flatMap((char, at) => (char === '`' && text.canClose(at) ? [at] : []));
  let nextCloser = 0;
  let at = 0;
  while (at < chars.length) {
    const char = chars[at]!;
    if (char === '\\' && ESCAPABLE.has(chars[at + 1] ?? '')) {
      text.escaped[at + 1] = true;
      atoms.push({ kind: 'escape', start: at });
      at += 2;
      continue;
    }
    if (char === '`' && text.canOpen(at)) {
      while ((codeClosers[nextCloser] ?? Infinity) <= at) nextCloser++;
      const closer = codeClosers[nextCloser];
      if (closer !== undefined) {
        atoms.push({ kind: 'code', start: at, end: closer + 1 });
        at = closer + 1;
        continue;
      }
    }
    if (char === ':') {
      const shortcode = shortcodeAt(chars, at);
      if (shortcode !== undefined) {
        atoms.push(shortcode);
        at = shortcode.end;
        continue;
      }
    }
    if (MARKUP_CHARS.has(char)) {
      atoms.push({ kind: 'char', start: at });
      at++;
      continue;
    }
    // A run of characters that can play no part in markup, taken whole.
    let end = at + 1;
    while (end < chars.length && !MARKUP_CHARS.has(chars[end]!)) end++;
    atoms.push({ kind: 'text', start: at, end });
    at = end;
  }
  return atoms;
}

/** The known shortcode (and skin tone) starting at the colon at `at` ([MARKUP-5], [MARKUP-6]). */
function shortcodeAt(chars: readonly string[], at: number): ShortcodeAtom | undefined {
  let end = at + 1;
  while (end - at - 1 <= MAX_SHORTCODE_LENGTH && isShortcodeChar(chars[end])) end++;
  const length = end - at - 1;
  if (chars[end] !== ':' || length < 1 || length > MAX_SHORTCODE_LENGTH) return undefined;
  const emoji = emojiFor(chars.slice(at + 1, end).join(''));
  if (emoji === undefined) return undefined;
  end++;
  const tone = SKIN_TONE.exec(chars.slice(end, end + SKIN_TONE_LENGTH).join(''))?.[1];
  const toned = tone === undefined ? undefined : withSkinTone(emoji, Number(tone));
  if (toned !== undefined) return { kind: 'shortcode', start: at, end: end + SKIN_TONE_LENGTH, emoji: toned };
  return { kind: 'shortcode', start: at, end, emoji };
}

/** Second pass ([MARKUP-3]): bold and italic over the atoms, into pieces. */
function emphasise(text: Text, atoms: readonly Atom[]): Piece[] {
  const { chars } = text;
  const pieces: Piece[] = [];
  // Atom indexes of every closing `*` and `_`. Openers are met in increasing
  // order, so each list is walked once by a cursor that only moves forward.
  const closers: Record<string, { readonly at: number[]; next: number }> = { '*': { at: [], next: 0 }, _: { at: [], next: 0 } };
  atoms.forEach((atom, index) => {
    const char = chars[atom.start]!;
    if (atom.kind === 'char' && char in closers && text.canClose(atom.start)) closers[char]!.at.push(index);
  });

  const walk = (from: number, to: number, flags: Flags): void => {
    let index = from;
    while (index < to) {
      const atom = atoms[index]!;
      const char = chars[atom.start]!;
      const style = EMPHASIS[char];
      if (atom.kind === 'char' && style !== undefined && text.canOpen(atom.start)) {
        const list = closers[char]!;
        while ((list.at[list.next] ?? Infinity) <= index) list.next++;
        const closer = list.at[list.next];
        if (closer !== undefined && closer < to) {
          const inner: Flags = { bold: flags.bold || style === 'bold', italic: flags.italic || style === 'italic', code: false };
          pieces.push(piece(inner, char, ''));
          walk(index + 1, closer, inner);
          pieces.push(piece(inner, char, ''));
          index = closer + 1;
          continue;
        }
      }
      pushPieces(pieces, chars, atom, flags);
      index++;
    }
  };
  walk(0, atoms.length, PLAIN);
  return pieces;
}

function pushPieces(pieces: Piece[], chars: readonly string[], atom: Atom, flags: Flags): void {
  const char = chars[atom.start]!;
  switch (atom.kind) {
    case 'char':
      pieces.push(piece(flags, char));
      return;
    case 'text':
      pieces.push(piece(flags, chars.slice(atom.start, atom.end).join('')));
      return;
    case 'escape':
      pieces.push(piece(flags, char + chars[atom.start + 1]!, chars[atom.start + 1]!));
      return;
    case 'code': {
      const code: Flags = { ...flags, code: true };
      pieces.push(piece(code, '`', ''), piece(code, chars.slice(atom.start + 1, atom.end - 1).join('')), piece(code, '`', ''));
      return;
    }
    case 'shortcode':
      pieces.push(piece(flags, chars.slice(atom.start, atom.end).join(''), undefined, atom.emoji));
      return;
  }
}

function parse(text: string): Piece[] {
  const source = new Text(text);
  return emphasise(source, scan(source));
}

function spansOf(pieces: readonly Piece[], emoji: boolean): Span[] {
  const spans: Span[] = [];
  let texts: string[] = [];
  let flags = PLAIN;
  const flush = () => {
    if (texts.length > 0) spans.push({ text: texts.join(''), ...flags });
    texts = [];
  };
  for (const { shown, emoji: picture, flags: pieceFlags } of pieces) {
    const text = emoji && picture !== undefined ? picture : shown;
    if (text === '') continue;
    if (!sameFlags(flags, pieceFlags)) {
      flush();
      flags = pieceFlags;
    }
    texts.push(text);
  }
  flush();
  return spans;
}

function sameFlags(a: Flags, b: Flags): boolean {
  return a.bold === b.bold && a.italic === b.italic && a.code === b.code;
}

/**
 * The styled runs of `text` ([MARKUP-2]–[MARKUP-6]): delimiters and escape
 * backslashes removed, shortcodes replaced when `emoji` is on (the default).
 * Span texts are NOT sanitised; only `renderMarkup` output is terminal-safe.
 */
export function parseMarkup(text: string, options: { readonly emoji?: boolean } = {}): Span[] {
  return spansOf(parse(text), options.emoji ?? true);
}

const SGR: ReadonlyArray<readonly [style: keyof Flags, on: string, off: string]> = [
  ['bold', '\x1b[1m', '\x1b[22m'],
  ['italic', '\x1b[3m', '\x1b[23m'],
  ['code', '\x1b[7m', '\x1b[27m'],
];

/** The SGR sequences that turn the styles of `from` into those of `to`. */
function transition(from: Flags, to: Flags): string {
  let out = '';
  for (const [style, , off] of SGR) if (from[style] && !to[style]) out += off;
  for (const [style, on] of SGR) if (!from[style] && to[style]) out += on;
  return out;
}

/**
 * `text` ready to write to a terminal as part of one line ([MARKUP-7],
 * [CLIENT-1]): every character passes through `sanitize`, and the only
 * escape sequences are the SGR styles of the markup, all closed by the end.
 * With `styles` off no escape sequence is emitted at all and the text is
 * shown as typed ([MARKUP-1]), with only shortcodes replaced when `emoji`
 * is on.
 */
export function renderMarkup(text: string, options: RenderOptions): string {
  const pieces = parse(text);
  if (!options.styles) {
    return sanitize(pieces.map((piece) => (options.emoji && piece.emoji !== undefined ? piece.emoji : piece.typed)).join(''));
  }
  let out = '';
  let current = PLAIN;
  for (const span of spansOf(pieces, options.emoji)) {
    out += transition(current, span) + sanitize(span.text);
    current = span;
  }
  return out + transition(current, PLAIN);
}
