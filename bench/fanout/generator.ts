/**
 * The fan-out load generator, one process per measurement, pinned by the
 * parent (bench/fanout/run.ts) to its own CPU:
 *
 *   node --import tsx bench/fanout/generator.ts '<GeneratorConfig JSON>'
 *
 * It opens `receivers` connections and one publisher to the server under
 * test, waits until every receiver is in the room, runs one workload, and
 * prints one GeneratorResult as JSON on stdout. Every loop is bounded, and
 * the process gives up by itself at `deadlineMs`.
 *
 * Receiving is the hot path here, and it is the same for every server: each
 * socket reads into one shared buffer (net's `onread`, no allocation per
 * read), and one PayloadScanner per receiver finds each message with one
 * `indexOf`. Publisher and receivers share one process, hence one clock: the
 * latency of a delivery is the receive time minus the send time inside the
 * payload.
 */
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import { PayloadScanner, payload } from './payload.ts';
import { WIRES, type ServerKind, type Wire } from './wire.ts';

export type Workload = 'saturation' | 'latency' | 'scale';

export interface GeneratorConfig {
  readonly kind: ServerKind;
  readonly host: string;
  readonly port: number;
  readonly workload: Workload;
  readonly receivers: number;
  /** Saturation: the most messages the publisher may be ahead of the slowest receiver. */
  readonly window: number;
  /** Saturation and latency: time before deliveries count. */
  readonly warmupMs: number;
  /** Saturation and latency: time over which deliveries count. */
  readonly measureMs: number;
  /** Latency: deliveries per second in all (the publish rate is this / receivers). */
  readonly deliveriesPerSecond: number;
  /** Scale: single messages timed until every receiver has them. */
  readonly fanouts: number;
  /** Scale: the server's pid, to read its RSS from /proc. */
  readonly serverPid: number | undefined;
  readonly deadlineMs: number;
}

export interface Integrity {
  /** Messages some receiver never got (summed over receivers). */
  readonly lost: number;
  /** Messages that came out of order or twice (summed over receivers). */
  readonly reordered: number;
  /** Receivers whose connection the server closed. */
  readonly disconnected: number;
}

export type GeneratorResult = Integrity & { readonly connectMs: number; readonly sent: number } & (
    | { readonly workload: 'saturation'; readonly deliveriesPerSecond: number; readonly delivered: number }
    | {
        readonly workload: 'latency';
        readonly samples: number;
        readonly p50Ms: number;
        readonly p90Ms: number;
        readonly p99Ms: number;
        readonly maxMs: number;
        readonly publishedPerSecond: number;
      }
    | {
        readonly workload: 'scale';
        readonly idleRssKb: number | null;
        readonly rssKb: number | null;
        readonly connectsPerSecond: number;
        readonly fanoutMs: number[];
      }
  );

const micros = () => performance.now() * 1000;
/** Connections opened at once while connecting receivers. */
const CONNECT_PARALLEL = 200;
/** Receivers per 127.0.0.x source address, well below the ephemeral port range. */
const PER_SOURCE = 5_000;
/** How long connecting and joining every receiver may take in all. */
const READY_WITHIN_MS = 90_000;
/** Messages per publisher write in the closed loop. */
const PUBLISH_BATCH = 64;

/** Writes message after message into one reused template, without building strings. */
class PublishEncoder {
  readonly #template: Buffer;
  readonly #seqAt: number;
  readonly size: number;

  constructor(wire: Wire) {
    this.#template = Buffer.from(wire.publish(payload(0, 0)));
    this.#seqAt = this.#template.indexOf('^') + 1;
    this.size = this.#template.length;
  }

  /** `count` messages from `seq` on, all stamped `at` (µs). */
  encode(seq: number, count: number, at: number): Buffer {
    const out = Buffer.allocUnsafe(this.size * count);
    for (let i = 0; i < count; i++) {
      const base = i * this.size;
      this.#template.copy(out, base);
      writeDigits(out, base + this.#seqAt, 10, seq + i);
      writeDigits(out, base + this.#seqAt + 11, 12, Math.floor(at));
    }
    return out;
  }
}

function writeDigits(out: Buffer, at: number, width: number, value: number): void {
  for (let i = at + width - 1; i >= at; i--) {
    out[i] = 0x30 + (value % 10);
    value = Math.floor(value / 10);
  }
}

/** One shared read buffer for every socket: each read is handled before the next. */
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);

class Receiver {
  /** The last sequence number seen (0: only the barrier so far). */
  last = 0;
  count = 0;
  reordered = 0;
  ready = false;
  synced = false;
  closed = false;
  readonly socket: Socket;
  readonly #scanner: PayloadScanner;
  #pendingReady: string;

