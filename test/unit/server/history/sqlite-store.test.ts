import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdirSync, mkdtempSync, openSync, closeSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore, type SqliteStore, type SqliteStoreOptions } from '../../../../src/server/history/sqlite-store.ts';
import { StorageError, privateKey, type Bound, type StoreQuery, type StoredMessage } from '../../../../src/server/history/store.ts';
import { tsxArgs } from '../../../support/server-process.ts';
import { describeStoreContract, draft } from './store-contract.ts';

const APPEND_LOOP = fileURLToPath(new URL('./fixtures/append-loop.ts', import.meta.url));
/** chmod does not stop root from writing, so the read-only cases cannot fail as root. */
const isRoot = process.getuid?.() === 0;

let dir = '';
const stores: SqliteStore[] = [];
const children: ChildProcess[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'linechat-sqlite-'));
});

afterEach(async () => {
  for (const store of stores.splice(0)) {
    try {
      store.close();
    } catch {
      // A test that broke the file on purpose; the directory goes anyway.
    }
  }
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    }
  }
  chmodSync(dir, 0o700);
  rmSync(dir, { recursive: true, force: true });
});

let files = 0;

function open(path = join(dir, 'history.db'), options: Partial<SqliteStoreOptions> = {}): SqliteStore {
  const store = openSqliteStore(path, { perTarget: 0, sync: 'normal', ...options });
  stores.push(store);
  return store;
}

/** The StorageError that `fn` throws. */
function storageError(fn: () => unknown): StorageError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(StorageError);
    return error as StorageError;
  }
  throw new Error('expected a StorageError, nothing was thrown');
}

/** Every message of `targets`, oldest first. */
function everything(store: SqliteStore, targets: readonly string[]): StoredMessage[] {
  return store.page(targets, { kind: 'latest', limit: Number.MAX_SAFE_INTEGER });
}

describeStoreContract('SqliteStore', ({ perTarget }) => open(join(dir, `contract-${++files}.db`), { perTarget }));

describe('SqliteStore across restarts [STORE-2]', () => {
  it('keeps messages, rooms and conversations, and continues num and seq without issuing an id again', () => {
    const path = join(dir, 'history.db');
    const first = open(path);
    const dm = privateKey('alice', 'bob');
    const before = ['#a', dm, '#a', '#b'].map((t) => first.append(draft(t)));
    first.commit();
    first.saveRoom({ key: '#a', name: '#A', topic: 'first topic', setter: 'alice', topicTime: 5 });
    first.saveRoom({ key: '#b', name: '#b', topic: '', setter: '*', topicTime: 0 });
    first.saveRoom({ key: '#a', name: '#A', topic: 'second topic', setter: 'bob', topicTime: 9 });
    first.saveTenure('alice', { keyHash: 'hash-of-alice', floor: 2 });
    first.close();

    const second = open(path);
    expect(second.idPrefix).toBe(first.idPrefix);
    expect(everything(second, ['#a', '#b', dm])).toEqual(before);
    expect(second.rooms()).toEqual([
      { key: '#a', name: '#A', topic: 'second topic', setter: 'bob', topicTime: 9 },
      { key: '#b', name: '#b', topic: '', setter: '*', topicTime: 0 },
    ]);
    expect(second.conversationsOf('bob')).toEqual([dm]);
    // [NAME-5]: who held a name outlives a restart, or private history would be open to anyone after one.
    expect(second.tenure('alice')).toEqual({ keyHash: 'hash-of-alice', floor: 2 });
    expect(second.lastNum()).toBe(4);
    for (const m of before) expect(second.numOf(m.id)).toBe(m.num);
    const a = second.append(draft('#a'));
    const c = second.append(draft('#c'));
    expect([a.num, a.seq, c.num, c.seq]).toEqual([5, 3, 6, 1]);
    expect(before.map((m) => m.id)).not.toContain(a.id);
  });

  it('commits pending appends and room saves on close, and closes once', () => {
    const path = join(dir, 'history.db');
    const first = open(path);
    first.commit();
    const m = first.append(draft('#a'));
    first.saveRoom({ key: '#a', name: '#a', topic: 't', setter: 'alice', topicTime: 1 });
    first.close();
    first.close();
    const second = open(path);
    expect(everything(second, ['#a'])).toEqual([m]);
    expect(second.rooms()).toHaveLength(1);
  });

  it('keeps the bound per target after a restart, even a smaller one', () => {
    const path = join(dir, 'history.db');
    const first = open(path, { perTarget: 50 });
    for (let i = 0; i < 120; i++) first.append(draft('#a'));
    first.close();
    const second = open(path, { perTarget: 10 });
    expect(everything(second, ['#a']).length).toBeLessThanOrEqual(55);
    const last = second.append(draft('#a'));
    expect(last.seq).toBe(121);
    for (let i = 0; i < 10; i++) second.append(draft('#a'));
    expect(everything(second, ['#a']).map((m) => m.seq)).toEqual(Array.from({ length: 10 }, (_, i) => 122 + i));
  });

  it('gives every new database its own id prefix [MSG-4]', () => {
    const prefixes = new Set(Array.from({ length: 5 }, (_, i) => open(join(dir, `p${i}.db`)).idPrefix));
    expect(prefixes.size).toBe(5);
    for (const prefix of prefixes) expect(prefix).toMatch(/^[a-z0-9]{6}-$/);
  });
});

