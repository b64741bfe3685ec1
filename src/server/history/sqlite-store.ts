/**
 * History in SQLite (`--db PATH`, [STORE-1]): messages, the private
 * conversations of each name, and rooms with their topics outlive the
 * process, and numbering continues across restarts ([STORE-2]).
 *
 * Durability. Every write (`append`, `saveTenure`, `saveRoom`) goes into a
 * transaction that it opens when none is open; `commit()` ends it. The
 * server commits once per event-loop turn, before it writes to any socket,
 * so every write of a turn shares one commit (group commit, one fsync) and
 * no line shows a message, a name or a topic that is not durable.
 * The database is in WAL mode; `sync: 'full'` (synchronous=FULL) flushes the
 * WAL to the disk at every commit, so a commit survives a power loss, and
 * `sync: 'normal'` leaves that to the OS, which survives the server process
 * being killed but not an OS crash.
 *
 * Opening and checking the file, and the schema, are in sqlite-open.ts.
 */
import type Database from 'better-sqlite3';
import type { MessageKind } from '../../protocol/messages.ts';
import {
  StorageError,
  formatId,
  parseId,
  privateParties,
  type Bound,
  type Draft,
  type HistoryStore,
  type StoreQuery,
  type StoredMessage,
  type StoredRoom,
  type Tenure,
} from './store.ts';
import { openDatabase, sqliteMessage } from './sqlite-open.ts';

export interface SqliteStoreOptions {
  /**
   * Messages kept per room or private conversation: the oldest go first, in
   * steps of a tenth of the bound, so a target holds at most 10% more. 0
   * keeps every message.
   */
  readonly perTarget: number;
  /** 'full': a commit survives a power loss; 'normal': it survives the process being killed. */
  readonly sync: 'full' | 'normal';
}

/** An upper bound above every num. */
const NO_LIMIT = Number.MAX_SAFE_INTEGER;
/**
 * Targets whose last seq is kept in memory, the most recently used: a busy
 * room's append skips a seek (about 1.5 µs), and a client that opens private
 * conversations in a loop cannot grow the cache.
 */
const SEQ_CACHE = 4096;

/**
 * A page's row, in PAGE_COLUMNS order. Pages read rows as arrays (raw mode)
 * and leave out the target, which the query names: building objects and
 * strings, not SQLite, is most of a page's cost.
 */
type MessageRow = [num: number, seq: number, time: number, sender: string, recipient: string, kind: MessageKind, text: string];
const PAGE_COLUMNS = 'num, seq, time, sender, recipient, kind, text';
/** A row of a page of several targets: PAGE_COLUMNS and the target. */
type TargetRow = [...MessageRow, target: string];
/** The targets of a page of several, bound as one JSON array of strings. */
const TARGET_LIST = '(SELECT value FROM json_each(?))';

interface RoomRow {
  key: string;
  name: string;
  topic: string;
  setter: string;
  topic_time: number;
}

/** Opens (creating when missing) the database at `path`; throws StorageError OPEN_FAILED or CORRUPT. */
export function openSqliteStore(path: string, options: SqliteStoreOptions): SqliteStore {
  if (!Number.isSafeInteger(options.perTarget) || options.perTarget < 0) {
    throw new RangeError(`perTarget must be a whole number ≥ 0, got ${options.perTarget}`);
  }
  if (options.sync !== 'full' && options.sync !== 'normal') {
    throw new RangeError(`sync must be 'full' or 'normal', got ${String(options.sync)}`);
  }
  return openDatabase(path, options.sync, (db, idPrefix) => new SqliteStore(db, idPrefix, options.perTarget));
}

type Statements = ReturnType<typeof prepareStatements>;

