import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PAYLOAD_BYTES, PayloadScanner, payload } from '../../../bench/fanout/payload.ts';
import { SERVER_KINDS, WIRES } from '../../../bench/fanout/wire.ts';
import { cutAt } from '../../support/chunks.ts';

interface Found {
  readonly seq: number;
  readonly micros: number;
}

/** A scanner and what it has reported so far. */
function scanner(): { readonly scan: PayloadScanner; readonly found: Found[] } {
  const found: Found[] = [];
  return { scan: new PayloadScanner((seq, micros) => found.push({ seq, micros })), found };
}

function scanChunks(chunks: readonly Buffer[]): Found[] {
  const { scan, found } = scanner();
  for (const chunk of chunks) scan.push(chunk);
  return found;
}


function bytewise(stream: Buffer): Buffer[] {
  return Array.from({ length: stream.length }, (_, i) => stream.subarray(i, i + 1));
}

/**
 * Feeds each chunk through one shared buffer, as net's `onread` does: the
 * chunk is copied into it, the scanner gets a view of it, and the buffer is
 * then overwritten before the next read.
 */
function scanThroughSharedBuffer(chunks: readonly Buffer[], garbage: number): Found[] {
  const { scan, found } = scanner();
  const shared = Buffer.alloc(Math.max(1, ...chunks.map((c) => c.length)));
  for (const chunk of chunks) {
    chunk.copy(shared, 0);
    scan.push(shared.subarray(0, chunk.length));
    shared.fill(garbage);
  }
  return found;
}

// ---------------------------------------------------------------- framing

const ROOM = 'bench';

/** Every form a payload travels in: what each generator sends, and what each server delivers. */
const FRAMES = {
  'linechat publish': (p: string) => WIRES.linechat.publish(p),
  'naive publish': (p: string) => WIRES.naive.publish(p),
  'redis publish': (p: string) => WIRES.redis.publish(p),
  'ngircd publish': (p: string) => WIRES.ngircd.publish(p),
  'linechat MSG': (p: string) => `MSG m4xk2a-1g 32 1764236524870 pub :${p}\n`,
  'redis RESP message': (p: string) => `*3\r\n$7\r\nmessage\r\n$${ROOM.length}\r\n${ROOM}\r\n$${p.length}\r\n${p}\r\n`,
  'IRC PRIVMSG': (p: string) => `:pub!~pub@127.0.0.1 PRIVMSG #${ROOM} :${p}\r\n`,
} as const satisfies Record<string, (p: string) => string>;

type FrameName = keyof typeof FRAMES;
const FRAME_NAMES = Object.keys(FRAMES) as FrameName[];

/** Lines the servers send besides messages; none holds a payload. */
const NOISE = [
  'WELCOME 1 r0 :hello\n',
  'ECHO m4xk2a-1h 33 1764236524871\n',
  '*3\r\n$9\r\nsubscribe\r\n$5\r\nbench\r\n:1\r\n',
  ':1\r\n',
  ':irc.example.net 366 r0 #bench :End of NAMES list\r\n',
  'PING :irc.example.net\r\n',
  '',
];

const SEQ_MAX = 9_999_999_999; // 10 digits
const MICROS_MAX = 999_999_999_999; // 12 digits

const arbMessage = fc.record({
  seq: fc.integer({ min: 0, max: SEQ_MAX }),
  micros: fc.integer({ min: 0, max: MICROS_MAX }),
  frame: fc.constantFrom(...FRAME_NAMES),
  // The MSG header varies in width, so payloads fall at every offset.
  msgSeq: fc.nat(),
  from: fc.stringMatching(/^[a-z][a-z0-9_-]{0,15}$/),
  noise: fc.constantFrom(...NOISE),
});

type Message = typeof arbMessage extends fc.Arbitrary<infer T> ? T : never;

function frame(m: Message): string {
  const p = payload(m.seq, m.micros);
  const framed = m.frame === 'linechat MSG' ? `MSG id${m.msgSeq} ${m.msgSeq} ${1764236524870 + m.msgSeq} ${m.from} :${p}\n` : FRAMES[m.frame](p);
  return m.noise + framed;
}

const streamOf = (messages: readonly Message[]) => Buffer.from(messages.map(frame).join(''), 'latin1');
const expected = (messages: readonly Message[]): Found[] => messages.map(({ seq, micros }) => ({ seq, micros }));

// ---------------------------------------------------------------- tests

