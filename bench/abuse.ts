/**
 * `npm run bench:abuse`: how much abusive clients cost the healthy ones.
 * A figure, not a test: it prints a table and writes
 * bench/results/abuse-<timestamp>.json, and fails only when it cannot run.
 *
 * It starts the real server (test/support/server-process.ts) pinned to CPU 0
 * and the load generators (bench/abuse-load.ts) as child processes pinned to
 * CPU 1, when `taskset` exists; this process also moves to CPU 1. All on
 * 127.0.0.1. Then, in one run against one server:
 *
 * 1. warm-up (not reported): HEALTHY clients start chatting;
 * 2. baseline: HEALTHY clients each send a message every INTERVAL_MS, with
 *    its send time inside and padded to PADDING bytes; every other healthy
 *    client records the delivery latency;
 * 3. abuse: the same healthy load, plus a slow consumer (registered, then
 *    never reads), a flooder (SAY lines as fast as its socket takes them) and
 *    a streamer (bytes without a line end, reconnecting each time the server
 *    cuts it off).
 *
 * Per phase: p50/p99 delivery latency, messages delivered, and the server's
 * peak RSS (VmHWM, reset at each phase start through /proc/<pid>/clear_refs
 * where the kernel allows it, and the largest VmRSS sampled every 100 ms).
 * Also: was the slow consumer cut off (ERR SLOW_CONSUMER), and was the
 * flooder delayed (its ECHO rate close to the server's RATE)?
 *
 * Options: `--abusers slow,flood,stream` (default all three) runs only some
 * abusers, to see what each one costs.
 *
 * Messages are padded so that the slow consumer's kernel buffers (several MB
 * on Linux loopback) fill within the abuse phase and the server's own queue
 * for it (SENDQ) is reached. Every loop is bounded in count and time; the run
 * takes about 30 s and is stopped by its own deadline at 60 s.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { pinSelf, pinning } from './pin.ts';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startServer, tsxArgs, type ServerProcess } from '../test/support/server-process.ts';
import { parseArgs } from 'node:util';
import { TICKS_PER_SECOND, cpuTicks, hasProc, memoryKb } from '../test/support/proc.ts';
import type { AbuseOptions, AbuseResult, HealthyOptions, HealthyResult } from './abuse-load.ts';

const HEALTHY = 20;
const INTERVAL_MS = 50;
const PADDING = 1000;
const RATE = 50;
const BURST = 20;
const SENDQ = 256 * 1024;
const PHASES = [
  { name: 'warmup', ms: 2_000 },
  { name: 'baseline', ms: 10_000 },
  { name: 'abuse', ms: 12_000 },
] as const;
const DEADLINE_MS = 60_000;

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const LOAD_ENTRY = fileURLToPath(new URL('./abuse-load.ts', import.meta.url));
const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));

interface Child {
  readonly process: ChildProcess;
  send(cmd: object): void;
  /** Resolves with the next stdout event of this kind. */
  next<T>(event: string, timeoutMs: number): Promise<T>;
}

