/**
 * Framing, characters and limits over real TCP (SPEC §1, §3), and the
 * original program's framing failures (REFERENCES §1 #1, #2, #3): lines are
 * found in the byte stream whatever the chunking, bytes are split before they
 * are decoded, and lines over the limits are rejected whole.
 */
import { describe, expect, it } from 'vitest';
import { ClientPool } from '../support/line-client.ts';
import { hasProc, memoryKb } from '../support/proc.ts';
import { startServer } from '../support/server-process.ts';
import {
  collect,
  expectErr,
  itVolume,
  readGreeting,
  repliesOf,
  settle,
  splitAt,
  upTo,
  useServer,
  writePieces,
} from '../support/suite.ts';
import { itOwnServer } from '../support/target.ts';

// Flood control off: some tests send far more lines than a burst
// ([FLOOD-1]); flood.test.ts tests flood control.
const suite = useServer(['--flood-rate', '0']);

/** A text of exactly `bytes` bytes of UTF-8 that ends in multi-byte characters (€ is 3 bytes). */
function textOfBytes(bytes: number): string {
  return 'x'.repeat(bytes % 3) + '€'.repeat(Math.floor(bytes / 3));
}

const isFrom = (name: string | undefined) => (m: { command: string; params: readonly string[] }) =>
  m.command === 'MSG' && m.params[3] === name;