describe('SqliteStore group commit [STORE-1]', () => {
  it('saves tenures and rooms in the turn’s transaction, committed by commit(), not on their own', () => {
    const path = join(dir, 'history.db');
    const first = open(path);
    expect(first.inTransaction).toBe(false);
    first.saveTenure('alice', { keyHash: 'hash-of-alice', floor: 0 });
    // An autocommit would have ended the transaction (and cost an fsync of its own).
    expect(first.inTransaction).toBe(true);
    first.commit();
    expect(first.inTransaction).toBe(false);

    const m = first.append(draft('#a'));
    first.saveRoom({ key: '#a', name: '#A', topic: 'topic', setter: 'alice', topicTime: m.time });
    first.saveTenure('bob', { keyHash: 'hash-of-bob', floor: m.num });
    expect(first.inTransaction).toBe(true);
    // The same connection reads what the turn wrote before it is committed.
    expect(first.rooms()).toHaveLength(1);
    expect(first.tenure('bob')).toEqual({ keyHash: 'hash-of-bob', floor: m.num });
    first.commit();
    expect(first.inTransaction).toBe(false);

    first.saveRoom({ key: '#b', name: '#b', topic: '', setter: '*', topicTime: 0 });
    expect(first.inTransaction).toBe(true);
    first.saveTenure('carol', { keyHash: 'hash-of-carol', floor: 1 });
    // close() commits what the turn wrote.
    first.close();

    const second = open(path);
    expect(second.inTransaction).toBe(false);
    expect(second.rooms().map((room) => room.key)).toEqual(['#a', '#b']);
    expect(everything(second, ['#a'])).toEqual([m]);
    expect(['alice', 'bob', 'carol'].map((name) => second.tenure(name)?.keyHash)).toEqual(['hash-of-alice', 'hash-of-bob', 'hash-of-carol']);
  });

  it('throws WRITE_FAILED for a tenure it cannot save, and keeps the turn', () => {
    const store = open();
    const m = store.append(draft('#a'));
    const error = storageError(() => store.saveTenure('alice', { keyHash: null as unknown as string, floor: 0 }));
    expect(error.code).toBe('WRITE_FAILED');
    store.commit();
    expect(everything(store, ['#a'])).toEqual([m]);
    expect(store.tenure('alice')).toBeUndefined();
  });
});

describe('SqliteStore seq cache', () => {
  it('numbers seq right for targets it no longer caches, after thousands of conversations', () => {
    const path = join(dir, 'history.db');
    const store = open(path);
    const keys = Array.from({ length: 5000 }, (_, i) => privateKey('alice', `user${i}`));
    for (const key of keys) store.append(draft(key));
    const room = store.append(draft('#a'));
    // The first keys were the least recently used: long since forgotten by the cache.
    for (const key of keys.slice(0, 3)) expect(store.append(draft(key)).seq).toBe(2);
    for (const key of keys.slice(0, 3)) expect(store.append(draft(key)).seq).toBe(3);
    expect(store.append(draft('#a')).seq).toBe(room.seq + 1);
    expect(store.append(draft(keys.at(-1)!)).seq).toBe(2);
  });
});

