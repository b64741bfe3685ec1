/**
 * Keepalive and the registration timeout ([PING-3], [PING-4], [PING-5]):
 * real server processes with timers of a few tenths of a second. What is
 * under test here is a timer, so the waits are generous (seconds) and the
 * only time bounds asserted are lower ones; otherwise every step waits for
 * a protocol event, including a frozen client program (SIGSTOP).
 */
import { describe, expect } from 'vitest';
import type { Received } from '../support/line-client.ts';
import { useOwnServers, user } from '../support/own-server.ts';
import { expectErr, readGreeting, repliesOf, settle } from '../support/suite.ts';
import { itOwnServer } from '../support/target.ts';
import { startClientProgram } from './client-program.ts';

const own = useOwnServers();

/** Seconds of silence before the server PINGs, and to answer it. */
const PING_S = 0.3;
const KEEPALIVE = ['--ping-interval', String(PING_S), '--ping-timeout', String(PING_S)];
/** Generous: a timer of 0.3 s on a loaded machine. */
const WAIT_MS = 10_000;

/** `LEAVE <room> <name> …` of `name`, in whichever room (here: the lobby). */
const isLeaveOf = (name: string | undefined) => (m: Received) => m.command === 'LEAVE' && m.params[1] === name;

describe('keepalive', () => {
  itOwnServer('[PING-4] [ERR-2] [PRES-1] [PRES-4] a client that does not answer PING gets ERR PING_TIMEOUT and is closed; peers see LEAVE <name> timeout', async () => {
    const { pool } = await own.start(KEEPALIVE);
    const peer = await user(pool, 'peer');
    const info = readGreeting(peer.greeting!);
    expect(info.keys.get('PING')).toBe(String(PING_S));
    expect(info.keys.get('PINGTIMEOUT')).toBe(String(PING_S));

    const silent = await pool.connect({ answerPings: false });
    await silent.register('silent');
    const unregistered = await pool.connect({ answerPings: false });
    const t0 = performance.now();

    for (const client of [silent, unregistered]) {
      const ping = await client.expect('PING', WAIT_MS);
      expect(ping.params, ping.raw).toHaveLength(1);
      expect(Buffer.byteLength(ping.params[0]!)).toBeLessThanOrEqual(64); // [PING-2]
    }
    const pinged = performance.now();
    const [silentEnd, unregisteredEnd] = await Promise.all([silent.untilClosed(WAIT_MS), unregistered.untilClosed(WAIT_MS)]);
    const closed = performance.now();
    console.log(
      `[PING-4] PING after ${(pinged - t0).toFixed(0)} ms of silence, closed ${(closed - pinged).toFixed(0)} ms later ` +
        `(PING=${PING_S} s, PINGTIMEOUT=${PING_S} s)`,
    );
    for (const end of [silentEnd, unregisteredEnd]) {
      expect(end.map((m) => m.raw).filter((raw) => !raw.startsWith('PING '))).toHaveLength(1);
      expectErr(end.at(-1), 'PING_TIMEOUT', '*');
    }
    expect(closed - t0, 'time from registration to close').toBeGreaterThan(0.8 * 2 * PING_S * 1000);

    // The registered one leaves with reason timeout; the unregistered one was never announced.
    const seen = await peer.expect(isLeaveOf('silent'), WAIT_MS);
    expect(seen.params[0]).toBe(info.lobby);
    expect(seen.params[2]).toBe('timeout');
    const rest = await peer.barrier();
    expect(rest.filter((m) => m.command === 'LEAVE' || m.command === 'JOIN')).toEqual([]);
    // The peer, which answered every PING, is still online; the silent one is not.
    expect(await peer.who()).toEqual(['peer']);
  }, 30_000);

  itOwnServer('[PING-4] [PING-3] [PING-1] a client that answers each PING stays connected across several intervals, and so does one that answers with any other line', async () => {
    const { pool } = await own.start(KEEPALIVE);
    const ponger = await pool.connect({ answerPings: false });
    await ponger.register('ponger');
    const talker = await pool.connect({ answerPings: false });
    await talker.register('talker');
    await settle(ponger, talker);

    const rounds = 4;
    const answer = async (client: typeof ponger, reply: (token: string, round: number) => string) => {
      for (let round = 0; round < rounds; round++) {
        const ping = await client.expect('PING', WAIT_MS);
        client.send(reply(ping.params[0]!, round));
      }
    };
    const t0 = performance.now();
    await Promise.all([
      answer(ponger, (token) => `PONG ${token}`),
      // Any line counts as a sign of life, not only PONG.
      answer(talker, (_token, round) => `SAY :alive ${round}`),
    ]);
    const seconds = (performance.now() - t0) / 1000;
    console.log(`[PING-4] ${rounds} PINGs answered in ${seconds.toFixed(2)} s; still connected`);
    expect(seconds).toBeGreaterThan(0.8 * (rounds - 1) * PING_S);
    for (const client of [ponger, talker]) {
      const replies = repliesOf(client, await client.barrier());
      expect(replies.filter((m) => m.command === 'ERR')).toEqual([]);
      expect(client.isClosed).toBe(false);
    }
    expect(await ponger.who()).toEqual(['ponger', 'talker']);
  }, 30_000);

  itOwnServer('[PING-3] [FLOOD-1] lines held back by flood control count as a sign of life: a client busy for longer than PING + PINGTIMEOUT is not timed out', async () => {
    const rate = 20;
    const burst = 5;
    const { pool } = await own.start([...KEEPALIVE, '--flood-burst', String(burst), '--flood-rate', String(rate)]);
    const busy = await pool.connect({ answerPings: false });
    await busy.register('busy');
    // 1.5 s of held lines, more than twice PING + PINGTIMEOUT; PINGs go unanswered.
    const count = burst + 1.5 * rate;
    busy.write(Array.from({ length: count }, (_, i) => `SAY :${i}\n`).join(''));
    const got: Received[] = [];
    await busy.expect((m) => {
      if (m.command !== 'PING') got.push(m);
      return got.length === count;
    }, WAIT_MS);
    expect(got.map((m) => (m.command === 'ECHO' ? Number(m.params[6]) : m.raw))).toEqual(Array.from({ length: count }, (_, i) => i));
    // Once it is silent for real, it is timed out like anyone else.
    const end = await busy.untilClosed(WAIT_MS);
    expectErr(end.filter((m) => m.command !== 'PING').at(-1), 'PING_TIMEOUT', '*');
  }, 30_000);

  itOwnServer('[PING-4] [CLIENT-5] a frozen client program (SIGSTOP), whose kernel still acknowledges TCP, is found by the PING timeout: peers see LEAVE <name> timeout', async () => {
    const { server, pool } = await own.start(KEEPALIVE);
    const peer = await user(pool, 'watcher');
    const program = startClientProgram(['--host', server.host, '--port', String(server.port), '--name', 'frozen', '--no-reconnect']);
    own.defer(async () => {
      program.child.kill('SIGCONT');
      await program.kill();
    });
    await program.waitFor(/^You are frozen\. /);
    await peer.expect((m) => m.command === 'JOIN' && m.params[1] === 'frozen', WAIT_MS);

    // While it runs, it answers PINGs ([CLIENT-5]): a silent client that
    // joined after it is timed out, and by then the program has had its
    // first PING and its time to answer, and is still online.
    const probe = await pool.connect({ answerPings: false });
    await probe.register('probe');
    await peer.expect(isLeaveOf('probe'), WAIT_MS);
    expect(await peer.who()).toEqual(['frozen', 'watcher']);

    const t0 = performance.now();
    expect(program.child.kill('SIGSTOP')).toBe(true);
    const leave = await peer.expect(isLeaveOf('frozen'), WAIT_MS);
    const ms = performance.now() - t0;
    console.log(`[PING-4] frozen client program dropped ${ms.toFixed(0)} ms after SIGSTOP (PING=${PING_S} s, PINGTIMEOUT=${PING_S} s)`);
    expect(leave.params[2]).toBe('timeout');
    expect(ms).toBeGreaterThan(0.8 * PING_S * 1000);
    expect(await peer.who()).toEqual(['watcher']);
  }, 30_000);
});