function spawnLoad(role: 'healthy' | 'abuse', host: string, port: number, options: HealthyOptions | AbuseOptions, prefix: string[]): Child {
  const argv = [...prefix, process.execPath, ...tsxArgs(LOAD_ENTRY, [role, host, String(port), JSON.stringify(options)])];
  const child = spawn(argv[0]!, argv.slice(1), { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  const events: Array<{ event: string }> = [];
  const waiters = new Set<() => void>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    events.push(JSON.parse(line) as { event: string });
    for (const wake of [...waiters]) wake();
  });
  child.on('exit', () => {
    for (const wake of [...waiters]) wake();
  });
  return {
    process: child,
    send: (cmd) => child.stdin!.write(JSON.stringify(cmd) + '\n'),
    next: <T>(event: string, timeoutMs: number) =>
      new Promise<T>((resolve, reject) => {
        const check = () => {
          const at = events.findIndex((e) => e.event === event);
          if (at !== -1) {
            done();
            resolve(events.splice(at, 1)[0] as T);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            done();
            reject(new Error(`${role} generator exited (${child.exitCode ?? child.signalCode}) before "${event}"`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${role} generator: no "${event}" within ${timeoutMs} ms`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      }),
  };
}

/** Resets VmHWM to the current RSS (Linux ≥ 4.0); false where not allowed. */
function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

interface PhaseMemory {
  /** VmHWM at the end of the phase (since its start when the reset worked, else since the server started). */
  hwmKb: number | null;
  hwmResetWorked: boolean;
  /** Largest VmRSS sampled during the phase. */
  maxRssKb: number | null;
  samples: number;
  /** Server CPU time during the phase, in % of one CPU. */
  cpuPercent: number | null;
}

/** Samples the server's memory every 100 ms for `ms`. */
async function runPhase(pid: number | undefined, ms: number): Promise<PhaseMemory> {
  const proc = hasProc(pid);
  const memory: PhaseMemory = { hwmKb: null, hwmResetWorked: proc && resetPeak(pid), maxRssKb: null, samples: 0, cpuPercent: null };
  const ticks = proc ? cpuTicks(pid) : 0;
  const start = Date.now();
  const end = start + ms;
  while (Date.now() < end) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(100, Math.max(0, end - Date.now()))));
    if (!proc) continue;
    try {
      memory.maxRssKb = Math.max(memory.maxRssKb ?? 0, memoryKb(pid, 'VmRSS'));
      memory.samples++;
    } catch {
      break; // the server is gone; the results will say so
    }
  }
  if (proc) {
    try {
      memory.hwmKb = memoryKb(pid, 'VmHWM');
      memory.cpuPercent = (((cpuTicks(pid) - ticks) / TICKS_PER_SECOND) * 100_000) / (Date.now() - start);
    } catch {
      // gone
    }
  }
  return memory;
}

const mb = (kb: number | null) => (kb === null ? NaN : kb / 1024);
const fixed = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

const ABUSERS = ['slow', 'flood', 'stream'] as const;
type Abuser = (typeof ABUSERS)[number];

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { abusers: { type: 'string', default: ABUSERS.join(',') } }, strict: true });
  const abusers = values.abusers.split(',').filter((a) => a !== '');
  const unknown = abusers.filter((a) => !(ABUSERS as readonly string[]).includes(a));
  if (unknown.length > 0) throw new Error(`--abusers takes ${ABUSERS.join(', ')}; got ${unknown.join(', ')}`);
  const pin = pinning();
  // This process only coordinates and samples: keep it off the server's CPU.
  if (pin !== undefined) pinSelf(1);

  const serverArgs = ['--flood-rate', String(RATE), '--flood-burst', String(BURST), '--max-sendq', String(SENDQ)];
  let server: ServerProcess | undefined;
  const children: Child[] = [];
  const deadline = setTimeout(() => {
    process.stderr.write(`bench:abuse: deadline of ${DEADLINE_MS} ms reached, stopping\n`);
    for (const child of children) child.process.kill('SIGKILL');
    server?.child.kill('SIGKILL');
    process.exit(1);
  }, DEADLINE_MS);
  deadline.unref();

  try {
    server = await startServer(serverArgs, 20_000, { prefix: pin?.(0) ?? [] });
    const pid = server.child.pid;
    const healthyOptions: HealthyOptions = {
      clients: HEALTHY,
      intervalMs: INTERVAL_MS,
      padding: PADDING,
      maxMessages: Math.ceil(PHASES.reduce((t, p) => t + p.ms, 0) / INTERVAL_MS) + 100,
      deadlineMs: DEADLINE_MS - 5_000,
    };
    const abuseOptions: AbuseOptions = {
      abusers: abusers as Abuser[],
      floodLine: 1024,
      maxFloodLines: 1_000_000,
      streamChunk: 4096,
      maxStreamCycles: 200_000,
      deadlineMs: DEADLINE_MS - 5_000,
    };
    const healthy = spawnLoad('healthy', server.host, server.port, healthyOptions, pin?.(1) ?? []);
    const abuse = spawnLoad('abuse', server.host, server.port, abuseOptions, pin?.(1) ?? []);
    children.push(healthy, abuse);
    await Promise.all([healthy.next('ready', 20_000), abuse.next('ready', 20_000)]);

    const memory: Record<string, PhaseMemory> = {};
    for (const phase of PHASES) {
      healthy.send({ cmd: 'phase', phase: phase.name });
      if (phase.name === 'abuse') abuse.send({ cmd: 'go' });
      process.stderr.write(`bench:abuse: ${phase.name} (${phase.ms / 1000} s)\n`);
      memory[phase.name] = await runPhase(pid, phase.ms);
    }
    healthy.send({ cmd: 'stop' });
    abuse.send({ cmd: 'stop' });
    const [h, a] = await Promise.all([healthy.next<HealthyResult>('result', 20_000), abuse.next<AbuseResult>('result', 20_000)]);
    const serverAlive = server.child.exitCode === null && server.child.signalCode === null;
    const stopped = await server.stop();

    report({ h, a, memory, serverAlive, stopped, pinned: pin !== undefined, serverArgs, abusers });
    return 0;
  } finally {
    for (const child of children) if (child.process.exitCode === null) child.process.kill('SIGKILL');
    await server?.stop();
  }
}

function report(r: {
  h: HealthyResult;
  a: AbuseResult;
  memory: Record<string, PhaseMemory>;
  serverAlive: boolean;
  stopped: { code: number | null; signal: NodeJS.Signals | null };
  pinned: boolean;
  serverArgs: string[];
  abusers: string[];
}): void {
  const { h, a, memory } = r;
  const rows = ['baseline', 'abuse'].map((name) => {
    const f = h.phases[name];
    const m = memory[name];
    const peakKb = m === undefined ? null : m.hwmResetWorked ? m.hwmKb : m.maxRssKb;
    return { name, f, peakMb: mb(peakKb), maxRssMb: mb(m?.maxRssKb ?? null), hwmMb: mb(m?.hwmKb ?? null) };
  });
  const [base, abused] = rows as [(typeof rows)[0], (typeof rows)[0]];
  const ratio = (key: 'p50Ms' | 'p99Ms') => (base.f && abused.f ? abused.f[key] / base.f[key] : NaN);
  const floodDelayed = a.flood.rate > 0 && a.flood.steadyEchoRate > 0 && a.flood.steadyEchoRate <= a.flood.rate * 1.15 && a.flood.linesWritten > a.flood.echoes && !a.flood.errors.some((e) => e.startsWith('FLOOD'));
  const cutOff = a.slow.leaveSeen || a.slow.errSeen;

  const lines = [
    '',
    `linechat abuse benchmark: ${HEALTHY} healthy clients, one message each every ${INTERVAL_MS} ms (${PADDING} bytes of padding); abusers: ${r.abusers.join(', ') || 'none'}; server ${r.serverArgs.join(' ')}; ${r.pinned ? 'server on CPU 0, generators on CPU 1 (taskset)' : 'not pinned (no taskset)'}`,
    '',
    '| phase | p50 ms | p99 ms | messages delivered | server peak RSS MB |',
    '|---|---:|---:|---:|---:|',
    ...rows.map((row) =>
      row.f === undefined
        ? `| ${row.name} | n/a | n/a | n/a | ${fixed(row.peakMb)} |`
        : `| ${row.name} | ${fixed(row.f.p50Ms, 2)} | ${fixed(row.f.p99Ms, 2)} | ${row.f.delivered} of ${row.f.expected} | ${fixed(row.peakMb)} |`,
    ),
    '',
    `abuse/baseline: p50 × ${fixed(ratio('p50Ms'), 2)}, p99 × ${fixed(ratio('p99Ms'), 2)}`,
    `slow consumer cut off: ${cutOff ? 'yes' : 'NO'} (LEAVE error SLOW_CONSUMER seen: ${a.slow.leaveSeen ? `yes, ${a.slow.cutAfterMs} ms after the abuse began` : 'no'}; ERR SLOW_CONSUMER read by it: ${a.slow.errSeen ? 'yes' : 'no'}, after ${fixed(a.slow.bytesReadAfterCut / 2 ** 20)} MB it had not read)`,
    `flooder delayed: ${floodDelayed ? 'yes' : 'NO'} (wrote ${a.flood.linesWritten} lines, got ${a.flood.echoes} ECHOes in ${fixed(a.flood.durationMs / 1000)} s: ${fixed(a.flood.steadyEchoRate)} per s after the burst of ${a.flood.burst}, RATE=${a.flood.rate}; errors: ${a.flood.errors.join(', ') || 'none'}; still connected: ${a.flood.disconnected ? 'no' : 'yes'})`,
    `streamer without line end: ${a.stream.cycles} connections, ${a.stream.overflowErrs} cut off with ERR INPUT_OVERFLOW, ${fixed(a.stream.bytesSent / 2 ** 20)} MB sent`,
    `healthy generator's own event-loop delay (latency it adds itself), p99 / max: baseline ${fixed(base.f?.loopDelayP99Ms ?? NaN, 1)} / ${fixed(base.f?.loopDelayMaxMs ?? NaN, 0)} ms, abuse ${fixed(abused.f?.loopDelayP99Ms ?? NaN, 1)} / ${fixed(abused.f?.loopDelayMaxMs ?? NaN, 0)} ms`,
    `healthy clients disconnected: ${h.disconnected}; everything sent delivered at the end: ${h.drained ? 'yes' : 'no'}; server alive at the end: ${r.serverAlive ? 'yes' : 'NO'}, exit ${r.stopped.code ?? r.stopped.signal}`,
    `deliveries over 50 ms by second of the phase: baseline [${base.f?.over50msBySecond.join(' ') ?? ''}], abuse [${abused.f?.over50msBySecond.join(' ') ?? ''}]`,
    `server CPU: baseline ${fixed(memory.baseline?.cpuPercent ?? NaN, 0)} %, abuse ${fixed(memory.abuse?.cpuPercent ?? NaN, 0)} % of one CPU`,
    `peak RSS: ${memory.baseline?.hwmResetWorked ? 'VmHWM reset at each phase start' : 'largest VmRSS sampled every 100 ms (VmHWM could not be reset)'}; VmRSS max sampled: baseline ${fixed(base.maxRssMb)} MB, abuse ${fixed(abused.maxRssMb)} MB`,
  ];
  process.stdout.write(lines.join('\n') + '\n');

  mkdirSync(RESULTS, { recursive: true });
  const file = `${RESULTS}abuse-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
  const json = {
    date: new Date().toISOString(),
    node: process.version,
    pinned: r.pinned,
    config: { healthy: HEALTHY, intervalMs: INTERVAL_MS, padding: PADDING, phases: PHASES, serverArgs: r.serverArgs, abusers: r.abusers },
    phases: Object.fromEntries(rows.map((row) => [row.name, { ...row.f, peakRssMb: row.peakMb, memory: memory[row.name] }])),
    ratio: { p50: ratio('p50Ms'), p99: ratio('p99Ms') },
    slowConsumer: { cutOff, ...a.slow },
    flooder: { delayed: floodDelayed, ...a.flood },
    streamer: a.stream,
    healthy: { disconnected: h.disconnected, drained: h.drained, leaves: h.leaves.length, warmup: h.phases.warmup },
    server: { aliveAtEnd: r.serverAlive, exit: r.stopped },
  };
  writeFileSync(file, JSON.stringify(json, null, 2) + '\n');
  process.stdout.write(`results: ${file}\n`);
}

process.exitCode = await main().catch((error: unknown) => {
  process.stderr.write(`bench:abuse failed: ${(error as Error).stack ?? String(error)}\n`);
  return 1;
});
process.exit();
