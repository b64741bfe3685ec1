/**
 * Shutdown under load ([SHUT-1], [SHUT-3]): SIGTERM arrives while several
 * clients are chatting as fast as the server answers them. Every connected
 * client, registered or not, must get SHUTDOWN as its last line, after a
 * clean, ordered stream, and the process must exit 0 within 2 s.
 */
import { describe, expect } from 'vitest';
import type { LineClient } from '../support/line-client.ts';
import { Signal, useOwnServers, user } from '../support/own-server.ts';
import { itOwnServer } from '../support/target.ts';

const own = useOwnServers();

/** SPEC [SHUT-3]: a graceful stop takes at most this long. */
const STOP_MS = 2_000;
const CHATTERS = 6;
/** Lines a chatter writes at once, before it waits for their ECHOs. */
const BATCH = 20;

interface Chatter {
  readonly client: LineClient;
  readonly k: number;
  /** Lines written, and ECHOs received. */
  sent: number;
  echoed: number;
  /** Everything received up to and including SHUTDOWN, in short form. */
  readonly seen: Array<{ command: string; seq?: number; from?: string; n?: number }>;
  shutdown: boolean;
}

describe('shutdown under load', () => {
  itOwnServer('[SHUT-1] [SHUT-3] [MSG-5] [MSG-7] with clients chatting continuously, SIGTERM gives every connected client SHUTDOWN as its last line, after an ordered stream, and the server exits 0 within 2 s', async () => {
    const { server, pool } = await own.start(['--flood-rate', '0']);
    const clients = await Promise.all(Array.from({ length: CHATTERS }, (_, k) => user(pool, `chat${k}`)));
    const lurker = await pool.connect(); // connected, never registered
    const progress = new Signal();
    const chatters: Chatter[] = clients.map((client, k) => ({ client, k, sent: 0, echoed: 0, seen: [], shutdown: false }));

    // Each chatter reads everything up to SHUTDOWN...
    const reading = chatters.map((c) =>
      c.client.expect((m) => {
        if (m.command === 'ECHO' || m.command === 'MSG') {
          const [, seq, , from, , , text] = m.params;
          c.seen.push({ command: m.command, seq: Number(seq), from, n: Number(text!.split(' ')[0]) });
          if (m.command === 'ECHO') {
            c.echoed++;
            progress.notify();
          }
        } else c.seen.push({ command: m.command });
        c.shutdown = m.command === 'SHUTDOWN';
        return c.shutdown;
      }, 20_000),
    );
    // ... and writes a batch whenever the previous one has been echoed, until the server goes.
    const filler = 'w'.repeat(200);
    const writing = chatters.map(async (c) => {
      while (!c.shutdown && !c.client.isClosed) {
        if (c.echoed < c.sent) {
          await Promise.race([progress.next(), c.client.closed]);
          continue;
        }
        let batch = '';
        for (let i = 0; i < BATCH; i++) batch += `SAY :${c.sent + i} ${filler}\n`;
        c.sent += BATCH;
        await c.client.writeFlushed(batch);
      }
    });

    // Under way: every chatter has had a few batches echoed.
    while (chatters.some((c) => c.echoed < 5 * BATCH)) await progress.next();
    const t0 = performance.now();
    server.child.kill('SIGTERM');
    const exit = await server.exited;
    const ms = performance.now() - t0;
    await Promise.all(reading);
    await Promise.all(writing);
    const tails = await Promise.all(chatters.map((c) => c.client.untilClosed(5_000)));
    const lurked = await lurker.untilClosed(5_000);
    console.log(
      `[SHUT-1] SIGTERM with ${CHATTERS} clients chatting: exit ${exit.code} after ${ms.toFixed(0)} ms; ` +
        `lines echoed per client: ${chatters.map((c) => c.echoed).join(', ')}`,
    );

    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(ms, 'time from SIGTERM to exit').toBeLessThan(STOP_MS);
    // The unregistered client: SHUTDOWN and nothing else, then the end.
    expect(lurked.map((m) => m.command)).toEqual(['SHUTDOWN']);
    expect(lurker.wire.unterminated).toBe(0);

    const problems: string[] = [];
    for (const [i, c] of chatters.entries()) {
      // SHUTDOWN exactly once, as the last line; whole lines only.
      expect(c.seen.at(-1)?.command, `last line to chat${c.k}`).toBe('SHUTDOWN');
      expect(tails[i]!.map((m) => m.raw), `lines after SHUTDOWN to chat${c.k}`).toEqual([]);
      expect(c.seen.filter((m) => m.command === 'SHUTDOWN')).toHaveLength(1);
      expect(c.client.wire.unterminated).toBe(0);
      expect(c.client.wire.malformed).toEqual([]);
      // Before it, an ordered stream: seq strictly increasing; each sender's lines in order, none missing.
      let lastSeq = -1;
      const next = new Map<string, number>();
      for (const m of c.seen) {
        if (m.seq === undefined) {
          if (m.command !== 'SHUTDOWN' && m.command !== 'JOIN') problems.push(`chat${c.k} got ${m.command}`);
          continue;
        }
        if (m.seq <= lastSeq) problems.push(`chat${c.k}: seq ${m.seq} after ${lastSeq}`);
        lastSeq = m.seq;
        const from = m.command === 'ECHO' ? 'self' : m.from!;
        if (m.n !== (next.get(from) ?? 0)) problems.push(`chat${c.k}: ${from} #${m.n} after #${(next.get(from) ?? 0) - 1}`);
        next.set(from, m.n! + 1);
      }
      expect(c.echoed).toBeGreaterThanOrEqual(5 * BATCH);
    }
    expect(problems.slice(0, 10)).toEqual([]);
  }, 30_000);
});
