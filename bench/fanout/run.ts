/**
 * `npm run bench`: linechat's fan-out side by side with real peers, in one
 * run on one machine. A figure, not a test: it prints markdown tables, writes
 * bench/results/fanout-<timestamp>.json with every run, and fails only when
 * it cannot run at all.
 *
 * Each measurement starts a fresh server (bench/fanout/servers.ts) pinned to
 * CPU 0 and one load generator process (bench/fanout/generator.ts) pinned to
 * CPU 1, when `taskset` exists; this process also moves to CPU 1 and only
 * waits. All on 127.0.0.1. Servers take turns within each round, so a
 * disturbance on the machine spreads over all of them.
 *
 * Workloads (README "Benchmarks" explains each):
 * - saturation: 1 publisher, N receivers, closed loop with a window of 1024;
 * - latency: open loop at 50,000 deliveries/s, p50/p90/p99;
 * - scale: 10,000 registered clients: RSS per connection, one message to all,
 *   connect rate.
 *
 * `--profile` also runs linechat once at saturation with `node --cpu-prof`
 * and prints the functions where its CPU time went.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { tsxArgs } from '../../test/support/server-process.ts';
import { pinSelf, pinning } from '../pin.ts';
import type { GeneratorConfig, GeneratorResult, Workload } from './generator.ts';
import { renderReport, type RunRecord } from './report.ts';
import { SERVERS, type ServerSpec } from './servers.ts';
import { SERVER_KINDS, type ServerKind } from './wire.ts';
import { topFrames } from './profile.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const GENERATOR = fileURLToPath(new URL('./generator.ts', import.meta.url));
const RESULTS = fileURLToPath(new URL('../results/', import.meta.url));
const WORKLOADS: readonly Workload[] = ['saturation', 'latency', 'scale'];
const LATENCY_WARMUP_MS = 3_000;

const { values } = parseArgs({
  options: {
    servers: { type: 'string', default: SERVER_KINDS.join(',') },
    workloads: { type: 'string', default: WORKLOADS.join(',') },
    runs: { type: 'string', default: '3' },
    receivers: { type: 'string', default: '10,100,500' },
    'latency-receivers': { type: 'string', default: '10,100' },
    'scale-receivers': { type: 'string', default: '10000' },
    'measure-seconds': { type: 'string', default: '5' },
    quick: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});

const USAGE = `Usage: npm run bench -- [options]
  --servers LIST            ${SERVER_KINDS.join(',')} (default: all that are installed)
  --workloads LIST          ${WORKLOADS.join(',')} (default: all)
  --runs N                  runs per cell; the table shows the median and range (default 3)
  --receivers LIST          N for saturation (default 10,100,500)
  --latency-receivers LIST  N for latency (default 10,100)
  --scale-receivers LIST    N for connection scale (default 10000)
  --measure-seconds S       measured time per saturation/latency run, after a warm-up of 1 s (saturation) or 3 s (latency) (default 5)
  --quick                   1 run, 2 s, scale at 1000: a smoke test of the bench itself
  --profile                 also profile linechat at saturation (node --cpu-prof) and print its top frames`;

function list(value: string, what: string): number[] {
  const ns = value.split(',').filter((v) => v !== '').map(Number);
  if (ns.some((n) => !Number.isSafeInteger(n) || n < 1 || n > 15_000)) throw new Error(`${what} takes whole numbers from 1 to 15000, got ${value}`);
  return ns;
}

/** Runs one generator to completion and returns its result. */
function generate(config: GeneratorConfig, prefix: readonly string[]): Promise<GeneratorResult> {
  return new Promise((resolve, reject) => {
    const argv = [...prefix, process.execPath, ...tsxArgs(GENERATOR, [JSON.stringify(config)])];
    const child = spawn(argv[0]!, argv.slice(1), { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // The generator has its own deadline; this one catches a hung process.
    const timer = setTimeout(() => child.kill('SIGKILL'), config.deadlineMs + 10_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    // 'close', not 'exit': only then has all of stdout been read.
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) {
        reject(new Error(`generator exited with ${code ?? signal}: ${stderr.trim().split('\n').slice(-3).join(' / ')}`));
        return;
      }
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop()!) as GeneratorResult);
      } catch {
        reject(new Error(`generator printed no result: ${JSON.stringify(stdout.slice(-200))}`));
      }
    });
  });
}

