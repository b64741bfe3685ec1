import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FramerState, LineFramer } from '../../../src/protocol/framer.ts';
import type { FramerLimits, FramerSink } from '../../../src/protocol/framer.ts';
import { DEFAULT_LIMITS } from '../../../src/protocol/limits.ts';

type FrameEvent = { line: string } | { lineTooLong: number } | { overflow: true };

/** A framer whose sink records events; lines as hex, read at once. */
function recorder(limits: FramerLimits) {
  const events: FrameEvent[] = [];
  const sink: FramerSink = {
    line: (bytes) => events.push({ line: bytes.toString('hex') }),
    lineTooLong: (length) => events.push({ lineTooLong: length }),
    overflow: () => events.push({ overflow: true }),
  };
  const framer = new LineFramer(limits, sink);
  return { framer, events };
}

function feed(limits: FramerLimits, chunks: readonly Buffer[]): FrameEvent[] {
  const { framer, events } = recorder(limits);
  for (const chunk of chunks) framer.push(chunk);
  return events;
}

const hex = (s: string) => Buffer.from(s, 'utf8').toString('hex');
const small: FramerLimits = { line: 8, readCap: 16 };

// --- frames.json -----------------------------------------------------------

type ByteString = { text: string } | { hex: string };
interface FrameCase {
  desc: string;
  rule: string;
  limits: FramerLimits;
  chunks: ByteString[];
  expect: FrameEvent[];
}

function bytesOf(b: ByteString): Buffer {
  if ('text' in b) return Buffer.from(b.text, 'utf8');
  const digits = b.hex.replaceAll(' ', '');
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(digits)) throw new Error(`bad hex in vector: ${b.hex}`);
  return Buffer.from(digits, 'hex');
}

function normalise(events: FrameEvent[]): FrameEvent[] {
  // Expected hex may be in either case; the recorder writes lower case.
  return events.map((e) => ('line' in e ? { line: e.line.replaceAll(' ', '').toLowerCase() } : e));
}

const frameCases = JSON.parse(
  readFileSync(new URL('../../vectors/frames.json', import.meta.url), 'utf8'),
) as FrameCase[];

describe('frames.json vectors', () => {
  it('is a well-formed vector file', () => {
    expect(frameCases.length).toBeGreaterThan(0);
    for (const c of frameCases) {
      expect(c.rule).toMatch(/^\[[A-Z]+-\d+\]$/);
      expect(typeof c.desc).toBe('string');
      expect(Number.isSafeInteger(c.limits.line) && Number.isSafeInteger(c.limits.readCap)).toBe(true);
      for (const chunk of c.chunks) expect(Object.keys(chunk).length).toBe(1);
      c.chunks.forEach(bytesOf);
    }
  });

  for (const c of frameCases) {
    it(`${c.rule} ${c.desc}`, () => {
      const chunks = c.chunks.map(bytesOf);
      const expected = normalise(c.expect);
      expect(feed(c.limits, chunks)).toEqual(expected);
      // [FRAME-1]: the same bytes, split differently, give the same events.
      const all = Buffer.concat(chunks);
      expect(feed(c.limits, [all])).toEqual(expected);
      expect(feed(c.limits, [...all].map((b) => Buffer.of(b)))).toEqual(expected);
    });
  }
});

// --- hand-written ----------------------------------------------------------

