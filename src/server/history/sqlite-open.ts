/**
 * Opening the SQLite history file: the connection's settings, the checks
 * that refuse a file that is not ours or is damaged ([STORE-4]), and the
 * schema, created in a new file. sqlite-store.ts runs the store on the
 * connection this returns.
 *
 * One server per file. The connection runs in locking_mode=EXCLUSIVE and
 * writes once at open, which takes SQLite's write lock and keeps it until
 * close. A second server on the same file therefore fails at start (after
 * the busy timeout), never later with two writers numbering the same
 * messages. The price: no other process can read the file while the server
 * runs (stop it, or copy the file and its -wal, to inspect it). Exclusive
 * mode also keeps the WAL index in the heap, so there is no -shm file.
 */
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { StorageError } from './store.ts';

/**
 * Bumped by any change to SCHEMA. readOrCreateSchema refuses every other
 * version, so the change must add the step from the older one there.
 */
const SCHEMA_VERSION = 1;

const SCHEMA = `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  -- num is the rowid: appending is an append to the table's b-tree.
  CREATE TABLE messages (
    num INTEGER PRIMARY KEY,
    target TEXT NOT NULL,
    seq INTEGER NOT NULL,
    time INTEGER NOT NULL,
    sender TEXT NOT NULL,
    recipient TEXT NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL
  );
  -- Every index entry ends with the rowid, so this one is ordered by
  -- (target, num): each page is one range of it. Naming num would store it twice.
  CREATE INDEX messages_by_target ON messages (target);
  -- Turns a time bound into a num bound within one target.
  CREATE INDEX messages_by_target_time ON messages (target, time);
  CREATE TABLE rooms (key TEXT PRIMARY KEY, name TEXT NOT NULL, topic TEXT NOT NULL, setter TEXT NOT NULL, topic_time INTEGER NOT NULL);
  -- Written on the first message of a private key, so HISTORY * finds a
  -- name's conversations without scanning the messages.
  CREATE TABLE conversations (name TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (name, key)) WITHOUT ROWID;
  -- Who holds each name, for private history ([NAME-5]); the key only as a hash.
  CREATE TABLE names (name TEXT PRIMARY KEY, key_hash TEXT NOT NULL, floor INTEGER NOT NULL) WITHOUT ROWID;
`;
const TABLES = ['meta', 'messages', 'rooms', 'conversations', 'names'] as const;

/** How long a start waits for another process's lock before it gives up. */
const BUSY_TIMEOUT_MS = 1000;

/**
 * Opens (creating when missing) and checks the database at `path`, and hands
 * the connection and the id prefix kept in the file to `use`. Closes the
 * connection when either fails; throws StorageError OPEN_FAILED or CORRUPT.
 */
export function openDatabase<T>(path: string, sync: 'full' | 'normal', use: (db: Database.Database, idPrefix: string) => T): T {
  let db: Database.Database;
  try {
    db = new Database(path);
  } catch (cause) {
    throw openError(path, cause);
  }
  try {
    return use(db, prepareFile(db, path, sync));
  } catch (error) {
    db.close();
    throw error instanceof StorageError ? error : openError(path, error);
  }
}

/** SQLite's own words for a failure, for the message of a StorageError. */
export function sqliteMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Sets the connection up, checks the file and its schema (creating it in a new file), and returns the id prefix. */
function prepareFile(db: Database.Database, path: string, sync: 'full' | 'normal'): string {
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  // Before the first read, so the lock is never shared and WAL needs no -shm.
  db.pragma('locking_mode = EXCLUSIVE');
  // The first read of the file: a file that is not SQLite fails here.
  const mode = db.pragma('journal_mode = WAL', { simple: true });
  if (mode !== 'wal') {
    throw new StorageError('OPEN_FAILED', `cannot use ${path} as the history database: SQLite keeps it in ${String(mode)} mode, not WAL`);
  }
  db.pragma(`synchronous = ${sync === 'full' ? 'FULL' : 'NORMAL'}`);
  // A write now takes the exclusive lock for good, and proves the file is
  // writable at start rather than at the first message.
  db.exec('BEGIN IMMEDIATE');
  try {
    const check = db.pragma('quick_check(1)', { simple: true });
    if (check !== 'ok') throw corrupt(path, `PRAGMA quick_check: ${String(check)}`);
    const idPrefix = readOrCreateSchema(db, path);
    db.prepare("INSERT INTO meta (key, value) VALUES ('opened_at', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(
      new Date().toISOString(),
    );
    db.exec('COMMIT');
    return idPrefix;
  } finally {
    rollbackQuietly(db);
  }
}

