/**
 * The SQLite backend's options, and the mapping from the snake_case `project.yml` settings.
 */
import { basename, isAbsolute, join } from 'node:path';
import { InvalidConfigError } from '@agent-state/core';
import type { BackendContext } from '@agent-state/core/backend';

/** How hard a commit works to survive a power loss (SQLite's `PRAGMA synchronous`). */
export type Synchronous = 'normal' | 'full';

/** Options of {@link createSqliteBackend}. Every default is stated here, once. */
export interface SqliteBackendOptions {
  /**
   * The database file (absolute path), or `:memory:` for a store that lives in this process only
   * (every client of the process shares it; nothing is persisted, other processes cannot see it).
   * Its directory is created when missing.
   */
  databasePath: string;
  /**
   * How long one operation may wait for another process's write lock before it fails with
   * `BackendUnavailableError`, in ms. SQLite's own busy handler is switched off; the backend
   * retries with short jittered waits of its own until this deadline. Default 5000.
   */
  busyTimeoutMs?: number;
  /**
   * `normal` (default): with WAL, a commit survives a crash of the process (kill -9) and the
   * database never corrupts, but the last commits may be lost on a power loss or OS crash.
   * `full`: the WAL is synced at every commit, so commits also survive a power loss (slower).
   */
  synchronous?: Synchronous;
  /**
   * Accepted for compatibility with the seed's `connection_pool_size` and ignored: better-sqlite3
   * is synchronous, so a pool in one process would only queue calls behind one another. Each
   * client holds exactly one connection; concurrency comes from processes, serialized by SQLite.
   */
  connectionPoolSize?: number;
}

/** Default wait for a locked database, per operation. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5_000;
/** Default `PRAGMA synchronous`. */
export const DEFAULT_SYNCHRONOUS: Synchronous = 'normal';
/** Default database file, relative to the project (where project.yml is, or the cwd). */
export const DEFAULT_DATABASE_FILE = join('.agent-state', 'state.db');
/** The path that names an in-process database. */
export const MEMORY_PATH = ':memory:';

/** Options with every default filled in. */
export interface ResolvedSqliteOptions {
  databasePath: string;
  busyTimeoutMs: number;
  synchronous: Synchronous;
  /** True for `:memory:`. */
  inMemory: boolean;
}

/** Checks the options and fills in the defaults; `InvalidConfigError` names a wrong one. */
export function resolveOptions(options: SqliteBackendOptions): ResolvedSqliteOptions {
  const fail = (field: string, problem: string): never => {
    throw new InvalidConfigError('createSqliteBackend', `options.${field}`, problem);
  };
  const path = options.databasePath;
  if (typeof path !== 'string' || (path !== MEMORY_PATH && !isAbsolute(path))) {
    fail('databasePath', `expected an absolute path or ":memory:", got ${JSON.stringify(path)}`);
  }
  const busy = options.busyTimeoutMs;
  if (busy !== undefined && (!Number.isInteger(busy) || busy < 0)) {
    fail('busyTimeoutMs', `expected a whole number >= 0, got ${String(busy)}`);
  }
  if (options.synchronous !== undefined && options.synchronous !== 'normal' && options.synchronous !== 'full') {
    fail('synchronous', `expected one of normal, full, got ${JSON.stringify(options.synchronous)}`);
  }
  const pool = options.connectionPoolSize;
  if (pool !== undefined && (!Number.isInteger(pool) || pool < 1)) {
    fail('connectionPoolSize', `expected a whole number > 0, got ${String(pool)}`);
  }
  return {
    databasePath: path,
    busyTimeoutMs: busy ?? DEFAULT_BUSY_TIMEOUT_MS,
    synchronous: options.synchronous ?? DEFAULT_SYNCHRONOUS,
    inMemory: path === MEMORY_PATH,
  };
}

/** The SQLite backend's keys of `communication.settings`, as its module's schema checks them. */
export interface SqliteSettings {
  /** The database file (relative to the project directory) or `:memory:`; default `.agent-state/state.db`. */
  database_path?: string;
  /** Accepted and ignored (see {@link SqliteBackendOptions.connectionPoolSize}). */
  connection_pool_size?: number;
  /** Wait for another process's write lock, in ms; default 5000. */
  busy_timeout_ms?: number;
  /** `normal` (default) or `full`. */
  synchronous?: Synchronous;
}

/**
 * Maps `project.yml` settings (checked, relative paths already made absolute by the module's
 * schema) to options. `database_path: ":memory:"` arrives resolved against the project directory,
 * so the file name is checked, not the whole path.
 */
export function optionsFromConfig(settings: SqliteSettings, context: Pick<BackendContext, 'baseDir'>): SqliteBackendOptions {
  const s = settings;
  const raw = s.database_path;
  const databasePath =
    raw === undefined ? join(context.baseDir, DEFAULT_DATABASE_FILE) : basename(raw) === MEMORY_PATH ? MEMORY_PATH : raw;
  return {
    databasePath,
    ...(s.busy_timeout_ms !== undefined && { busyTimeoutMs: s.busy_timeout_ms }),
    ...(s.synchronous !== undefined && { synchronous: s.synchronous }),
    ...(s.connection_pool_size !== undefined && { connectionPoolSize: s.connection_pool_size }),
  };
}

declare module '@agent-state/core' {
  /** `project.yml` settings of the sqlite backend, typed on core's `Settings` wherever this package is imported. */
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- merges the keys into core's interface
  interface Settings extends SqliteSettings {}
}
