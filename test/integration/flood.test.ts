/**
 * Flood control ([FLOOD-1]..[FLOOD-3]) seen from the wire: a client that
 * sends as fast as it can has its lines delayed, never lost, reordered or
 * refused; PING and PONG cost nothing; everyone else keeps being served.
 * Real server processes with small flood settings. The behaviour under test
 * is a rate, so the tests time it, with lower bounds only (a loaded machine
 * can only make things slower) and generous factors.
 */
import { describe, expect } from 'vitest';
import type { LineClient, Received } from '../support/line-client.ts';
import { Signal, useOwnServers, user } from '../support/own-server.ts';
import { readGreeting, repliesOf, settle } from '../support/suite.ts';
import { itOwnServer } from '../support/target.ts';

const own = useOwnServers();

const BURST = 5;
const RATE = 50;
const FLOOD = ['--flood-burst', String(BURST), '--flood-rate', String(RATE)];

/** The median of some numbers. */
function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

/** One PING/PONG round trip in milliseconds, and what arrived before the PONG. */
async function roundTrip(client: LineClient): Promise<{ ms: number; before: Received[] }> {
  const t0 = performance.now();
  const before = await client.barrier();
  return { ms: performance.now() - t0, before };
}

/** The numbers in the texts of `sender`'s ECHOs or MSGs among `messages`. */
function numbersFrom(messages: readonly Received[], command: 'ECHO' | 'MSG', sender: string): number[] {
  return messages.filter((m) => m.command === command && m.params[3] === sender).map((m) => Number(m.params[6]));
}

