/**
 * Connection and Flusher over real loopback sockets. Every wait is on an
 * event or a promise; every socket and server is closed in afterEach.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { setImmediate as nextTurn } from 'node:timers/promises';
import {
  Connection,
  ConnectionState,
  Flusher,
  type TransportEnd,
  type TransportLimits,
} from '../../../src/server/transport.ts';

const LIMITS: TransportLimits = { line: 64, readCap: 256, sendQueue: 1 << 20, lingerMs: 5_000 };

const servers = new Set<Server>();
const sockets = new Set<Socket>();

afterEach(async () => {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  await Promise.all([...servers].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  servers.clear();
  vi.restoreAllMocks();
});

/** What the transport reported to its owner. */
class Recorder {
  readonly lines: string[] = [];
  readonly tooLong: number[] = [];
  readonly ended: TransportEnd[] = [];
  #waiters = new Set<() => void>();
  /** Set by the test around calls into the connection, to see re-entrancy. */
  inside = false;
  endedInside: boolean[] = [];
  /** Run on each event, for tests that must answer as an owner would. */
  onLine: (line: string) => void = () => {};
  onEnded: (why: TransportEnd) => void = () => {};

  readonly events = {
    line: (bytes: Buffer) => {
      const line = bytes.toString('utf8');
      this.lines.push(line);
      this.onLine(line);
      this.#wake();
    },
    lineTooLong: (length: number) => {
      this.tooLong.push(length);
      this.#wake();
    },
    ended: (why: TransportEnd) => {
      this.ended.push(why);
      this.endedInside.push(this.inside);
      this.onEnded(why);
      this.#wake();
    },
  };

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }

  /** Resolves once `condition` holds, re-checked on every event. */
  until(condition: () => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (!condition()) return;
        this.#waiters.delete(check);
        resolve();
      };
      this.#waiters.add(check);
      check();
    });
  }
}

interface Pair {
  readonly conn: Connection;
  readonly client: Socket;
  readonly rec: Recorder;
  /** Everything the client has received so far. */
  received(): string;
  /** Resolves once the client has received at least `bytes` bytes in total. */
  receivedAtLeast(bytes: number): Promise<void>;
  /** Resolves when the client sees the server's FIN. */
  readonly clientEnd: Promise<void>;
}

async function pair(
  limits: Partial<TransportLimits> = {},
  clientOptions: { allowHalfOpen?: boolean } = {},
  flusher = new Flusher(),
): Promise<Pair> {
  const server = createServer();
  servers.add(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const client = connect({ host: '127.0.0.1', port: address.port, allowHalfOpen: clientOptions.allowHalfOpen ?? false });
  sockets.add(client);
  client.on('error', () => {});
  const [socket] = await accepted;
  sockets.add(socket);
  await once(client, 'connect');
  const rec = new Recorder();
  const conn = new Connection(socket, { ...LIMITS, ...limits }, flusher, rec.events);
  const chunks: Buffer[] = [];
  let total = 0;
  const waiters = new Set<() => void>();
  client.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    total += chunk.length;
    for (const waiter of [...waiters]) waiter();
  });
  const clientEnd = once(client, 'end').then(() => {});
  clientEnd.catch(() => {});
  return {
    conn,
    client,
    rec,
    received: () => Buffer.concat(chunks).toString('utf8'),
    receivedAtLeast: (bytes) =>
      new Promise((resolve) => {
        const check = () => {
          if (total < bytes) return;
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      }),
    clientEnd,
  };
}

