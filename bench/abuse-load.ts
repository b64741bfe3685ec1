/**
 * Load generators for `npm run bench:abuse` (bench/abuse.ts), each run as a
 * child process so it can be pinned to its own CPU:
 *
 *   node --import tsx bench/abuse-load.ts healthy <host> <port> <options JSON>
 *   node --import tsx bench/abuse-load.ts abuse <host> <port> <options JSON>
 *
 * The parent sends commands as JSON lines on stdin and reads events as JSON
 * lines on stdout (nothing else is printed there):
 *
 * - healthy: N registered clients; on `{"cmd":"phase","phase":P}` each sends
 *   `SAY :h <client> <seq> <P> <send time> <padding>` every `intervalMs`;
 *   every other healthy client that receives it as MSG records the delivery
 *   latency (one process, one monotonic clock). On `{"cmd":"stop"}` it stops
 *   sending, waits until everything sent has been delivered (ECHOes, then a
 *   PING/PONG barrier on every client) and prints its result.
 * - abuse: idle until `{"cmd":"go"}`, then a slow consumer (registered, then
 *   never reads), a flooder (SAY lines as fast as the socket takes them) and
 *   a streamer (bytes without a line end, reconnecting after each cut). On
 *   `{"cmd":"stop"}` it stops and prints its result.
 *
 * Every loop is bounded in count and in time, and each process exits by
 * itself after `deadlineMs` whatever the parent does.
 */
import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { LineFramer } from '../src/protocol/framer.ts';
import { parseLine, type Message } from '../src/protocol/parser.ts';

export interface HealthyOptions {
  readonly clients: number;
  readonly intervalMs: number;
  /** Bytes of filler in each message. */
  readonly padding: number;
  /** Upper bound on messages per client per run. */
  readonly maxMessages: number;
  readonly deadlineMs: number;
}

export interface AbuseOptions {
  /** Which abusers run: the slow consumer, the flooder, the streamer. */
  readonly abusers: ReadonlyArray<'slow' | 'flood' | 'stream'>;
  /** Bytes of each flood line. */
  readonly floodLine: number;
  /** Upper bound on flood lines written. */
  readonly maxFloodLines: number;
  /** Bytes per write of the streamer. */
  readonly streamChunk: number;
  /** Upper bound on streamer connections. */
  readonly maxStreamCycles: number;
  readonly deadlineMs: number;
}

export interface PhaseFigures {
  readonly sent: number;
  readonly echoed: number;
  /** MSG lines of healthy messages received by healthy clients. */
  readonly delivered: number;
  /** sent × (clients − 1). */
  readonly expected: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** p99 of this generator's own event-loop delay: latency it adds itself. */
  readonly loopDelayP99Ms: number;
  /** The longest stall of this generator's event loop. */
  readonly loopDelayMaxMs: number;
  /** Deliveries slower than 50 ms, by second of the phase (when the tail happens). */
  readonly over50msBySecond: number[];
}

export interface HealthyResult {
  readonly event: 'result';
  readonly role: 'healthy';
  readonly clients: number;
  readonly phases: Record<string, PhaseFigures>;
  /** Every LEAVE the first healthy client saw, with the time since the abuse phase began. */
  readonly leaves: Array<{ name: string; reason: string; text: string; atMs: number | null }>;
  readonly disconnected: number;
  readonly drained: boolean;
}

export interface AbuseResult {
  readonly event: 'result';
  readonly role: 'abuse';
  readonly slow: {
    readonly name: string;
    /** ERR SLOW_CONSUMER arrived once it read again after being cut off. */
    readonly errSeen: boolean;
    /** The flooder saw LEAVE <slow> error :SLOW_CONSUMER. */
    readonly leaveSeen: boolean;
    /** Time from go to that LEAVE. */
    readonly cutAfterMs: number | null;
    readonly bytesReadAfterCut: number;
  };
  readonly flood: {
    readonly name: string;
    readonly linesWritten: number;
    readonly echoes: number;
    readonly durationMs: number;
    /** ECHOes per second after the first `burst` ones. */
    readonly steadyEchoRate: number;
    /** Lines the server let through at once (BURST in the greeting). */
    readonly burst: number;
    /** RATE in the greeting. */
    readonly rate: number;
    /** An ERR it got (FLOOD would mean it was cut off instead of delayed). */
    readonly errors: string[];
    readonly disconnected: boolean;
  };
  readonly stream: {
    readonly cycles: number;
    readonly overflowErrs: number;
    readonly bytesSent: number;
  };
}

