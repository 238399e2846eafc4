/**
 * `@agent-state/backend-sqlite`: agent-state on one SQLite database file (better-sqlite3, WAL).
 */
export { backendModule, backendModule as default, createBackend } from './module.js';
export { createSqliteBackend, SqliteBackend } from './sqlite-backend.js';
export type { SqliteBackendOptions, SqliteSettings, Synchronous } from './options.js';
export { DEFAULT_BUSY_TIMEOUT_MS, DEFAULT_SYNCHRONOUS, DEFAULT_DATABASE_FILE } from './options.js';
export { storageCounts } from './storage.js';
export type { StorageCounts } from './storage.js';
