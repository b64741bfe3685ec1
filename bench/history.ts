/**
 * `npm run bench:history`: what keeping history in SQLite (`--db`) costs.
 * A figure, not a test: it prints a table and asserts nothing.
 *
 * 1. Fills a fresh SQLite store with `--messages` messages (default
 *    1,000,000; `--quick`: 100,000) spread at random over `--rooms` rooms
 *    (default 100), ASCII text of 20 to 200 bytes, times that never
 *    decrease, with `sync: 'full'` as the server runs by default:
 *    - the first SAMPLE messages with one commit each: the worst case, a
 *      quiet server where each message is alone in its event-loop turn;
 *    - the rest with BATCH messages per commit: a busy server, where one
 *      turn's messages share a commit (group commit).
 *    The same two ways with `sync: 'normal'` go into a second, throwaway
 *    file (SAMPLE, then up to NORMAL_BATCHED messages).
 * 2. Reopens the store (the check at open reads the whole file) and times it.
 * 3. Runs `--queries` LATEST and BEFORE pages of PAGE messages, the way a
 *    client's `HISTORY` does: LATEST on a random room, BEFORE the id of a
 *    random message in its room. p50/p99 per kind.
 * 4. Runs the same queries against a MemoryStore holding the same messages,
 *    the baseline: the figures to compare are the ratios within one run.
 * 5. Closes the store (which checkpoints the WAL) and prints the file size.
 *
 * `--db PATH` fills PATH (which must not exist) and keeps it; otherwise
 * everything is in a temporary directory removed at the end.
 */
import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MemoryStore } from '../src/server/history/memory-store.ts';
import { openSqliteStore } from '../src/server/history/sqlite-store.ts';
import { formatId, type Draft, type HistoryStore } from '../src/server/history/store.ts';

const SAMPLE = 2_000;
const BATCH = 100;
const NORMAL_BATCHED = 200_000;
const PAGE = 100;
const WARMUP_QUERIES = 200;
const SEED = 20261127;

const { values } = parseArgs({
  options: {
    messages: { type: 'string' },
    rooms: { type: 'string', default: '100' },
    queries: { type: 'string', default: '3000' },
    db: { type: 'string' },
    quick: { type: 'boolean', default: false },
  },
  strict: true,
});

function positive(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`--${flag} must be a whole number ≥ 1, got ${text}`);
  return n;
}

const MESSAGES = positive('messages', values.messages ?? (values.quick ? '100000' : '1000000'));
const ROOMS = positive('rooms', values.rooms);
const QUERIES = positive('queries', values.queries);
if (values.db !== undefined && existsSync(values.db)) throw new Error(`--db ${values.db} exists; give a path for a new database`);

/** mulberry32: the same messages and queries in every run and in both stores. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  'the a to and of it is in that you for on this with was but be have not are at so what just like if do can ' +
  'meeting deploy release tomorrow lunch review build broken fixed thanks anyone seen the logs server client ' +
  'patch ticket coffee weekend merge branch tests passing failing again please check later today ok sure'
).split(' ');

/** Messages 1..MESSAGES, generated again from the seed for each store rather than held twice in memory. */
function* drafts(): Generator<Draft> {
  const next = random(SEED);
  let time = Date.parse('2026-01-01T00:00:00Z');
  for (let i = 0; i < MESSAGES; i++) {
    const room = `#room${Math.floor(next() * ROOMS)}`;
    const length = 20 + Math.floor(next() * 181);
    let text = '';
    while (text.length < length) text += WORDS[Math.floor(next() * WORDS.length)]! + ' ';
    time += Math.floor(next() * 200);
    yield { target: room, from: `user${Math.floor(next() * 1000)}`, to: room, kind: 'say', text: text.slice(0, length), time };
  }
}

/** Appends `count` drafts, committing every `perCommit`; returns messages per second. */
function fill(store: HistoryStore, source: Iterator<Draft>, count: number, perCommit: number, rooms?: string[]): number {
  const start = performance.now();
  for (let i = 1; i <= count; i++) {
    const next = source.next();
    if (next.done === true) break;
    const m = store.append(next.value);
    rooms?.push(m.target);
    if (i % perCommit === 0) store.commit();
  }
  store.commit();
  return (count * 1000) / (performance.now() - start);
}

interface Latency {
  readonly p50: number;
  readonly p99: number;
}