  constructor(
    readonly run: Run,
    name: string,
    localAddress: string,
  ) {
    const wire = run.wire;
    this.#pendingReady = wire.ready;
    this.#scanner = new PayloadScanner((seq, sentAt) => {
      if (seq === 0) {
        if (!this.synced) {
          this.synced = true;
          run.onSynced();
        }
        return;
      }
      if (seq <= this.last) this.reordered++;
      else {
        this.last = seq;
        this.count++;
        run.delivered++;
        run.onDelivery(this, seq, sentAt);
      }
    });
    this.socket = connect({
      host: run.config.host,
      port: run.config.port,
      localAddress,
      noDelay: true,
      onread: {
        buffer: READ_BUFFER,
        callback: (bytes: number, buffer: Uint8Array) => {
          const chunk = (buffer as Buffer).subarray(0, bytes);
          run.now = micros();
          if (!this.ready) this.#lookForReady(chunk);
          this.#scanner.push(chunk);
          return true;
        },
      },
    });
    this.socket.on('connect', () => {
      const hello = wire.receiver(name);
      if (hello !== '') this.socket.write(hello);
      if (wire.ready === '') this.#setReady();
    });
    this.socket.on('error', () => {});
    this.socket.on('close', () => {
      this.closed = true;
      run.onClosed(this);
    });
  }

  /** Matches the wire's ready text, also when a read cuts it in two. */
  #lookForReady(chunk: Buffer): void {
    const text = this.#pendingReady + chunk.toString('latin1');
    if (text.includes(this.run.wire.ready)) this.#setReady();
    else this.#pendingReady = text.slice(-this.run.wire.ready.length);
  }

  #setReady(): void {
    if (this.ready) return;
    this.ready = true;
    this.run.onReady();
  }
}

class Run {
  readonly wire: Wire;
  readonly receivers: Receiver[] = [];
  readonly encoder: PublishEncoder;
  readonly #start = micros();
  /** The receive time of the chunk being scanned (µs). */
  now = 0;
  delivered = 0;
  sent = 0;
  #readyCount = 0;
  #syncedCount = 0;
  #wakers = new Set<() => void>();
  onDelivery: (receiver: Receiver, seq: number, sentAt: number) => void = () => {};
  publisher!: Socket;

  constructor(readonly config: GeneratorConfig) {
    this.wire = WIRES[config.kind];
    this.encoder = new PublishEncoder(this.wire);
  }

  /** Microseconds since this run began: what payloads carry. */
  get clock(): number {
    return micros() - this.#start;
  }

  /** Receive time of the current chunk, on the payload clock. */
  get receivedAt(): number {
    return this.now - this.#start;
  }

  onReady(): void {
    this.#readyCount++;
    this.#wake();
  }

  onSynced(): void {
    this.#syncedCount++;
    this.#wake();
  }

  onClosed(_receiver: Receiver): void {
    this.#wake();
  }