describe('SqliteStore pages of many targets (HISTORY *) [HIST-5]', () => {
  /** The page merged from single-target pages, which the contract checks on their own. */
  function mergedByHand(store: SqliteStore, targets: readonly string[], query: StoreQuery, floor: number): StoredMessage[] {
    const all = targets.flatMap((t) => store.page([t], query, floor)).sort((a, b) => a.num - b.num);
    return query.kind === 'latest' || query.kind === 'before' ? all.slice(Math.max(0, all.length - query.limit)) : all.slice(0, query.limit);
  }

  it('gives the page of a thousand conversations and more, above the floor, for every kind of query and bound', () => {
    const store = open();
    const keys = Array.from({ length: 1500 }, (_, i) => privateKey('alice', `user${i}`));
    let t = 1_000;
    // Uneven conversations, several messages to a millisecond.
    for (let i = 0; i < 6000; i++) store.append(draft(keys[(i * 7919) % (i < 3000 ? 1500 : 40)]!, `m${i}`, (t += i % 3 === 0 ? 1 : 0)));
    store.commit();
    const floor = 1200;
    const targets = store.conversationsOf('alice');
    expect(targets).toHaveLength(1500);
    const num = (n: number): Bound => ({ by: 'num', num: n });
    const time = (ms: number): Bound => ({ by: 'time', time: ms });
    const queries: StoreQuery[] = [
      { kind: 'latest', limit: 500 },
      { kind: 'latest', limit: 1 },
      { kind: 'before', bound: num(3001), limit: 200 },
      { kind: 'before', bound: time(2_500), limit: 500 },
      { kind: 'after', bound: num(0), limit: 500 },
      { kind: 'after', bound: time(1_900), limit: 77 },
      { kind: 'between', from: num(1500), to: num(5000), limit: 500 },
      { kind: 'between', from: time(1_100), to: time(2_000), limit: 500 },
    ];
    for (const query of queries) {
      for (const f of [0, floor]) {
        const page = store.page(targets, query, f);
        expect(page, JSON.stringify({ query, f })).toEqual(mergedByHand(store, targets, query, f));
        expect(page.length).toBeGreaterThan(0);
        expect(page.every((m) => m.num > f)).toBe(true);
      }
    }
    expect(store.page(targets, { kind: 'latest', limit: 10 }, store.lastNum())).toEqual([]);
  });
});

describe('SqliteStore refuses to start, naming the file [STORE-4]', () => {
  it.each([
    ['a text file', () => writeFileSync(join(dir, 'history.db'), 'this is not a database\n'.repeat(300))],
    ['64 KiB of noise', () => writeFileSync(join(dir, 'history.db'), Buffer.from(Array.from({ length: 65536 }, (_, i) => (i * 7919) % 251)))],
  ])('CORRUPT for %s', (_, make) => {
    make();
    const error = storageError(() => open());
    expect(error.code).toBe('CORRUPT');
    expect(error.message).toContain(join(dir, 'history.db'));
    expect(error.message).not.toContain('\n');
  });

  /** A database of several hundred kilobytes, closed. */
  function filledDatabase(): string {
    const path = join(dir, 'history.db');
    const store = open(path);
    for (let i = 0; i < 3000; i++) store.append(draft(`#r${i % 7}`, 'x'.repeat(150) + i));
    store.close();
    return path;
  }

  it('CORRUPT for a truncated database', () => {
    const path = filledDatabase();
    truncateSync(path, Math.floor(statSync(path).size / 2));
    expect(storageError(() => open(path)).code).toBe('CORRUPT');
  });

  it('CORRUPT for a database with garbled pages', () => {
    const path = filledDatabase();
    const garbage = Buffer.from(Array.from({ length: 4 * 4096 }, (_, i) => (i * 31 + 7) % 256));
    const fd = openSync(path, 'r+');
    try {
      writeSync(fd, garbage, 0, garbage.length, Math.floor(statSync(path).size / 2 / 4096) * 4096);
    } finally {
      closeSync(fd);
    }
    const error = storageError(() => open(path));
    expect(error.code).toBe('CORRUPT');
    expect(error.message).not.toContain('\n');
  });

  it('CORRUPT for another program’s SQLite database, and for a schema version it does not know', () => {
    const other = new Database(join(dir, 'other.db'));
    other.exec('CREATE TABLE notes (body TEXT)');
    other.close();
    expect(storageError(() => open(join(dir, 'other.db'))).code).toBe('CORRUPT');

    open().close();
    const newer = new Database(join(dir, 'history.db'));
    newer.prepare("UPDATE meta SET value = '99' WHERE key = 'schema'").run();
    newer.close();
    const error = storageError(() => open());
    expect(error.code).toBe('CORRUPT');
    expect(error.message).toContain('99');
  });

  it('OPEN_FAILED for a missing directory and for a directory given as the file', () => {
    for (const path of [join(dir, 'missing', 'history.db'), dir]) {
      const error = storageError(() => open(path));
      expect(error.code).toBe('OPEN_FAILED');
      expect(error.message).toContain(path);
    }
  });

  it.skipIf(isRoot)('OPEN_FAILED for a read-only file and in a read-only directory (skipped as root)', () => {
    const path = join(dir, 'history.db');
    open(path).close();
    chmodSync(path, 0o444);
    expect(storageError(() => open(path)).code).toBe('OPEN_FAILED');
    const locked = join(dir, 'locked');
    mkdirSync(locked);
    chmodSync(locked, 0o555);
    expect(storageError(() => open(join(locked, 'history.db'))).code).toBe('OPEN_FAILED');
    chmodSync(locked, 0o755);
  });

  it('OPEN_FAILED while another store holds the file, and opens once it is closed', () => {
    const first = open();
    first.append(draft('#a'));
    first.commit();
    const error = storageError(() => open());
    expect(error.code).toBe('OPEN_FAILED');
    expect(error.message).toContain('in use');
    first.close();
    expect(everything(open(), ['#a'])).toHaveLength(1);
  });

  it('rejects options it cannot use', () => {
    expect(() => open(undefined, { perTarget: -1 })).toThrow(RangeError);
    expect(() => open(undefined, { sync: 'off' as 'full' })).toThrow(RangeError);
  });
});

