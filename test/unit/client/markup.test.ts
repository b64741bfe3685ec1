import { describe, expect, it } from 'vitest';
import { parseMarkup, renderMarkup, type Span } from '../../../src/client/markup.ts';

/** Spans in a compact form: flags (B bold, I italic, C code), a bar, the text. */
function spans(text: string, emoji = true): string[] {
  return parseMarkup(text, { emoji }).map(short);
}

function short(span: Span): string {
  return `${span.bold ? 'B' : ''}${span.italic ? 'I' : ''}${span.code ? 'C' : ''}|${span.text}`;
}

const styled = (text: string): string => renderMarkup(text, { styles: true, emoji: true });
const plain = (text: string): string => renderMarkup(text, { styles: false, emoji: true });

const BOLD = '\x1b[1m';
const BOLD_OFF = '\x1b[22m';
const ITALIC = '\x1b[3m';
const ITALIC_OFF = '\x1b[23m';
const CODE = '\x1b[7m';
const CODE_OFF = '\x1b[27m';

describe('parseMarkup: bold, italic and code [MARKUP-2] [MARKUP-3]', () => {
  it('[MARKUP-2] finds *bold*, _italic_ and `code`, and drops their delimiters', () => {
    expect(spans('*bold*')).toEqual(['B|bold']);
    expect(spans('_italic_')).toEqual(['I|italic']);
    expect(spans('`code`')).toEqual(['C|code']);
    expect(spans('say *hi* to _everyone_ with `ls -l`.')).toEqual(['|say ', 'B|hi', '| to ', 'I|everyone', '| with ', 'C|ls -l', '|.']);
    expect(spans('(*a*) "_b_", `c`!')).toEqual(['|(', 'B|a', '|) "', 'I|b', '|", ', 'C|c', '|!']);
  });

  it('[MARKUP-2] leaves a delimiter between letters or digits literal', () => {
    expect(spans('snake_case_name')).toEqual(['|snake_case_name']);
    expect(spans('2*3*4')).toEqual(['|2*3*4']);
    expect(spans('a_b_ c')).toEqual(['|a_b_ c']);
    expect(spans('x*y* z')).toEqual(['|x*y* z']);
    expect(spans('*a*b')).toEqual(['|*a*b']);
    // Unicode letters, digits and combining marks count, not only ASCII.
    expect(spans('été_été_été')).toEqual(['|été_été_été']);
    expect(spans('日本_語_です')).toEqual(['|日本_語_です']);
    expect(spans('٣*٤*٥')).toEqual(['|٣*٤*٥']);
    expect(spans('e\u0301_x_')).toEqual(['|e\u0301_x_']);
  });

  it('[MARKUP-2] leaves a delimiter next to white space on the inner side literal', () => {
    expect(spans('a * b * c')).toEqual(['|a * b * c']);
    expect(spans('* not bold *')).toEqual(['|* not bold *']);
    expect(spans('_ x_')).toEqual(['|_ x_']);
    expect(spans('_x _')).toEqual(['|_x _']);
    expect(spans('*\tx*')).toEqual(['|*\tx*']);
    expect(spans('*x\u00a0*')).toEqual(['|*x\u00a0*']);
  });

  it('[MARKUP-2] leaves rows of the same delimiter literal', () => {
    expect(spans('**x**')).toEqual(['|**x**']);
    expect(spans('__init__')).toEqual(['|__init__']);
    expect(spans('```js```')).toEqual(['|```js```']);
    expect(spans('***')).toEqual(['|***']);
    expect(spans('**')).toEqual(['|**']);
    expect(spans('*')).toEqual(['|*']);
    // An escaped delimiter does not make a row with the next one.
    expect(spans('\\**bold*')).toEqual(['|*', 'B|bold']);
  });

  it('[MARKUP-3] pairs an opener with the nearest closer; one without is literal', () => {
    expect(spans('*a* and *b*')).toEqual(['B|a', '| and ', 'B|b']);
    expect(spans('*a *b* c*')).toEqual(['B|a *b', '| c*']);
    expect(spans('*unclosed')).toEqual(['|*unclosed']);
    expect(spans('_unclosed and *bold*')).toEqual(['|_unclosed and ', 'B|bold']);
    expect(spans('a*')).toEqual(['|a*']);
  });

  it('[MARKUP-3] nests bold and italic inside each other', () => {
    expect(spans('*bold _both_*')).toEqual(['B|bold ', 'BI|both']);
    expect(spans('_it *both* it_')).toEqual(['I|it ', 'BI|both', 'I| it']);
    expect(spans('*_both_*')).toEqual(['BI|both']);
    // Spans never cross: the inner opener must close before the outer closer.
    expect(spans('*a _b* c_')).toEqual(['B|a _b', '| c_']);
  });

  it('[MARKUP-3] takes code spans literally, before bold and italic', () => {
    expect(spans('`*not bold* _nor italic_ :smile: \\*`')).toEqual(['C|*not bold* _nor italic_ :smile: \\*']);
    expect(spans('*bold `code` bold*')).toEqual(['B|bold ', 'BC|code', 'B| bold']);
    // A `*` inside a code span never closes bold outside it.
    expect(spans('*a `b* c` d*')).toEqual(['B|a ', 'BC|b* c', 'B| d']);
    expect(spans('`unclosed *bold*')).toEqual(['|`unclosed ', 'B|bold']);
    expect(spans('` not code `')).toEqual(['|` not code `']);
  });
});

