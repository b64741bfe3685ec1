import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FramerState, LineFramer } from '../../src/protocol/framer.ts';
import type { FramerLimits } from '../../src/protocol/framer.ts';
import { cutAt } from '../support/chunks.ts';

type FrameEvent = { line: string } | { lineTooLong: number } | { overflow: true };

interface Run {
  readonly framer: LineFramer;
  readonly events: FrameEvent[];
  /** The largest `buffered` seen after any push. */
  maxBuffered: number;
  push(chunk: Uint8Array): void;
}

function run(limits: FramerLimits): Run {
  const events: FrameEvent[] = [];
  const framer = new LineFramer(limits, {
    line: (bytes) => events.push({ line: bytes.toString('hex') }),
    lineTooLong: (length) => events.push({ lineTooLong: length }),
    overflow: () => events.push({ overflow: true }),
  });
  const r: Run = {
    framer,
    events,
    maxBuffered: 0,
    push(chunk) {
      framer.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
      r.maxBuffered = Math.max(r.maxBuffered, framer.buffered);
    },
  };
  return r;
}

function feed(limits: FramerLimits, chunks: readonly Uint8Array[]): Run {
  const r = run(limits);
  for (const chunk of chunks) r.push(chunk);
  return r;
}

const oneByOne = (bytes: Uint8Array) => [...bytes].map((b) => Uint8Array.of(b));

/**
 * The framer as SPEC.md describes it, written for clarity rather than
 * memory: split on LF, drop one CR before it, compare with the limits. Bytes
 * after the last LF are never a line ([FRAME-6]).
 */
function model(bytes: Uint8Array, { line, readCap }: FramerLimits): FrameEvent[] {
  const events: FrameEvent[] = [];
  let start = 0;
  for (;;) {
    const lf = bytes.indexOf(0x0a, start);
    const end = lf === -1 ? bytes.length : lf;
    if (end - start > readCap) {
      events.push({ overflow: true });
      return events;
    }
    if (lf === -1) return events;
    const stop = lf > start && bytes[lf - 1] === 0x0d ? lf - 1 : lf;
    const n = stop - start;
    events.push(n > line ? { lineTooLong: n } : { line: Buffer.from(bytes.subarray(start, stop)).toString('hex') });
    start = lf + 1;
  }
}

// --- generators ------------------------------------------------------------

const limitsArb: fc.Arbitrary<FramerLimits> = fc
  .integer({ min: 1, max: 40 })
  .chain((line) => fc.record({ line: fc.constant(line), readCap: fc.integer({ min: line + 1, max: line + 80 }) }));

/** Bytes that matter to a framer or a UTF-8 decoder, and some runs of them. */
const interestingByte = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 255 }) },
  { weight: 2, arbitrary: fc.constantFrom(0x0a, 0x0d) },
  { weight: 1, arbitrary: fc.constantFrom(0x00, 0x20, 0x3a, 0x7f, 0x80, 0xbf, 0xc0, 0xc2, 0xe2, 0xed, 0xf0, 0xf4, 0xff) },
);
const run_ = fc.tuple(interestingByte, fc.integer({ min: 1, max: 120 })).map(([b, n]) => new Array<number>(n).fill(b));
const bytesArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc.array(fc.oneof({ weight: 8, arbitrary: interestingByte.map((b) => [b]) }, { weight: 1, arbitrary: run_ }), { maxLength: 120 }).map(
    (parts) => Uint8Array.from(parts.flat()),
  ),
);
const cutsArb = fc.array(fc.nat(), { maxLength: 24 });

