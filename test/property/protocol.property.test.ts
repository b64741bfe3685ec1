import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineFramer } from '../../src/protocol/framer.ts';
import { parseLine, parseText } from '../../src/protocol/parser.ts';
import type { Message, ParseResult } from '../../src/protocol/parser.ts';
import { formatLine } from '../../src/protocol/serializer.ts';
import { ERRORS, isErrorCode } from '../../src/protocol/errors.ts';
import { MAX_TIME, MessageKind, decodeServerMessage, serverLine } from '../../src/protocol/messages.ts';
import type { ChatMessage } from '../../src/protocol/messages.ts';

// --- generators ------------------------------------------------------------

// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/;
const allowed = (c: string) => (FORBIDDEN.test(c) ? '?' : c);

/** One allowed character (or grapheme): ASCII, any code point, emoji, bidi, tabs, colons. */
const charArb = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }).map(allowed) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }).map(allowed) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      ':',
      ' ',
      '\t',
      '\u00a0',
      '\u00e9',
      '\u20ac',
      '\u202e',
      '\u2066',
      '\u2028',
      '\u200d',
      '\ufeff',
      '\ufffd',
      '\u{1F600}',
      '\u{1F469}\u200d\u{1F469}\u200d\u{1F467}',
      '\u{1F1EB}\u{1F1F7}',
      '\u{10FFFF}',
    ),
  },
);

const commandArb = fc.stringMatching(/^[A-Za-z]{1,32}$/);
/** A middle parameter: non-empty, no space, not beginning with ':' ([LINE-2]). */
const middleArb = fc
  .array(charArb.map((c) => c.replaceAll(' ', '_')), { minLength: 1, maxLength: 12 })
  .map((cs) => cs.join(''))
  .map((s) => (s.startsWith(':') ? 'x' + s : s));
/** Any last parameter: empty, spaces anywhere, leading ':', tabs, emoji. */
const lastArb = fc.oneof(
  fc.array(charArb, { maxLength: 20 }).map((cs) => cs.join('')),
  fc.constantFrom('', ' ', ':', '::', ' :', 'a  ', '  a', ': :', '\t', ':-)'),
);
const messageArb = fc.record({
  command: commandArb,
  middles: fc.array(middleArb, { maxLength: 6 }),
  last: fc.option(lastArb, { nil: undefined }),
});
const paramsOf = (m: { middles: string[]; last: string | undefined }) => (m.last === undefined ? m.middles : [...m.middles, m.last]);

const interestingByte = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 255 }) },
  { weight: 3, arbitrary: fc.integer({ min: 0x41, max: 0x5a }) },
  { weight: 1, arbitrary: fc.constantFrom(0x00, 0x09, 0x0a, 0x0d, 0x1b, 0x20, 0x20, 0x3a, 0x7f) },
  { weight: 1, arbitrary: fc.constantFrom(0x80, 0x85, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff) },
);
/** `bytes` with `extra` inserted at `at` (modulo its length + 1). */
const twist = (bytes: Uint8Array, extra: readonly number[], at: number) => {
  const i = at % (bytes.length + 1);
  return Uint8Array.from([...bytes.subarray(0, i), ...extra, ...bytes.subarray(i)]);
};
const twistArb = fc.tuple(fc.array(interestingByte, { maxLength: 3 }), fc.nat());
/**
 * Byte strings: uniform, biased towards edge bytes, valid UTF-8 text with a
 * twist, and well-formed lines with a twist (so that messages and errors
 * naming a command are common too).
 */
const lineBytesArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 80 }),
  fc.array(interestingByte, { maxLength: 80 }).map((a) => Uint8Array.from(a)),
  fc
    .tuple(fc.array(charArb, { maxLength: 20 }), twistArb)
    .map(([cs, [extra, at]]) => twist(Buffer.from(cs.join(''), 'utf8'), extra, at)),
  fc
    .tuple(messageArb, fc.integer({ min: 0, max: 2 }), twistArb)
    .map(([m, lead, [extra, at]]) =>
      twist(Buffer.from(' '.repeat(lead) + strip(formatLine(m.command.toUpperCase(), ...paramsOf(m))), 'utf8'), extra, at),
    ),
);

// --- helpers ---------------------------------------------------------------