describe('parseMarkup: escapes [MARKUP-4]', () => {
  it('[MARKUP-4] a backslash makes the next delimiter or colon literal and is not shown', () => {
    expect(spans('\\*not bold\\*')).toEqual(['|*not bold*']);
    expect(spans('\\_not italic\\_')).toEqual(['|_not italic_']);
    expect(spans('\\`not code\\`')).toEqual(['|`not code`']);
    expect(spans('\\:smile:')).toEqual(['|:smile:']);
    expect(spans('*a \\* b*')).toEqual(['B|a * b']);
  });

  it('[MARKUP-4] keeps any other backslash', () => {
    expect(spans('\\\\server\\share')).toEqual(['|\\\\server\\share']);
    expect(spans('a\\nb \\')).toEqual(['|a\\nb \\']);
    expect(spans('\\\\*x*')).toEqual(['|\\*x*']);
  });

  it('[MARKUP-4] inside a code span a backslash is an ordinary character', () => {
    expect(spans('`C:\\*`')).toEqual(['C|C:\\*']);
    expect(spans('`a\\` b`')).toEqual(['C|a\\', '| b`']);
  });
});

describe('parseMarkup: shortcodes [MARKUP-5] [MARKUP-6]', () => {
  it('[MARKUP-5] replaces a known shortcode with its emoji', () => {
    expect(spans(':smile:')).toEqual(['|\u{1F604}']);
    expect(spans('ship it :rocket::tada:')).toEqual(['|ship it \u{1F680}\u{1F389}']);
    expect(spans(':+1: :-1: :100:')).toEqual(['|\u{1F44D} \u{1F44E} \u{1F4AF}']);
    expect(spans('ok:thumbsup:')).toEqual(['|ok\u{1F44D}']);
  });

  it('[MARKUP-5] leaves an unknown or malformed shortcode as typed', () => {
    expect(spans(':notanemoji:')).toEqual(['|:notanemoji:']);
    expect(spans(':Smile: :smile :: :sm ile:')).toEqual(['|:Smile: :smile :: :sm ile:']);
    const long = `:${'a'.repeat(33)}:`;
    expect(spans(long)).toEqual([`|${long}`]);
    expect(spans('10:30:45')).toEqual(['|10:30:45']);
    // The second colon of an unknown name may open the next shortcode.
    expect(spans('12:30:smile:')).toEqual(['|12:30\u{1F604}']);
    expect(spans(':x:smile:')).toEqual(['|\u{274C}smile:']);
  });

  it('[MARKUP-5] produces ZWJ sequences and flags as one emoji', () => {
    expect(spans(':shrug: :man_shrugging: :woman_shrugging:')).toEqual([
      '|\u{1F937} \u{1F937}\u{200D}\u{2642}\u{FE0F} \u{1F937}\u{200D}\u{2640}\u{FE0F}',
    ]);
    expect(spans(':family_man_woman_girl:')).toEqual(['|\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}']);
    expect(spans(':rainbow_flag:')).toEqual(['|\u{1F3F3}\u{FE0F}\u{200D}\u{1F308}']);
    expect(spans(':flag-fr:')).toEqual(['|\u{1F1EB}\u{1F1F7}']);
  });

  it('[MARKUP-5] shortcode characters are never delimiters, and shortcodes work inside bold and italic', () => {
    expect(spans(':white_check_mark: done')).toEqual(['|\u{2705} done']);
    expect(spans('*:fire:*')).toEqual(['B|\u{1F525}']);
    expect(spans('_so :cool:_')).toEqual(['I|so \u{1F192}']);
  });

  it('[MARKUP-5] emoji off keeps shortcodes as typed without changing the spans', () => {
    expect(spans('*:fire:* :x:', false)).toEqual(['B|:fire:', '| :x:']);
  });

  it('[MARKUP-6] applies a Slack skin tone to an emoji that takes one', () => {
    expect(spans(':wave::skin-tone-3:')).toEqual(['|\u{1F44B}\u{1F3FC}']);
    expect(spans(':+1::skin-tone-6:')).toEqual(['|\u{1F44D}\u{1F3FF}']);
    expect(spans(':thumbsup::skin-tone-2:')).toEqual(['|\u{1F44D}\u{1F3FB}']);
    // The modifier replaces the VS16 after the base, and goes before a ZWJ.
    expect(spans(':point_up::skin-tone-4:')).toEqual(['|\u{261D}\u{1F3FD}']);
    expect(spans(':man_shrugging::skin-tone-5:')).toEqual(['|\u{1F937}\u{1F3FE}\u{200D}\u{2642}\u{FE0F}']);
  });

  it('[MARKUP-6] leaves a skin tone that cannot apply as typed', () => {
    expect(spans(':fire::skin-tone-3:')).toEqual(['|\u{1F525}:skin-tone-3:']);
    expect(spans(':family::skin-tone-3:')).toEqual(['|\u{1F46A}:skin-tone-3:']);
    expect(spans(':wave::skin-tone-1: :wave::skin-tone-7:')).toEqual(['|\u{1F44B}:skin-tone-1: \u{1F44B}:skin-tone-7:']);
    expect(spans(':skin-tone-3:')).toEqual(['|:skin-tone-3:']);
    expect(spans(':wave: :skin-tone-3:')).toEqual(['|\u{1F44B} :skin-tone-3:']);
    expect(spans(':wave::skin-tone-3::skin-tone-4:')).toEqual(['|\u{1F44B}\u{1F3FC}:skin-tone-4:']);
    expect(spans(':notanemoji::skin-tone-3:')).toEqual(['|:notanemoji::skin-tone-3:']);
  });
});