describe('registration timeout', () => {
  const REGISTER_S = 0.3;
  const REGISTER = ['--register-timeout', String(REGISTER_S)];

  itOwnServer('[PING-5] [ERR-2] [PRES-4] a connection that does not register within REGTIMEOUT gets ERR REGISTRATION_TIMEOUT and is closed, even if it talks; a registered client is not affected', async () => {
    const { pool } = await own.start(REGISTER);
    // Registered first, so its own timer would have fired before the others'.
    const early = await pool.connect();
    expect(readGreeting(early.greeting!).keys.get('REGTIMEOUT')).toBe(String(REGISTER_S));
    await early.register('early');
    await settle(early);

    const t0 = performance.now();
    const idle = await pool.connect();
    // Active but never registered: PINGs are answered, a bad HELLO refused; it is still timed out.
    const chatty = await pool.connect();
    chatty.send('PING still-here');
    chatty.send('HELLO 1 9bad');
    const [idleEnd, chattyEnd] = await Promise.all([idle.untilClosed(WAIT_MS), chatty.untilClosed(WAIT_MS)]);
    const ms = performance.now() - t0;
    console.log(`[PING-5] unregistered connections closed ${ms.toFixed(0)} ms after connecting (REGTIMEOUT=${REGISTER_S} s)`);

    expect(idleEnd).toHaveLength(1);
    expectErr(idleEnd[0], 'REGISTRATION_TIMEOUT', '*');
    expect(chattyEnd.map((m) => (m.command === 'ERR' ? `ERR ${m.params[0]}` : m.raw))).toEqual([
      'PONG still-here',
      'ERR BAD_NAME',
      'ERR REGISTRATION_TIMEOUT',
    ]);
    expectErr(chattyEnd.at(-1), 'REGISTRATION_TIMEOUT', '*');
    expect(ms).toBeGreaterThan(0.8 * REGISTER_S * 1000);

    // The registered client is still there, and heard nothing of the others.
    expect((await early.barrier()).map((m) => m.raw)).toEqual([]);
    early.send('SAY :still here');
    expect((await early.expect('ECHO')).params[6]).toBe('still here');
    expect(await early.who()).toEqual(['early']);
  }, 30_000);
});
