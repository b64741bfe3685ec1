import { describe, expect, it } from 'vitest';
import type { GeneratorResult } from '../../../bench/fanout/generator.ts';
import { formatCell, renderReport, rssPerConnectionKb, summarise, type Report, type RunRecord } from '../../../bench/fanout/report.ts';
import type { ServerKind } from '../../../bench/fanout/wire.ts';

// ---------------------------------------------------------------- records

const LABELS: Record<ServerKind, string> = { linechat: 'linechat', redis: 'Redis 7', naive: 'naive relay', ngircd: 'ngIRCd' };

interface Problems {
  lost?: number;
  reordered?: number;
  disconnected?: number;
}

const clean = (p: Problems = {}) => ({ lost: p.lost ?? 0, reordered: p.reordered ?? 0, disconnected: p.disconnected ?? 0, connectMs: 100, sent: 1000 });

function saturation(server: ServerKind, receivers: number, run: number, deliveriesPerSecond: number, problems?: Problems): RunRecord {
  const result: GeneratorResult = { workload: 'saturation', deliveriesPerSecond, delivered: deliveriesPerSecond * 5, ...clean(problems) };
  return { server, label: LABELS[server], workload: 'saturation', receivers, run, result };
}

function latency(server: ServerKind, receivers: number, run: number, p50Ms: number, p99Ms: number): RunRecord {
  const result: GeneratorResult = { workload: 'latency', samples: 100, p50Ms, p90Ms: (p50Ms + p99Ms) / 2, p99Ms, maxMs: p99Ms * 2, publishedPerSecond: 5000 / receivers, ...clean() };
  return { server, label: LABELS[server], workload: 'latency', receivers, run, result };
}

function scaleResult(idleRssKb: number | null, rssKb: number | null, connectsPerSecond: number, fanoutMs: number[]): GeneratorResult {
  return { workload: 'scale', idleRssKb, rssKb, connectsPerSecond, fanoutMs, ...clean() };
}

function scale(server: ServerKind, receivers: number, run: number, result: GeneratorResult): RunRecord {
  return { server, label: LABELS[server], workload: 'scale', receivers, run, result };
}

function failed(server: ServerKind, workload: RunRecord['workload'], receivers: number, run: number): RunRecord {
  return { server, label: LABELS[server], workload, receivers, run, error: 'generator: deadline of 60000 ms reached' };
}

const servers = (...kinds: ServerKind[]) => kinds.map((kind) => ({ kind, label: LABELS[kind] }));

const report = (r: Partial<Report>): Report => ({ servers: servers('linechat', 'redis', 'naive'), saturationNs: [], latencyNs: [], scaleNs: [], ...r });

/** The markdown table that follows `heading` (up to the next blank line). */
function tableAfter(markdown: string, heading: string): string[] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => l.startsWith(heading));
  expect(start, `no line starting with ${heading}`).toBeGreaterThanOrEqual(0);
  const end = lines.indexOf('', start + 1);
  return lines.slice(start, end === -1 ? undefined : end);
}

// ---------------------------------------------------------------- tests

describe('summarise', () => {
  it('takes the middle value of an odd count, whatever the input order', () => {
    expect(summarise([5, 1, 3])).toEqual({ median: 3, min: 1, max: 5, runs: 3 });
    expect(summarise([7])).toEqual({ median: 7, min: 7, max: 7, runs: 1 });
  });

  it('takes the mean of the middle two of an even count', () => {
    expect(summarise([4, 1, 10, 2])).toEqual({ median: 3, min: 1, max: 10, runs: 4 });
    expect(summarise([2, 1])).toEqual({ median: 1.5, min: 1, max: 2, runs: 2 });
  });

  it('sorts numerically, not as strings', () => {
    expect(summarise([100, 9, 20])).toEqual({ median: 20, min: 9, max: 100, runs: 3 });
  });

  it('leaves NaN out, of the values and of the count', () => {
    expect(summarise([NaN, 3, NaN, 1])).toEqual({ median: 2, min: 1, max: 3, runs: 2 });
    expect(summarise([NaN, 4])).toEqual({ median: 4, min: 4, max: 4, runs: 1 });
  });

  it('is undefined for no values, or only NaN', () => {
    expect(summarise([])).toBeUndefined();
    expect(summarise([NaN, NaN])).toBeUndefined();
  });

  it('does not reorder the caller’s array', () => {
    const values = [3, 1, 2];
    summarise(values);
    expect(values).toEqual([3, 1, 2]);
  });
});

