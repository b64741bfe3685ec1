/**
 * Connection and Flusher over real loopback sockets. Every wait is on an
 * event or a promise; every socket and server is closed in afterEach.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import {
  Connection,
  ConnectionState,
  Flusher,
  type TransportEnd,
  type TransportLimits,
  type TransportPolicy,
} from '../../../src/server/transport.ts';
import { Fanout } from '../../../src/server/fanout.ts';

/**
 * Flood control is on, with a bucket far larger than any test outside
 * "flood control" sends, so those tests never wait for a token.
 */
const LIMITS: TransportLimits = {
  line: 64,
  readCap: 256,
  sendQueue: 1 << 20,
  lingerMs: 5_000,
  floodBurst: 1_000_000,
  floodRate: 1_000_000,
  inputQueue: 1 << 20,
};

/** PING and PONG are free, as in ChatServer; the clock is the real one. */
const POLICY: TransportPolicy = {
  free: (line) => /^ *(PING|PONG)( |$)/i.test(line.toString('latin1')),
  clock: () => Date.now(),
};

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
  /** Every event in the order it came: `line x`, `tooLong n`, `ended kind`. */
  readonly order: string[] = [];
  /** performance.now() at each `line`. */
  readonly lineTimes: number[] = [];
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
      this.lineTimes.push(performance.now());
      this.order.push(`line ${line}`);
      this.onLine(line);
      this.#wake();
    },
    lineTooLong: (length: number) => {
      this.tooLong.push(length);
      this.order.push(`tooLong ${length}`);
      this.#wake();
    },
    ended: (why: TransportEnd) => {
      this.ended.push(why);
      this.order.push(`ended ${why.kind}`);
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
  policy: TransportPolicy = POLICY,
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
  const conn = new Connection(socket, { ...LIMITS, ...limits }, flusher, policy, rec.events);
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
  it('queues lines and writes them in order, with one write() per event-loop turn [FRAME-3] [MSG-7]', async () => {
    const { conn, client, rec, received, receivedAtLeast } = await pair();
    const write = vi.spyOn(conn.socket, 'write');
    expect(conn.send('one\n')).toBe(true);
    expect(conn.send(Buffer.from('two\n'))).toBe(true);
    expect(conn.send('three\nfour\n')).toBe(true);
    // Producers only enqueue: nothing is written inside send().
    expect(write).not.toHaveBeenCalled();
    expect(conn.pending).toBe(19);
    await nextTurn();
    expect(write).toHaveBeenCalledTimes(1);
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
  it('counts queued bytes against sendQueue, takes a reply whole while what waits is within it, and reports slow-consumer in a microtask, never inside send() [LIMIT-7]', async () => {
    const { conn, rec } = await pair({ sendQueue: 100 });
    rec.inside = true;
    expect(conn.send('a'.repeat(59) + '\n')).toBe(true);
    expect(conn.send('b'.repeat(39) + '\n')).toBe(true); // exactly 100 bytes: still fits
    // A reply is taken whole while what waited before it is within the bound.
    expect(conn.send('c\n')).toBe(true);
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

  it('a page of history far longer than SENDQ reaches a reader whole: replies are never refused for their size alone [LIMIT-7]', async () => {
    const { conn, received, receivedAtLeast } = await pair({ sendQueue: 1000 });
    const page = 'HIST x\n'.repeat(1000);
    expect(conn.send(page)).toBe(true);
    await receivedAtLeast(page.length);
    expect(received()).toBe(page);
    await conn.close();
  });

  it('the last line of close() is exempt from the bound, and order is kept [LIMIT-7] [MSG-7]', async () => {
    const { conn, received, clientEnd } = await pair({ sendQueue: 10 });
    expect(conn.send('12345678\n')).toBe(true);
    expect(conn.send('over the bound\n')).toBe(true);
    expect(conn.send('overflow\n')).toBe(false);
    await Promise.resolve();
    conn.close('ERR SLOW_CONSUMER * :too slow\n');
    await clientEnd;
    expect(received()).toBe('12345678\nover the bound\nERR SLOW_CONSUMER * :too slow\n');
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
      // At most one line past the bound: the reply that found the queue within it.
      expect(conn.pending).toBeLessThanOrEqual(sendQueue + chunk.length + 10);
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

/** What the connection had done when its own handler finished with the next chunk read. */
function afterNextRead(conn: Connection, rec: Recorder): Promise<{ delivered: number; paused: boolean; pending: number }> {
  return new Promise((resolve) => {
    // Registered after the Connection's own 'data' listener, so it runs after it.
    conn.socket.once('data', () =>
      resolve({ delivered: rec.lines.length, paused: conn.socket.isPaused(), pending: conn.inputPending }),
    );
  });
}

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('Connection: flood control (RFC 1459 §8.10)', () => {
  it('delivers 50 lines sent at once, all and in order: `floodBurst` at once, the rest as tokens come [MSG-7] [MSG-8]', async () => {
    const { client, conn, rec } = await pair({ floodBurst: 5, floodRate: 1_000 });
    const lines = Array.from({ length: 50 }, (_, i) => `line ${String(i).padStart(2, '0')}`);
    const first = afterNextRead(conn, rec);
    client.write(lines.map((line) => `${line}\n`).join(''));
    const seen = await first;
    // The burst, and at most a token or two more if the read crossed a millisecond.
    expect(seen.delivered).toBeGreaterThanOrEqual(5);
    expect(seen.delivered).toBeLessThanOrEqual(10);
    expect(seen.paused).toBe(true);
    expect(seen.pending).toBe(Buffer.byteLength(lines.slice(seen.delivered).join('')));
    await rec.until(() => rec.lines.length === 50);
    expect(rec.lines).toEqual(lines);
    // About 45 tokens at one per ms: the last line came well after the first.
    expect(rec.lineTimes[49]! - rec.lineTimes[0]!).toBeGreaterThanOrEqual(30);
    expect(rec.ended).toEqual([]);
    expect(conn.inputPending).toBe(0);
  });

  it('pauses the socket while lines are held, and resumes it once they are delivered', async () => {
    const { client, conn, rec } = await pair({ floodBurst: 2, floodRate: 100 });
    const first = afterNextRead(conn, rec);
    client.write('a\nb\nc\nd\n');
    const seen = await first;
    expect(seen).toEqual({ delivered: 2, paused: true, pending: 2 });
    await rec.until(() => rec.lines.length === 3);
    expect(conn.socket.isPaused()).toBe(true); // d is still held
    await rec.until(() => rec.lines.length === 4);
    expect(conn.socket.isPaused()).toBe(false);
    expect(conn.inputPending).toBe(0);
    // Reading goes on normally afterwards (the bucket is empty, so e is held again).
    client.write('e\n');
    await rec.until(() => rec.lines.length === 5);
    expect(rec.lines).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('lets PING and PONG through without a token, but never ahead of lines held before them [PING-1]', async () => {
    const { client, conn, rec } = await pair({ floodBurst: 1, floodRate: 20 });
    let inDrain = false;
    const sameDrain: string[] = [];
    rec.onLine = (line) => {
      if (inDrain) sameDrain.push(line);
      inDrain = true;
      queueMicrotask(() => (inDrain = false));
    };
    const first = afterNextRead(conn, rec);
    client.write('a\nPING 1\nPONG 2\nping 3\nb\nPING 4\nc\nPONG 5\n');
    const seen = await first;
    // The bucket holds one token: a takes it, the keepalives are free, b waits.
    expect(seen.delivered).toBe(4);
    expect(rec.lines).toEqual(['a', 'PING 1', 'PONG 2', 'ping 3']);
    await rec.until(() => rec.lines.length === 8);
    expect(rec.lines).toEqual(['a', 'PING 1', 'PONG 2', 'ping 3', 'b', 'PING 4', 'c', 'PONG 5']);
    // PING 4 came with b and PONG 5 with c, in the same pass; b and c each waited for a token.
    expect(sameDrain).toEqual(['PING 1', 'PONG 2', 'ping 3', 'PING 4', 'PONG 5']);
    expect(rec.lineTimes[4]! - rec.lineTimes[0]!).toBeGreaterThanOrEqual(40);
    expect(rec.lineTimes[6]! - rec.lineTimes[4]!).toBeGreaterThanOrEqual(40);
  });

  it('holds a line over LINE in its place, costing a token like any line [LIMIT-2] [MSG-8]', async () => {
    const { client, rec } = await pair({ floodBurst: 1, floodRate: 200, line: 64 });
    client.write('a\n' + 'x'.repeat(100) + '\nb\n');
    await rec.until(() => rec.lines.length === 2);
    expect(rec.order).toEqual(['line a', 'tooLong 100', 'line b']);
  });

  it('stops reading while it holds lines: the kernel buffers fill and TCP pushes back on the sender', async () => {
    const { client, conn, rec } = await pair({ floodBurst: 1, floodRate: 1, inputQueue: 1 << 20 });
    const line = 'y'.repeat(59) + '\n';
    const total = 24 << 20;
    client.write(line.repeat(total / line.length));
    // Wait until the server's own read buffer is full: it has stopped reading.
    for (let turn = 0; conn.socket.readableLength < conn.socket.readableHighWaterMark; turn++) {
      expect(turn).toBeLessThan(100_000);
      await nextTurn();
    }
    // The sender still holds most of what it wrote; the server read little of it.
    expect(client.writableLength).toBeGreaterThan(0);
    expect(conn.socket.bytesRead).toBeLessThan(total / 2);
    // The inbox holds at most one read (64 KiB) and a line: never a flood.
    expect(conn.inputPending).toBeGreaterThan(0);
    expect(conn.inputPending).toBeLessThanOrEqual(65_536 + 64);
    expect(rec.lines).toEqual(['y'.repeat(59)]);
    expect(rec.ended).toEqual([]);
  });

  it('ends the connection as a flood once the held lines pass inputQueue bytes, and then reads nothing more', async () => {
    const { client, conn, rec, received, clientEnd } = await pair({ floodBurst: 1, floodRate: 1, line: 64, inputQueue: 100 });
    rec.onEnded = () => conn.close('ERR FLOOD * :too much\n');
    // One write: a takes the token, b (60 bytes) is held, c (60 more) passes the bound.
    client.write('a\n' + 'b'.repeat(60) + '\n' + 'c'.repeat(60) + '\nd\n');
    await rec.until(() => rec.ended.length > 0);
    expect(rec.ended).toEqual([{ kind: 'flood' }]);
    expect(rec.lines).toEqual(['a']);
    expect(conn.inputPending).toBe(0);
    expect(conn.send('late\n')).toBe(false);
    await clientEnd;
    expect(received()).toBe('ERR FLOOD * :too much\n');
    await conn.closed;
    expect(rec.order).toEqual(['line a', 'ended flood']);
  });

  it('reports the flood to an owner that has not closed yet only once, and delivers nothing after it', async () => {
    const { client, conn, rec } = await pair({ floodBurst: 1, floodRate: 1, line: 64, inputQueue: 100 });
    client.write('a\n' + `${'b'.repeat(60)}\n`.repeat(10));
    await rec.until(() => rec.ended.length > 0);
    expect(conn.state).toBe(ConnectionState.Open); // until the owner closes
    const more = once(conn.socket, 'data');
    conn.socket.resume(); // even if reading went on, nothing more reaches the owner
    client.write('e\n'.repeat(10) + 'x'.repeat(1000));
    await more;
    expect(rec.order).toEqual(['line a', 'ended flood']);
  });

  it('close() drops the held lines and clears the resume timer [QUIT-2] [QUIT-3]', async () => {
    const { client, conn, rec, clientEnd } = await pair({ floodBurst: 1, floodRate: 1 });
    const before = timers();
    const first = afterNextRead(conn, rec);
    client.write('QUIT\nb\nc\n');
    await first;
    expect(rec.lines).toEqual(['QUIT']);
    expect(conn.inputPending).toBe(2);
    expect(timers()).toBe(before + 1); // the resume timer, 1 s away
    conn.close('BYE\n');
    expect(conn.inputPending).toBe(0);
    expect(timers()).toBe(before + 1); // now only the linger timer
    await clientEnd;
    client.end();
    await conn.closed;
    expect(timers()).toBe(before);
    expect(rec.lines).toEqual(['QUIT']);
    expect(rec.ended).toEqual([]);
  });

  it('a reset drops the held lines and the resume timer [QUIT-3]', async () => {
    const { client, conn, rec } = await pair({ floodBurst: 1, floodRate: 1 });
    const before = timers();
    const first = afterNextRead(conn, rec);
    client.write('a\nb\nc\n');
    await first;
    expect(timers()).toBe(before + 1);
    rec.onEnded = () => conn.close();
    client.resetAndDestroy();
    await conn.closed;
    expect(rec.ended.map((e) => e.kind)).toEqual(['error']);
    expect(conn.inputPending).toBe(0);
    expect(timers()).toBe(before);
    expect(rec.lines).toEqual(['a']);
  });

  it('on EOF after held lines, delivers every held line before ended({kind: "eof"}), and their replies reach the peer [QUIT-3] [MSG-8]', async () => {
    const { client, conn, rec, received, clientEnd } = await pair({ floodBurst: 2, floodRate: 200 });
    rec.onLine = (line) => conn.send(`re: ${line}\n`);
    rec.onEnded = () => conn.close('bye\n');
    const lines = Array.from({ length: 10 }, (_, i) => `l${i}`);
    client.end(lines.map((line) => `${line}\n`).join('')); // half-close: the client can still read
    await clientEnd;
    expect(rec.order).toEqual([...lines.map((line) => `line ${line}`), 'ended eof']);
    expect(received()).toBe(lines.map((line) => `re: ${line}\n`).join('') + 'bye\n');
    await conn.closed;
  });

  it('stamps lastInput when input arrives, even while lines are held (for the keepalive)', async () => {
    let now = 1_000;
    const { client, conn, rec } = await pair({ floodBurst: 1, floodRate: 1 }, {}, new Flusher(), { ...POLICY, clock: () => now });
    expect(conn.lastInput).toBe(1_000);
    now = 5_000;
    const first = afterNextRead(conn, rec);
    client.write('a\nb\n');
    await first;
    expect(conn.lastInput).toBe(5_000);
    expect(conn.inputPending).toBe(1);
  });

  it('with floodRate 0 never holds a line', async () => {
    const { client, conn, rec } = await pair({ floodBurst: 1, floodRate: 0 });
    const first = afterNextRead(conn, rec);
    const lines = Array.from({ length: 200 }, (_, i) => `n${i}`);
    client.write(lines.map((line) => `${line}\n`).join(''));
    const seen = await first;
    expect(seen.paused).toBe(false);
    expect(seen.pending).toBe(0);
    await rec.until(() => rec.lines.length === 200);
    expect(rec.lines).toEqual(lines);
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

describe('Flusher: the write barrier [STORE-1]', () => {
  /** A barrier that records how many bytes the socket had been handed each time it ran. */
  function recordingBarrier() {
    const state = { allow: true, seen: [] as number[], socket: undefined as Socket | undefined };
    const flusher = new Flusher(() => {
      state.seen.push(state.socket?.bytesWritten ?? -1);
      return state.allow;
    });
    return { state, flusher };
  }

  it('allows every write by default', async () => {
    const flusher = new Flusher();
    expect(flusher.beforeWrite()).toBe(true);
    const { conn, receivedAtLeast, received } = await pair({}, {}, flusher);
    conn.send('hello\n');
    await receivedAtLeast(6);
    expect(received()).toBe('hello\n');
  });

  it('runs before each write(), once per write, on every path: a queued flush, a group\'s turn batch, the last line of close()', async () => {
    const { state, flusher } = recordingBarrier();
    const group = new Fanout(flusher);
    const { conn, received, clientEnd } = await pair({}, {}, flusher);
    state.socket = conn.socket;
    conn.send('one\n');
    conn.send('two\n'); // same turn: one write
    await nextTurn();
    expect(state.seen).toEqual([0]);
    group.add(conn);
    group.publish(Buffer.from('MSG x\n'));
    await nextTurn();
    expect(state.seen).toEqual([0, 8]);
    conn.close('BYE\n');
    await clientEnd;
    expect(state.seen).toEqual([0, 8, 14]);
    expect(received()).toBe('one\ntwo\nMSG x\nBYE\n');
  });

  it('when it fails, writes nothing and drops the connection at once', async () => {
    const { state, flusher } = recordingBarrier();
    const { conn, client, received } = await pair({}, {}, flusher);
    state.socket = conn.socket;
    state.allow = false;
    conn.send('ECHO never\n');
    await conn.closed;
    await once(client, 'close');
    expect(state.seen).toEqual([0]);
    expect(conn.socket.bytesWritten).toBe(0);
    expect(conn.socket.destroyed).toBe(true);
    expect(conn.state).toBe(ConnectionState.Closed);
    expect(received()).toBe('');
  });

  it('when it fails on the last line of close(), writes nothing either', async () => {
    const { state, flusher } = recordingBarrier();
    const { conn, client, received } = await pair({}, {}, flusher);
    state.socket = conn.socket;
    state.allow = false;
    conn.close('BYE\n');
    await conn.closed;
    await once(client, 'close');
    expect(received()).toBe('');
    expect(conn.socket.bytesWritten).toBe(0);
  });

  it('when it fails for a group\'s turn batch, no member gets any of it', async () => {
    const { state, flusher } = recordingBarrier();
    const group = new Fanout(flusher);
    const one = await pair({}, {}, flusher);
    const two = await pair({}, {}, flusher);
    group.add(one.conn);
    group.add(two.conn);
    state.allow = false;
    group.publish(Buffer.from('MSG in doubt\n'));
    await Promise.all([one.conn.closed, two.conn.closed]);
    expect(state.seen).toHaveLength(2);
    expect([one.received(), two.received()]).toEqual(['', '']);
  });
});

describe('Connection in a Fanout group', () => {
  it('gets a turn of broadcasts as the one shared Buffer, in one write(), on every member [MSG-7]', async () => {
    const flusher = new Flusher();
    const group = new Fanout(flusher);
    const one = await pair({}, {}, flusher);
    const two = await pair({}, {}, flusher);
    group.add(one.conn);
    group.add(two.conn);
    const writes = [vi.spyOn(one.conn.socket, 'write'), vi.spyOn(two.conn.socket, 'write')];
    for (let i = 0; i < 50; i++) group.publish(Buffer.from(`MSG ${i}\n`));
    expect(writes[0]).not.toHaveBeenCalled();
    await nextTurn();
    expect(writes[0]).toHaveBeenCalledTimes(1);
    expect(writes[1]).toHaveBeenCalledTimes(1);
    expect(writes[0]!.mock.calls[0]![0]).toBe(writes[1]!.mock.calls[0]![0]);
    const expected = Array.from({ length: 50 }, (_, i) => `MSG ${i}\n`).join('');
    await Promise.all([one.receivedAtLeast(expected.length), two.receivedAtLeast(expected.length)]);
    expect(one.received()).toBe(expected);
    expect(two.received()).toBe(expected);
  });

  it('a private send takes the broadcasts before it first: order is that of the calls, still one write() per turn [MSG-8] [PRES-5]', async () => {
    const flusher = new Flusher();
    const group = new Fanout(flusher);
    const { conn, received, receivedAtLeast } = await pair({}, {}, flusher);
    group.add(conn);
    const write = vi.spyOn(conn.socket, 'write');
    group.publish(Buffer.from('JOIN a\n'), undefined, 50); // held
    group.publish(Buffer.from('MSG 1\n'));
    conn.send('PONG x\n');
    group.publish(Buffer.from('MSG 2\n'));
    group.publish(Buffer.from('MSG 3\n'), conn); // its own: skipped
    conn.send('ECHO 3\n');
    await nextTurn();
    expect(write).toHaveBeenCalledTimes(1);
    const expected = 'JOIN a\nMSG 1\nPONG x\nMSG 2\nECHO 3\n';
    await receivedAtLeast(expected.length);
    expect(received()).toBe(expected);
  });

  it('close() takes what the group owes first, then the last line, and leaves the group', async () => {
    const flusher = new Flusher();
    const group = new Fanout(flusher);
    const { conn, received, clientEnd } = await pair({}, {}, flusher);
    group.add(conn);
    group.publish(Buffer.from('LEAVE b lost\n'), undefined, 50);
    conn.close('BYE\n');
    expect(group.has(conn)).toBe(false);
    await clientEnd;
    expect(received()).toBe('LEAVE b lost\nBYE\n');
  });

  it('a peer that half-closes still gets what its groups owe it, before the last line [SESSION-5] [QUIT-3]', async () => {
    const flusher = new Flusher();
    const group = new Fanout(flusher);
    const { conn, client, rec, received, clientEnd } = await pair({}, { allowHalfOpen: true }, flusher);
    group.add(conn);
    rec.onEnded = () => conn.close('BYE\n');
    group.publish(Buffer.from('JOIN late\n'), undefined, 50); // held
    client.end(); // FIN, but the client keeps reading
    await clientEnd;
    expect(rec.ended).toEqual([{ kind: 'eof' }]);
    expect(received()).toBe('JOIN late\nBYE\n');
  });

  it('counts a handed-over batch against sendQueue: a member that does not read is cut off as a slow consumer [LIMIT-7]', async () => {
    const flusher = new Flusher();
    const group = new Fanout(flusher);
    const { conn, client, rec } = await pair({ sendQueue: 64 * 1024 }, {}, flusher);
    client.pause();
    group.add(conn);
    const line = Buffer.from(`MSG ${'x'.repeat(1000)}\n`);
    // Kernel buffers on loopback take megabytes: publish until the bound is passed.
    for (let turn = 0; turn < 2000 && rec.ended.length === 0; turn++) {
      for (let i = 0; i < 64; i++) group.publish(line);
      await nextTurn();
    }
    await rec.until(() => rec.ended.length > 0);
    expect(rec.ended).toEqual([{ kind: 'slow-consumer' }]);
    expect(conn.pending).toBeLessThanOrEqual(64 * 1024 + 64 * line.length);
  });
});