/** Text characters without LF: ASCII, multi-byte and astral ones, some CRs. */
const textChar = fc.oneof(
  fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }).map((c) => (c === '\n' ? 'n' : c)),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
  fc.constantFrom('\u00e9', '\u20ac', '\u{1F600}', '\u{1F469}\u200d\u{1F469}\u200d\u{1F467}', '\r', ' ', ':', '\t'),
);
const textLine = fc.array(textChar, { maxLength: 16 }).map((cs) => cs.join(''));
/** A valid stream: text lines, each ended by LF or CR LF, then maybe a partial line. */
const streamArb = fc
  .tuple(fc.array(fc.tuple(textLine, fc.constantFrom('\n', '\r\n')), { maxLength: 12 }), fc.option(textLine, { nil: undefined }))
  .map(([lines, tail]) => ({
    // A line whose own last character is CR, sent with LF, ends in CR LF on the wire.
    lines: lines.map(([l, t]) => (t === '\n' && l.endsWith('\r') ? l.slice(0, -1) : l)),
    bytes: Buffer.from(lines.map(([l, t]) => l + t).join('') + (tail ?? ''), 'utf8'),
  }));

const big: FramerLimits = { line: 1 << 16, readCap: 1 << 17 };

// --- properties -------------------------------------------------------------

