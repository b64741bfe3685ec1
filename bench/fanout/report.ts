/**
 * Turning the fan-out runs into markdown tables: one row per server and N,
 * each cell the median of its runs with the min–max range, and ratios of
 * linechat to each peer. Pure, so the figures' arithmetic is unit-tested.
 */
import type { GeneratorResult, Workload } from './generator.ts';
import type { ServerKind } from './wire.ts';

export interface RunRecord {
  readonly server: ServerKind;
  readonly label: string;
  readonly workload: Workload;
  readonly receivers: number;
  readonly run: number;
  readonly result?: GeneratorResult;
  readonly error?: string;
}

export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly runs: number;
}

/** Median (the mean of the middle two for an even count), min and max; NaNs are left out. */
export function summarise(values: readonly number[]): Summary | undefined {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, runs: sorted.length };
}

type Pick = (result: GeneratorResult) => number;

function cells(records: readonly RunRecord[], server: ServerKind, workload: Workload, receivers: number, pick: Pick): Summary | undefined {
  const values = records
    .filter((r) => r.server === server && r.workload === workload && r.receivers === receivers && r.result?.workload === workload)
    .map((r) => pick(r.result!));
  return summarise(values);
}

export function formatCell(s: Summary | undefined, scale: number, digits: number): string {
  if (s === undefined) return 'failed';
  const f = (v: number) => (v / scale).toFixed(digits);
  return s.runs === 1 ? f(s.median) : `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
}

/** Whether every run of this row delivered everything, in order, to everyone. */
function integrity(records: readonly RunRecord[], server: ServerKind, workload: Workload, receivers: number): string {
  const rows = records.filter((r) => r.server === server && r.workload === workload && r.receivers === receivers);
  const failed = rows.filter((r) => r.result === undefined).length;
  const lost = rows.reduce((t, r) => t + (r.result?.lost ?? 0), 0);
  const reordered = rows.reduce((t, r) => t + (r.result?.reordered ?? 0), 0);
  const dropped = rows.reduce((t, r) => t + (r.result?.disconnected ?? 0), 0);
  const problems = [
    failed > 0 ? `${failed} failed` : '',
    lost > 0 ? `${lost} lost` : '',
    reordered > 0 ? `${reordered} reordered` : '',
    dropped > 0 ? `${dropped} cut off` : '',
  ].filter((p) => p !== '');
  return problems.length === 0 ? 'ok' : problems.join(', ');
}

interface Column {
  readonly title: string;
  readonly pick: Pick;
  readonly scale: number;
  readonly digits: number;
}

function table(records: readonly RunRecord[], workload: Workload, servers: ReadonlyArray<{ kind: ServerKind; label: string }>, ns: readonly number[], columns: readonly Column[]): string[] {
  const lines = [
    `| server | N | ${columns.map((c) => c.title).join(' | ')} | all delivered in order |`,
    `|---|---:|${columns.map(() => '---:').join('|')}|---|`,
  ];
  for (const n of ns) {
    for (const { kind, label } of servers) {
      if (!records.some((r) => r.server === kind && r.workload === workload && r.receivers === n)) continue;
      const row = columns.map((c) => formatCell(cells(records, kind, workload, n, c.pick), c.scale, c.digits));
      lines.push(`| ${label} | ${n} | ${row.join(' | ')} | ${integrity(records, kind, workload, n)} |`);
    }
  }
  return lines;
}

/** linechat ÷ peer for one figure, per N, from the medians. */
function ratios(records: readonly RunRecord[], workload: Workload, servers: ReadonlyArray<{ kind: ServerKind; label: string }>, ns: readonly number[], column: Column): string[] {
  const peers = servers.filter((s) => s.kind !== 'linechat');
  if (peers.length === 0) return [];
  const lines = [`| ${column.title}: linechat ÷ peer | ${ns.map((n) => `N=${n}`).join(' | ')} |`, `|---|${ns.map(() => '---:').join('|')}|`];
  for (const peer of peers) {
    const row = ns.map((n) => {
      const ours = cells(records, 'linechat', workload, n, column.pick)?.median;
      const theirs = cells(records, peer.kind, workload, n, column.pick)?.median;
      return ours === undefined || theirs === undefined || theirs === 0 ? 'n/a' : `${(ours / theirs).toFixed(2)}×`;
    });
    lines.push(`| ${peer.label} | ${row.join(' | ')} |`);
  }
  return lines;
}

const field =
  <K extends string>(key: K): Pick =>
  (r) =>
    (r as unknown as Record<K, number>)[key];

export const SATURATION_COLUMNS: readonly Column[] = [{ title: 'delivered M msg/s', pick: field('deliveriesPerSecond'), scale: 1e6, digits: 2 }];

export const LATENCY_COLUMNS: readonly Column[] = [
  { title: 'p50 ms', pick: field('p50Ms'), scale: 1, digits: 3 },
  { title: 'p90 ms', pick: field('p90Ms'), scale: 1, digits: 3 },
  { title: 'p99 ms', pick: field('p99Ms'), scale: 1, digits: 3 },
];

const median = (values: readonly number[]) => summarise(values)?.median ?? NaN;

export interface Report {
  readonly servers: ReadonlyArray<{ kind: ServerKind; label: string }>;
  readonly saturationNs: readonly number[];
  readonly latencyNs: readonly number[];
  readonly scaleNs: readonly number[];
}

/** Per-connection RSS: what the server grew by, divided by the receivers. */
export function rssPerConnectionKb(r: GeneratorResult, receivers: number): number {
  return r.workload === 'scale' && r.rssKb !== null && r.idleRssKb !== null ? (r.rssKb - r.idleRssKb) / receivers : NaN;
}

function scaleColumns(receivers: number): Column[] {
  return [
    { title: 'server RSS per connection KB', pick: (r) => rssPerConnectionKb(r, receivers), scale: 1, digits: 2 },
    { title: 'one message to all, ms (median of fan-outs)', pick: (r) => (r.workload === 'scale' ? median(r.fanoutMs) : NaN), scale: 1, digits: 1 },
    { title: 'connects/s', pick: (r) => (r.workload === 'scale' ? r.connectsPerSecond : NaN), scale: 1, digits: 0 },
  ];
}

/** Why runs failed, one line per server, N and reason, so a 'failed' cell is never a mystery. */
function failures(records: readonly RunRecord[], workload: Workload, ns: readonly number[], servers: Report['servers']): string[] {
  const seen = new Map<string, number>();
  for (const r of records) {
    if (r.workload !== workload || r.error === undefined || !ns.includes(r.receivers)) continue;
    if (!servers.some((s) => s.kind === r.server)) continue;
    const key = `${r.label}, N=${r.receivers}: ${r.error}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  const lines = [...seen].map(([key, runs]) => `- failed ${runs}×: ${key}`);
  return lines.length === 0 ? [] : ['', ...lines];
}

export function renderReport(records: readonly RunRecord[], report: Report): string {
  const { servers } = report;
  const out: string[] = [];
  if (report.saturationNs.length > 0) {
    out.push('### Saturation: 1 publisher, N receivers, 64-byte payloads, window 1024', '');
    out.push(...table(records, 'saturation', servers, report.saturationNs, SATURATION_COLUMNS), ...failures(records, 'saturation', report.saturationNs, servers), '');
    out.push(...ratios(records, 'saturation', servers, report.saturationNs, SATURATION_COLUMNS[0]!), '');
  }
  if (report.latencyNs.length > 0) {
    out.push('### Latency at 50,000 deliveries/s (open loop)', '');
    out.push(...table(records, 'latency', servers, report.latencyNs, LATENCY_COLUMNS), ...failures(records, 'latency', report.latencyNs, servers), '');
    out.push(...ratios(records, 'latency', servers, report.latencyNs, LATENCY_COLUMNS[2]!), '');
  }
  for (const n of report.scaleNs) {
    out.push(`### Connection scale: ${n} registered clients in one room`, '');
    out.push(...table(records, 'scale', servers, [n], scaleColumns(n)), ...failures(records, 'scale', [n], servers), '');
  }
  return out.join('\n');
}