describe('flood control', () => {
  itOwnServer('[FLOOD-1] [MSG-7] [MSG-8] a client sending as fast as it can is delayed to RATE lines/s, losing nothing, in order; the server stays responsive to everyone else', async () => {
    const { pool } = await own.start(FLOOD);
    const flooder = await user(pool, 'flooder');
    const watcher = await user(pool, 'watcher');
    const info = readGreeting(flooder.greeting!);
    expect(info.keys.get('BURST')).toBe(String(BURST));
    expect(info.floodRate).toBe(RATE);
    await settle(flooder, watcher);

    // Idle round trips of a healthy client first (after a warm-up).
    const idle: number[] = [];
    for (let i = 0; i < 60; i++) idle.push((await roundTrip(watcher)).ms);
    idle.splice(0, 20);

    const count = BURST + 2 * RATE; // two seconds' worth after the burst
    const t0 = performance.now();
    flooder.write(Array.from({ length: count }, (_, i) => `SAY :${i}\n`).join(''));

    // All the ECHOs, in order, as the flooder gets them.
    const echoes: number[] = [];
    let floodEnd = 0;
    const echoed = new Signal();
    const flooding = collectAll(flooder, count, (m) => {
      echoes.push(m.command === 'ECHO' ? Number(m.params[6]) : NaN);
      if (echoes.length === count) floodEnd = performance.now();
      echoed.notify();
    });

    // Meanwhile: the watcher's round trips, and a newcomer who registers and talks.
    const during: number[] = [];
    const seenByWatcher: Received[] = [];
    const newcomer = (async () => {
      const late = await user(pool, 'newcomer');
      late.send('SAY :hello during the flood');
      await late.expect('ECHO');
      return { at: performance.now(), floodDone: echoes.length === count };
    })();
    // One round trip each time the flooder's next ECHO has arrived: spread over the whole flood.
    const over = flooding.then(() => echoed.notify());
    while (echoes.length < count) {
      const { ms, before } = await roundTrip(watcher);
      during.push(ms);
      seenByWatcher.push(...before);
      await Promise.race([echoed.next(), over]);
    }
    await flooding;
    const late = await newcomer;
    seenByWatcher.push(...(await watcher.barrier()));
    const elapsed = (floodEnd - t0) / 1000;

    const idleP50 = median(idle);
    const floodP50 = median(during);
    console.log(
      `[FLOOD-1] ${count} lines with BURST=${BURST} RATE=${RATE}: all echoed after ${elapsed.toFixed(2)} s ` +
        `(${((count - BURST) / elapsed).toFixed(1)} lines/s after the burst); watcher PING/PONG p50 ` +
        `idle ${idleP50.toFixed(2)} ms, during the flood ${floodP50.toFixed(2)} ms (${during.length} round trips)`,
    );

    // Delayed, not lost, not refused: one ECHO per line, in order.
    expect(echoes).toEqual(Array.from({ length: count }, (_, i) => i));
    expect(flooder.isClosed).toBe(false);
    // Delayed to about RATE lines per second after the burst (a lower bound only: a busy machine is slower still).
    expect(elapsed, 'seconds until the last ECHO').toBeGreaterThan((0.7 * (count - BURST)) / RATE);
    // The others got every line too, in order.
    expect(numbersFrom(seenByWatcher, 'MSG', 'flooder')).toEqual(echoes);
    // Nobody else waited for the flooder: round trips stay close to idle ...
    expect(during.length).toBeGreaterThan(0);
    expect(floodP50, `watcher round trip during the flood vs idle ${idleP50.toFixed(2)} ms`).toBeLessThan(Math.max(10 * idleP50, 50));
    // ... and a client that arrived during the flood registered and talked before it was over.
    expect(late.floodDone, 'the newcomer was served only after the flood').toBe(false);
    expect(late.at).toBeLessThan(floodEnd);
    expect(seenByWatcher.some((m) => m.command === 'MSG' && m.params[3] === 'newcomer')).toBe(true);
  }, 60_000);

  itOwnServer('[FLOOD-2] [PING-1] PING and PONG use up no tokens, and still keep their place among held lines', async () => {
    const { pool } = await own.start(FLOOD);
    const a = await user(pool, 'pinger');
    await settle(a);

    // 500 PINGs and 500 PONGs: at RATE lines/s they would take 20 s if they cost a token.
    const pings = 500;
    const t0 = performance.now();
    a.write(Array.from({ length: pings }, (_, i) => `PING p${i}\nPONG q${i}\n`).join(''));
    // Then BURST lines that do cost a token, and a barrier: if the PINGs and
    // PONGs had used the bucket, these would wait for it to refill.
    a.write(Array.from({ length: BURST }, (_, i) => `SAY :s${i}\n`).join(''));
    const replies = repliesOf(a, await a.barrier());
    const ms = performance.now() - t0;
    console.log(`[FLOOD-2] ${2 * pings} PING/PONG lines and ${BURST} SAYs answered in ${ms.toFixed(0)} ms`);
    expect(replies.map((m) => m.raw)).toEqual([
      ...Array.from({ length: pings }, (_, i) => `PONG p${i}`),
      ...Array.from({ length: BURST }, () => expect.stringMatching(/^ECHO /)),
    ]);
    expect(replies.slice(pings).map((m) => m.params[6])).toEqual(Array.from({ length: BURST }, (_, i) => `s${i}`));
    expect(ms, 'time for free PINGs and a full burst').toBeLessThan((1000 * (2 * pings)) / RATE / 4);

    // A PING behind held lines is answered after their replies, never before ([PING-1]).
    const held = 3 * BURST;
    a.write(Array.from({ length: held }, (_, i) => `SAY :h${i}\n`).join('') + 'PING after\n');
    const order = repliesOf(a, await a.barrier());
    expect(order.map((m) => (m.command === 'ECHO' ? m.params[6] : `${m.command} ${m.params[0]}`))).toEqual([
      ...Array.from({ length: held }, (_, i) => `h${i}`),
      'PONG after',
    ]);
  }, 60_000);

  itOwnServer('[FLOOD-3] [FLOOD-1] a 1 MB blast of short lines at the smallest input cap is paused by TCP, not cut off: every line is processed, in order, at RATE', async () => {
    // The input cap may not be smaller than LINE + 64 KiB (one socket read);
    // the blast is 16 times that. A server that held what it read would pass
    // the cap and answer ERR FLOOD; one that stops reading never does.
    const line = 2048;
    const cap = line + 65_536;
    const rate = 5_000;
    const { pool } = await own.start(['--max-line', String(line), '--max-input', String(cap), '--flood-burst', String(BURST), '--flood-rate', String(rate)]);
    const a = await user(pool, 'blaster');
    const watcher = await user(pool, 'onlooker');
    await settle(a, watcher);

    const text = (i: number) => `${i} ${'b'.repeat(90)}`;
    const count = Math.ceil((1 << 20) / Buffer.byteLength(`SAY :${text(0)}\n`));
    const blast = Array.from({ length: count }, (_, i) => `SAY :${text(i)}\n`).join('');
    expect(blast.length).toBeGreaterThanOrEqual(1 << 20);
    const t0 = performance.now();
    a.write(blast);
    const got: number[] = [];
    const others: Received[] = [];
    await collectAll(a, count, (m) => {
      if (m.command === 'ECHO') got.push(Number(m.params[6]!.split(' ')[0]));
      else others.push(m);
    });
    const seconds = (performance.now() - t0) / 1000;
    console.log(`[FLOOD-3] ${(blast.length / (1 << 20)).toFixed(2)} MB in ${count} lines with an input cap of ${cap} bytes: all processed in ${seconds.toFixed(2)} s, connection open`);

    expect(others.map((m) => m.raw)).toEqual([]);
    expect(got).toEqual(Array.from({ length: count }, (_, i) => i));
    expect(a.isClosed).toBe(false);
    expect(seconds, 'paced by flood control').toBeGreaterThan((0.7 * (count - BURST)) / rate);
    // Still a full member afterwards.
    a.send('SAY :still here');
    expect((await a.expect('ECHO')).params[6]).toBe('still here');
    expect(await watcher.who()).toContain('blaster');
  }, 60_000);
});

/**
 * Feeds the first `count` replies of `client` (everything but notices about
 * others) to `each` as they arrive. An ERR counts as a reply, so the test's
 * own checks show it; the end of the connection rejects.
 */
async function collectAll(client: LineClient, count: number, each: (m: Received) => void): Promise<void> {
  let n = 0;
  await client.expect((m) => {
    if (m.command === 'JOIN' || m.command === 'LEAVE' || m.command === 'MSG' || m.command === 'PING') return false;
    each(m);
    return ++n >= count;
  }, 30_000);
}