describe('SqliteStore when a write fails [STORE-3]', () => {
  const broken = (target: string) => ({ ...draft(target), text: null as unknown as string });

  it('throws WRITE_FAILED and stays usable, with no gap in num or seq and the turn’s other messages kept', () => {
    const path = join(dir, 'history.db');
    const store = open(path, { perTarget: 2 });
    const dm = privateKey('alice', 'bob');
    const kept = [store.append(draft('#a')), store.append(draft('#a'))];
    // A lone INSERT (#b), the first message of a conversation (links its
    // names), and one past the bound (prunes): each fails as a whole.
    for (const target of ['#b', dm, '#a']) expect(storageError(() => store.append(broken(target))).code).toBe('WRITE_FAILED');
    expect(store.conversationsOf('alice')).toEqual([]);
    expect(everything(store, ['#a', '#b', dm])).toEqual(kept);
    kept.push(store.append(draft('#a')), store.append(draft(dm)), store.append(draft('#a')));
    expect(kept.map((m) => [m.num, m.seq])).toEqual([[1, 1], [2, 2], [3, 3], [4, 1], [5, 4]]);
    expect(store.append(draft('#b')).seq).toBe(1);
    store.close();
    const again = open(path, { perTarget: 2 });
    expect(everything(again, ['#a', dm])).toEqual(kept.slice(2));
    expect(again.conversationsOf('bob')).toEqual([dm]);
  });

  it('throws WRITE_FAILED for a room it cannot save, and keeps the turn', () => {
    const store = open();
    const m = store.append(draft('#a'));
    const error = storageError(() => store.saveRoom({ key: '#a', name: null as unknown as string, topic: '', setter: '*', topicTime: 0 }));
    expect(error.code).toBe('WRITE_FAILED');
    store.commit();
    expect(everything(store, ['#a'])).toEqual([m]);
  });
});

describe('SqliteStore durability [STORE-1]', () => {
  it.each(['normal', 'full'] as const)('keeps every message acknowledged before the writer is killed (sync %s)', async (sync) => {
    const path = join(dir, 'crash.db');
    const child = spawn(process.execPath, tsxArgs(APPEND_LOOP, [path, sync]), { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = once(child, 'exit');
    const lines = createInterface({ input: child.stdout! });
    const closed = once(lines, 'close');
    /** Text by num, for every message the writer said was committed. */
    const acknowledged = new Map<number, string>();
    await new Promise<void>((resolve, reject) => {
      child.on('exit', (code, signal) => reject(new Error(`the writer stopped on its own (${code ?? signal}): ${stderr}`)));
      lines.on('line', (line) => {
        if (line === 'ready') return;
        const [num, i] = line.split(' ').map(Number) as [number, number];
        acknowledged.set(num, `message ${i}`);
        if (acknowledged.size === 300) {
          child.kill('SIGKILL');
          resolve();
        }
      });
    });
    expect((await exited)[1]).toBe('SIGKILL');
    // Lines already in the pipe when the writer died were acknowledged too.
    await closed;

    const store = open(path, { sync });
    const stored = new Map(everything(store, ['#a', '#b', '@alice@bob']).map((m) => [m.num, m]));
    for (const [num, text] of acknowledged) expect(stored.get(num)?.text, `message num ${num}`).toBe(text);
    const highest = Math.max(...stored.keys());
    expect([...stored.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: highest }, (_, i) => i + 1));
    expect(store.append(draft('#a')).num).toBe(highest + 1);
  });
});
