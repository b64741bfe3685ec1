import { describe, expect, it } from 'vitest';
import {
  emojiFor,
  SHORTCODE_NAME,
  SHORTCODE_NAMES,
  SHORTCODE_TABLE,
  shortcodesStartingWith,
  withSkinTone,
} from '../../../src/client/emoji.ts';

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
const graphemeCount = (text: string): number => [...graphemes.segment(text)].length;
// Unicode's recommended emoji (and sequences) that fonts draw as one picture.
const RGI_EMOJI = new RegExp('^\\p{RGI_Emoji}$', 'v');
const names = SHORTCODE_TABLE.flatMap(([list]) => list.split(' '));
const emoji = SHORTCODE_TABLE.map(([, value]) => value);

describe('emoji shortcodes [MARKUP-5]', () => {
  it('has the common names', () => {
    expect(names.length).toBeGreaterThan(200);
    for (const name of ['smile', 'grin', 'joy', 'wink', 'heart', '+1', 'thumbsup', '-1', 'thumbsdown', 'wave', 'tada', 'fire', 'rocket',
      'eyes', 'thinking', 'ok_hand', 'pray', 'clap', '100', 'white_check_mark', 'x', 'warning', 'coffee', 'pizza', 'beer', 'sparkles',
      'star', 'sob', 'cry', 'rage', 'sunglasses', 'laughing', 'sweat_smile', 'shrug', 'man_shrugging', 'woman_shrugging', 'family',
      'rainbow_flag', 'flag-fr']) {
      expect(emojiFor(name), name).toBeDefined();
    }
  });

  it('[MARKUP-5] every name follows the shortcode name rule', () => {
    for (const name of names) expect(name, name).toMatch(SHORTCODE_NAME);
  });

  it('[MARKUP-2] no name holds a `_` that could be an emphasis delimiter', () => {
    // Shortcodes are found before emphasis anyway; this keeps a name readable as typed.
    for (const name of names) expect(name, name).not.toMatch(/(^|[^a-z0-9])_|_($|[^a-z0-9])/);
  });

  it('has no name twice and no emoji twice (aliases share one entry)', () => {
    expect(new Set(names).size).toBe(names.length);
    expect(new Set(emoji).size).toBe(emoji.length);
  });

  it('every value is one grapheme cluster and an RGI emoji', () => {
    for (const [list, value] of SHORTCODE_TABLE) {
      expect(graphemeCount(value), list).toBe(1);
      expect(RGI_EMOJI.test(value), list).toBe(true);
    }
  });

  it('maps names to the right code points, ZWJ sequences and flags included', () => {
    expect(emojiFor('+1')).toBe('\u{1F44D}');
    expect(emojiFor('thumbsup')).toBe('\u{1F44D}');
    expect(emojiFor('heart')).toBe('\u{2764}\u{FE0F}');
    expect(emojiFor('shrug')).toBe('\u{1F937}');
    expect(emojiFor('woman_shrugging')).toBe('\u{1F937}\u{200D}\u{2640}\u{FE0F}');
    expect(emojiFor('family_man_woman_girl')).toBe('\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}');
    expect(emojiFor('rainbow_flag')).toBe('\u{1F3F3}\u{FE0F}\u{200D}\u{1F308}');
    expect(emojiFor('flag-fr')).toBe('\u{1F1EB}\u{1F1F7}');
    expect(emojiFor('flag-us')).toBe('\u{1F1FA}\u{1F1F8}');
    expect(emojiFor('nope')).toBeUndefined();
    expect(emojiFor('Smile')).toBeUndefined();
    expect(emojiFor('constructor')).toBeUndefined();
  });

  it('lists the names sorted, and completes a prefix', () => {
    expect([...SHORTCODE_NAMES]).toEqual([...new Set(names)].sort());
    expect(shortcodesStartingWith('thu')).toEqual(['thumbsdown', 'thumbsup']);
    expect(shortcodesStartingWith('shru')).toEqual(['shrug']);
    expect(shortcodesStartingWith('zzzz')).toEqual([]);
  });
});

describe('skin tones [MARKUP-6]', () => {
  it('[MARKUP-6] maps tones 2–6 to U+1F3FB–U+1F3FF', () => {
    expect([2, 3, 4, 5, 6].map((tone) => withSkinTone('\u{1F44B}', tone))).toEqual([
      '\u{1F44B}\u{1F3FB}', '\u{1F44B}\u{1F3FC}', '\u{1F44B}\u{1F3FD}', '\u{1F44B}\u{1F3FE}', '\u{1F44B}\u{1F3FF}',
    ]);
    expect(withSkinTone('\u{1F44B}', 1)).toBeUndefined();
    expect(withSkinTone('\u{1F44B}', 7)).toBeUndefined();
    expect(withSkinTone('\u{1F44B}', 2.5)).toBeUndefined();
  });

  it('[MARKUP-6] tints only where the result is an RGI emoji', () => {
    expect(withSkinTone('\u{1F525}', 3)).toBeUndefined();
    expect(withSkinTone('\u{1F46A}', 3)).toBeUndefined();
    expect(withSkinTone('\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}', 3)).toBeUndefined();
    expect(withSkinTone('\u{261D}\u{FE0F}', 4)).toBe('\u{261D}\u{1F3FD}');
    expect(withSkinTone('\u{1F9D1}\u{200D}\u{1F4BB}', 2)).toBe('\u{1F9D1}\u{1F3FB}\u{200D}\u{1F4BB}');
  });

  it('[MARKUP-6] every tinted table emoji is still one grapheme and RGI', () => {
    let tinted = 0;
    for (const [list, value] of SHORTCODE_TABLE) {
      for (const tone of [2, 3, 4, 5, 6]) {
        const toned = withSkinTone(value, tone);
        if (toned === undefined) continue;
        tinted++;
        expect(graphemeCount(toned), list).toBe(1);
        expect(RGI_EMOJI.test(toned), list).toBe(true);
      }
    }
    expect(tinted).toBeGreaterThan(5 * 40);
  });
});