// ---------------------------------------------------------------------------

/** A lean protocol client: one callback per line, no inbox. */
class Wire {
  readonly socket: Socket;
  greeting: Message | undefined;
  readonly closed: Promise<void>;
  isClosed = false;
  onMessage: (m: Message) => void = () => {};

  private constructor(socket: Socket) {
    this.socket = socket;
    const framer = new LineFramer(
      { line: 1 << 20, readCap: 2 << 20 },
      {
        line: (bytes) => {
          const parsed = parseLine(bytes);
          if (parsed.kind !== 'message') return;
          const m = parsed.message;
          // Every client answers the server's keepalive ([PING-1]).
          if (m.command === 'PING' && m.params.length === 1) socket.write(`PONG ${m.params[0]}\n`);
          else this.onMessage(m);
        },
        lineTooLong: () => {},
        overflow: () => socket.destroy(),
      },
    );
    socket.on('data', (chunk: Buffer) => framer.push(chunk));
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.isClosed = true;
        resolve();
      }),
    );
  }

  /** Connects and resolves once the greeting has arrived. */
  static open(host: string, port: number, timeoutMs = 10_000): Promise<Wire> {
    return new Promise((resolve, reject) => {
      const wire = new Wire(connect({ host, port, noDelay: true }));
      const timer = setTimeout(() => {
        wire.socket.destroy();
        reject(new Error('no greeting'));
      }, timeoutMs);
      wire.onMessage = (m) => {
        if (m.command !== 'LINECHAT') return;
        clearTimeout(timer);
        wire.greeting = m;
        wire.onMessage = () => {};
        resolve(wire);
      };
      void wire.closed.then(() => {
        clearTimeout(timer);
        reject(new Error('closed before the greeting'));
      });
    });
  }

  send(line: string): boolean {
    return this.socket.write(line + '\n');
  }

  /** Sends HELLO and resolves with the name on WELCOME. */
  register(name: string, timeoutMs = 10_000): Promise<string> {
    return this.until((m) => (m.command === 'WELCOME' ? m.params[0]! : m.command === 'ERR' ? new Error(m.params.join(' ')) : undefined), timeoutMs, () =>
      this.send(`HELLO 1 ${name}`),
    );
  }

  /** PING/PONG round trip ([PING-1]); `onMessage` still sees everything else. */
  barrier(timeoutMs = 10_000): Promise<void> {
    const token = `b${performance.now().toFixed(0)}x${Math.random().toString(36).slice(2)}`;
    return this.until((m) => (m.command === 'PONG' && m.params[0] === token ? true : undefined), timeoutMs, () => this.send(`PING ${token}`)).then(() => {});
  }

  /** Calls `start`, then resolves with the first non-undefined `pick` of an arriving message. */
  private until<T>(pick: (m: Message) => T | Error | undefined, timeoutMs: number, start: () => void): Promise<T> {
    const previous = this.onMessage;
    return new Promise<T>((resolve, reject) => {
      const done = (settle: () => void) => {
        clearTimeout(timer);
        this.onMessage = previous;
        settle();
      };
      const timer = setTimeout(() => done(() => reject(new Error('timed out'))), timeoutMs);
      this.onMessage = (m) => {
        const got = pick(m);
        if (got === undefined) return previous(m);
        done(() => (got instanceof Error ? reject(got) : resolve(got)));
      };
      void this.closed.then(() => done(() => reject(new Error('connection closed'))));
      start();
    });
  }
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const round = (n: number, digits = 3) => (Number.isFinite(n) ? Number(n.toFixed(digits)) : n);
const emit = (event: object) => process.stdout.write(JSON.stringify(event) + '\n');
const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------