describe('renderMarkup [MARKUP-1] [MARKUP-7]', () => {
  it('[MARKUP-7] with styles, shows markup as SGR and never the delimiters', () => {
    expect(styled('*b*')).toBe(`${BOLD}b${BOLD_OFF}`);
    expect(styled('_i_')).toBe(`${ITALIC}i${ITALIC_OFF}`);
    expect(styled('`c`')).toBe(`${CODE}c${CODE_OFF}`);
    expect(styled('x *bold _both_* y')).toBe(`x ${BOLD}bold ${ITALIC}both${BOLD_OFF}${ITALIC_OFF} y`);
    expect(styled('*a* *b*')).toBe(`${BOLD}a${BOLD_OFF} ${BOLD}b${BOLD_OFF}`);
    expect(styled('no markup')).toBe('no markup');
  });

  it('[MARKUP-7] closes every style it opened, at the latest by the end', () => {
    expect(styled('*bold _to the end_*')).toMatch(/\x1b\[22m\x1b\[23m$/);
    expect(styled('*`code`*')).toBe(`${BOLD}${CODE}code${BOLD_OFF}${CODE_OFF}`);
  });

  it('[MARKUP-7] [CLIENT-1] sanitises the text of every span, and emits no sequence but its own', () => {
    expect(styled('\x1b[2J *\x1b[1mhi\x1b[0m*')).toBe(`^[[2J ${BOLD}^[[1mhi^[[0m${BOLD_OFF}`);
    expect(styled('`\u202e\u0007`')).toBe(`${CODE}\uFFFD^G${CODE_OFF}`);
    expect(styled('_a\u2028b_')).toBe(`${ITALIC}a\uFFFDb${ITALIC_OFF}`);
    expect(styled('*\ud83d*')).toBe(`${BOLD}\uFFFD${BOLD_OFF}`);
    expect(plain('\x1b]0;title\x07 *x*')).toBe('^[]0;title^G *x*');
  });

  it('[MARKUP-1] without styles, shows the text exactly as typed', () => {
    for (const text of ['*bold*', '_it_', '`code`', '\\*x\\*', '*a _b_*', '`a*b`', 'snake_case']) {
      expect(renderMarkup(text, { styles: false, emoji: false })).toBe(text);
      expect(plain(text)).toBe(text);
    }
    expect(plain('\\:smile: `:smile:`')).toBe('\\:smile: `:smile:`');
  });

  it('[MARKUP-5] emoji on replaces shortcodes in either mode; off shows them as typed', () => {
    expect(plain('*hi* :wave::skin-tone-3:')).toBe('*hi* \u{1F44B}\u{1F3FC}');
    expect(styled('*hi* :wave:')).toBe(`${BOLD}hi${BOLD_OFF} \u{1F44B}`);
    expect(renderMarkup('*hi* :wave:', { styles: true, emoji: false })).toBe(`${BOLD}hi${BOLD_OFF} :wave:`);
    expect(renderMarkup('*hi* :wave:', { styles: false, emoji: false })).toBe('*hi* :wave:');
  });

  it('[MARKUP-4] shows an escape without its backslash only when styled', () => {
    expect(styled('\\*x\\* \\:smile:')).toBe('*x* :smile:');
    expect(plain('\\*x\\*')).toBe('\\*x\\*');
  });
});