describe('LineFramer', () => {
  it('[FRAME-1] gives no meaning to how the bytes were split', () => {
    const stream = Buffer.from('HELLO 1 alice\r\nSAY :h\u00e9llo \u{1F600}\nWHO\n', 'utf8');
    const whole = feed(DEFAULT_LIMITS, [stream]);
    expect(whole).toEqual([{ line: hex('HELLO 1 alice') }, { line: hex('SAY :h\u00e9llo \u{1F600}') }, { line: hex('WHO') }]);
    for (let cut = 0; cut <= stream.length; cut++) {
      expect(feed(DEFAULT_LIMITS, [stream.subarray(0, cut), stream.subarray(cut)])).toEqual(whole);
    }
    expect(feed(DEFAULT_LIMITS, [...stream].map((b) => Buffer.of(b)))).toEqual(whole);
  });

  it('[FRAME-2] accepts LF as the line end', () => {
    expect(feed(small, [Buffer.from('hi\n')])).toEqual([{ line: hex('hi') }]);
  });

  it('[FRAME-2] accepts CR LF and strips the CR', () => {
    expect(feed(small, [Buffer.from('hi\r\n')])).toEqual([{ line: hex('hi') }]);
    expect(feed(small, [Buffer.from('hi\r'), Buffer.from('\n')])).toEqual([{ line: hex('hi') }]);
  });

  it('[FRAME-2] strips only one CR, and only right before LF', () => {
    expect(feed(small, [Buffer.from('a\r\r\n')])).toEqual([{ line: hex('a\r') }]);
    expect(feed(small, [Buffer.from('a\rb\n')])).toEqual([{ line: hex('a\rb') }]);
    expect(feed(small, [Buffer.from('a\rb\r')])).toEqual([]);
  });

  it('[FRAME-4] hands on whole lines, so a character split across chunks arrives whole', () => {
    const emoji = Buffer.from('\u{1F469}\u200d\u{1F469}\u200d\u{1F467}\n', 'utf8');
    const { framer, events } = recorder(DEFAULT_LIMITS);
    for (let i = 0; i < emoji.length; i++) {
      framer.push(emoji.subarray(i, i + 1));
      if (i < emoji.length - 1) expect(events).toEqual([]);
    }
    expect(events).toHaveLength(1);
    const [event] = events;
    expect(event && 'line' in event && Buffer.from(event.line, 'hex').toString('utf8')).toBe(
      '\u{1F469}\u200d\u{1F469}\u200d\u{1F467}',
    );
  });

  it('[FRAME-5] hands empty lines on; ignoring them is the parser\'s job', () => {
    expect(feed(small, [Buffer.from('\n\r\n  \n')])).toEqual([{ line: '' }, { line: '' }, { line: hex('  ') }]);
  });

  it('[FRAME-6] never reports bytes after the last LF as a line', () => {
    const { framer, events } = recorder(small);
    framer.push(Buffer.from('a\npartial'));
    expect(events).toEqual([{ line: hex('a') }]);
    expect(framer.buffered).toBe('partial'.length);
    framer.push(Buffer.from('\r'));
    expect(events).toEqual([{ line: hex('a') }]);
  });

  it('[FRAME-9] judges length before anything else: a long line is never handed on', () => {
    const bad = Buffer.concat([Buffer.from('SAY :'), Buffer.alloc(10, 0xff), Buffer.from('\n')]);
    expect(feed(small, [bad])).toEqual([{ lineTooLong: 15 }]);
  });

  it('[LIMIT-2] accepts a line of exactly LINE bytes, with LF or CR LF', () => {
    const line = 'x'.repeat(DEFAULT_LIMITS.line);
    expect(feed(DEFAULT_LIMITS, [Buffer.from(line + '\n')])).toEqual([{ line: hex(line) }]);
    expect(feed(DEFAULT_LIMITS, [Buffer.from(line + '\r\n')])).toEqual([{ line: hex(line) }]);
  });

  it('[LIMIT-2] rejects a line of LINE+1 bytes with its length, with LF or CR LF', () => {
    const line = 'x'.repeat(DEFAULT_LIMITS.line + 1);
    expect(feed(DEFAULT_LIMITS, [Buffer.from(line + '\n')])).toEqual([{ lineTooLong: DEFAULT_LIMITS.line + 1 }]);
    expect(feed(DEFAULT_LIMITS, [Buffer.from(line + '\r\n')])).toEqual([{ lineTooLong: DEFAULT_LIMITS.line + 1 }]);
  });

  it('[LIMIT-2] reports the length without the terminator however the line was split', () => {
    for (const extra of [1, 2, 3, small.readCap - small.line - 2]) {
      const body = 'y'.repeat(small.line + extra);
      for (const terminator of ['\n', '\r\n']) {
        const stream = Buffer.from(body + terminator);
        const expected = [{ lineTooLong: body.length }];
        expect(feed(small, [stream])).toEqual(expected);
        for (let cut = 1; cut < stream.length; cut++) {
          expect(feed(small, [stream.subarray(0, cut), stream.subarray(cut)])).toEqual(expected);
        }
      }
    }
  });

  it('[LIMIT-2] keeps going after a long line', () => {
    const { framer, events } = recorder(small);
    framer.push(Buffer.from('0123456789'));
    expect(framer.state).toBe(FramerState.Discarding);
    framer.push(Buffer.from('\nok\n'));
    expect(framer.state).toBe(FramerState.Collecting);
    expect(events).toEqual([{ lineTooLong: 10 }, { line: hex('ok') }]);
  });

  it('[LIMIT-5] rejects a multi-byte character straddling LINE whole, never a truncated line', () => {
    // 'é' is 2 bytes, '€' is 3 bytes, an emoji 4 bytes.
    expect(feed(small, [Buffer.from('abcdef\u00e9\n')])).toEqual([{ line: hex('abcdef\u00e9') }]);
    expect(feed(small, [Buffer.from('abcdefg\u00e9\n')])).toEqual([{ lineTooLong: 9 }]);
    expect(feed(small, [Buffer.from('abcdef\u20ac\r\n')])).toEqual([{ lineTooLong: 9 }]);
    expect(feed(small, [Buffer.from('abcd\u{1F600}\r\n')])).toEqual([{ line: hex('abcd\u{1F600}') }]);
    expect(feed(small, [Buffer.from('abcde\u{1F600}\r\n')])).toEqual([{ lineTooLong: 9 }]);
  });

  it('[LIMIT-3] does not overflow at exactly READCAP bytes without LF', () => {
    const { framer, events } = recorder(DEFAULT_LIMITS);
    framer.push(Buffer.alloc(DEFAULT_LIMITS.readCap, 0x61));
    expect(events).toEqual([]);
    expect(framer.state).toBe(FramerState.Discarding);
    framer.push(Buffer.from('\n'));
    expect(events).toEqual([{ lineTooLong: DEFAULT_LIMITS.readCap }]);
  });

  it('[LIMIT-3] overflows at READCAP+1 bytes without LF, once, and then reports nothing', () => {
    const { framer, events } = recorder(DEFAULT_LIMITS);
    framer.push(Buffer.alloc(DEFAULT_LIMITS.readCap, 0x61));
    framer.push(Buffer.from('b'));
    expect(events).toEqual([{ overflow: true }]);
    expect(framer.state).toBe(FramerState.Overflowed);
    expect(framer.buffered).toBe(0);
    framer.push(Buffer.from('\nHELLO 1 alice\n'));
    framer.push(Buffer.alloc(100_000, 0x0a));
    expect(events).toEqual([{ overflow: true }]);
  });

  it('[LIMIT-3] counts the bytes since the last LF, not since the start', () => {
    const limits = { line: 8, readCap: 16 };
    const { framer, events } = recorder(limits);
    for (let i = 0; i < 50; i++) framer.push(Buffer.from('0123456789abcde\n'));
    expect(events).toHaveLength(50);
    expect(events.every((e) => 'lineTooLong' in e && e.lineTooLong === 15)).toBe(true);
  });

  it('[LIMIT-3] keeps its memory bounded however many bytes arrive', () => {
    const limits = { line: 64, readCap: 8 << 20 };
    const { framer, events } = recorder(limits);
    const chunk = Buffer.alloc(4096, 0x7a);
    for (let i = 0; i < 1024; i++) {
      framer.push(chunk);
      expect(framer.buffered).toBeLessThanOrEqual(limits.line + 1);
    }
    framer.push(Buffer.from('\r\n'));
    expect(events).toEqual([{ lineTooLong: 1024 * 4096 }]);
    expect(framer.buffered).toBe(0);
  });

  it('keeps at most line+1 bytes: the +1 is a CR that may be part of CR LF', () => {
    const { framer, events } = recorder(small);
    framer.push(Buffer.from('12345678\r'));
    expect(framer.buffered).toBe(9);
    expect(framer.state).toBe(FramerState.Collecting);
    framer.push(Buffer.from('\n'));
    expect(events).toEqual([{ line: hex('12345678') }]);
    framer.push(Buffer.from('123456789'));
    expect(framer.buffered).toBe(9);
    framer.push(Buffer.from('0'));
    expect(framer.buffered).toBe(0);
    expect(framer.state).toBe(FramerState.Discarding);
  });

  it('copies the bytes it keeps, so the caller may reuse a chunk after push()', () => {
    const { framer, events } = recorder(small);
    const chunk = Buffer.from('ab');
    framer.push(chunk);
    chunk.fill(0x58);
    framer.push(Buffer.from('c\n'));
    expect(events).toEqual([{ line: hex('abc') }]);
  });

  it('starts collecting, with nothing buffered', () => {
    const { framer } = recorder(small);
    expect(framer.state).toBe(FramerState.Collecting);
    expect(framer.buffered).toBe(0);
    framer.push(Buffer.alloc(0));
    expect(framer.buffered).toBe(0);
  });
});