async function healthy(host: string, port: number, o: HealthyOptions): Promise<void> {
  const tag = process.pid.toString(36);
  const wires = await Promise.all(
    Array.from({ length: o.clients }, async (_, k) => {
      const wire = await Wire.open(host, port);
      await wire.register(`h${k}x${tag}`);
      return wire;
    }),
  );
  const padding = 'p'.repeat(o.padding);
  const samples = new Map<string, number[]>();
  const slowBySecond = new Map<string, number[]>();
  const phaseStart = new Map<string, number>();
  const sent = new Map<string, number>();
  const echoed = new Map<string, number>();
  const loopDelay = new Map<string, { p99: number; max: number }>();
  const recordLoop = (name: string) => loopDelay.set(name, { p99: histogram.percentile(99) / 1e6, max: histogram.max / 1e6 });
  const bump = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
  const leaves: HealthyResult['leaves'] = [];
  let abuseStart: number | null = null;
  let disconnected = 0;
  let phase: string | undefined;
  const histogram = monitorEventLoopDelay({ resolution: 2 });
  histogram.enable();

  wires.forEach((wire, k) => {
    void wire.closed.then(() => disconnected++);
    wire.onMessage = (m) => {
      if (m.command === 'MSG' || m.command === 'ECHO') {
        const [kind, , , sentPhase, at] = m.params[4]!.split(' ', 5);
        if (kind !== 'h' || sentPhase === undefined || at === undefined) return;
        if (m.command === 'ECHO') return void bump(echoed, sentPhase);
        let list = samples.get(sentPhase);
        if (list === undefined) samples.set(sentPhase, (list = []));
        const now = performance.now();
        const latency = now - Number(at);
        list.push(latency);
        if (latency > 50) {
          let seconds = slowBySecond.get(sentPhase);
          if (seconds === undefined) slowBySecond.set(sentPhase, (seconds = []));
          const second = Math.floor((now - (phaseStart.get(sentPhase) ?? now)) / 1000);
          seconds[second] = (seconds[second] ?? 0) + 1;
        }
      } else if (m.command === 'LEAVE' && k === 0) {
        leaves.push({ name: m.params[0]!, reason: m.params[1]!, text: m.params[2] ?? '', atMs: abuseStart === null ? null : round(performance.now() - abuseStart, 0) });
      }
    };
  });

  const timers: NodeJS.Timeout[] = [];
  const start = () => {
    wires.forEach((wire, k) => {
      let seq = 0;
      const send = () => {
        if (phase === undefined || wire.isClosed || seq >= o.maxMessages) return;
        wire.send(`SAY :h ${k} ${++seq} ${phase} ${performance.now().toFixed(3)} ${padding}`);
        bump(sent, phase);
      };
      // Staggered, so the clients do not all speak in the same millisecond.
      timers.push(setTimeout(() => timers.push(setInterval(send, o.intervalMs)), (k * o.intervalMs) / o.clients));
    });
  };

  const stop = async (): Promise<void> => {
    phase = undefined;
    for (const timer of timers) clearTimeout(timer);
    histogram.disable();
    // Everything sent was broadcast once its ECHO is back ([MSG-3]); a barrier
    // on each client then follows every MSG queued to it before ([PING-1]).
    const total = () => [...sent.values()].reduce((a, b) => a + b, 0);
    const acked = () => [...echoed.values()].reduce((a, b) => a + b, 0);
    const until = performance.now() + 10_000;
    while (acked() < total() && performance.now() < until && disconnected === 0) await pause(5);
    let drained = acked() >= total();
    try {
      await Promise.all(wires.map((w) => w.barrier()));
    } catch {
      drained = false;
    }
    const phases: Record<string, PhaseFigures> = {};
    for (const [name, count] of sent) {
      const sorted = Float64Array.from(samples.get(name) ?? []).sort();
      phases[name] = {
        sent: count,
        echoed: echoed.get(name) ?? 0,
        delivered: sorted.length,
        expected: count * (o.clients - 1),
        p50Ms: round(percentile(sorted, 0.5)),
        p90Ms: round(percentile(sorted, 0.9)),
        p99Ms: round(percentile(sorted, 0.99)),
        maxMs: round(sorted.length === 0 ? NaN : sorted[sorted.length - 1]!),
        loopDelayP99Ms: round(loopDelay.get(name)?.p99 ?? NaN),
        loopDelayMaxMs: round(loopDelay.get(name)?.max ?? NaN),
        over50msBySecond: Array.from(slowBySecond.get(name) ?? [], (n) => n ?? 0),
      };
    }
    const result: HealthyResult = { event: 'result', role: 'healthy', clients: o.clients, phases, leaves, disconnected, drained };
    emit(result);
    for (const wire of wires) wire.socket.destroy();
  };

  commands(async (cmd) => {
    if (cmd.cmd === 'phase' && typeof cmd.phase === 'string') {
      if (phase !== undefined) recordLoop(phase);
      histogram.reset();
      if (cmd.phase === 'abuse') abuseStart = performance.now();
      phaseStart.set(cmd.phase, performance.now());
      const first = phase === undefined;
      phase = cmd.phase;
      if (first) start();
    } else if (cmd.cmd === 'stop') {
      if (phase !== undefined) recordLoop(phase);
      await stop();
      process.exit(0);
    }
  });
  emit({ event: 'ready', role: 'healthy' });
}