/** Every statement the store runs after opening, prepared once. */
function prepareStatements(db: Database.Database) {
  return {
    begin: db.prepare('BEGIN IMMEDIATE'),
    commit: db.prepare('COMMIT'),
    rollback: db.prepare('ROLLBACK'),
    savepoint: db.prepare('SAVEPOINT append'),
    release: db.prepare('RELEASE append'),
    rollbackToSavepoint: db.prepare('ROLLBACK TO append'),
    lastNum: db.prepare<[], { num: number | null }>('SELECT max(num) AS num FROM messages'),
    // Times never decrease with num (the hub stamps them so), so the newest row has the latest.
    newestTime: db.prepare<[], { time: number }>('SELECT time FROM messages ORDER BY num DESC LIMIT 1'),
    lastSeq: db.prepare<[string], { seq: number }>('SELECT seq FROM messages WHERE target = ? ORDER BY num DESC LIMIT 1'),
    insert: db.prepare<[number, string, number, number, string, string, string, string]>(
      'INSERT INTO messages (num, target, seq, time, sender, recipient, kind, text) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    link: db.prepare<[string, string]>('INSERT OR IGNORE INTO conversations (name, key) VALUES (?, ?)'),
    /** The num of the newest message to prune: the one after the `?` newest. */
    pruneFrom: db.prepare<[string, number], { num: number }>(
      'SELECT num FROM messages WHERE target = ? ORDER BY num DESC LIMIT 1 OFFSET ?',
    ),
    prune: db.prepare<[string, number]>('DELETE FROM messages WHERE target = ? AND num <= ?'),
    newest: db
      .prepare<[string, number, number, number], MessageRow>(
        `SELECT ${PAGE_COLUMNS} FROM messages WHERE target = ? AND num > ? AND num < ? ORDER BY num DESC LIMIT ?`,
      )
      .raw(),
    oldest: db
      .prepare<[string, number, number, number], MessageRow>(
        `SELECT ${PAGE_COLUMNS} FROM messages WHERE target = ? AND num > ? AND num < ? ORDER BY num ASC LIMIT ?`,
      )
      .raw(),
    firstAtOrAfter: db.prepare<[string, number], { num: number }>(
      'SELECT num FROM messages WHERE target = ? AND time >= ? ORDER BY time ASC, num ASC LIMIT 1',
    ),
    lastAtOrBefore: db.prepare<[string, number], { num: number }>(
      'SELECT num FROM messages WHERE target = ? AND time <= ? ORDER BY time DESC, num DESC LIMIT 1',
    ),
    // Pages of several targets, given as one JSON array: one statement for
    // any number of targets, with no limit on bound parameters to chunk for.
    manyNewest: db
      .prepare<[string, number, number, number], TargetRow>(
        `SELECT ${PAGE_COLUMNS}, target FROM messages WHERE target IN ${TARGET_LIST} AND num > ? AND num < ? ORDER BY num DESC LIMIT ?`,
      )
      .raw(),
    manyOldest: db
      .prepare<[string, number, number, number], TargetRow>(
        `SELECT ${PAGE_COLUMNS}, target FROM messages WHERE target IN ${TARGET_LIST} AND num > ? AND num < ? ORDER BY num ASC LIMIT ?`,
      )
      .raw(),
    manyFirstAtOrAfter: db
      .prepare<[number, string], number | null>(
        'SELECT min((SELECT num FROM messages WHERE target = t.value AND time >= ? ORDER BY time ASC, num ASC LIMIT 1)) FROM json_each(?) AS t',
      )
      .pluck(),
    manyLastAtOrBefore: db
      .prepare<[number, string], number | null>(
        'SELECT max((SELECT num FROM messages WHERE target = t.value AND time <= ? ORDER BY time DESC, num DESC LIMIT 1)) FROM json_each(?) AS t',
      )
      .pluck(),
    tenure: db.prepare<[string], { key_hash: string; floor: number }>('SELECT key_hash, floor FROM names WHERE name = ?'),
    saveTenure: db.prepare<[string, string, number]>(
      'INSERT INTO names (name, key_hash, floor) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET key_hash = excluded.key_hash, floor = excluded.floor',
    ),
    conversationsOf: db.prepare<[string], { key: string }>('SELECT key FROM conversations WHERE name = ? ORDER BY key'),
    rooms: db.prepare<[], RoomRow>('SELECT key, name, topic, setter, topic_time FROM rooms ORDER BY key'),
    saveRoom: db.prepare<[string, string, string, string, number]>(
      'INSERT INTO rooms (key, name, topic, setter, topic_time) VALUES (?, ?, ?, ?, ?) ' +
        'ON CONFLICT (key) DO UPDATE SET ' +
        'name = excluded.name, topic = excluded.topic, setter = excluded.setter, topic_time = excluded.topic_time',
    ),
  };
}

export class SqliteStore implements HistoryStore {
  readonly persistent = true;
  /** Chosen when the file was created and kept in it, so ids stay valid across restarts. */
  readonly idPrefix: string;
  readonly #db: Database.Database;
  readonly #sql: Statements;
  readonly #perTarget: number;
  /** Prune a target when its seq is a multiple of this: the bound then holds within 10%. */
  readonly #pruneEvery: number;
  /**
   * The last num issued. Pruning keeps the newest message of every target,
   * so the largest num in the table is the last one ever committed and a
   * restart never issues it again.
   */
  #lastNum: number;
  /** The last seq of the SEQ_CACHE targets appended to most recently, least recent first. */
  readonly #lastSeq = new Map<string, number>();
  /** Appends, tenure and room saves in the open transaction: what a rollback by SQLite would lose. */
  #pending = 0;
  /** Set when SQLite rolled back a transaction that held appends the hub was told about. */
  #lost: unknown = undefined;
  #closed = false;

  /** Use openSqliteStore, which checks the file first. */
  constructor(db: Database.Database, idPrefix: string, perTarget: number) {
    this.#db = db;
    this.idPrefix = idPrefix;
    this.#perTarget = perTarget;
    this.#pruneEvery = Math.max(1, Math.floor(perTarget / 10));
    this.#sql = prepareStatements(db);
    this.#lastNum = this.#sql.lastNum.get()?.num ?? 0;
  }

  newestTime(): number {
    return this.#sql.newestTime.get()?.time ?? 0;
  }

  append(draft: Draft): StoredMessage {
    const lastSeq = this.#lastSeqOf(draft.target);
    const num = this.#lastNum + 1;
    const seq = lastSeq + 1;
    const link = lastSeq === 0 && draft.target.startsWith('@');
    const prune = this.#perTarget > 0 && seq > this.#perTarget && seq % this.#pruneEvery === 0;
    // A single INSERT that fails is undone by SQLite alone; an append that
    // writes more rows needs a savepoint to fail as a whole. Most appends
    // are a single INSERT, and a savepoint would cost them a quarter more.
    let savepoint = false;
    try {
      this.#begin();
      if (link || prune) {
        this.#sql.savepoint.run();
        savepoint = true;
      }
      if (link) for (const name of privateParties(draft.target)) this.#sql.link.run(name, draft.target);
      if (prune) {
        // Room for the new message: the target keeps perTarget - 1 of its own.
        const from = this.#sql.pruneFrom.get(draft.target, this.#perTarget - 1);
        if (from !== undefined) this.#sql.prune.run(draft.target, from.num);
      }
      // Last, so that a bad value fails after the rows above were written:
      // the savepoint, not luck, keeps the append whole (and the tests see it).
      this.#sql.insert.run(num, draft.target, seq, draft.time, draft.from, draft.to, draft.kind, draft.text);
      if (savepoint) this.#sql.release.run();
    } catch (cause) {
      this.#undoAppend(savepoint, cause);
      throw new StorageError('WRITE_FAILED', `cannot store a message in ${draft.target}: ${sqliteMessage(cause)}`, { cause });
    }
    this.#pending++;
    this.#lastNum = num;
    this.#rememberSeq(draft.target, seq);
    const { target, time, from, to, kind, text } = draft;
    return { id: formatId(this.idPrefix, num), seq, time, from, to, kind, text, num, target };
  }

  page(targets: readonly string[], query: StoreQuery, floor = 0): StoredMessage[] {
    // SQLite reads a negative LIMIT as no limit at all.
    if (!(query.limit >= 1) || targets.length === 0) return [];
    return targets.length === 1 ? this.#pageOf(targets[0]!, query, floor) : this.#pageOfMany(targets, query, floor);
  }

  lastNum(): number {
    return this.#lastNum;
  }

  tenure(name: string): Tenure | undefined {
    const row = this.#sql.tenure.get(name);
    return row === undefined ? undefined : { keyHash: row.key_hash, floor: row.floor };
  }

  /** In the turn's transaction, like append: durable with the next commit(), not an fsync of its own. */
  saveTenure(name: string, tenure: Tenure): void {
    try {
      this.#begin();
      this.#sql.saveTenure.run(name, tenure.keyHash, tenure.floor);
    } catch (cause) {
      this.#noticeLostTransaction(cause);
      throw new StorageError('WRITE_FAILED', `cannot save the holder of ${name}: ${sqliteMessage(cause)}`, { cause });
    }
    this.#pending++;
  }

  numOf(id: string): number | undefined {
    const num = parseId(this.idPrefix, id);
    return num !== undefined && num <= this.#lastNum ? num : undefined;
  }

  conversationsOf(name: string): string[] {
    return this.#sql.conversationsOf.all(name).map((row) => row.key);
  }

  rooms(): StoredRoom[] {
    return this.#sql.rooms
      .all()
      .map((row) => ({ key: row.key, name: row.name, topic: row.topic, setter: row.setter, topicTime: row.topic_time }));
  }

  /** In the turn's transaction, like append: durable with the messages of its turn at the next commit(). */
  saveRoom(room: StoredRoom): void {
    try {
      this.#begin();
      this.#sql.saveRoom.run(room.key, room.name, room.topic, room.setter, room.topicTime);
    } catch (cause) {
      this.#noticeLostTransaction(cause);
      throw new StorageError('WRITE_FAILED', `cannot save room ${room.key}: ${sqliteMessage(cause)}`, { cause });
    }
    this.#pending++;
  }

  /** True while writes wait for commit(): what close() would still commit. */
  get inTransaction(): boolean {
    return this.#db.inTransaction;
  }

  commit(): void {
    if (this.#lost !== undefined) {
      const cause = this.#lost;
      this.#lost = undefined;
      this.#abandonTransaction();
      const what = `messages accepted in this turn were lost when SQLite rolled back: ${sqliteMessage(cause)}`;
      throw new StorageError('COMMIT_FAILED', what, { cause });
    }
    if (!this.#db.inTransaction) return;
    try {
      this.#sql.commit.run();
      this.#pending = 0;
    } catch (cause) {
      // The server stops on this error; what was not committed must not be
      // committed later by close(), as nobody was told about it.
      this.#abandonTransaction();
      throw new StorageError('COMMIT_FAILED', `cannot commit to the history database: ${sqliteMessage(cause)}`, { cause });
    }
  }

  /** Commits what is pending and closes the file; closes it even when that commit fails. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.commit();
    } finally {
      this.#db.close();
    }
  }

  #begin(): void {
    if (this.#db.inTransaction) return;
    this.#sql.begin.run();
    this.#pending = 0;
  }

  #undoAppend(savepoint: boolean, cause: unknown): void {
    if (savepoint && this.#db.inTransaction) {
      try {
        this.#sql.rollbackToSavepoint.run();
        this.#sql.release.run();
      } catch {
        // Cannot even roll back to the savepoint: the transaction is in an
        // unknown state, so nothing in it may be committed.
        this.#lost = cause;
        return;
      }
    }
    this.#noticeLostTransaction(cause);
  }

  /**
   * Some errors (a full disk, an I/O error) make SQLite roll back the whole
   * transaction, not just the statement. The appends before it in this turn
   * were stamped and handed to the hub, so the next commit must fail.
   */
  #noticeLostTransaction(cause: unknown): void {
    if (this.#pending > 0 && !this.#db.inTransaction) this.#lost = cause;
  }

  #abandonTransaction(): void {
    try {
      if (this.#db.inTransaction) this.#sql.rollback.run();
    } catch {
      // Closing the connection rolls back what is left.
    }
    this.#pending = 0;
    // The cached seqs may count messages that are gone. Nums are not read
    // back: an id handed out, even in vain, is never issued again.
    this.#lastSeq.clear();
  }

  /** One seek in the target index when the target is not among the cached. */
  #lastSeqOf(target: string): number {
    return this.#lastSeq.get(target) ?? this.#sql.lastSeq.get(target)?.seq ?? 0;
  }

  /** Caches a target's seq as the most recently used, and forgets the least recently used past SEQ_CACHE. */
  #rememberSeq(target: string, seq: number): void {
    this.#lastSeq.delete(target);
    this.#lastSeq.set(target, seq);
    if (this.#lastSeq.size > SEQ_CACHE) this.#lastSeq.delete(this.#lastSeq.keys().next().value!);
  }

  /** Every query is one range of nums in (target, num) order: time bounds become num bounds first. */
  #pageOf(target: string, query: StoreQuery, floor: number): StoredMessage[] {
    const [above, below] = numRange(query, floor, {
      lastAtOrBefore: (time) => this.#sql.lastAtOrBefore.get(target, time)?.num ?? 0,
      firstAtOrAfter: (time) => this.#sql.firstAtOrAfter.get(target, time)?.num ?? NO_LIMIT,
    });
    const fromEnd = query.kind === 'latest' || query.kind === 'before';
    const rows = (fromEnd ? this.#sql.newest : this.#sql.oldest).all(target, above, below, query.limit);
    if (fromEnd) rows.reverse();
    return rows.map((row) => this.#toMessage(target, row));
  }

  /**
   * A page of several targets (HISTORY *) in one query, however many targets
   * there are. SQLite walks each target's range of the index in num order
   * into a sorter that keeps `limit` rows, and leaves a target as soon as its
   * next row could no longer enter the sorter: it reads at most `limit` rows
   * per target, and builds objects only for the page.
   *
   * A time bound becomes one num bound for all targets: the earliest of
   * their first messages at or after the time (the latest of their last
   * messages at or before it). As times never decrease with num across the
   * store (the hub stamps them so, [MSG-6]), no target has a message between
   * its own num bound and that one.
   */
  #pageOfMany(targets: readonly string[], query: StoreQuery, floor: number): StoredMessage[] {
    const list = JSON.stringify(targets);
    const [above, below] = numRange(query, floor, {
      lastAtOrBefore: (time) => this.#sql.manyLastAtOrBefore.get(time, list) ?? 0,
      firstAtOrAfter: (time) => this.#sql.manyFirstAtOrAfter.get(time, list) ?? NO_LIMIT,
    });
    const fromEnd = query.kind === 'latest' || query.kind === 'before';
    const rows = (fromEnd ? this.#sql.manyNewest : this.#sql.manyOldest).all(list, above, below, query.limit);
    if (fromEnd) rows.reverse();
    return rows.map((row) => this.#toMessage(row[7], row));
  }

  #toMessage(target: string, [num, seq, time, from, to, kind, text]: MessageRow | TargetRow): StoredMessage {
    return { id: formatId(this.idPrefix, num), seq, time, from, to, kind, text, num, target };
  }
}

/** How a page turns a time bound into a num bound, for the targets it reads. */
interface TimeToNum {
  /** The num of the last message at or before `time`, or 0: the messages after the time are those with a larger num. */
  lastAtOrBefore(time: number): number;
  /** The num of the first message at or after `time`, or NO_LIMIT: the messages before the time are those with a smaller num. */
  firstAtOrAfter(time: number): number;
}

/**
 * The range of nums, both ends exclusive, that a query asks for above
 * `floor`. A time bound becomes a num through `times`, which is exact since
 * time never decreases as num grows ([MSG-6]).
 */
function numRange(query: StoreQuery, floor: number, times: TimeToNum): [above: number, below: number] {
  const lower = (bound: Bound): number => Math.max(floor, bound.by === 'num' ? bound.num : times.lastAtOrBefore(bound.time));
  const upper = (bound: Bound): number => (bound.by === 'num' ? bound.num : times.firstAtOrAfter(bound.time));
  switch (query.kind) {
    case 'latest':
      return [floor, NO_LIMIT];
    case 'before':
      return [floor, upper(query.bound)];
    case 'after':
      return [lower(query.bound), NO_LIMIT];
    case 'between':
      return [lower(query.from), upper(query.to)];
  }
}