interface Cell {
  readonly workload: Workload;
  readonly receivers: number;
}

/**
 * Runs what follows with the open-file limit raised to the hard limit: 10,000
 * clients need that many descriptors in the server and in the generator.
 * `exec` keeps the pid, so the server's /proc entry is still its own.
 */
const RAISE_FD_LIMIT = ['sh', '-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', 'sh'];

async function measure(spec: ServerSpec, cell: Cell, measureMs: number, pin: ((cpu: number) => string[]) | undefined, nodeArgs?: readonly string[]): Promise<GeneratorResult> {
  const server = await spec.start([...RAISE_FD_LIMIT, ...(pin?.(0) ?? [])], nodeArgs);
  try {
    const config: GeneratorConfig = {
      kind: spec.kind,
      host: '127.0.0.1',
      port: server.port,
      workload: cell.workload,
      receivers: cell.receivers,
      window: 1024,
      // Latency runs at a low message rate (500/s at N=100), so a JIT-compiled
      // server needs longer than 1 s before its hot path is optimised; the
      // same warm-up applies to every server.
      warmupMs: cell.workload === 'latency' ? LATENCY_WARMUP_MS : 1_000,
      measureMs,
      deliveriesPerSecond: 50_000,
      fanouts: 5,
      serverPid: server.pid,
      // Scale: 90 s to connect, 5 fan-outs of at most 30 s each, and margin.
      deadlineMs: cell.workload === 'scale' ? 330_000 : 60_000 + measureMs + LATENCY_WARMUP_MS,
    };
    return await generate(config, [...RAISE_FD_LIMIT, ...(pin?.(1) ?? [])]);
  } finally {
    await server.stop();
  }
}