describe('formatCell', () => {
  it('is "failed" without a summary', () => {
    expect(formatCell(undefined, 1, 2)).toBe('failed');
  });

  it('gives only the median for one run', () => {
    expect(formatCell({ median: 1_234_567, min: 1_234_567, max: 1_234_567, runs: 1 }, 1e6, 2)).toBe('1.23');
  });

  it('gives the median and the min–max range for several runs, scaled and rounded', () => {
    expect(formatCell({ median: 2_500_000, min: 2_000_000, max: 3_000_000, runs: 3 }, 1e6, 2)).toBe('2.50 (2.00–3.00)');
    expect(formatCell({ median: 0.12345, min: 0.1, max: 0.2, runs: 2 }, 1, 3)).toBe('0.123 (0.100–0.200)');
    expect(formatCell({ median: 4999.6, min: 4000, max: 6000.4, runs: 2 }, 1, 0)).toBe('5000 (4000–6000)');
  });
});

describe('rssPerConnectionKb', () => {
  it('is the growth of the server’s RSS divided by the receivers', () => {
    expect(rssPerConnectionKb(scaleResult(50_000, 250_000, 1000, []), 10_000)).toBe(20);
    expect(rssPerConnectionKb(scaleResult(1000, 1500, 1000, []), 1000)).toBe(0.5);
  });

  it('is NaN when either RSS is unknown', () => {
    expect(rssPerConnectionKb(scaleResult(null, 250_000, 1000, []), 100)).toBeNaN();
    expect(rssPerConnectionKb(scaleResult(50_000, null, 1000, []), 100)).toBeNaN();
  });

  it('is NaN for a result of another workload', () => {
    const r = saturation('linechat', 100, 1, 1e6).result!;
    expect(rssPerConnectionKb(r, 100)).toBeNaN();
  });
});