describe('LineFramer properties', () => {
  it('[FRAME-1] any split of a valid stream gives the same events as the whole', () => {
    fc.assert(
      fc.property(streamArb, cutsArb, ({ bytes }, cuts) => {
        const whole = feed(big, [bytes]).events;
        expect(feed(big, cutAt(bytes, cuts)).events).toEqual(whole);
      }),
      { numRuns: 300 },
    );
  });

  it('[FRAME-1] feeding one byte at a time gives the same events as the whole', () => {
    fc.assert(
      fc.property(streamArb, limitsArb, ({ bytes }, limits) => {
        expect(feed(limits, oneByOne(bytes)).events).toEqual(feed(limits, [bytes]).events);
      }),
      { numRuns: 150 },
    );
  });

  it('[FRAME-1] any split of arbitrary bytes gives the same events as the whole, under any limits', () => {
    fc.assert(
      fc.property(bytesArb, cutsArb, limitsArb, (bytes, cuts, limits) => {
        expect(feed(limits, cutAt(bytes, cuts)).events).toEqual(feed(limits, [bytes]).events);
      }),
      { numRuns: 400 },
    );
  });

  it('[FRAME-2] [FRAME-4] [FRAME-6] a valid stream gives back exactly its complete lines, characters whole', () => {
    fc.assert(
      fc.property(streamArb, cutsArb, ({ lines, bytes }, cuts) => {
        const { events } = feed(big, cutAt(bytes, cuts));
        const decoded = events.map((e) => ('line' in e ? Buffer.from(e.line, 'hex').toString('utf8') : e));
        expect(decoded).toEqual(lines);
      }),
      { numRuns: 300 },
    );
  });

  it('[LIMIT-2] [LIMIT-3] [LIMIT-5] agrees with a reference model of SPEC §1 and §3 on arbitrary bytes', () => {
    fc.assert(
      fc.property(bytesArb, cutsArb, limitsArb, (bytes, cuts, limits) => {
        expect(feed(limits, cutAt(bytes, cuts)).events).toEqual(model(bytes, limits));
      }),
      { numRuns: 400 },
    );
  });

  it('[LIMIT-3] never throws, never hands on more than LINE bytes and never keeps more than LINE+1', () => {
    fc.assert(
      fc.property(bytesArb, cutsArb, limitsArb, (bytes, cuts, limits) => {
        const r = feed(limits, cutAt(bytes, cuts));
        expect(r.maxBuffered).toBeLessThanOrEqual(limits.line + 1);
        for (const e of r.events) {
          if ('line' in e) expect(e.line.length / 2).toBeLessThanOrEqual(limits.line);
          if ('lineTooLong' in e) {
            expect(e.lineTooLong).toBeGreaterThan(limits.line);
            expect(e.lineTooLong).toBeLessThanOrEqual(limits.readCap);
          }
        }
        const overflows = r.events.filter((e) => 'overflow' in e).length;
        expect(overflows).toBeLessThanOrEqual(1);
        if (overflows === 1) {
          expect(r.events.at(-1)).toEqual({ overflow: true });
          expect(r.framer.state).toBe(FramerState.Overflowed);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('[LIMIT-2] accepts a line of exactly LINE bytes and rejects LINE+1, multi-byte characters included', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 80 }),
        fc.array(textChar.filter((c) => !c.includes('\r')), { maxLength: 40 }),
        fc.constantFrom('\n', '\r\n'),
        cutsArb,
        (line, chars, terminator, cuts) => {
          // The longest run of whole characters that fits, padded to exactly LINE bytes.
          let text = '';
          for (const c of chars) {
            if (Buffer.byteLength(text + c) > line) break;
            text += c;
          }
          text += 'a'.repeat(line - Buffer.byteLength(text));
          const limits = { line, readCap: line + 8 };
          const exact = Buffer.from(text + terminator);
          expect(feed(limits, cutAt(exact, cuts)).events).toEqual([{ line: Buffer.from(text).toString('hex') }]);
          const over = Buffer.from(text + 'b' + terminator);
          expect(feed(limits, cutAt(over, cuts)).events).toEqual([{ lineTooLong: line + 1 }]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('[LIMIT-5] rejects a line whole when a multi-byte character straddles LINE, and accepts it when it ends there', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 4, max: 80 }),
        fc.constantFrom('\u00e9', '\u07ff', '\u0800', '\u20ac', '\uffff', '\u{10000}', '\u{1F600}', '\u{10FFFF}'),
        fc.integer({ min: 1, max: 3 }),
        fc.constantFrom('\n', '\r\n'),
        cutsArb,
        (line, wide, past, terminator, cuts) => {
          const width = Buffer.byteLength(wide);
          const limits = { line, readCap: line + 8 };
          const fits = 'a'.repeat(line - width) + wide;
          expect(feed(limits, cutAt(Buffer.from(fits + terminator), cuts)).events).toEqual([
            { line: Buffer.from(fits).toString('hex') },
          ]);
          const overBy = Math.min(past, width - 1);
          if (overBy < 1) return;
          const straddles = 'a'.repeat(line - width + overBy) + wide;
          expect(feed(limits, cutAt(Buffer.from(straddles + terminator), cuts)).events).toEqual([
            { lineTooLong: line + overBy },
          ]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('[LIMIT-3] reads exactly READCAP bytes without a line end without overflowing, and overflows at READCAP+1', () => {
    fc.assert(
      fc.property(
        limitsArb,
        fc.integer({ min: 0, max: 255 }).filter((b) => b !== 0x0a && b !== 0x0d),
        cutsArb,
        (limits, fill, cuts) => {
          const atCap = Buffer.alloc(limits.readCap, fill);
          const r = feed(limits, cutAt(atCap, cuts));
          expect(r.events).toEqual([]);
          expect(r.maxBuffered).toBeLessThanOrEqual(limits.line + 1);
          r.push(Uint8Array.of(0x0a));
          expect(r.events).toEqual([{ lineTooLong: limits.readCap }]);

          const overCap = Buffer.alloc(limits.readCap + 1, fill);
          const o = feed(limits, cutAt(overCap, cuts));
          expect(o.events).toEqual([{ overflow: true }]);
          expect(o.maxBuffered).toBeLessThanOrEqual(limits.line + 1);
          expect(o.framer.buffered).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('[LIMIT-3] emits nothing more after an overflow, whatever arrives', () => {
    fc.assert(
      fc.property(limitsArb, bytesArb, fc.array(bytesArb, { maxLength: 6 }), (limits, prefix, later) => {
        const r = feed(limits, [prefix, Buffer.alloc(limits.readCap + 1, 0x78)]);
        const before = r.events.length;
        expect(r.events.at(-1)).toEqual({ overflow: true });
        for (const chunk of later) r.push(chunk);
        r.push(Buffer.from('\nSAY :hi\n'));
        expect(r.events.length).toBe(before);
        expect(r.framer.state).toBe(FramerState.Overflowed);
        expect(r.framer.buffered).toBe(0);
      }),
      { numRuns: 200 },
    );
  });
});