describe('payload', () => {
  it('is exactly 64 bytes, and PAYLOAD_BYTES says so', () => {
    expect(PAYLOAD_BYTES).toBe(64);
    for (const [seq, micros] of [
      [0, 0],
      [1, 1],
      [42, 123_456.789],
      [SEQ_MAX, MICROS_MAX],
    ] as const) {
      const p = payload(seq, micros);
      expect(p).toHaveLength(64);
      expect(Buffer.byteLength(p)).toBe(64);
    }
  });

  it('is a mark, ten digits of seq, @, twelve digits of micros and padding', () => {
    expect(payload(42, 1234)).toBe(`^0000000042@000000001234${'x'.repeat(40)}`);
    expect(payload(42, 1234)).toMatch(/^\^\d{10}@\d{12}x{40}$/);
  });

  it('truncates fractional micros and clamps negative ones to 0', () => {
    expect(payload(1, 99.99)).toBe(payload(1, 99));
    expect(payload(1, -5)).toBe(payload(1, 0));
  });

  it('round-trips seq and micros through the scanner', () => {
    for (const [seq, micros] of [
      [0, 0],
      [1, 2],
      [1_234_567_890, 987_654_321_098],
      [SEQ_MAX, MICROS_MAX],
    ] as const) {
      expect(scanChunks([Buffer.from(payload(seq, micros))])).toEqual([{ seq, micros }]);
    }
  });

  it('round-trips any seq and micros in range (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: SEQ_MAX }), fc.integer({ min: 0, max: MICROS_MAX }), (seq, micros) => {
        expect(scanChunks([Buffer.from(payload(seq, micros))])).toEqual([{ seq, micros }]);
      }),
    );
  });
});

describe('wire formats', () => {
  it('carry the payload unchanged, with no other ^ anywhere in what the benchmark sends', () => {
    const p = payload(7, 8);
    for (const kind of SERVER_KINDS) {
      const wire = WIRES[kind];
      const line = wire.publish(p);
      expect(line.indexOf(p), kind).toBeGreaterThanOrEqual(0);
      expect(line.split('^'), kind).toHaveLength(2);
      for (const hello of [wire.receiver('r0'), wire.publisher('pub'), wire.ready]) expect(hello, kind).not.toContain('^');
    }
    for (const noise of NOISE) expect(noise).not.toContain('^');
  });
});

describe('PayloadScanner', () => {
  for (const name of FRAME_NAMES) {
    it(`finds the payload in ${name}: whole, and cut into 1-byte chunks`, () => {
      const lines = [FRAMES[name](payload(1, 100)), FRAMES[name](payload(2, 200)), FRAMES[name](payload(3, 300))];
      const stream = Buffer.from(lines.join(''));
      const want = [
        { seq: 1, micros: 100 },
        { seq: 2, micros: 200 },
        { seq: 3, micros: 300 },
      ];
      expect(scanChunks([stream])).toEqual(want);
      expect(scanChunks(bytewise(stream))).toEqual(want);
      expect(scanThroughSharedBuffer(bytewise(stream), 0x5e)).toEqual(want);
    });
  }

  it('finds a payload cut at every possible point', () => {
    const stream = Buffer.from(FRAMES['IRC PRIVMSG'](payload(123, 456)) + FRAMES['linechat MSG'](payload(124, 457)));
    for (let i = 0; i <= stream.length; i++) {
      for (let j = i; j <= stream.length; j += 7) {
        const chunks = [stream.subarray(0, i), stream.subarray(i, j), stream.subarray(j)];
        expect(scanChunks(chunks), `cut at ${i} and ${j}`).toEqual([
          { seq: 123, micros: 456 },
          { seq: 124, micros: 457 },
        ]);
      }
    }
  });

  it('reports nothing for a stream without payloads, and nothing for a payload cut short at the end', () => {
    expect(scanChunks([Buffer.from(NOISE.join(''))])).toEqual([]);
    expect(scanChunks([Buffer.from(payload(5, 6).slice(0, 20))])).toEqual([]);
  });

  it('needs only the head of a payload: the padding may come later, or never', () => {
    const p = payload(9, 10);
    const head = p.slice(0, 24); // ^, 10 digits, @, 12 digits
    expect(scanChunks([Buffer.from(head)])).toEqual([{ seq: 9, micros: 10 }]);
    expect(scanChunks([Buffer.from(head.slice(0, 23))])).toEqual([]);
  });

  it('reports exactly the payloads, in order, in any framing and at any chunk boundaries (property)', () => {
    fc.assert(
      fc.property(fc.array(arbMessage, { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 40 }), (messages, cuts) => {
        const stream = streamOf(messages);
        expect(scanChunks(cutAt(stream, cuts))).toEqual(expected(messages));
      }),
      { numRuns: 300 },
    );
  });

  it('reports exactly the payloads, in order, when fed one byte at a time (property)', () => {
    fc.assert(
      fc.property(fc.array(arbMessage, { maxLength: 8 }), (messages) => {
        expect(scanChunks(bytewise(streamOf(messages)))).toEqual(expected(messages));
      }),
      { numRuns: 100 },
    );
  });

  it('gives the same result when each chunk lives in one buffer overwritten after push (property)', () => {
    fc.assert(
      fc.property(
        fc.array(arbMessage, { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        fc.boolean(),
        // Garbage that looks like payloads is the worst case: marks and digits.
        fc.constantFrom(0x5e, 0x30, 0x39, 0x40, 0x00, 0xff),
        (messages, cuts, oneByte, garbage) => {
          const stream = streamOf(messages);
          const chunks = oneByte ? bytewise(stream) : cutAt(stream, cuts);
          const plain = scanChunks(chunks);
          expect(scanThroughSharedBuffer(chunks, garbage)).toEqual(plain);
          expect(plain).toEqual(expected(messages));
        },
      ),
      { numRuns: 300 },
    );
  });
});