// ---------------------------------------------------------------------------

async function abuse(host: string, port: number, o: AbuseOptions): Promise<void> {
  const tag = process.pid.toString(36);
  let running = false;
  let goAt = 0;

  const slow = { name: `slow${tag}`, wire: undefined as Wire | undefined, observer: undefined as Wire | undefined, errSeen: false, leaveSeen: false, cutAfterMs: null as number | null, bytesReadAfterCut: 0 };
  const flood = {
    name: `flood${tag}`,
    wire: undefined as Wire | undefined,
    linesWritten: 0,
    echoTimes: [] as number[],
    errors: [] as string[],
    startedAt: 0,
    stoppedAt: 0,
  };
  const stream = { cycles: 0, overflowErrs: 0, bytesSent: 0 };

  /** The slow consumer reads again, to find the ERR SLOW_CONSUMER queued behind everything it did not read. */
  const drainSlow = () => {
    const wire = slow.wire;
    if (wire === undefined || wire.socket.listenerCount('data') > 1) return;
    wire.socket.on('data', (chunk: Buffer) => (slow.bytesReadAfterCut += chunk.length));
    wire.socket.resume();
  };

  const startSlow = async () => {
    // A reading client that watches for the slow consumer's LEAVE.
    const observer = await Wire.open(host, port);
    await observer.register(`obs${tag}`);
    observer.onMessage = (m) => {
      if (m.command !== 'LEAVE' || m.params[0] !== slow.name) return;
      slow.leaveSeen = m.params[1] === 'error' && m.params[2] === 'SLOW_CONSUMER';
      slow.cutAfterMs = round(performance.now() - goAt, 0);
      // Read at once: the server closes it after its linger time.
      drainSlow();
    };
    slow.observer = observer;
    const wire = await Wire.open(host, port);
    await wire.register(slow.name);
    wire.onMessage = (m) => {
      if (m.command === 'ERR' && m.params[0] === 'SLOW_CONSUMER') slow.errSeen = true;
    };
    // From here on it never reads: the kernel's buffers fill, then the server's queue.
    wire.socket.pause();
    slow.wire = wire;
  };

  const startFlood = async () => {
    const wire = await Wire.open(host, port);
    await wire.register(flood.name);
    flood.wire = wire;
    wire.onMessage = (m) => {
      if (m.command === 'ECHO' && running) flood.echoTimes.push(performance.now());
      else if (m.command === 'ERR') flood.errors.push(`${m.params[0]} ${m.params[1]}`);
    };
    const filler = 'f'.repeat(Math.max(0, o.floodLine - 32));
    flood.startedAt = performance.now();
    // As fast as the socket takes them: write until the kernel pushes back, then wait for drain.
    const pump = () => {
      while (running && !wire.isClosed && flood.linesWritten < o.maxFloodLines) {
        flood.linesWritten++;
        if (!wire.send(`SAY :f ${flood.linesWritten} ${filler}`)) return void wire.socket.once('drain', pump);
      }
    };
    pump();
  };

  const startStream = async () => {
    const chunk = Buffer.alloc(o.streamChunk, 'x');
    while (running && stream.cycles < o.maxStreamCycles) {
      stream.cycles++;
      let wire: Wire;
      try {
        wire = await Wire.open(host, port);
      } catch {
        continue;
      }
      wire.onMessage = (m) => {
        if (m.command === 'ERR' && m.params[0] === 'INPUT_OVERFLOW') stream.overflowErrs++;
      };
      // No line end, ever: the server must cut it off at READCAP ([LIMIT-3]).
      const pump = () => {
        while (running && !wire.isClosed) {
          stream.bytesSent += chunk.length;
          if (!wire.socket.write(chunk)) return void wire.socket.once('drain', pump);
        }
        if (!running) wire.socket.destroy();
      };
      pump();
      await wire.closed;
    }
  };

  const stop = async () => {
    running = false;
    flood.stoppedAt = performance.now();
    const floodCut = flood.wire?.isClosed ?? true;
    flood.wire?.socket.destroy();
    // If it was cut off, give the slow consumer a moment (bounded) to read up to its ERR.
    if (slow.leaveSeen && slow.wire !== undefined) {
      drainSlow();
      await Promise.race([slow.wire.closed, new Promise((r) => setTimeout(r, 3_000))]);
    }
    slow.wire?.socket.destroy();
    slow.observer?.socket.destroy();
    const durationMs = flood.stoppedAt - flood.startedAt;
    const burst = Number(keyOf(flood.wire?.greeting, 'BURST') ?? 0);
    const rate = Number(keyOf(flood.wire?.greeting, 'RATE') ?? 0);
    const steady = flood.echoTimes.slice(burst);
    const steadyEchoRate = steady.length < 2 ? 0 : ((steady.length - 1) * 1000) / (steady.at(-1)! - steady[0]!);
    const result: AbuseResult = {
      event: 'result',
      role: 'abuse',
      slow: { name: slow.name, errSeen: slow.errSeen, leaveSeen: slow.leaveSeen, cutAfterMs: slow.cutAfterMs, bytesReadAfterCut: slow.bytesReadAfterCut },
      flood: {
        name: flood.name,
        linesWritten: flood.linesWritten,
        echoes: flood.echoTimes.length,
        durationMs: round(durationMs, 0),
        steadyEchoRate: round(steadyEchoRate, 2),
        burst,
        rate,
        errors: flood.errors,
        disconnected: floodCut,
      },
      stream,
    };
    emit(result);
  };

  commands(async (cmd) => {
    if (cmd.cmd === 'go' && !running) {
      running = true;
      goAt = performance.now();
      if (o.abusers.includes('slow')) await startSlow();
      if (o.abusers.includes('flood')) void startFlood();
      if (o.abusers.includes('stream')) void startStream();
    } else if (cmd.cmd === 'stop') {
      await stop();
      process.exit(0);
    }
  });
  emit({ event: 'ready', role: 'abuse' });
}