const message = (command: string, params: readonly string[]): ParseResult => ({ kind: 'message', message: { command, params } });
function strip(line: string): string {
  if (!line.endsWith('\n')) throw new Error(`not a whole line: ${JSON.stringify(line)}`);
  return line.slice(0, -1);
}
const isUtf8 = (bytes: Uint8Array) => {
  try {
    new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
};
const randomCase = (word: string, flips: readonly boolean[]) =>
  [...word].map((c, i) => (flips[i % Math.max(1, flips.length)] ? c.toLowerCase() : c.toUpperCase())).join('');

// --- properties ------------------------------------------------------------

describe('serializer and parser properties', () => {
  it('[LINE-2] [LINE-3] parseText(formatLine(m)) gives m back, command upper-cased, params identical', () => {
    fc.assert(
      fc.property(messageArb, (m) => {
        const params = paramsOf(m);
        const line = formatLine(m.command.toUpperCase(), ...params);
        expect(parseText(strip(line))).toEqual(message(m.command.toUpperCase(), params));
      }),
      { numRuns: 500 },
    );
  });

  it('[FRAME-3] [FRAME-7] [FRAME-8] every formatted line is one LF-terminated line of valid, allowed UTF-8', () => {
    fc.assert(
      fc.property(messageArb, (m) => {
        const params = paramsOf(m);
        const line = formatLine(m.command.toUpperCase(), ...params);
        expect(line.indexOf('\n')).toBe(line.length - 1);
        const bytes = Buffer.from(strip(line), 'utf8');
        expect(parseLine(bytes)).toEqual(message(m.command.toUpperCase(), params));
      }),
      { numRuns: 500 },
    );
  });

  it('[FRAME-1] a stream of formatted lines, split anyhow, frames and parses back to the same messages', () => {
    fc.assert(
      fc.property(fc.array(messageArb, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 16 }), (ms, cuts) => {
        const stream = Buffer.from(ms.map((m) => formatLine(m.command.toUpperCase(), ...paramsOf(m))).join(''), 'utf8');
        const got: ParseResult[] = [];
        const framer = new LineFramer(
          { line: 1 << 16, readCap: 1 << 17 },
          { line: (b) => got.push(parseLine(b)), lineTooLong: () => expect.fail('too long'), overflow: () => expect.fail('overflow') },
        );
        const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
        let from = 0;
        for (const p of [...points, stream.length]) {
          framer.push(stream.subarray(from, p));
          from = p;
        }
        expect(got).toEqual(ms.map((m) => message(m.command.toUpperCase(), paramsOf(m))));
      }),
      { numRuns: 200 },
    );
  });

  it('[LINE-1] parses a command word the same in any ASCII case', () => {
    fc.assert(
      fc.property(messageArb, fc.array(fc.boolean(), { minLength: 1, maxLength: 32 }), (m, flips) => {
        const upper = strip(formatLine(m.command.toUpperCase(), ...paramsOf(m)));
        const word = m.command.toUpperCase();
        const mixed = randomCase(word, flips) + upper.slice(word.length);
        expect(parseText(mixed)).toEqual(parseText(upper));
      }),
      { numRuns: 300 },
    );
  });

  it('[LINE-2] [LINE-4] extra spaces before the command, between parameters and after the last middle change nothing', () => {
    fc.assert(
      fc.property(
        commandArb,
        fc.array(middleArb, { maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 8, maxLength: 8 }),
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: 0, max: 4 }),
        (command, middles, gaps, lead, tail) => {
          const sp = (n: number) => ' '.repeat(n);
          const line = sp(lead) + command + middles.map((p, i) => sp(gaps[i] ?? 1) + p).join('') + sp(tail);
          expect(parseText(line)).toEqual(message(command.toUpperCase(), middles));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('[LINE-3] a last parameter written as trailing equals the same value written as a middle', () => {
    fc.assert(
      fc.property(commandArb, fc.array(middleArb, { maxLength: 5 }), middleArb, (command, middles, last) => {
        const head = [command, ...middles].join(' ');
        expect(parseText(`${head} :${last}`)).toEqual(parseText(`${head} ${last}`));
      }),
      { numRuns: 300 },
    );
  });

  it('[LINE-4] keeps every space inside a trailing parameter', () => {
    fc.assert(
      fc.property(commandArb, lastArb, fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }), (command, text, a, b) => {
        const trailing = ' '.repeat(a) + text + ' '.repeat(b);
        expect(parseText(`${command} :${trailing}`)).toEqual(message(command.toUpperCase(), [trailing]));
      }),
      { numRuns: 300 },
    );
  });
});

describe('parser on arbitrary bytes', () => {
  it('[ERR-1] never throws; every result is a message, empty, or an error with a registered code', () => {
    fc.assert(
      fc.property(lineBytesArb, (bytes) => {
        const result = parseLine(bytes);
        switch (result.kind) {
          case 'message':
            expect(result.message.command).toMatch(/^[A-Z]{1,32}$/);
            for (const p of result.message.params) expect(typeof p).toBe('string');
            break;
          case 'empty':
            break;
          case 'error':
            expect(isErrorCode(result.code)).toBe(true);
            expect(Object.keys(ERRORS)).toContain(result.code);
            expect(result.command).toMatch(/^(?:[A-Z]{1,32}|\*)$/);
            break;
          default:
            expect.fail(`unexpected result ${JSON.stringify(result)}`);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('[FRAME-7] [FRAME-8] [FRAME-9] [FRAME-5] [LINE-5] classifies every line as SPEC §1-2 says, checks in order', () => {
    fc.assert(
      fc.property(lineBytesArb, (bytes) => {
        const result = parseLine(bytes);
        const code = result.kind === 'error' ? result.code : result.kind;
        if (!isUtf8(bytes)) return void expect(code).toBe('BAD_UTF8');
        const text = Buffer.from(bytes).toString('utf8');
        if (FORBIDDEN.test(text)) return void expect(code).toBe('BAD_CHAR');
        if (/^ *$/.test(text)) return void expect(code).toBe('empty');
        const word = /^ *([^ ]*)/.exec(text)?.[1] ?? '';
        if (!/^[A-Za-z]{1,32}$/.test(word)) return void expect(result).toMatchObject({ code: 'UNKNOWN_COMMAND', command: '*' });
        expect(code).toBe('message');
        expect(result.kind === 'message' && result.message.command).toBe(word.toUpperCase());
      }),
      { numRuns: 1000 },
    );
  });

  it('[ERR-1] names the command of a rejected line when its first word is well formed', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 }), commandArb, lineBytesArb, (lead, command, rest) => {
        const bytes = Buffer.concat([Buffer.from(' '.repeat(lead) + command + ' '), rest]);
        const result = parseLine(bytes);
        if (result.kind === 'error') expect(result.command).toBe(command.toUpperCase());
      }),
      { numRuns: 500 },
    );
  });

  it('never throws out of the framer and parser together, on any byte stream', () => {
    fc.assert(
      fc.property(fc.array(lineBytesArb, { maxLength: 8 }), fc.boolean(), (lines, crlf) => {
        const kinds: string[] = [];
        const framer = new LineFramer(
          { line: 64, readCap: 128 },
          {
            line: (b) => kinds.push(parseLine(b).kind),
            lineTooLong: () => kinds.push('lineTooLong'),
            overflow: () => kinds.push('overflow'),
          },
        );
        const eol = crlf ? [0x0d, 0x0a] : [0x0a];
        for (const line of lines) framer.push(Buffer.from([...line, ...eol]));
        for (const k of kinds) expect(['message', 'empty', 'error', 'lineTooLong', 'overflow']).toContain(k);
      }),
      { numRuns: 300 },
    );
  });
});

describe('server lines round trip', () => {
  const nameArb = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,23}$/);
  const roomArb = fc.stringMatching(/^#[A-Za-z0-9][A-Za-z0-9_-]{0,30}$/);
  const chatArb: fc.Arbitrary<ChatMessage> = fc.record({
    id: fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
    seq: fc.maxSafeNat(),
    // Any time a Date can hold; later ones are refused by the decoder (MAX_TIME).
    time: fc.integer({ min: 0, max: MAX_TIME }),
    from: nameArb,
    // A room, or the recipient of a private message ([MSG-10]).
    to: fc.oneof(roomArb, nameArb),
    kind: fc.constantFrom(MessageKind.Say, MessageKind.Me),
    text: lastArb,
  });

  it('[MSG-2] [MSG-3] MSG and ECHO decode back to the message sent, text byte for byte', () => {
    fc.assert(
      fc.property(chatArb, fc.boolean(), (m, own) => {
        const line = serverLine.message(own, m);
        const result = parseLine(Buffer.from(strip(line), 'utf8'));
        expect(result.kind).toBe('message');
        if (result.kind !== 'message') return;
        const event = decodeServerMessage(result.message as Message);
        expect(event).toEqual({ type: 'message', own, ...m });
      }),
      { numRuns: 300 },
    );
  });

  it('[HIST-3] HIST decodes back to the message it shows, with the parameters of MSG', () => {
    fc.assert(
      fc.property(chatArb, (m) => {
        const line = serverLine.history(m);
        expect(line.slice('HIST'.length)).toBe(serverLine.message(false, m).slice('MSG'.length));
        const result = parseLine(Buffer.from(strip(line), 'utf8'));
        expect(result.kind).toBe('message');
        if (result.kind !== 'message') return;
        expect(decodeServerMessage(result.message as Message)).toEqual({ type: 'history', ...m });
      }),
      { numRuns: 300 },
    );
  });

  it('JOIN, LEAVE, ROOM and TOPIC decode back to what was written, texts byte for byte', () => {
    const back = (line: string) => {
      const result = parseLine(Buffer.from(strip(line), 'utf8'));
      if (result.kind !== 'message') throw new Error(`not a message: ${line}`);
      return decodeServerMessage(result.message as Message);
    };
    fc.assert(
      fc.property(roomArb, nameArb, lastArb, fc.maxSafeNat(), fc.integer({ min: 0, max: MAX_TIME }), (room, name, text, n, time) => {
        expect(back(serverLine.join(room, name))).toEqual({ type: 'join', room, name });
        expect(back(serverLine.leave(room, name, 'part', text))).toEqual({ type: 'leave', room, name, reason: 'part', text });
        expect(back(serverLine.room(room, n, text))).toEqual({ type: 'room', room, members: n, topic: text });
        expect(back(serverLine.topic(room, name, time, text))).toEqual({ type: 'topic', room, setter: name, time, text });
      }),
      { numRuns: 300 },
    );
  });
});
