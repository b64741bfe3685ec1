/**
 * Connection limits ([CONN-1], [CONN-2]): a connection over a limit gets
 * `ERR TOO_MANY_CONNECTIONS` instead of the greeting, as its only line, and
 * is closed; a slot freed by a closed connection is given out again; the
 * server keeps nothing of refused or closed connections (its SIGUSR2 stats).
 * Real server processes; clients on 127.0.0.1, 127.0.0.2 and 127.0.0.3.
 */
import { describe, expect } from 'vitest';
import type { ClientPool, ConnectOptions, LineClient, Received } from '../support/line-client.ts';
import { serverStats, statsUntil, useOwnServers, user } from '../support/own-server.ts';
import { expectErr, settle } from '../support/suite.ts';
import { itOwnServer } from '../support/target.ts';

const own = useOwnServers();

/** Connects and returns the client and the first line the server sent it (consumed). */
async function attempt(pool: ClientPool, options: ConnectOptions = {}): Promise<{ client: LineClient; first: Received }> {
  const client = await pool.connect({ ...options, greeting: false });
  const first = await client.expect(() => true);
  return { client, first };
}

/**
 * Checks that `client` was refused: its only line is ERR TOO_MANY_CONNECTIONS
 * (`first`, if the caller has already taken it from the inbox), then the server closed.
 */
async function expectRefused(client: LineClient, first?: Received): Promise<void> {
  const lines = [...(first === undefined ? [] : [first]), ...(await client.untilClosed())];
  expect(lines.map((m) => m.raw), 'lines sent to a refused connection').toHaveLength(1);
  expectErr(lines[0], 'TOO_MANY_CONNECTIONS', '*');
  expect(client.wire.lines).toBe(1);
  expect(client.wire.unterminated).toBe(0);
}

/** Every count the server reports is back to zero: nothing kept of any connection, no timer ([QUIT-3]). */
const idle = (stats: Record<string, number>) =>
  stats.connections === 0 && stats.online === 0 && stats.addresses === 0 && stats.sockets === 0 && stats.timers === 0;

describe('connection limits', () => {
  itOwnServer('[CONN-1] [SESSION-1] [PRES-4] [QUIT-3] over --max-connections a connection gets ERR TOO_MANY_CONNECTIONS as its first and only line and is closed; a freed slot is given out again', async () => {
    const max = 5;
    const { server, pool } = await own.start(['--max-connections', String(max)]);
    // The limit counts connections, registered or not.
    const users = [await user(pool, 'u1'), await user(pool, 'u2'), await user(pool, 'u3')];
    const greeted = [await pool.connect(), await pool.connect()];
    await settle(...users, ...greeted);

    const over = await pool.connect({ greeting: false });
    await expectRefused(over);
    // Refused before the greeting, so never online and never announced.
    expect((await users[0]!.barrier()).filter((m) => m.command === 'JOIN' || m.command === 'LEAVE')).toEqual([]);
    expect(await users[0]!.who()).toEqual(['u1', 'u2', 'u3']);
    // Those admitted are unaffected.
    for (const client of [...users, ...greeted]) expect(client.isClosed).toBe(false);

    // One closes; its slot is free once the server has seen it close, which
    // the next attempts find out (each attempt is a full round trip).
    await greeted[0]!.destroy();
    let refusals = 0;
    let admitted: LineClient | undefined;
    while (admitted === undefined && refusals < 50) {
      const { client, first } = await attempt(pool);
      if (first.command === 'LINECHAT') admitted = client;
      else {
        await expectRefused(client, first);
        refusals++;
      }
    }
    console.log(`[CONN-1] after one of ${max} connections closed, ${refusals} attempt(s) were refused before one was admitted`);
    expect(admitted, `no connection admitted after ${refusals} refusals`).toBeDefined();
    expect(await admitted!.register('u4')).toBe('u4');
    // Full again: the next one is refused.
    await expectRefused(await pool.connect({ greeting: false }));

    // Once every client has gone, the server holds nothing of any of them.
    await pool.closeAll();
    const stats = await statsUntil(server, idle);
    console.log(`[CONN-1] server stats with every client gone: ${JSON.stringify(stats)}`);
    expect(stats).toMatchObject({ connections: 0, online: 0, addresses: 0, sockets: 0, timers: 0 });
  });

  itOwnServer('[CONN-2] [QUIT-3] over --max-per-ip the next connection from that address is refused, while other addresses are admitted', async () => {
    const perIp = 3;
    const { server, pool } = await own.start(['--max-per-ip', String(perIp)]);
    const from = (localAddress: string) => pool.connect({ localAddress });

    const first = await Promise.all(Array.from({ length: perIp }, () => from('127.0.0.1')));
    await expectRefused(await pool.connect({ localAddress: '127.0.0.1', greeting: false }));

    // Other addresses have their own count.
    const second = await Promise.all(Array.from({ length: perIp }, () => from('127.0.0.2')));
    const third = await from('127.0.0.3');
    await expectRefused(await pool.connect({ localAddress: '127.0.0.2', greeting: false }));
    for (const client of [...first, ...second, third]) {
      expect(client.greeting?.command).toBe('LINECHAT');
      expect(client.isClosed).toBe(false);
    }
    expect(await second[0]!.register('fromtwo')).toBe('fromtwo');
    expect(await third.register('fromthree')).toBe('fromthree');
    expect(await third.who()).toEqual(['fromthree', 'fromtwo']);
    expect(await serverStats(server)).toMatchObject({ connections: 2 * perIp + 1, online: 2, addresses: 3 });

    await pool.closeAll();
    const stats = await statsUntil(server, idle);
    expect(stats).toMatchObject({ connections: 0, online: 0, addresses: 0, sockets: 0, timers: 0 });
  });
});
