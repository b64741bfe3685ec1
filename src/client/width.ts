/**
 * How wide text is on a terminal, by the rules Node's readline uses to lay
 * out the input line, and how many rows a line it echoed took. The
 * terminal needs both to erase and redraw the prompt exactly.
 */

// East Asian Wide and Fullwidth blocks (Unicode EastAsianWidth.txt, W and
// F, Unicode 17 as in Node 20's ICU), as [first, last] pairs. Emoji are
// matched by property instead.
const WIDE: ReadonlyArray<readonly [number, number]> = [
  [0x1100, 0x115f], [0x2329, 0x232a], [0x2630, 0x2637], [0x268a, 0x268f], [0x2e80, 0x303e],
  [0x3041, 0x3247], [0x3250, 0xa4c6], [0xa960, 0xa97c], [0xac00, 0xd7a3], [0xf900, 0xfaff],
  [0xfe10, 0xfe19], [0xfe30, 0xfe6b], [0xff01, 0xff60], [0xffe0, 0xffe6], [0x16fe0, 0x16ff6],
  [0x17000, 0x18cd5], [0x18cff, 0x18d1e], [0x18d80, 0x18df2], [0x1aff0, 0x1b2fb], [0x1d300, 0x1d376],
  [0x1f200, 0x1f202], [0x1f210, 0x1f23b], [0x1f240, 0x1f248], [0x1f250, 0x1f251], [0x1f260, 0x1f265],
  [0x20000, 0x2fffd], [0x30000, 0x3fffd],
];
const ZERO = /^[\p{Cc}\p{Cf}\p{Mn}\p{Me}]$/u;
const EMOJI_PRESENTATION = /^\p{Emoji_Presentation}$/u;

/**
 * Columns one code point takes, by the same rule Node's readline uses to
 * lay out the input line (ICU East Asian Width, emoji presentation, zero
 * for marks and format characters). Matching readline matters more than
 * matching any one terminal: we erase what readline drew.
 */
export function codePointWidth(char: string): 0 | 1 | 2 {
  const code = char.codePointAt(0) ?? 0;
  if (code < 0x7f) return code >= 0x20 ? 1 : 0;
  // Width before zero-width: ICU gives a combining mark in a wide block
  // (e.g. U+302A) two columns, and so does readline.
  if (EMOJI_PRESENTATION.test(char)) return 2;
  for (const [first, last] of WIDE) {
    if (code < first) break;
    if (code <= last) return 2;
  }
  return code !== 0xad && ZERO.test(char) ? 0 : 1;
}

export function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) width += codePointWidth(char);
  return width;
}

/**
 * Terminal rows that `text` (prompt included) filled when readline echoed it
 * and the user pressed Enter. Mirrors readline's layout: a wide character
 * that would start in the last column moves to the next row, a tab advances
 * to the next multiple of 8, and a line that exactly fills its last row has
 * had an extra row allocated for the cursor.
 */
export function echoedRows(text: string, columns: number): number {
  if (!Number.isFinite(columns) || columns < 1) return 1;
  let offset = 0;
  for (const char of text) {
    if (char === '\t') {
      offset += 8 - (offset % 8);
      continue;
    }
    const width = codePointWidth(char);
    if (width === 2 && (offset + 1) % columns === 0) offset++;
    offset += width;
  }
  return Math.floor(offset / columns) + 1;
}
