/**
 * Neutralises received text before it reaches the terminal ([CLIENT-1]).
 *
 * Everything a terminal would act on is replaced by something visible and
 * inert, never silently dropped: a peer who sends ESC should be seen to have
 * tried, and dropping characters could join the pieces of an escape sequence
 * back together. C0 controls and DEL become caret notation (`ESC` → `^[`),
 * which holds no control character itself, so `ESC[2J` prints as the five
 * harmless characters `^[[2J`. Characters that have no caret form (C1,
 * bidi controls, line/paragraph separators, lone surrogates) become U+FFFD.
 * TAB becomes a space because its width depends on the cursor column, which
 * would let a message misalign what follows it.
 */

const REPLACEMENT = '\uFFFD';

// C0 (with TAB), DEL, C1; the bidi embedding/override (U+202A–202E) and
// isolate (U+2066–2069) controls; U+2028/U+2029; and unpaired surrogates,
// which some terminals render as garbage that eats neighbouring cells.
const UNSAFE =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

// A global regex keeps state between test() calls; this one does not.
const UNSAFE_ANY = new RegExp(UNSAFE.source);

function neutralise(char: string): string {
  const code = char.charCodeAt(0);
  if (code === 0x09) return ' ';
  if (code < 0x20) return '^' + String.fromCharCode(code + 0x40);
  if (code === 0x7f) return '^?';
  return REPLACEMENT;
}

/** Received text made safe to write to a terminal as part of one line. */
export function sanitize(text: string): string {
  return text.replace(UNSAFE, neutralise);
}

/** True when `text` holds nothing `sanitize` would change. */
export function isSafe(text: string): boolean {
  return !UNSAFE_ANY.test(text);
}
