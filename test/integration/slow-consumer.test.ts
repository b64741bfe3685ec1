/**
 * A client that stops reading while others move a lot of data ([LIMIT-7]):
 * the server holds at most SENDQ bytes for it, then cuts it off with
 * ERR SLOW_CONSUMER, and nobody else waits, loses or reorders anything.
 * Real server process, real sockets on 127.0.0.1; the senders pace
 * themselves on what the healthy clients have received, never on time.
 */
import { describe, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import type { LineClient, Received } from '../support/line-client.ts';
import { hasProc, memoryKb } from '../support/proc.ts';
import { Signal, useOwnServers, user } from '../support/own-server.ts';
import { expectErr, readGreeting, settle } from '../support/suite.ts';
import { itOwnServer } from '../support/target.ts';

const own = useOwnServers();

const MB = 1024 * 1024;
/** Longest line the server accepts here: big messages, fewer lines to parse. */
const LINE = 8192;
/** What the senders move in all, at least. */
const TOTAL = 50 * MB;
const SENDERS = 3;
/**
 * Lines a sender may have ahead of the slowest healthy client: with three
 * senders a healthy client has at most 3 × 16 × 8 KiB = 384 KiB waiting,
 * well under SENDQ (1 MiB), so only the client that stopped reading can pass it.
 */
const WINDOW = 16;

/**
 * The most the kernel may buffer on a loopback connection that is not read:
 * the sender's socket buffer and the receiver's, at their largest (Linux
 * autotuning limits; 64 MiB where they cannot be read).
 */
function kernelBuffers(): number {
  try {
    const max = (file: string) => Number(readFileSync(file, 'utf8').trim().split(/\s+/).at(-1));
    const total = max('/proc/sys/net/ipv4/tcp_wmem') + max('/proc/sys/net/ipv4/tcp_rmem');
    return Number.isFinite(total) ? total : 64 * MB;
  } catch {
    return 64 * MB;
  }
}

describe('slow consumer under volume', () => {
  itOwnServer('[LIMIT-7] [ERR-2] [PRES-1] [MSG-7] a client that never reads while others send 50 MB is cut off at SENDQ with ERR SLOW_CONSUMER; the others get every message in order, and server memory stays bounded', async () => {
    const { server, pool } = await own.start(['--flood-rate', '0', '--max-line', String(LINE)]);
    const pid = server.child.pid;
    const senders = await Promise.all(Array.from({ length: SENDERS }, (_, k) => user(pool, `sender${k}`)));
    const slow = await user(pool, 'slowpoke');
    const info = readGreeting(slow.greeting!);
    const sendq = Number(info.keys.get('SENDQ'));
    expect(sendq, 'SENDQ in the greeting').toBeGreaterThan(0);
    await settle(...senders, slow);
    const rssBefore = hasProc(pid) ? memoryKb(pid, 'VmRSS') : 0;
    slow.socket.pause();

    // `SAY :<k>:<i> ` + filler: exactly LINE bytes.
    const header = (k: number, i: number) => `SAY :${k}:${i} `;
    const filler = (k: number, i: number) => 'x'.repeat(LINE - header(k, i).length);
    const perSender = Math.ceil(TOTAL / SENDERS / (LINE + 1));

    // What each healthy client has received from each sender, checked as it arrives.
    const healthy = senders;
    const received = healthy.map(() => Array<number>(SENDERS).fill(0));
    const problems: string[] = [];
    const problem = (text: string) => {
      if (problems.length < 20) problems.push(text);
    };
    const leaves: Array<Received | undefined> = healthy.map(() => undefined);
    /** Bytes of messages the first healthy client had received when it saw the LEAVE. */
    let relayedAtLeave = -1;
    let relayedBytes = 0;
    const progress = new Signal();
    const slowReads = { resumed: false };

    const consume = (c: number, client: LineClient) =>
      client.expect((m) => {
        if (m.command === 'MSG' || m.command === 'ECHO') {
          const match = /^(\d+):(\d+) /.exec(m.params[6] ?? '');
          const k = Number(match?.[1]);
          const i = Number(match?.[2]);
          const echo = m.command === 'ECHO';
          if (!match || echo !== (k === c) || m.params[3] !== `sender${k}`) problem(`client ${c} got ${m.raw.slice(0, 80)}`);
          else if (i !== received[c]![k]) problem(`client ${c} got ${k}:${i} after ${k}:${received[c]![k]! - 1}`);
          else if (m.params[6]!.length !== LINE - 'SAY :'.length) problem(`client ${c} got ${k}:${i} of ${m.params[6]!.length} bytes`);
          received[c]![k] = i + 1;
          if (c === 0) relayedBytes += Buffer.byteLength(m.raw) + 1;
          progress.notify();
        } else if (m.command === 'LEAVE' && m.params[1] === slow.name) {
          leaves[c] = m;
          if (c === 0) relayedAtLeave = relayedBytes;
          // The ERR waits in the slow client's socket: read it now, within the server's linger time.
          if (!slowReads.resumed) {
            slowReads.resumed = true;
            slow.socket.resume();
          }
        } else problem(`client ${c} got ${m.raw.slice(0, 80)}`);
        return received[c]!.every((n) => n === perSender);
      }, 90_000);

    const receiving = healthy.map((client, c) => consume(c, client));
    let sentBytes = 0;
    const t0 = performance.now();
    const sending = senders.map(async (sender, k) => {
      /** How far the slowest healthy client has got with this sender's messages. */
      const floor = () => Math.min(...received.map((r) => r[k]!));
      for (let i = 0; i < perSender; ) {
        // Never more than WINDOW lines ahead of the slowest healthy client.
        while (i - floor() >= WINDOW) await progress.next();
        const end = Math.min(perSender, floor() + WINDOW);
        let batch = '';
        for (; i < end; i++) batch += `${header(k, i)}${filler(k, i)}\n`;
        sentBytes += batch.length;
        await sender.writeFlushed(batch);
      }
    });
    await Promise.all([...sending, ...receiving]);
    // The slow client's bytes, once it reads again: messages, then the ERR.
    if (!slowReads.resumed) slow.socket.resume();
    const last = await slow.untilClosed(20_000);
    const seconds = (performance.now() - t0) / 1000;

    const rssAfter = hasProc(pid) ? memoryKb(pid, 'VmRSS') : 0;
    const peak = hasProc(pid) ? memoryKb(pid, 'VmHWM') : 0;
    const growthMb = (peak - rssBefore) / 1024;
    console.log(
      `[LIMIT-7] ${SENDERS} senders moved ${(sentBytes / MB).toFixed(1)} MB in ${seconds.toFixed(1)} s ` +
        `(${((sentBytes * SENDERS) / MB / seconds).toFixed(0)} MB/s delivered); the slow client was cut off after ` +
        `${(relayedAtLeave / MB).toFixed(1)} MB had been relayed and got ${(slow.wire.bytes / MB).toFixed(2)} MB (SENDQ ${(sendq / MB).toFixed(2)} MB); ` +
        `server RSS ${(rssBefore / 1024).toFixed(0)} MB before, ${(rssAfter / 1024).toFixed(0)} MB after, peak ${(peak / 1024).toFixed(0)} MB: ` +
        `growth ${growthMb.toFixed(1)} MB`,
    );

    expect(sentBytes, 'bytes the senders sent').toBeGreaterThanOrEqual(TOTAL);
    // Every healthy client got every message of every sender, in order, exactly once.
    expect(problems).toEqual([]);
    for (const counts of received) expect(counts).toEqual(Array(SENDERS).fill(perSender));

    // Every peer saw the slow client leave with reason error and text SLOW_CONSUMER ...
    for (const leave of leaves) expect(leave?.params).toEqual([slow.lobby, slow.name, 'error', 'SLOW_CONSUMER']);
    // ... at its limit: what the server had relayed by then is SENDQ plus
    // what the kernel buffers between the two sockets, far less than the flood.
    const atLimit = sendq + kernelBuffers() + MB;
    expect(relayedAtLeave).toBeGreaterThan(sendq);
    expect(relayedAtLeave, 'bytes relayed before the cut').toBeLessThan(Math.min(atLimit, TOTAL / 2));

    // It got a gap-free prefix of each sender's messages, then ERR SLOW_CONSUMER as its last line.
    expectErr(last.at(-1), 'SLOW_CONSUMER', '*');
    const next = Array<number>(SENDERS).fill(0);
    for (const m of last.slice(0, -1)) {
      const match = m.command === 'MSG' ? /^(\d+):(\d+) /.exec(m.params[6] ?? '') : null;
      if (!match) {
        problem(`slow client got ${m.raw.slice(0, 80)}`);
        continue;
      }
      const [k, i] = [Number(match[1]), Number(match[2])];
      if (i !== next[k]) problem(`slow client got ${k}:${i} after ${k}:${next[k]! - 1}`);
      next[k] = i + 1;
    }
    expect(problems).toEqual([]);
    // What it got is bounded the same way.
    expect(slow.wire.bytes, 'bytes the slow client received').toBeLessThan(atLimit);
    expect(await senders[0]!.who()).not.toContain(slow.name);

    if (hasProc(pid)) expect(growthMb, 'peak server RSS growth, MB').toBeLessThan(150);
  }, 120_000);
});