describe('Connection: reading', () => {
  it('hands complete lines to `line`, however the bytes were split, LF or CR LF [FRAME-1] [FRAME-2] [FRAME-4]', async () => {
    const { client, rec } = await pair();
    const e = Buffer.from('é'); // two bytes, split across writes
    client.write('hel');
    client.write(Buffer.concat([Buffer.from('lo\r\nw'), e.subarray(0, 1)]));
    client.write(Buffer.concat([e.subarray(1), Buffer.from('rld\nthird\r')]));
    client.write('\n');
    await rec.until(() => rec.lines.length === 3);
    expect(rec.lines).toEqual(['hello', 'wérld', 'third']);
    expect(rec.ended).toEqual([]);
  });

  it('reports a line over LINE with its length and keeps reading [LIMIT-2]', async () => {
    const { client, rec } = await pair({ line: 64 });
    client.write('a'.repeat(64) + '\n' + 'b'.repeat(65) + '\r\n' + 'c'.repeat(200) + '\n' + 'd'.repeat(64) + '\r\nok\n');
    await rec.until(() => rec.lines.includes('ok'));
    expect(rec.lines).toEqual(['a'.repeat(64), 'd'.repeat(64), 'ok']);
    expect(rec.tooLong).toEqual([65, 200]);
    expect(rec.ended).toEqual([]);
  });

  it('reports overflow once when READCAP bytes pass without a line end, and ignores later input [LIMIT-3]', async () => {
    const { client, rec, conn } = await pair({ line: 64, readCap: 128 });
    client.write('first\n' + 'x'.repeat(129));
    await rec.until(() => rec.ended.length === 1);
    expect(rec.ended).toEqual([{ kind: 'overflow' }]);
    expect(rec.lines).toEqual(['first']);
    expect(conn.state).toBe(ConnectionState.Open);
    // Nothing more reaches the owner, whatever arrives ([LIMIT-3]).
    const more = once(conn.socket, 'data');
    client.write('\nsecond\n' + 'y'.repeat(1000) + '\n');
    await more;
    expect(rec.lines).toEqual(['first']);
    expect(rec.ended).toHaveLength(1);
    expect(conn.send('late\n')).toBe(false);
  });

  it('allows exactly READCAP bytes without a line end [LIMIT-3]', async () => {
    const { client, rec } = await pair({ line: 64, readCap: 128 });
    client.write('x'.repeat(128));
    client.write('\nok\n');
    await rec.until(() => rec.lines.includes('ok'));
    expect(rec.tooLong).toEqual([128]);
    expect(rec.ended).toEqual([]);
  });

  it('reports EOF as ended({kind: "eof"}) and drops a partial last line [FRAME-6]', async () => {
    const { client, rec } = await pair();
    client.end('whole\npartial');
    await rec.until(() => rec.ended.length > 0);
    expect(rec.ended).toEqual([{ kind: 'eof' }]);
    expect(rec.lines).toEqual(['whole']);
  });

  it('reports a reset as ended({kind: "error"}) and closes [QUIT-3]', async () => {
    const { client, rec, conn } = await pair();
    client.resetAndDestroy();
    await rec.until(() => rec.ended.length > 0);
    expect(rec.ended).toHaveLength(1);
    const [why] = rec.ended;
    expect(why?.kind).toBe('error');
    if (why?.kind === 'error') expect(why.error).toBeInstanceOf(Error);
    conn.close('too late\n'); // the owner's call must be harmless
    await conn.closed;
    expect(conn.state).toBe(ConnectionState.Closed);
    expect(conn.send('x\n')).toBe(false);
  });

  it('exposes the peer address as host:port', async () => {
    const { conn, client } = await pair();
    expect(conn.remote).toBe(`127.0.0.1:${client.localPort}`);
  });
});