/** One linechat run at saturation under `node --cpu-prof`; returns the top frames. */
async function profile(cell: Cell, measureMs: number, pin: ((cpu: number) => string[]) | undefined): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'linechat-prof-'));
  try {
    const linechat = SERVERS.find((s) => s.kind === 'linechat')!;
    const result = await measure(linechat, cell, measureMs, pin, ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (file === undefined) return 'no profile was written';
    const saturation = result.workload === 'saturation' ? `${(result.deliveriesPerSecond / 1e6).toFixed(2)} M msg/s while profiled` : '';
    return [`linechat at saturation, N=${cell.receivers} (${saturation}): self time by function`, '', topFrames(JSON.parse(readFileSync(join(dir, file), 'utf8')), 15)].join('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const quick = values.quick;
  const runs = quick ? 1 : list(values.runs, '--runs')[0]!;
  const measureMs = (quick ? 2 : Number(values['measure-seconds'])) * 1000;
  if (!(measureMs >= 1000 && measureMs <= 60_000)) throw new Error('--measure-seconds takes 1 to 60');
  const workloads = values.workloads.split(',').filter((w) => w !== '') as Workload[];
  for (const w of workloads) if (!WORKLOADS.includes(w)) throw new Error(`--workloads takes ${WORKLOADS.join(', ')}; got ${w}`);
  const wanted = values.servers.split(',').filter((s) => s !== '') as ServerKind[];
  for (const s of wanted) if (!SERVER_KINDS.includes(s)) throw new Error(`--servers takes ${SERVER_KINDS.join(', ')}; got ${s}`);

  const specs: ServerSpec[] = [];
  for (const spec of SERVERS.filter((s) => wanted.includes(s.kind))) {
    const missing = spec.missing();
    if (missing === undefined) specs.push(spec);
    else console.log(`skipping ${spec.label}: not installed. To include it: ${missing}`);
  }
  const ns = {
    saturation: workloads.includes('saturation') ? list(values.receivers, '--receivers') : [],
    latency: workloads.includes('latency') ? list(values['latency-receivers'], '--latency-receivers') : [],
    scale: workloads.includes('scale') ? (quick ? [1000] : list(values['scale-receivers'], '--scale-receivers')) : [],
  };

  const pin = pinning();
  if (pin !== undefined) pinSelf(1);
  const cells: Cell[] = (['saturation', 'latency', 'scale'] as const).flatMap((workload) => ns[workload].map((receivers) => ({ workload, receivers })));
  const records: RunRecord[] = [];
  const started = Date.now();
  console.log(
    `linechat fan-out benchmark: ${specs.map((s) => s.label).join(', ')}; ${runs} run(s) per cell; ${pin ? 'servers on CPU 0, load on CPU 1 (taskset)' : 'not pinned (no taskset)'}`,
  );
  for (const cell of cells) {
    // A server that cannot take this many clients in time will not on the next run either.
    const gaveUp = new Set<ServerKind>();
    for (let run = 1; run <= runs; run++) {
      for (const spec of specs) {
        if (gaveUp.has(spec.kind)) continue;
        const label = `${cell.workload} N=${cell.receivers} ${spec.label} run ${run}/${runs}`;
        try {
          const result = await measure(spec, cell, measureMs, pin);
          const summary = brief(result);
          records.push({ server: spec.kind, label: spec.label, ...cell, run, result });
          process.stderr.write(`  ${label}: ${summary}\n`);
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          records.push({ server: spec.kind, label: spec.label, ...cell, run, error: message });
          process.stderr.write(`  ${label}: FAILED ${message}\n`);
          if (cell.workload === 'scale') gaveUp.add(spec.kind);
        }
      }
    }
  }

  const servers = specs.map((s) => ({ kind: s.kind, label: s.label }));
  console.log('');
  console.log(renderReport(records, { servers, saturationNs: ns.saturation, latencyNs: ns.latency, scaleNs: ns.scale }));
  let profileText: string | undefined;
  if (values.profile && specs.some((s) => s.kind === 'linechat')) {
    profileText = await profile({ workload: 'saturation', receivers: Math.max(...(ns.saturation.length > 0 ? ns.saturation : [500])) }, measureMs, pin);
    console.log(profileText);
  }
  mkdirSync(RESULTS, { recursive: true });
  const file = join(RESULTS, `fanout-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        seconds: (Date.now() - started) / 1000,
        pinned: pin !== undefined,
        servers: specs.map((s) => ({ kind: s.kind, label: s.label, version: s.version() })),
        records,
        profile: profileText,
      },
      null,
      2,
    ),
  );
  console.log(`\nAll runs: ${file}`);
  return 0;
}

/** A figure for the progress lines; NaN arrives from JSON as null. */
const fixed = (value: number | null, digits: number) => (value === null || !Number.isFinite(value) ? 'n/a' : value.toFixed(digits));

function brief(r: GeneratorResult): string {
  const integrity = r.lost + r.reordered + r.disconnected === 0 ? 'ok' : `lost ${r.lost}, reordered ${r.reordered}, cut off ${r.disconnected}`;
  switch (r.workload) {
    case 'saturation':
      return `${fixed(r.deliveriesPerSecond / 1e6, 2)} M msg/s, ${integrity}`;
    case 'latency':
      return `p50 ${fixed(r.p50Ms, 3)} p99 ${fixed(r.p99Ms, 3)} ms, ${integrity}`;
    case 'scale':
      return `RSS ${r.idleRssKb} → ${r.rssKb} kB, fan-out ${r.fanoutMs.map((m) => fixed(m, 1)).join('/')} ms, ${fixed(r.connectsPerSecond, 0)} connects/s, ${integrity}`;
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
