/** The contract suite's damage hook for SQLite: text that is not JSON in the entry's row, read back as the row. */
import Database from 'better-sqlite3';
import type { CommunicationConfigInput } from '@agent-state/core';
import type { DamageHook } from '@agent-state/contract';
import { sharedMemoryDatabase } from '../src/connection.js';
import { MEMORY_PATH } from '../src/options.js';

/** Runs `fn` on its own connection to the test's database (`:memory:`: the process's shared one). */
function withDatabase<T>(config: CommunicationConfigInput, fn: (db: Database.Database) => T): T {
  const path = String(config.settings?.database_path);
  const shared = path === MEMORY_PATH ? sharedMemoryDatabase() : undefined;
  if (path === MEMORY_PATH && !shared) throw new Error('no client of this process has the :memory: database open');
  const db = shared ?? new Database(path, { fileMustExist: true });
  try {
    return fn(db);
  } finally {
    if (!shared) db.close();
  }
}

/** Replaces the entry's stored text with a torn JSON document, leaving its version and checksum. */
export const sqliteDamage: DamageHook = {
  damage(config, key) {
    const changed = withDatabase(config, (db) =>
      db.prepare(`UPDATE entries SET value = substr(value, 1, length(value) / 2) WHERE namespace = ? AND key = ?`).run(config.namespace ?? 'ns', key).changes,
    );
    if (changed !== 1) throw new Error(`no entry row for ${key} to damage`);
  },
  stored(config, key) {
    return withDatabase(config, (db) => db.prepare(`SELECT * FROM entries WHERE namespace = ? AND key = ?`).get(config.namespace ?? 'ns', key) ?? null);
  },
};
