/**
 * Turns better-sqlite3's errors into agent-state errors, keeping the driver's error as `cause`.
 */
import { BackendUnavailableError, CorruptDataError, StateClosedError, StateError } from '@agent-state/core';

/** The backend name errors carry. */
export const BACKEND_NAME = 'sqlite';

/** The SQLite result code of a driver error (`SQLITE_BUSY`, `SQLITE_NOTADB` …), if it has one. */
export function sqliteCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}

/**
 * True for "another connection holds the lock": the only errors worth waiting out.
 * SQLITE_LOCKED is the same conflict inside one process (a shared-cache or same-connection clash).
 */
export function isBusy(error: unknown): boolean {
  const code = sqliteCode(error);
  return code !== undefined && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

/**
 * Maps a driver error to a {@link StateError}: damaged files are `CorruptDataError` (never read
 * as absent), everything else that stops the database from being used is
 * `BackendUnavailableError` naming the path. agent-state's own errors pass through unchanged.
 */
export function toStateError(error: unknown, path: string): unknown {
  if (error instanceof StateError) return error;
  const code = sqliteCode(error);
  const message = error instanceof Error ? error.message : String(error);
  if (code === undefined) {
    // The client was closed while an operation waited out a lock.
    if (error instanceof TypeError && /connection is not open/i.test(message)) return new StateClosedError('finish the operation');
    // better-sqlite3 raises a TypeError when the directory of the file is missing.
    if (error instanceof TypeError && /directory does not exist/i.test(message)) {
      return new BackendUnavailableError(BACKEND_NAME, path, `cannot open the database: ${message}`, { cause: error });
    }
    return error;
  }
  if (code === 'SQLITE_NOTADB') {
    return new CorruptDataError(path, `the file is not a SQLite database (${code}: ${message})`, { cause: error });
  }
  if (code.startsWith('SQLITE_CORRUPT')) {
    return new CorruptDataError(path, `the SQLite database is damaged (${code}: ${message})`, { cause: error });
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new BackendUnavailableError(BACKEND_NAME, path, `the database is locked by another connection (${code})`, { cause: error });
  }
  if (code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_PERM') || code.startsWith('SQLITE_AUTH')) {
    return new BackendUnavailableError(BACKEND_NAME, path, `cannot open the database file (${code}: ${message})`, { cause: error });
  }
  if (code.startsWith('SQLITE_READONLY')) {
    return new BackendUnavailableError(BACKEND_NAME, path, `the database or its directory is read-only (${code}: ${message})`, { cause: error });
  }
  return new BackendUnavailableError(BACKEND_NAME, path, `${code}: ${message}`, { cause: error });
}
