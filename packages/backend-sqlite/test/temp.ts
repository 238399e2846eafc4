/** Temporary databases under the OS temp dir, removed after each test. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh directory for one test's database. */
export function freshDir(): string {
  return mkdtempSync(join(tmpdir(), 'agent-state-sqlite-'));
}

/** A fresh database path (the file does not exist yet). */
export function freshDatabasePath(): string {
  return join(freshDir(), 'state.db');
}

/** Removes the directory that holds `databasePath` (with its -wal and -shm files). */
export function removeDatabase(databasePath: string): void {
  rmSync(join(databasePath, '..'), { recursive: true, force: true });
}