describe('Connection: sending', () => {
  it('queues lines and writes them in order, in one corked batch per event-loop turn [FRAME-3] [MSG-7]', async () => {
    const { conn, client, rec, received, receivedAtLeast } = await pair();
    const cork = vi.spyOn(conn.socket, 'cork');
    const write = vi.spyOn(conn.socket, 'write');
    expect(conn.send('one\n')).toBe(true);
    expect(conn.send(Buffer.from('two\n'))).toBe(true);
    expect(conn.send('three\nfour\n')).toBe(true);
    // Producers only enqueue: nothing is written inside send().
    expect(write).not.toHaveBeenCalled();
    expect(conn.pending).toBe(19);
    await nextTurn();
    expect(cork).toHaveBeenCalledTimes(1);
    expect(write).toHaveBeenCalledTimes(3);
    await receivedAtLeast(19);
    expect(received()).toBe('one\ntwo\nthree\nfour\n');
    expect(received()).not.toContain('\r');
    expect(rec.ended).toEqual([]);
    client.end();
  });

  it('keeps order across many turns', async () => {
    const { conn, received, receivedAtLeast } = await pair();
    let expected = '';
    for (let turn = 0; turn < 20; turn++) {
      for (let i = 0; i < 10; i++) {
        const line = `line ${turn}.${i}\n`;
        expected += line;
        conn.send(line);
      }
      await nextTurn();
    }
    await receivedAtLeast(Buffer.byteLength(expected));
    expect(received()).toBe(expected);
  });

  it('close(lastLine) sends what was queued, then the last line, then FIN, then closes [QUIT-1]', async () => {
    const { conn, rec, received, clientEnd } = await pair();
    conn.send('reply 1\n');
    conn.send('reply 2\n');
    conn.close('BYE :done\n');
    expect(conn.state).toBe(ConnectionState.Closing);
    expect(conn.send('after close\n')).toBe(false);
    await clientEnd;
    expect(received()).toBe('reply 1\nreply 2\nBYE :done\n');
    await conn.closed;
    expect(conn.state).toBe(ConnectionState.Closed);
    expect(conn.pending).toBe(0);
    expect(rec.ended).toEqual([]); // the owner closed: no transport end is reported
  });

  it('close() without a last line still flushes the queue', async () => {
    const { conn, received, clientEnd } = await pair();
    conn.send('only\n');
    conn.close();
    await clientEnd;
    expect(received()).toBe('only\n');
    await conn.closed;
  });

  it('close() happens once: a second close adds nothing', async () => {
    const { conn, received, clientEnd } = await pair();
    conn.close('first\n');
    conn.close('second\n');
    await clientEnd;
    await conn.closed;
    expect(received()).toBe('first\n');
  });

  it('on EOF, lines queued before it still reach the peer when the owner closes [QUIT-3]', async () => {
    const { conn, client, rec, received, clientEnd } = await pair();
    rec.onLine = (line) => conn.send(`re: ${line}\n`);
    rec.onEnded = () => conn.close('bye\n');
    client.end('a\nb\n'); // half-close: the client can still read
    await clientEnd;
    expect(rec.ended).toEqual([{ kind: 'eof' }]);
    expect(received()).toBe('re: a\nre: b\nbye\n');
    await conn.closed;
    expect(conn.state).toBe(ConnectionState.Closed);
  });

  it('ignores input while closing, but still sees the peer close', async () => {
    const { conn, client, rec, clientEnd } = await pair();
    conn.close('bye\n');
    client.write('NICK x\n');
    await clientEnd;
    client.end();
    await conn.closed;
    expect(rec.lines).toEqual([]);
    expect(rec.ended).toEqual([]);
  });

  it('destroy() drops the socket at once, without flushing', async () => {
    const { conn, client, received } = await pair();
    conn.send('never sent\n');
    conn.destroy();
    expect(conn.send('x\n')).toBe(false);
    await Promise.all([conn.closed, once(client, 'close')]);
    expect(received()).toBe('');
    expect(conn.state).toBe(ConnectionState.Closed);
  });

  it('destroy() after the socket has closed leaves the state Closed', async () => {
    const { conn } = await pair();
    conn.destroy();
    await conn.closed;
    conn.destroy();
    expect(conn.state).toBe(ConnectionState.Closed);
  });

  it('leaves no linger timer behind once the socket has closed [QUIT-3]', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const { conn, client, clientEnd } = await pair();
    const before = timers();
    conn.close('bye\n');
    expect(timers()).toBe(before + 1);
    await clientEnd;
    client.end();
    await conn.closed;
    expect(timers()).toBe(before);
  });
});