/** A small deterministic generator, so a failing split can be reproduced. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

describe('lines in the byte stream', () => {
  it('[FRAME-1] [FRAME-2] REFERENCES §1 #1: several lines in one write are several messages, with LF or CR LF', async () => {
    const [a, b] = await suite.users(2);
    a!.write('SAY :one\nSAY :two\r\nPING g1\nSAY :three\n');
    const replies = repliesOf(a!, await a!.barrier());
    expect(replies.map((m) => [m.command, m.params.at(-1)])).toEqual([
      ['ECHO', 'one'],
      ['ECHO', 'two'],
      ['PONG', 'g1'],
      ['ECHO', 'three'],
    ]);
    const msgs = await collect(b!, 3, isFrom(a!.name));
    expect(msgs.map((m) => m.params[6])).toEqual(['one', 'two', 'three']);
  });

  it('[FRAME-1] [FRAME-4] a line written one byte at a time is one message, multi-byte characters included', async () => {
    const [a, b] = await suite.users(2);
    const sync = await suite.connect();
    const text = 'héllo wörld € 😀 中文';
    const bytes = Buffer.from(`SAY :${text}\r\n`);
    await writePieces(a!, [...bytes].map((byte) => Buffer.from([byte])), sync);
    expect((await a!.expect('ECHO')).params[6]).toBe(text);
    expect((await b!.expect(isFrom(a!.name))).params[6]).toBe(text);

    // The handshake too.
    const c = await suite.connect();
    const name = suite.name('o');
    await writePieces(c, [...Buffer.from(`HELLO 1 ${name}\n`)].map((byte) => Buffer.from([byte])), sync);
    expect((await c.expect((m) => m.command === 'WELCOME' || m.command === 'ERR')).params[0]).toBe(name);
  });

  it('[FRAME-1] [FRAME-2] a conversation split at arbitrary points gets the same replies as one sent whole', async () => {
    const a = await suite.user();
    const sync = await suite.connect();
    const conversation = Buffer.from(
      'SAY :alpha\nPING s1\r\nSAY :β-gamma 😀 ü\r\nSAY :\nFOO bar\n  \r\nPING s2\nSAY :last one\n',
    );
    const expected = [
      ['ECHO', 'alpha'],
      ['PONG', 's1'],
      ['ECHO', 'β-gamma 😀 ü'],
      ['ERR', 'BAD_PARAMS'],
      ['ERR', 'UNKNOWN_COMMAND'],
      ['PONG', 's2'],
      ['ECHO', 'last one'],
    ];
    const summary = (ms: ReturnType<typeof repliesOf>) =>
      ms.map((m) => [m.command, m.command === 'ERR' ? m.params[0] : m.params.at(-1)]);
    a.write(conversation);
    expect(summary(repliesOf(a, await a.barrier()))).toEqual(expected);
    const random = prng(0x5eed);
    for (let round = 0; round < 8; round++) {
      const cuts = Array.from({ length: 1 + Math.floor(random() * 8) }, () => Math.floor(random() * conversation.length));
      await writePieces(a, splitAt(conversation, cuts), sync);
      expect(summary(repliesOf(a, await a.barrier())), `cuts at ${cuts.join(',')}`).toEqual(expected);
    }
  });

  it('[FRAME-4] [FRAME-1] REFERENCES §1 #3: a UTF-8 character split across writes arrives whole, and the receiver keeps receiving', async () => {
    const [a, b] = await suite.users(2);
    const sync = await suite.connect();
    const sent: string[] = [];
    for (const ch of ['é', '€', '😀']) {
      const text = `a${ch}b`;
      const line = Buffer.from(`SAY :${text}\n`);
      const start = line.indexOf(Buffer.from(ch));
      for (let inside = 1; inside < Buffer.byteLength(ch); inside++) {
        await writePieces(a!, splitAt(line, [start + inside]), sync);
        sent.push(text);
      }
    }
    // The original's failure: a character split at byte 1024.
    const at = Math.min(1024, suite.info.line - 8);
    const long = `${'x'.repeat(at - 1 - 5)}€tail`;
    await writePieces(a!, splitAt(Buffer.from(`SAY :${long}\n`), [at]), sync);
    sent.push(long);
    a!.send('SAY :still hearing');
    sent.push('still hearing');
    const msgs = await collect(b!, sent.length, isFrom(a!.name));
    expect(msgs.map((m) => m.params[6])).toEqual(sent);
    expect(a!.isClosed).toBe(false);
  });

  itVolume(suite, '[FRAME-1] REFERENCES §1 #1: messages from two senders at once are never glued together', async () => {
    const [a, b, c] = await suite.users(3);
    const count = 200;
    const batch = (who: string) => Array.from({ length: count }, (_, i) => `SAY :${who}-${i}\n`).join('');
    a!.write(batch('a'));
    b!.write(batch('b'));
    const got = await collect(c!, 2 * count, (m) => m.command === 'MSG' && (m.params[3] === a!.name || m.params[3] === b!.name));
    for (const m of got) expect(m.params[6]).toMatch(/^[ab]-[0-9]+$/);
    expect(got.filter(isFrom(a!.name)).map((m) => m.params[6])).toEqual(Array.from({ length: count }, (_, i) => `a-${i}`));
    expect(got.filter(isFrom(b!.name)).map((m) => m.params[6])).toEqual(Array.from({ length: count }, (_, i) => `b-${i}`));
  });

  it('[FRAME-2] CR LF ends a line like LF, and the CR is removed before anything else', async () => {
    const [a, b] = await suite.users(2);
    const old = a!.name!;
    const renamed = suite.name('cr');
    a!.write(`SAY :crlf text\r\nPING t1\r\nNICK ${renamed}\r\n`);
    const replies = repliesOf(a!, await a!.barrier());
    expect(replies.map((m) => [m.command, ...m.params.slice(m.command === 'ECHO' ? 6 : 0)])).toEqual([
      ['ECHO', 'crlf text'],
      ['PONG', 't1'],
      ['NICK', old, renamed],
    ]);
    expect((await b!.expect(isFrom(old))).params[6]).toBe('crlf text');
  });

  it('[FRAME-3] [LIMIT-6] every line the server sends ends with a single LF, holds no CR, and is at most LINE+512 bytes', async () => {
    const { line: LINE } = suite.info;
    const longName = suite.nameOfLength(suite.info.nameLen, 'F');
    const a = await suite.user(longName);
    const b = await suite.user();
    const text = textOfBytes(LINE - 'SAY :'.length);
    a.send(`SAY :${text}`);
    a.send('x'.repeat(LINE + 1));
    a.send('WHO');
    a.send(`PING ${'p'.repeat(64)}`);
    const reason = 'q'.repeat(LINE - 'QUIT :'.length);
    a.send(`QUIT :${reason}`);
    const aGot = await a.untilClosed();
    expect(aGot.map((m) => m.command)).toContain('BYE');
    // Replies that echo what the client sent stay within the limit too.
    const u = await suite.connect();
    u.send(`HELLO ${'9'.repeat(LINE - 'HELLO  x'.length)} x`);
    u.send(`PING ${'€'.repeat(21)}`);
    expect(repliesOf(u, await u.barrier())).toHaveLength(2);
    expect(u.wire.longestLine).toBeLessThanOrEqual(LINE + 512);
    expect((await b.expect(isFrom(longName))).params[6]).toBe(text);
    await b.expect((m) => m.command === 'LEAVE' && m.params[1] === longName);
    await b.barrier();
    for (const client of [a, b]) {
      expect(client.wire.crBytes).toBe(0);
      expect(client.wire.emptyLines).toBe(0);
      expect(client.wire.malformed).toEqual([]);
      expect(client.wire.unterminated).toBe(0);
      expect(client.wire.longestLine).toBeLessThanOrEqual(LINE + 512);
    }
    // The longest lines really were long: the test exercised the limit.
    expect(b.wire.longestLine).toBeGreaterThan(LINE);
  });

  it('[FRAME-5] an empty line, or a line of spaces only, is ignored without a reply; a line of tabs is not empty', async () => {
    const peer = await suite.user();
    for (const client of [await suite.connect(), await suite.user()]) {
      await settle(peer);
      client.write('\n   \n\r\n  \r\n \n\n');
      expect(repliesOf(client, await client.barrier())).toEqual([]);
      client.write('\t\n \t \n');
      const tabs = repliesOf(client, await client.barrier());
      expect(tabs).toHaveLength(2);
      for (const reply of tabs) expectErr(reply, 'UNKNOWN_COMMAND', '*');
      expect((await peer.barrier()).filter(isFrom(client.name))).toEqual([]);
      expect(client.isClosed).toBe(false);
    }
  });

  it('[FRAME-6] [QUIT-3] bytes after the last LF when the connection ends are discarded, never processed as a line', async () => {
    const peer = await suite.user();
    for (const partial of ['SAY :partial line', 'QUIT :partial quit', `NICK ${suite.name('z')}`]) {
      const a = await suite.user();
      await settle(peer);
      a.write(`SAY :complete\n${partial}`);
      a.end();
      const seen = await upTo(peer, (m) => m.command === 'LEAVE' && m.params[1] === a.name);
      const mine = seen.filter((m) => m.params.includes(a.name!));
      expect(mine.map((m) => m.command)).toEqual(['MSG', 'LEAVE']);
      expect(mine[0]!.params[6]).toBe('complete');
      expect(mine[1]!.params[2]).toBe('lost');
      expect((await peer.barrier()).filter((m) => m.command === 'NICK' || isFrom(a.name)(m))).toEqual([]);
    }
  });
});

describe('characters', () => {
  it('[FRAME-7] [FRAME-9] [ERR-1] a line that is not valid UTF-8 gets ERR BAD_UTF8 and nothing of it is processed', async () => {
    const [a, peer] = await suite.users(2);
    await settle(peer!);
    const renamed = suite.name('u');
    const hex = (h: string) => Buffer.from(h.replace(/ /g, ''), 'hex');
    const say = (h: string) => Buffer.concat([Buffer.from('SAY :leak '), hex(h), Buffer.from(' end')]);
    // [ERR-1]: <command> is the line's command word when it begins with one, else *.
    const cases: Array<[string, Buffer, string]> = [
      ['0xFF', say('ff'), 'SAY'],
      ['overlong 2-byte /', say('c0 af'), 'SAY'],
      ['overlong 3-byte', say('e0 80 af'), 'SAY'],
      ['overlong 4-byte', say('f0 80 80 af'), 'SAY'],
      ['surrogate U+D800', say('ed a0 80'), 'SAY'],
      ['surrogate U+DFFF', say('ed bf bf'), 'SAY'],
      ['above U+10FFFF', say('f4 90 80 80'), 'SAY'],
      ['truncated 3-byte sequence', say('e2 82'), 'SAY'],
      ['lone continuation byte', say('80'), 'SAY'],
      ['5-byte form', say('f8 88 80 80 80'), 'SAY'],
      ['truncated at the end of the line', Buffer.concat([Buffer.from('say :leak '), hex('c3')]), 'SAY'],
      ['before the command word', Buffer.concat([hex('ff'), Buffer.from('SAY :leak')]), '*'],
      ['inside the command word', Buffer.concat([Buffer.from('SA'), hex('ff'), Buffer.from('Y :leak')]), '*'],
      ['in a NICK', Buffer.concat([Buffer.from(`NICK ${renamed}`), hex('ff')]), 'NICK'],
    ];
    a!.write(Buffer.concat(cases.flatMap(([, line]) => [line, Buffer.from('\n')])));
    const replies = repliesOf(a!, await a!.barrier());
    expect(replies).toHaveLength(cases.length);
    cases.forEach(([desc, , command], i) => {
      expect(replies[i]?.params.slice(0, 2), desc).toEqual(['BAD_UTF8', command]);
      expectErr(replies[i], 'BAD_UTF8', command);
    });
    const seen = await peer!.barrier();
    expect(seen.filter((m) => isFrom(a!.name)(m) || m.command === 'NICK')).toEqual([]);
    // Still usable.
    a!.send('SAY :fine');
    expect((await a!.expect('ECHO')).params[6]).toBe('fine');

    // In the greeting state, a HELLO with a bad byte registers nothing.
    const fresh = await suite.connect();
    const name = suite.name('h');
    fresh.write(Buffer.concat([Buffer.from(`HELLO 1 ${name}`), hex('e9'), Buffer.from('\nWHO\n')]));
    const early = repliesOf(fresh, await fresh.barrier());
    expect(early).toHaveLength(2);
    expectErr(early[0], 'BAD_UTF8', 'HELLO');
    expectErr(early[1], 'NOT_REGISTERED', 'WHO');
    expect((await peer!.barrier()).filter((m) => m.params.some((p) => p.startsWith(name)))).toEqual([]);
  });

  it('[FRAME-8] [FRAME-9] [ERR-1] NUL, C0 controls other than TAB, DEL, C1 controls and a lone CR get ERR BAD_CHAR and nothing of the line is processed', async () => {
    const [a, peer] = await suite.users(2);
    await settle(peer!);
    const forbidden = [0x00, 0x01, 0x07, 0x08, 0x0b, 0x0c, 0x0d, 0x0e, 0x1b, 0x1f, 0x7f, 0x80, 0x85, 0x9b, 0x9f];
    const lines: Array<[string, Buffer, string]> = forbidden.map((cp) => [
      `U+${cp.toString(16).padStart(4, '0')}`,
      Buffer.from(`SAY :leak ${String.fromCodePoint(cp)} end`, 'utf8'),
      'SAY',
    ]);
    const renamed = suite.name('c');
    lines.push(
      ['NUL before the command', Buffer.from('\u0000SAY :leak'), '*'],
      ['control right after the command word', Buffer.from('SAY\u0001 :leak'), '*'],
      ['ESC sequence', Buffer.from('Say :leak \u001b[2J end'), 'SAY'],
      ['control in a NICK', Buffer.from(`NICK ${renamed}\u0001`), 'NICK'],
      // "SAY :x\r\r\n": only the CR of the final CR LF is a terminator.
      ['CR before CR LF', Buffer.from('SAY :leak\r\r'), 'SAY'],
    );
    a!.write(Buffer.concat(lines.flatMap(([, line]) => [line, Buffer.from('\n')])));
    const replies = repliesOf(a!, await a!.barrier());
    expect(replies).toHaveLength(lines.length);
    lines.forEach(([desc, , command], i) => {
      expect(replies[i]?.params.slice(0, 2), desc).toEqual(['BAD_CHAR', command]);
      expectErr(replies[i], 'BAD_CHAR', command);
    });
    const seen = await peer!.barrier();
    expect(seen.filter((m) => isFrom(a!.name)(m) || m.command === 'NICK')).toEqual([]);
    expect(await peer!.who()).toContain(a!.name);
  });

  it('[FRAME-8] [MSG-2] TAB and every other character, however unusual, is accepted and relayed byte for byte', async () => {
    const [a, peer] = await suite.users(2);
    const texts = [
      'tab\there',
      '\t',
      'no-break\u00a0space ÿ',
      'line\u2028separator',
      'bidi \u202eoverride\u202c',
      'replacement \ufffd bom \ufeff',
      'astral 😀 \u{10ffff}',
      '中文 العربية',
    ];
    for (const text of texts) a!.send(`SAY :${text}`);
    const echoes = (await a!.barrier()).filter((m) => m.command === 'ECHO');
    expect(echoes.map((m) => m.params[6])).toEqual(texts);
    const msgs = await collect(peer!, texts.length, isFrom(a!.name));
    expect(msgs.map((m) => Buffer.from(m.params[6]!).toString('hex'))).toEqual(texts.map((t) => Buffer.from(t).toString('hex')));
  });

  it('[FRAME-9] [LIMIT-2] [ERR-1] a line is checked for length, then UTF-8, then characters, then grammar, and gets exactly one ERR for the first failure', async () => {
    const a = await suite.user();
    const { line: LINE } = suite.info;
    const lines: Array<[Buffer, string, string]> = [
      [Buffer.concat([Buffer.from('FOO :'), Buffer.from([0xff, 0x00]), Buffer.alloc(LINE, 0x78)]), 'LINE_TOO_LONG', '*'],
      [Buffer.concat([Buffer.from('FOO :'), Buffer.from([0xff, 0x00])]), 'BAD_UTF8', 'FOO'],
      [Buffer.concat([Buffer.from('SAY a b '), Buffer.from([0x00, 0xc0])]), 'BAD_UTF8', 'SAY'],
      [Buffer.from('FOO :\u0000'), 'BAD_CHAR', 'FOO'],
      [Buffer.from('SAY a b \u0000'), 'BAD_CHAR', 'SAY'],
      [Buffer.from('123 \u007f'), 'BAD_CHAR', '*'],
      [Buffer.from('FOO :x'), 'UNKNOWN_COMMAND', 'FOO'],
      [Buffer.from('SAY a b c'), 'BAD_PARAMS', 'SAY'],
    ];
    a.write(Buffer.concat(lines.flatMap(([line]) => [line, Buffer.from('\n')])));
    const replies = repliesOf(a, await a.barrier());
    expect(replies.map((m) => m.params.slice(0, 2))).toEqual(lines.map(([, code, command]) => [code, command]));
    replies.forEach((reply, i) => expectErr(reply, lines[i]![1], lines[i]![2]));
  });
});

describe('limits', () => {
  it('[LIMIT-2] [LIMIT-5] [LIMIT-1] a line of exactly LINE bytes is accepted and relayed whole, with LF or CR LF', async () => {
    const [a, peer] = await suite.users(2);
    const { line: LINE } = suite.info;
    const text = textOfBytes(LINE - 'SAY :'.length);
    expect(Buffer.byteLength(`SAY :${text}`)).toBe(LINE);
    a!.write(`SAY :${text}\nSAY :${text}\r\n`);
    const echoes = (await a!.barrier()).filter((m) => m.command === 'ECHO');
    expect(echoes.map((m) => m.params[6])).toEqual([text, text]);
    const msgs = await collect(peer!, 2, isFrom(a!.name));
    expect(msgs.map((m) => m.params[6])).toEqual([text, text]);
  });

  it('[LIMIT-2] [LIMIT-3] [LIMIT-5] [ERR-1] [ERR-2] a line over LINE bytes gets ERR LINE_TOO_LONG, no part of it is processed or relayed, and the connection stays open', async () => {
    const [a, peer] = await suite.users(2);
    await settle(peer!);
    const { line: LINE, readCap: READCAP } = suite.info;
    const renamed = suite.name('l');
    const over = [
      `SAY :${textOfBytes(LINE - 'SAY :'.length + 1)}`, // LINE+1
      `SAY :${'x'.repeat(LINE - 'SAY :'.length - 1)}€`, // a character across the limit
      `NICK ${renamed}${' '.repeat(LINE)}`,
      `SAY :${'y'.repeat(READCAP - 'SAY :'.length)}`, // READCAP bytes then LF: long, not an overflow
      `SAY :${'w'.repeat(READCAP - 'SAY :'.length - 1)}`, // READCAP-1 bytes, CR LF: the CR is byte READCAP
    ];
    a!.write(`${over[0]}\n${over[1]}\r\n${over[2]}\n${over[3]}\n${over[4]}\r\nPING alive\n`);
    const replies = repliesOf(a!, await a!.barrier());
    expect(replies.map((m) => m.command === 'ERR' ? m.params[0] : m.command)).toEqual([
      'LINE_TOO_LONG',
      'LINE_TOO_LONG',
      'LINE_TOO_LONG',
      'LINE_TOO_LONG',
      'LINE_TOO_LONG',
      'PONG',
    ]);
    for (const reply of replies.slice(0, 5)) if (reply.command === 'ERR') expectErr(reply, 'LINE_TOO_LONG', '*');
    const seen = await peer!.barrier();
    expect(seen.filter((m) => isFrom(a!.name)(m) || m.command === 'NICK')).toEqual([]);
    a!.send('SAY :short');
    expect((await a!.expect('ECHO')).params[6]).toBe('short');
    expect(a!.isClosed).toBe(false);
  });

  it('[LIMIT-3] [ERR-1] [ERR-2] [PRES-1] more than READCAP bytes without a line end get ERR INPUT_OVERFLOW, then the connection closes and the client leaves with reason error', async () => {
    const [a, peer] = await suite.users(2);
    await settle(peer!);
    const name = a!.name!;
    // READCAP + 1 bytes without LF; the last one a CR, which counts like any byte until its LF.
    a!.write(`SAY :${'z'.repeat(suite.info.readCap - 'SAY :'.length)}\r`);
    const last = repliesOf(a!, await a!.untilClosed());
    expect(last).toHaveLength(1);
    expectErr(last[0], 'INPUT_OVERFLOW', '*');
    const seen = await upTo(peer!, (m) => m.command === 'LEAVE' && m.params[1] === name);
    expect(seen.filter(isFrom(name))).toEqual([]);
    const leave = seen.at(-1)!;
    expect(leave.params[2]).toBe('error');
    if (leave.params.length > 3) expect(leave.params[3]).toBe('INPUT_OVERFLOW');
    expect(await peer!.who()).not.toContain(name);
    const again = await suite.connect();
    expect(await again.register(name)).toBe(name);
  });

  it('[LIMIT-3] the read cap counts bytes since the last line end: lines adding up to far more than READCAP are fine', async () => {
    const a = await suite.connect();
    const count = Math.ceil((3 * suite.info.readCap) / 'PING 00000\n'.length);
    a.write(Array.from({ length: count }, (_, i) => `PING ${String(i).padStart(5, '0')}\n`).join(''));
    const replies = repliesOf(a, await a.barrier());
    expect(replies).toHaveLength(count);
    expect(replies.every((m, i) => m.command === 'PONG' && m.params[0] === String(i).padStart(5, '0'))).toBe(true);
  });

  it('[LIMIT-3] REFERENCES §1 #2: a client that streams without ever sending a line end is cut off while it is still sending', async () => {
    const a = await suite.user();
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const cap = Math.max(64 * 1024 * 1024, 64 * suite.info.readCap);
    let sent = 0;
    while (!a.isClosed && a.socket.writable && sent < cap) {
      await Promise.race([a.writeFlushed(chunk), a.closed]);
      sent += chunk.length;
    }
    const last = repliesOf(a, await a.untilClosed());
    expect(last.map((m) => m.params[0])).toEqual(['INPUT_OVERFLOW']);
    expect(sent).toBeLessThan(cap);
  });

  itOwnServer('[LIMIT-3] memory for a connection stays bounded however many bytes arrive: a line far over LINE is counted, not stored', async () => {
    const readCap = 1 << 24;
    const server = await startServer(['--max-line', '1024', '--read-cap', String(readCap)]);
    const pool = new ClientPool(() => server);
    try {
      const pid = server.child.pid;
      if (!hasProc(pid)) return; // not Linux: nothing to measure
      const connections = 16;
      const clients = await Promise.all(Array.from({ length: connections }, () => pool.connect()));
      // Warm up: one round trip each, so start-up allocations are behind us.
      await Promise.all(clients.map((c) => c.barrier()));
      const before = memoryKb(pid, 'VmHWM');
      const body = Buffer.alloc(readCap - 1024, 0x78);
      await Promise.all(clients.map((c) => c.writeFlushed(body)));
      const replies = await Promise.all(
        clients.map(async (c) => {
          c.write('\n');
          return repliesOf(c, await c.barrier());
        }),
      );
      for (const r of replies) {
        expect(r).toHaveLength(1);
        expectErr(r[0], 'LINE_TOO_LONG');
      }
      const grownMb = (memoryKb(pid, 'VmHWM') - before) / 1024;
      const totalMb = (connections * body.length) / (1 << 20);
      // Storing the lines would take totalMb (about 256 MB); counting them
      // takes nothing but the garbage of the reads themselves.
      expect(grownMb, `peak RSS grew by ${grownMb.toFixed(1)} MB while ${totalMb.toFixed(0)} MB arrived`).toBeLessThan(totalMb / 3);
    } finally {
      await pool.closeAll();
      await server.stop();
    }
  });

  itOwnServer('[LIMIT-1] [LIMIT-2] [LIMIT-3] [NAME-1] a server started with --max-line, --read-cap and --max-name announces those values and enforces them', async () => {
    const server = await startServer(['--max-line', '100', '--read-cap', '300', '--max-name', '8', '--server-name', 'conf-x']);
    const pool = new ClientPool(() => server);
    try {
      const a = await pool.connect();
      const info = readGreeting(a.greeting!);
      expect(info).toMatchObject({ line: 100, readCap: 300, nameLen: 8, serverName: 'conf-x' });
      a.send('HELLO 1 abcdefghi');
      expectErr(await a.expect('ERR'), 'BAD_NAME', 'HELLO');
      expect(await a.register('Abcdefgh')).toBe('Abcdefgh');
      a.send(`SAY :${'x'.repeat(95)}`); // 100 bytes
      a.send(`SAY :${'x'.repeat(96)}`); // 101 bytes
      a.send('y'.repeat(300)); // READCAP bytes, then LF
      const replies = repliesOf(a, await a.barrier());
      expect(replies.map((m) => (m.command === 'ERR' ? m.params[0] : m.command))).toEqual(['ECHO', 'LINE_TOO_LONG', 'LINE_TOO_LONG']);
      a.write('z'.repeat(301));
      expect(repliesOf(a, await a.untilClosed()).map((m) => m.params[0])).toEqual(['INPUT_OVERFLOW']);
    } finally {
      await pool.closeAll();
      await server.stop();
    }
  });
});
