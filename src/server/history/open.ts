/** Picks the history store the options ask for: memory by default, SQLite with `--db`. */
import { randomBytes } from 'node:crypto';
import type { ServerOptions } from '../options.ts';
import { MemoryStore } from './memory-store.ts';
import type { HistoryStore } from './store.ts';

/** History in memory: ids carry a prefix of this run, since the numbers start again at 1 ([MSG-4]). */
export function memoryStore(options: ServerOptions): HistoryStore {
  return new MemoryStore({
    perTarget: options.history,
    total: options.historyMemory,
    idPrefix: `${Date.now().toString(36)}${randomBytes(2).toString('hex')}-`,
  });
}

/**
 * Opens the store; throws StorageError with a message fit for the operator
 * when the database cannot be used ([STORE-4]). The SQLite module (a native
 * addon) is loaded only when a database is asked for.
 */
export async function openStore(options: ServerOptions): Promise<HistoryStore> {
  if (options.db === undefined) return memoryStore(options);
  const { openSqliteStore } = await import('./sqlite-store.ts');
  return openSqliteStore(options.db, { perTarget: options.history, sync: options.dbSync });
}