/** µs per query, LATEST and BEFORE, for the same random queries on any store. */
function measureQueries(store: HistoryStore, idPrefix: string, roomOf: readonly string[]): { latest: Latency; before: Latency } {
  const next = random(SEED + 1);
  const run = (kind: 'latest' | 'before', count: number): number[] => {
    const times: number[] = [];
    for (let i = 0; i < count; i++) {
      const num = 1 + Math.floor(next() * roomOf.length);
      const room = kind === 'latest' ? `#room${Math.floor(next() * ROOMS)}` : roomOf[num - 1]!;
      const id = formatId(idPrefix, num);
      const start = performance.now();
      if (kind === 'latest') store.page([room], { kind: 'latest', limit: PAGE });
      else store.page([room], { kind: 'before', bound: { by: 'num', num: store.numOf(id)! }, limit: PAGE });
      times.push((performance.now() - start) * 1000);
    }
    return times;
  };
  run('latest', WARMUP_QUERIES);
  run('before', WARMUP_QUERIES);
  return { latest: percentiles(run('latest', QUERIES)), before: percentiles(run('before', QUERIES)) };
}

function percentiles(times: number[]): Latency {
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!;
  return { p50: at(0.5), p99: at(0.99) };
}

const sizeOf = (path: string): number => (existsSync(path) ? statSync(path).size : 0);
const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function main(): void {
  const scratch = mkdtempSync(join(tmpdir(), 'linechat-bench-history-'));
  try {
    const path = values.db ?? join(scratch, 'history.db');
    const probe = new Database(':memory:');
    const sqliteVersion = probe.prepare<[], { v: string }>('SELECT sqlite_version() AS v').get()!.v;
    probe.close();
    process.stdout.write(
      `bench:history: ${fmt(MESSAGES)} messages over ${ROOMS} rooms, pages of ${PAGE}, ${QUERIES} queries per kind\n` +
        `node ${process.version}, SQLite ${sqliteVersion}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, db ${path}\n\n`,
    );

    // 1. Fill: full sync into the kept file, normal sync into a throwaway one.
    const roomOf: string[] = [];
    const rates: Array<[string, number, number]> = [];
    let store = openSqliteStore(path, { perTarget: 0, sync: 'full' });
    const source = drafts();
    const sample = Math.min(SAMPLE, MESSAGES);
    rates.push(['full, 1 per commit', sample, fill(store, source, sample, 1, roomOf)]);
    rates.push([`full, ${BATCH} per commit`, MESSAGES - sample, fill(store, source, MESSAGES - sample, BATCH, roomOf)]);
    store.close();
    const normal = openSqliteStore(join(scratch, 'normal.db'), { perTarget: 0, sync: 'normal' });
    const normalSource = drafts();
    rates.push(['normal, 1 per commit', sample, fill(normal, normalSource, sample, 1)]);
    const normalBatched = Math.min(NORMAL_BATCHED, MESSAGES - sample);
    rates.push([`normal, ${BATCH} per commit`, normalBatched, fill(normal, normalSource, normalBatched, BATCH)]);
    normal.close();
    rmSync(join(scratch, 'normal.db'), { force: true });
    process.stdout.write('insert (sync, messages per commit)   messages      msg/s\n');
    for (const [mode, count, rate] of rates) {
      process.stdout.write(`  ${mode.padEnd(34)} ${fmt(count).padStart(9)} ${fmt(rate).padStart(10)}\n`);
    }

    // 2. Reopen: the quick_check at open reads every page.
    const openStart = performance.now();
    store = openSqliteStore(path, { perTarget: 0, sync: 'full' });
    const openMs = performance.now() - openStart;
    process.stdout.write(`\nreopen (quick_check of the whole file): ${fmt(openMs)} ms\n`);

    // 3 and 4. The same queries on both stores.
    const sqlite = measureQueries(store, store.idPrefix, roomOf);
    store.close();
    const dbBytes = sizeOf(path);
    const walBytes = sizeOf(`${path}-wal`);
    const memory = new MemoryStore({ perTarget: MESSAGES, total: MESSAGES, idPrefix: 'mem-' });
    fill(memory, drafts(), MESSAGES, BATCH);
    const baseline = measureQueries(memory, 'mem-', roomOf);
    process.stdout.write(`\npage of ${PAGE} (µs)          SQLite p50   p99    memory p50   p99    SQLite/memory p50\n`);
    for (const kind of ['latest', 'before'] as const) {
      const s = sqlite[kind];
      const m = baseline[kind];
      const columns = [fmt(s.p50).padStart(10), fmt(s.p99).padStart(6), fmt(m.p50, 1).padStart(12), fmt(m.p99, 1).padStart(6)];
      process.stdout.write(`  ${kind.toUpperCase().padEnd(24)} ${columns.join(' ')}  ${fmt(s.p50 / m.p50, 1).padStart(12)}×\n`);
    }

    // 5. Size on disk, after close's checkpoint.
    const perMessage = fmt((dbBytes + walBytes) / MESSAGES);
    process.stdout.write(`\nfile after checkpoint: ${fmt(dbBytes / 1e6, 1)} MB db + ${fmt(walBytes / 1e6, 1)} MB wal = ${perMessage} bytes per message\n`);
    if (values.db !== undefined) process.stdout.write(`kept ${path}\n`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

main();
