/**
 * A stream that never ends a line ([LIMIT-3]), at a size that would hurt a
 * server that buffered it: 100 MB. The server must cut the connection off
 * once READCAP bytes have come without a line end, and its memory must not
 * follow the stream, even when the client goes on writing after the cut.
 * (Lines exactly at LINE, one byte over, and just over
 * READCAP are in framing.test.ts.)
 */
import { describe, expect } from 'vitest';
import type { Received } from '../support/line-client.ts';
import { hasProc, memoryKb } from '../support/proc.ts';
import { useOwnServers, user } from '../support/own-server.ts';
import { expectErr, settle } from '../support/suite.ts';
import { itOwnServer } from '../support/target.ts';

const own = useOwnServers();

const MB = 1024 * 1024;

describe('oversized input', () => {
  itOwnServer('[LIMIT-3] [ERR-2] [PRES-1] a stream of up to 100 MB without a line end gets ERR INPUT_OVERFLOW once READCAP bytes have come, then the connection closes; server memory does not follow the stream, even when the client writes on after the cut', async () => {
    const { server, pool } = await own.start();
    const pid = server.child.pid;
    const peer = await user(pool, 'peer');
    const streamer = await user(pool, 'streamer');
    await settle(peer, streamer);
    const rssBefore = hasProc(pid) ? memoryKb(pid, 'VmRSS') : 0;

    // The client keeps writing after the server's FIN, as a hostile one
    // would: the server must neither store it nor spend itself reading it.
    streamer.socket.allowHalfOpen = true;
    const total = 100 * MB;
    const chunk = Buffer.alloc(MB, 0x61);
    let sent = 0;
    let sentAtErr = -1;
    let err: Received | undefined;
    // The reply may come while the stream is still being written.
    const replies = streamer.expect('ERR', 30_000).then((m) => {
      err = m;
      sentAtErr = sent;
    });
    const t0 = performance.now();
    while (sent < total && !streamer.isClosed && streamer.socket.writable) {
      await Promise.race([streamer.writeFlushed(chunk), streamer.closed]);
      sent += chunk.length;
    }
    streamer.end();
    const seconds = (performance.now() - t0) / 1000;
    await replies;
    const after = await streamer.untilClosed(10_000);
    const peak = hasProc(pid) ? memoryKb(pid, 'VmHWM') : 0;
    const growthMb = (peak - rssBefore) / 1024;
    console.log(
      `[LIMIT-3] streamed ${(sent / MB).toFixed(0)} MB without LF in ${seconds.toFixed(2)} s; ERR INPUT_OVERFLOW arrived after ` +
        `${(sentAtErr / MB).toFixed(0)} MB had been written; server RSS ${(rssBefore / 1024).toFixed(0)} MB before, ` +
        `peak ${(peak / 1024).toFixed(0)} MB: growth ${growthMb.toFixed(1)} MB`,
    );

    expectErr(err, 'INPUT_OVERFLOW', '*');
    // The ERR is the last line: nothing of the stream was processed.
    expect(after.map((m) => m.raw)).toEqual([]);
    expect(streamer.wire.unterminated).toBe(0);
    // The ERR came while the client was still writing, long before the end of the stream ...
    expect(sentAtErr).toBeGreaterThanOrEqual(0);
    expect(sentAtErr, 'bytes written when the ERR arrived').toBeLessThan(total / 2);
    // ... and the server stopped reading it: after READCAP more bytes it left
    // the rest unread until the socket's linger time ran out.
    expect(sent).toBeLessThan(total);
    const leave = await peer.expect((m) => m.command === 'LEAVE' && m.params[1] === 'streamer');
    expect(leave.params).toEqual([peer.lobby, 'streamer', 'error', 'INPUT_OVERFLOW']);
    expect(await peer.who()).toEqual(['peer']);
    if (hasProc(pid)) expect(growthMb, 'peak server RSS growth, MB').toBeLessThan(60);
  }, 60_000);
});