/** Ends a failed start's transaction without hiding the error that failed it. */
function rollbackQuietly(db: Database.Database): void {
  try {
    if (db.inTransaction) db.exec('ROLLBACK');
  } catch {
    // Closing the connection, which follows, rolls back as well.
  }
}

function readOrCreateSchema(db: Database.Database, path: string): string {
  const tableRows = db.prepare<[], { name: string }>("SELECT name FROM sqlite_schema WHERE type = 'table'").all();
  const tables = new Set(tableRows.map((row) => row.name));
  if (tables.size === 0) {
    const idPrefix = randomIdPrefix();
    db.exec(SCHEMA);
    const setMeta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
    setMeta.run('schema', String(SCHEMA_VERSION));
    setMeta.run('id_prefix', idPrefix);
    return idPrefix;
  }
  if (!tables.has('meta')) throw corrupt(path, 'it is an SQLite database, but not one of linechat (no meta table)');
  const metaRows = db.prepare<[], { key: string; value: string }>('SELECT key, value FROM meta').all();
  const meta = new Map(metaRows.map((row) => [row.key, row.value]));
  const version = Number(meta.get('schema'));
  if (version !== SCHEMA_VERSION) {
    throw corrupt(path, `its schema version is ${meta.get('schema') ?? 'missing'}, and this linechat knows version ${SCHEMA_VERSION} only`);
  }
  const missing = TABLES.filter((name) => !tables.has(name));
  if (missing.length > 0) throw corrupt(path, `table ${missing.join(', ')} is missing`);
  const idPrefix = meta.get('id_prefix');
  // Room for 11 base-36 digits after it within the 64 characters of an id ([MSG-4]).
  if (idPrefix === undefined || !/^[A-Za-z0-9_-]{1,40}$/.test(idPrefix)) {
    throw corrupt(path, `its id prefix ${JSON.stringify(idPrefix)} is not valid`);
  }
  return idPrefix;
}

/**
 * Six random base-36 characters and a dash, chosen once per database: ids of
 * different databases differ ([MSG-4]), and the dash, which is no base-36
 * digit, keeps one prefix from being the start of another id's digits.
 */
function randomIdPrefix(): string {
  return [...randomBytes(6)].map((byte) => (byte % 36).toString(36)).join('') + '-';
}

function isCorruption(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT'));
}

function corrupt(path: string, what: string, cause?: unknown): StorageError {
  // One line: the server prints it as its last word ([STORE-4]), and quick_check reports on several.
  const oneLine = what.replace(/\s*\n\s*/g, '; ');
  return new StorageError(
    'CORRUPT',
    `history database ${path} is not a linechat database or is damaged (${oneLine}); ` +
      'move it aside or restore a backup, and linechat will start a new one at that path',
    { cause },
  );
}

/** The StorageError for a failure while opening: CORRUPT for a damaged file, else OPEN_FAILED. */
function openError(path: string, cause: unknown): StorageError {
  if (isCorruption(cause)) return corrupt(path, sqliteMessage(cause), cause);
  const code = (cause as { code?: unknown } | null)?.code;
  if (code === 'SQLITE_BUSY') {
    const what = `history database ${path} is in use by another process (${sqliteMessage(cause)})`;
    return new StorageError('OPEN_FAILED', `${what}; stop the other server or choose another file`, { cause });
  }
  // SQLite's words for a read-only file or directory ("disk I/O error") do not say where to look.
  const hint = 'its directory must exist, and it and the directory must be writable by this user';
  return new StorageError('OPEN_FAILED', `cannot open history database ${path}: ${sqliteMessage(cause)} (${hint})`, { cause });
}
