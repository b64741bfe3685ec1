import { describe, expect, it } from 'vitest';
import { renderMarkup } from '../../../src/client/markup.ts';
import { colorEnabled, createStyle, NAME_COLORS, nameColor, type Style } from '../../../src/client/style.ts';

const FUNCTIONS = ['name', 'own', 'notice', 'error', 'mention', 'time', 'room', 'private', 'history'] as const;
const ansi = createStyle({ color: true });
const plain = createStyle({ color: false });
const SGR = /\x1b\[(\d+)m/g;

describe('createStyle', () => {
  it('without colour, returns every input unchanged', () => {
    expect(plain.color).toBe(false);
    for (const fn of FUNCTIONS) expect(plain[fn]('a *b* \x1b[1m')).toBe('a *b* \x1b[1m');
  });

  it('with colour, wraps the text in the chosen attributes', () => {
    expect(ansi.color).toBe(true);
    expect(ansi.error('oops')).toBe('\x1b[31moops\x1b[39m');
    expect(ansi.notice('* bob joined')).toBe('\x1b[2m* bob joined\x1b[22m');
    expect(ansi.time('12:00')).toBe('\x1b[2m12:00\x1b[22m');
    expect(ansi.private('psst')).toBe('\x1b[35mpsst\x1b[39m');
    expect(ansi.history('old')).toBe('\x1b[2mold\x1b[22m');
    expect(ansi.own('You')).toBe('\x1b[1mYou\x1b[22m');
    expect(ansi.room('#general')).toBe('\x1b[1m#general\x1b[22m');
    expect(ansi.mention('alice')).toBe('\x1b[1m\x1b[7malice\x1b[27m\x1b[22m');
    expect(ansi.name('bob')).toBe(`\x1b[${nameColor('bob')}mbob\x1b[39m`);
  });

  it('gives a name the same colour every time, whatever its ASCII case', () => {
    expect(nameColor('Alice')).toBe(nameColor('alice'));
    expect(nameColor('ALICE')).toBe(nameColor('alice'));
    // Pinned values: the hash must not depend on the run (no random seed).
    expect(['alice', 'bob', 'carol', 'dave'].map(nameColor)).toEqual([96, 92, 34, 96]);
  });

  it('spreads names over a palette with no black, white, grey, red or magenta', () => {
    for (const code of NAME_COLORS) expect([30, 37, 90, 97, 31, 91, 35, 95]).not.toContain(code);
    const used = new Set(Array.from({ length: 400 }, (_, i) => nameColor(`user${i}`)));
    expect(used).toEqual(new Set(NAME_COLORS));
  });

  it('re-opens its own attribute after a reset inside it, so styles nest', () => {
    // A bold span ends with SGR 22, which would end the dim of history too.
    const line = ansi.history(`bob: ${renderMarkup('a *b* c', { styles: true, emoji: false })}`);
    expect(line).toBe('\x1b[2mbob: a \x1b[1mb\x1b[22m\x1b[2m c\x1b[22m');
    const whisper = ansi.private(`${ansi.name('bob')}: hi`);
    expect(whisper).toBe(`\x1b[35m\x1b[${nameColor('bob')}mbob\x1b[39m\x1b[35m: hi\x1b[39m`);
  });

  it('leaves every attribute it opened closed at the end', () => {
    const sample = renderMarkup('*a _b `c`_*', { styles: true, emoji: true });
    for (const fn of FUNCTIONS) expect(balanced((ansi as Style)[fn](sample)), fn).toBe(true);
    expect(balanced(ansi.history(ansi.mention(ansi.name('x') + sample)))).toBe(true);
  });
});

/** True when the last SGR for each attribute group leaves it off. */
function balanced(text: string): boolean {
  const offOf: Record<string, string> = { '1': '22', '2': '22', '3': '23', '7': '27', '49': '49' };
  const on = new Map<string, boolean>();
  for (const [, code] of text.matchAll(SGR)) {
    const n = Number(code);
    if ((n >= 30 && n <= 37) || (n >= 90 && n <= 97)) on.set('39', true);
    else if (code === '39') on.set('39', false);
    else if (code! in offOf) on.set(offOf[code!]!, true);
    else on.set(code!, false);
  }
  return [...on.values()].every((isOn) => !isOn);
}

describe('colorEnabled', () => {
  const tty = (env: Record<string, string | undefined>, flag?: boolean) => colorEnabled({ isTTY: true, env, flag });
  const pipe = (env: Record<string, string | undefined>, flag?: boolean) => colorEnabled({ isTTY: false, env, flag });

  it('colours a terminal and not a pipe by default', () => {
    expect(tty({})).toBe(true);
    expect(pipe({})).toBe(false);
  });

  it('NO_COLOR with any non-empty value turns colour off; empty is ignored', () => {
    expect(tty({ NO_COLOR: '1' })).toBe(false);
    expect(tty({ NO_COLOR: '0' })).toBe(false);
    expect(tty({ NO_COLOR: '' })).toBe(true);
  });

  it('FORCE_COLOR turns colour on even in a pipe, except 0 and false', () => {
    expect(pipe({ FORCE_COLOR: '1' })).toBe(true);
    expect(pipe({ FORCE_COLOR: '3' })).toBe(true);
    expect(pipe({ FORCE_COLOR: '' })).toBe(false);
    expect(tty({ FORCE_COLOR: '0' })).toBe(false);
    expect(tty({ FORCE_COLOR: 'false' })).toBe(false);
  });

  it('TERM=dumb turns colour off', () => {
    expect(tty({ TERM: 'dumb' })).toBe(false);
    expect(tty({ TERM: 'xterm-256color' })).toBe(true);
  });

  it('applies flag > NO_COLOR > FORCE_COLOR > TERM=dumb > isTTY', () => {
    expect(tty({}, false)).toBe(false);
    expect(pipe({ NO_COLOR: '1' }, true)).toBe(true);
    expect(tty({ NO_COLOR: '1', FORCE_COLOR: '1' })).toBe(false);
    expect(pipe({ FORCE_COLOR: '1', TERM: 'dumb' })).toBe(true);
    expect(tty({ TERM: 'dumb' }, true)).toBe(true);
  });
});