describe('renderReport', () => {
  const records: RunRecord[] = [
    // N=10
    saturation('linechat', 10, 1, 2_000_000),
    saturation('linechat', 10, 2, 3_000_000),
    saturation('linechat', 10, 3, 2_500_000),
    saturation('redis', 10, 1, 1_000_000, { lost: 5 }),
    saturation('redis', 10, 2, 1_500_000, { lost: 1, reordered: 2 }),
    saturation('naive', 10, 1, 500_000, { disconnected: 1 }),
    failed('naive', 'saturation', 10, 2),
    // N=100: Redis never succeeded, the naive relay never ran.
    saturation('linechat', 100, 1, 1_000_000),
    failed('redis', 'saturation', 100, 1),
    failed('redis', 'saturation', 100, 2),
    // Other workloads at the same N must not leak into the saturation table.
    latency('linechat', 10, 1, 0.5, 2),
    latency('redis', 10, 1, 0.25, 4),
  ];
  const saturationOnly = renderReport(records, report({ saturationNs: [10, 100] }));

  it('has a saturation table with a row per server and N that ran, the median and range of each', () => {
    expect(tableAfter(saturationOnly, '| server | N |')).toEqual([
      '| server | N | delivered M msg/s | all delivered in order |',
      '|---|---:|---:|---|',
      '| linechat | 10 | 2.50 (2.00–3.00) | ok |',
      '| Redis 7 | 10 | 1.25 (1.00–1.50) | 6 lost, 2 reordered |',
      '| naive relay | 10 | 0.50 | 1 failed, 1 cut off |',
      '| linechat | 100 | 1.00 | ok |',
      '| Redis 7 | 100 | failed | 2 failed |',
    ]);
  });

  it('lists why runs failed under the table, once per server, N and reason, with a count', () => {
    expect(tableAfter(saturationOnly, '- failed')).toEqual([
      '- failed 1×: naive relay, N=10: generator: deadline of 60000 ms reached',
      '- failed 2×: Redis 7, N=100: generator: deadline of 60000 ms reached',
    ]);
    const alone = renderReport(records, report({ servers: servers('linechat'), saturationNs: [10, 100] }));
    expect(alone).not.toContain('- failed');
  });

  it('gives linechat ÷ peer from the medians, n/a where a side has no successful run', () => {
    expect(tableAfter(saturationOnly, '| delivered M msg/s: linechat ÷ peer')).toEqual([
      '| delivered M msg/s: linechat ÷ peer | N=10 | N=100 |',
      '|---|---:|---:|',
      '| Redis 7 | 2.00× | n/a |',
      '| naive relay | 5.00× | n/a |',
    ]);
  });

  it('has only the sections asked for', () => {
    expect(saturationOnly).toContain('### Saturation: 1 publisher, N receivers');
    expect(saturationOnly).not.toContain('### Latency');
    expect(saturationOnly).not.toContain('### Connection scale');
    expect(renderReport(records, report({}))).toBe('');
  });

  it('has no ratio table when linechat is the only server', () => {
    const alone = renderReport(records, report({ servers: servers('linechat'), saturationNs: [10] }));
    expect(alone).not.toContain('linechat ÷ peer');
    expect(tableAfter(alone, '| server | N |')).toEqual([
      '| server | N | delivered M msg/s | all delivered in order |',
      '|---|---:|---:|---|',
      '| linechat | 10 | 2.50 (2.00–3.00) | ok |',
    ]);
  });

  it('gives n/a for a ratio when linechat has no successful run', () => {
    const out = renderReport([failed('linechat', 'saturation', 10, 1), saturation('redis', 10, 1, 1e6)], report({ servers: servers('linechat', 'redis'), saturationNs: [10] }));
    expect(tableAfter(out, '| server | N |')).toContain('| linechat | 10 | failed | 1 failed |');
    expect(tableAfter(out, '| delivered M msg/s: linechat ÷ peer')).toContain('| Redis 7 | n/a |');
  });

  it('has a latency table of p50/p90/p99 and a ratio of the p99 medians', () => {
    const out = renderReport(
      [...records, latency('linechat', 10, 2, 1.5, 3), failed('naive', 'latency', 10, 1)],
      report({ latencyNs: [10] }),
    );
    expect(out).toContain('### Latency at 50,000 deliveries/s (open loop)');
    expect(tableAfter(out, '| server | N |')).toEqual([
      '| server | N | p50 ms | p90 ms | p99 ms | all delivered in order |',
      '|---|---:|---:|---:|---:|---|',
      '| linechat | 10 | 1.000 (0.500–1.500) | 1.750 (1.250–2.250) | 2.500 (2.000–3.000) | ok |',
      '| Redis 7 | 10 | 0.250 | 2.125 | 4.000 | ok |',
      '| naive relay | 10 | failed | failed | failed | 1 failed |',
    ]);
    expect(tableAfter(out, '| p99 ms: linechat ÷ peer')).toEqual([
      '| p99 ms: linechat ÷ peer | N=10 |',
      '|---|---:|',
      '| Redis 7 | 0.63× |',
      '| naive relay | n/a |',
    ]);
  });

  it('has a connection-scale table per N: RSS per connection, fan-out median, connects/s', () => {
    const out = renderReport(
      [
        scale('linechat', 1000, 1, scaleResult(10_000, 30_000, 5000, [1, 2, NaN])),
        scale('linechat', 1000, 2, scaleResult(10_000, 40_000, 7000, [4, 4])),
        scale('redis', 1000, 1, scaleResult(null, null, 9000, [NaN])),
        failed('naive', 'scale', 1000, 1),
      ],
      report({ scaleNs: [1000] }),
    );
    expect(tableAfter(out, '### Connection scale: 1000 registered clients in one room')).toEqual([
      '### Connection scale: 1000 registered clients in one room',
    ]);
    expect(tableAfter(out, '| server | N |')).toEqual([
      '| server | N | server RSS per connection KB | one message to all, ms (median of fan-outs) | connects/s | all delivered in order |',
      '|---|---:|---:|---:|---:|---|',
      '| linechat | 1000 | 25.00 (20.00–30.00) | 2.8 (1.5–4.0) | 6000 (5000–7000) | ok |',
      '| Redis 7 | 1000 | failed | failed | 9000 | ok |',
      '| naive relay | 1000 | failed | failed | failed | 1 failed |',
    ]);
  });
});
