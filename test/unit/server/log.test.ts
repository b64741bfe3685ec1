import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { LOG_BACKLOG, printable, silentLog, streamLog } from '../../../src/server/log.ts';

describe('printable', () => {
  it.each([
    'plain text',
    'héllo wörld ✓ 𝄞 日本語',
    'quotes "and" \\backslashes\\ and {braces}',
    '',
  ])('leaves %j as it is', (text) => {
    expect(printable(text)).toBe(text);
  });

  it.each([
    ['ESC of a CSI sequence', '\u001b[2Jcleared', '\\u{1b}[2Jcleared'],
    ['an OSC title', '\u001b]0;pwned\u0007', '\\u{1b}]0;pwned\\u{7}'],
    ['NUL', 'a\u0000b', 'a\\u{0}b'],
    ['LF', 'forged\nline', 'forged\\u{a}line'],
    ['CR', 'over\rwrite', 'over\\u{d}write'],
    ['TAB', 'a\tb', 'a\\u{9}b'],
    ['DEL', 'a\u007fb', 'a\\u{7f}b'],
    ['C1 NEL', 'a\u0085b', 'a\\u{85}b'],
    ['C1 CSI', 'a\u009bb', 'a\\u{9b}b'],
    ['a bidi override', 'abc\u202edcba', 'abc\\u{202e}dcba'],
    ['a bidi isolate', '\u2066x\u2069', '\\u{2066}x\\u{2069}'],
    ['a zero-width space', 'a\u200bb', 'a\\u{200b}b'],
    ['a BOM', '\ufeffx', '\\u{feff}x'],
    ['the line separator', 'a\u2028b', 'a\\u{2028}b'],
    ['the paragraph separator', 'a\u2029b', 'a\\u{2029}b'],
  ])('escapes %s', (_label, text, expected) => {
    expect(printable(text)).toBe(expected);
  });

  it('never leaves a control or format character in its output', () => {
    let all = '';
    for (let c = 0; c <= 0x3000; c++) all += String.fromCodePoint(c);
    expect(printable(all)).not.toMatch(/[\p{Cc}\p{Cf}\u2028\u2029]/u);
  });
});

describe('streamLog', () => {
  function capture(): { stream: PassThrough; text: () => string; writes: () => number } {
    const stream = new PassThrough();
    const chunks: string[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
    return { stream, text: () => chunks.join(''), writes: () => chunks.length };
  }

  it('writes one timestamped line per call', () => {
    const { stream, text, writes } = capture();
    const log = streamLog(stream, () => new Date(Date.UTC(2026, 10, 27, 7, 9, 15, 123)));
    log('Server started on 127.0.0.1:4444');
    log('Message from alice: hi');
    expect(text()).toBe(
      '2026-11-27T07:09:15.123Z Server started on 127.0.0.1:4444\n' + '2026-11-27T07:09:15.123Z Message from alice: hi\n',
    );
    expect(writes()).toBe(2);
  });

  it('escapes what would garble a terminal, so one event stays one line', () => {
    const { stream, text } = capture();
    const log = streamLog(stream, () => new Date(0));
    log('Message from mallory: \u001b[2J\u202eevil\nfake line');
    expect(text()).toBe('1970-01-01T00:00:00.000Z Message from mallory: \\u{1b}[2J\\u{202e}evil\\u{a}fake line\n');
    expect(text().split('\n')).toHaveLength(2);
  });

  it('drops lines while more than the backlog waits to be written, then says how many', async () => {
    // A stream nobody reads: what is written waits in it (writableLength).
    const stream = new PassThrough({ highWaterMark: 16 });
    const log = streamLog(stream, () => new Date(0), 100);
    log('a'.repeat(150)); // written: nothing was waiting
    log('dropped 1');
    log('dropped 2');
    expect(stream.writableLength).toBeGreaterThan(100);
    const chunks: string[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
    await new Promise((resolve) => setImmediate(resolve));
    expect(stream.writableLength).toBe(0);
    log('after');
    log('and on');
    await new Promise((resolve) => setImmediate(resolve));
    expect(chunks.join('').split('\n')).toEqual([
      `1970-01-01T00:00:00.000Z ${'a'.repeat(150)}`,
      '1970-01-01T00:00:00.000Z 2 log lines dropped: the log output was not keeping up',
      '1970-01-01T00:00:00.000Z after',
      '1970-01-01T00:00:00.000Z and on',
      '',
    ]);
  });

  it('holds at most about 1 MiB of log output by default', () => {
    expect(LOG_BACKLOG).toBe(1 << 20);
  });

  it('uses the real clock by default', () => {
    const { stream, text } = capture();
    const before = Date.now();
    streamLog(stream)('x');
    const stamp = Date.parse(text().split(' ')[0]!);
    expect(stamp).toBeGreaterThanOrEqual(before - 1);
    expect(stamp).toBeLessThanOrEqual(Date.now() + 1);
  });
});

describe('silentLog', () => {
  it('accepts a line and does nothing', () => {
    expect(silentLog('anything')).toBeUndefined();
  });
});