  #wake(): void {
    for (const wake of [...this.#wakers]) wake();
  }

  /** Resolves when `done()` holds, checked after every receiver event and every `pollMs`. */
  until(done: () => boolean, what: string, timeoutMs: number, pollMs = 50, onPoll?: () => void): Promise<void> {
    return new Promise((resolve, reject) => {
      const finish = (error?: Error) => {
        clearInterval(poll);
        clearTimeout(timer);
        this.#wakers.delete(check);
        if (error) reject(error);
        else resolve();
      };
      const check = () => {
        if (done()) finish();
      };
      const poll = setInterval(() => {
        onPoll?.();
        check();
      }, pollMs);
      const timer = setTimeout(() => finish(new Error(`${this.config.kind}: ${what} not within ${timeoutMs} ms`)), timeoutMs);
      this.#wakers.add(check);
      check();
    });
  }

  async connectAll(): Promise<number> {
    const started = performance.now();
    const { receivers } = this.config;
    const sources = Math.ceil(receivers / PER_SOURCE);
    // One bound for connecting and joining all of them, so a slow server is
    // reported with how far it got rather than by the process deadline.
    const deadline = started + READY_WITHIN_MS;
    const tooSlow = () => {
      const rate = (this.#readyCount / (performance.now() - started)) * 1000;
      return new Error(`only ${this.#readyCount} of ${receivers} receivers were in the room after ${READY_WITHIN_MS / 1000} s (${rate.toFixed(0)}/s)`);
    };
    const untilReady = (done: () => boolean) =>
      this.until(done, 'receivers in the room', Math.max(0, deadline - performance.now())).catch(() => {
        throw tooSlow();
      });
    for (let i = 0; i < receivers; i++) {
      // Bounded parallel connects: at most CONNECT_PARALLEL not yet ready.
      if (i - this.#readyCount >= CONNECT_PARALLEL) await untilReady(() => i - this.#readyCount < CONNECT_PARALLEL);
      this.receivers.push(new Receiver(this, `r${i}`, `127.0.0.${1 + (i % sources)}`));
    }
    await untilReady(() => this.#readyCount === receivers);
    this.publisher = connect({ host: this.config.host, port: this.config.port, noDelay: true });
    this.publisher.on('error', () => {});
    // The publisher's replies (ECHO, Redis's counts) are read and dropped.
    this.publisher.on('data', () => {});
    await new Promise<void>((resolve, reject) => {
      this.publisher.once('connect', resolve);
      this.publisher.once('error', reject);
    });
    const hello = this.wire.publisher('pub');
    if (hello !== '') this.publisher.write(hello);
    // Barrier: message 0 until every receiver has it, so all are in the room.
    this.publisher.write(this.encoder.encode(0, 1, this.clock));
    await this.until(
      () => this.#syncedCount === receivers,
      'the barrier message reaching every receiver',
      60_000,
      100,
      () => this.publisher.write(this.encoder.encode(0, 1, this.clock)),
    );
    return performance.now() - started;
  }

  integrity(): Integrity {
    let lost = 0;
    let reordered = 0;
    let disconnected = 0;
    for (const r of this.receivers) {
      // Counted from what arrived in order, so a gap in the middle counts too.
      lost += this.sent - r.count;
      reordered += r.reordered;
      if (r.closed) disconnected++;
    }
    return { lost, reordered, disconnected };
  }

  /** Waits (bounded) until every open receiver has every message sent. */
  drain(): Promise<void> {
    return this.until(() => this.receivers.every((r) => r.closed || r.last >= this.sent), 'draining', 15_000).catch(() => {});
  }

  close(): void {
    this.publisher?.destroy();
    for (const r of this.receivers) r.socket.destroy();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Closed loop: publish while at most `window` messages ahead of the slowest receiver. */
async function saturation(run: Run, connectMs: number): Promise<GeneratorResult> {
  const { window, warmupMs, measureMs } = run.config;
  let publishing = true;
  let blocked = false;
  let scheduled = false;
  const pump = () => {
    scheduled = false;
    if (!publishing || blocked) return;
    let slowest = run.sent;
    for (const r of run.receivers) if (!r.closed && r.last < slowest) slowest = r.last;
    let room = window - (run.sent - slowest);
    while (room > 0) {
      const count = Math.min(PUBLISH_BATCH, room);
      const ok = run.publisher.write(run.encoder.encode(run.sent + 1, count, run.clock));
      run.sent += count;
      room -= count;
      if (!ok) {
        blocked = true;
        return;
      }
    }
  };
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(pump);
  };
  run.publisher.on('drain', () => {
    blocked = false;
    schedule();
  });
  run.onDelivery = schedule;
  pump();
  await sleep(warmupMs);
  const from = run.delivered;
  const fromTime = performance.now();
  await sleep(measureMs);
  const delivered = run.delivered - from;
  const seconds = (performance.now() - fromTime) / 1000;
  publishing = false;
  await run.drain();
  return { workload: 'saturation', connectMs, sent: run.sent, delivered, deliveriesPerSecond: delivered / seconds, ...run.integrity() };
}

/** Open loop at a fixed delivery rate; latency of every delivery after the warm-up. */
async function latency(run: Run, connectMs: number): Promise<GeneratorResult> {
  const { warmupMs, measureMs, deliveriesPerSecond, receivers } = run.config;
  const perSecond = deliveriesPerSecond / receivers;
  const capacity = Math.ceil(deliveriesPerSecond * (measureMs / 1000) * 1.5) + 1024;
  const samples = new Float64Array(capacity);
  let count = 0;
  const measureFrom = run.clock + warmupMs * 1000;
  run.onDelivery = (_r, _seq, sentAt) => {
    if (sentAt >= measureFrom && count < capacity) samples[count++] = run.receivedAt - sentAt;
  };
  const start = performance.now();
  const end = start + warmupMs + measureMs;
  const ticker = setInterval(() => {
    const now = performance.now();
    const due = Math.min(Math.floor(((Math.min(now, end) - start) / 1000) * perSecond), Math.ceil(((end - start) / 1000) * perSecond));
    if (due > run.sent) {
      run.publisher.write(run.encoder.encode(run.sent + 1, due - run.sent, run.clock));
      run.sent = due;
    }
  }, 1);
  await sleep(warmupMs + measureMs);
  clearInterval(ticker);
  await run.drain();
  const sorted = samples.subarray(0, count).sort();
  const at = (q: number) => (count === 0 ? NaN : sorted[Math.min(count - 1, Math.floor(q * count))]! / 1000);
  return {
    workload: 'latency',
    connectMs,
    sent: run.sent,
    samples: count,
    p50Ms: at(0.5),
    p90Ms: at(0.9),
    p99Ms: at(0.99),
    maxMs: count === 0 ? NaN : sorted[count - 1]! / 1000,
    publishedPerSecond: perSecond,
    ...run.integrity(),
  };
}

function rssKb(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** Many idle receivers: memory per connection, connect rate, one message to all. */
async function scale(run: Run, idleRssKb: number | null, connectMs: number): Promise<GeneratorResult> {
  const { receivers, fanouts } = run.config;
  // Let the server settle after the connection storm before reading its RSS.
  await sleep(1_000);
  const rss = rssKb(run.config.serverPid);
  const fanoutMs: number[] = [];
  for (let i = 0; i < fanouts; i++) {
    const seq = run.sent + 1;
    let reached = 0;
    let doneAt = 0;
    run.onDelivery = (_r, s) => {
      if (s === seq && ++reached === receivers) doneAt = performance.now();
    };
    const sentAt = performance.now();
    run.publisher.write(run.encoder.encode(seq, 1, run.clock));
    run.sent = seq;
    await run.until(() => doneAt !== 0 || run.receivers.some((r) => r.closed), `message ${seq} reaching every receiver`, 30_000);
    fanoutMs.push(doneAt === 0 ? NaN : doneAt - sentAt);
    await sleep(200);
  }
  return {
    workload: 'scale',
    connectMs,
    sent: run.sent,
    idleRssKb,
    rssKb: rss,
    connectsPerSecond: (receivers / connectMs) * 1000,
    fanoutMs,
    ...run.integrity(),
  };
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '') as GeneratorConfig;
  const deadline = setTimeout(() => {
    process.stderr.write(`generator: deadline of ${config.deadlineMs} ms reached\n`);
    process.exit(2);
  }, config.deadlineMs);
  deadline.unref();
  const run = new Run(config);
  const idleRssKb = rssKb(config.serverPid);
  try {
    const connectMs = await run.connectAll();
    run.onDelivery = () => {};
    const result =
      config.workload === 'saturation'
        ? await saturation(run, connectMs)
        : config.workload === 'latency'
          ? await latency(run, connectMs)
          : await scale(run, idleRssKb, connectMs);
    process.stdout.write(JSON.stringify(result) + '\n');
  } finally {
    run.close();
  }
  process.exit(0);
}

main().catch((error: unknown) => {
  process.stderr.write(`generator: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
