/**
 * Opening the database file: its directory, the connection, and the per-connection pragmas.
 * `:memory:` databases are shared by every client of the process (one connection, reference
 * counted), so two clients on `:memory:` see the same data as two clients on a file would.
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import { BackendUnavailableError } from '@agent-state/core';
import { BACKEND_NAME, toStateError } from './errors.js';
import type { ResolvedSqliteOptions } from './options.js';

/** better-sqlite3's constructor. */
export type Driver = typeof Database;

let driver: Promise<Driver> | undefined;
/**
 * better-sqlite3, imported where a connection is opened, never when this package is imported: a
 * process that only checks settings or reads a cache (the CLI's fast path) never loads the
 * native addon.
 */
export function loadDriver(): Promise<Driver> {
  driver ??= import('better-sqlite3').then((m) => m.default);
  return driver;
}

/**
 * The same module for synchronous tools ({@link storageCounts}): better-sqlite3 is CommonJS, so
 * `require` gives the instance `import` does, also lazily.
 */
export function requireDriver(): Driver {
  return createRequire(import.meta.url)('better-sqlite3') as Driver;
}

/** An open connection and the way to give it back. */
export interface Connection {
  db: Database.Database;
  /** Closes the connection (for `:memory:`, once its last user releases it). */
  release(): void;
}

interface SharedMemory {
  db: Database.Database;
  users: number;
}
const MEMORY_KEY = Symbol.for('agent-state.sqlite.memory');

/**
 * Opens a connection. Throws `BackendUnavailableError` (naming the path) when the directory
 * cannot be created or the file cannot be opened. Nothing is read yet: a damaged file shows at
 * the first statement ({@link configure}).
 */
export async function connect(options: ResolvedSqliteOptions): Promise<Connection> {
  const Database = await loadDriver();
  if (options.inMemory) return connectMemory(Database);
  const path = options.databasePath;
  const dir = dirname(path);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new BackendUnavailableError(BACKEND_NAME, path, `cannot create the directory ${dir} (${code})`, { cause: error });
  }
  let db: Database.Database;
  try {
    // timeout 0: SQLite's busy handler is off; BusyRetry waits instead (see busy.ts).
    db = new Database(path, { timeout: 0 });
  } catch (error) {
    throw toStateError(error, path);
  }
  return { db, release: () => db.close() };
}

/** The process's shared `:memory:` database while a client has it open (for storageCounts). */
export function sharedMemoryDatabase(): Database.Database | undefined {
  return (globalThis as unknown as Record<symbol, SharedMemory | undefined>)[MEMORY_KEY]?.db;
}

function connectMemory(Database: Driver): Connection {
  const g = globalThis as unknown as Record<symbol, SharedMemory | undefined>;
  let shared = g[MEMORY_KEY];
  if (!shared) {
    shared = { db: new Database(':memory:'), users: 0 };
    g[MEMORY_KEY] = shared;
  }
  shared.users++;
  const mine = shared;
  let released = false;
  return {
    db: mine.db,
    release: () => {
      if (released) return;
      released = true;
      if (--mine.users === 0) {
        mine.db.close();
        if (g[MEMORY_KEY] === mine) g[MEMORY_KEY] = undefined;
      }
    },
  };
}

/**
 * Per-connection settings: WAL (readers never wait for the writer, other processes welcome),
 * the synchronous level. The first statement that reads the file, so a file that is not a
 * database fails here with SQLITE_NOTADB. Returns the journal mode in effect.
 */
export function configure(db: Database.Database, options: ResolvedSqliteOptions): string {
  if (options.inMemory) return db.pragma('journal_mode', { simple: true }) as string;
  const mode = db.pragma('journal_mode = WAL', { simple: true }) as string;
  db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  return mode;
}