function keyOf(greeting: Message | undefined, key: string): string | undefined {
  const kv = greeting?.params.find((p) => p.startsWith(`${key}=`));
  return kv?.slice(key.length + 1);
}

/** Reads JSON commands from stdin, one per line, in order. */
function commands(handle: (cmd: { cmd?: string; phase?: string }) => Promise<void>): void {
  let chain = Promise.resolve();
  createInterface({ input: process.stdin }).on('line', (line) => {
    const cmd = JSON.parse(line) as { cmd?: string; phase?: string };
    chain = chain.then(() => handle(cmd));
  });
  // The parent went away: nothing left to do.
  process.stdin.on('end', () => process.exit(0));
}

const [role, host, port, json] = process.argv.slice(2);
if (host === undefined || port === undefined || json === undefined) {
  process.stderr.write('usage: abuse-load.ts <healthy|abuse> <host> <port> <options JSON>\n');
  process.exit(2);
}
const options = JSON.parse(json) as HealthyOptions & AbuseOptions;
// Whatever happens, this process ends by itself.
setTimeout(() => {
  process.stderr.write(`abuse-load ${role}: deadline of ${options.deadlineMs} ms reached, exiting\n`);
  process.exit(1);
}, options.deadlineMs).unref();
if (role === 'healthy') await healthy(host, Number(port), options);
else if (role === 'abuse') await abuse(host, Number(port), options);
else {
  process.stderr.write(`unknown role ${role}\n`);
  process.exit(2);
}