describe('Connection: slow consumers [LIMIT-7]', () => {
  it('counts queued bytes against sendQueue and reports slow-consumer in a microtask, never inside send() [LIMIT-7]', async () => {
    const { conn, rec } = await pair({ sendQueue: 100 });
    rec.inside = true;
    expect(conn.send('a'.repeat(59) + '\n')).toBe(true);
    expect(conn.send('b'.repeat(39) + '\n')).toBe(true); // exactly 100 bytes: still fits
    expect(conn.send('c\n')).toBe(false);
    expect(rec.ended).toEqual([]); // not inside the producer's loop
    expect(conn.send('d\n')).toBe(false); // later sends are refused too
    rec.inside = false;
    await Promise.resolve();
    expect(rec.ended).toEqual([{ kind: 'slow-consumer' }]);
    expect(rec.endedInside).toEqual([false]);
    expect(conn.state).toBe(ConnectionState.Open); // until the owner closes
    expect(conn.send('e\n')).toBe(false);
    await nextTurn();
    expect(rec.ended).toHaveLength(1);
  });

  it('the last line of close() is exempt from the bound, and order is kept [LIMIT-7] [MSG-7]', async () => {
    const { conn, received, clientEnd } = await pair({ sendQueue: 10 });
    expect(conn.send('12345678\n')).toBe(true);
    expect(conn.send('overflow\n')).toBe(false);
    await Promise.resolve();
    conn.close('ERR SLOW_CONSUMER * :too slow\n');
    await clientEnd;
    expect(received()).toBe('12345678\nERR SLOW_CONSUMER * :too slow\n');
    await conn.closed;
  });

  it('disconnects a peer that stops reading, without dropping or reordering what it had been sent [LIMIT-7]', async () => {
    const sendQueue = 256 * 1024;
    const { conn, client, rec, received, receivedAtLeast } = await pair({ sendQueue });
    client.pause();
    const chunk = 'z'.repeat(16 * 1024 - 16);
    let sent = '';
    // Each turn: queue a few lines, let the flusher write them. The kernel
    // buffers fill up, the socket buffers, then the queue passes the bound.
    for (let turn = 0; rec.ended.length === 0; turn++) {
      expect(turn).toBeLessThan(20_000);
      rec.inside = true;
      for (let i = 0; i < 4 && rec.ended.length === 0; i++) {
        const line = `${String(turn * 4 + i).padStart(8, '0')} ${chunk}\n`;
        if (!conn.send(line)) break;
        sent += line;
      }
      rec.inside = false;
      expect(conn.pending).toBeLessThanOrEqual(sendQueue);
      await nextTurn();
    }
    expect(rec.ended).toEqual([{ kind: 'slow-consumer' }]);
    expect(rec.endedInside).toEqual([false]);
    // The owner closes with the error as the last line; the peer reads again.
    const last = 'ERR SLOW_CONSUMER * :too slow\n';
    conn.close(last);
    client.resume();
    await receivedAtLeast(Buffer.byteLength(sent + last));
    expect(received() === sent + last).toBe(true);
    await conn.closed;
  });

  it('holds lines behind a full socket buffer and writes them, in order, on drain', async () => {
    const { conn, client, received, receivedAtLeast } = await pair({ sendQueue: 64 << 20 });
    client.pause();
    const chunk = 'q'.repeat(64 * 1024 - 16);
    let sent = '';
    let n = 0;
    // Fill until bytes wait in the connection's own queue, behind the socket.
    while (conn.pending === conn.socket.writableLength || conn.socket.writableLength === 0) {
      expect(n).toBeLessThan(2_000);
      const line = `${String(n++).padStart(8, '0')} ${chunk}\n`;
      expect(conn.send(line)).toBe(true);
      sent += line;
      await nextTurn();
    }
    expect(conn.pending).toBeGreaterThan(conn.socket.writableLength);
    conn.send('marker\n');
    sent += 'marker\n';
    client.resume();
    await receivedAtLeast(Buffer.byteLength(sent));
    expect(received() === sent).toBe(true);
    await nextTurn();
    expect(conn.pending).toBe(0);
  });
});

describe('Connection: linger', () => {
  it('destroys a closing socket whose peer never closes, after lingerMs [QUIT-3]', async () => {
    // allowHalfOpen: the client sees the FIN but never sends its own.
    const { conn, clientEnd, received } = await pair({ lingerMs: 30 }, { allowHalfOpen: true });
    conn.close('bye\n');
    await clientEnd;
    expect(received()).toBe('bye\n');
    expect(conn.state).toBe(ConnectionState.Closing);
    await conn.closed;
    expect(conn.state).toBe(ConnectionState.Closed);
    expect(conn.socket.destroyed).toBe(true);
  });
});

describe('Flusher', () => {
  it('flushes each scheduled connection once per turn, however often it was scheduled', async () => {
    const flusher = new Flusher();
    const a = { flush: vi.fn() };
    const b = { flush: vi.fn() };
    flusher.schedule(a as unknown as Connection);
    flusher.schedule(b as unknown as Connection);
    flusher.schedule(a as unknown as Connection);
    expect(a.flush).not.toHaveBeenCalled();
    await nextTurn();
    expect(a.flush).toHaveBeenCalledTimes(1);
    expect(b.flush).toHaveBeenCalledTimes(1);
  });

  it('a connection scheduled during a flush is flushed on the next turn', async () => {
    const flusher = new Flusher();
    const b = { flush: vi.fn() };
    const a = { flush: vi.fn(() => flusher.schedule(b as unknown as Connection)) };
    flusher.schedule(a as unknown as Connection);
    await nextTurn();
    expect(a.flush).toHaveBeenCalledTimes(1);
    expect(b.flush).toHaveBeenCalledTimes(0);
    await nextTurn();
    expect(b.flush).toHaveBeenCalledTimes(1);
  });

  it('is shared: lines queued on two connections in one turn go out in one pass', async () => {
    const flusher = new Flusher();
    const one = await pair({}, {}, flusher);
    const two = await pair({}, {}, flusher);
    const flush1 = vi.spyOn(one.conn, 'flush');
    const flush2 = vi.spyOn(two.conn, 'flush');
    one.conn.send('to one\n');
    two.conn.send('to two\n');
    one.conn.send('to one again\n');
    await nextTurn();
    expect(flush1).toHaveBeenCalledTimes(1);
    expect(flush2).toHaveBeenCalledTimes(1);
    await Promise.all([one.receivedAtLeast(20), two.receivedAtLeast(7)]);
    expect(one.received()).toBe('to one\nto one again\n');
    expect(two.received()).toBe('to two\n');
  });
});
