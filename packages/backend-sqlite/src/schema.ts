/**
 * The database schema, created and upgraded with `PRAGMA user_version` migrations. A later issue
 * (queues, messages as tables) adds a migration at the end of {@link MIGRATIONS}; nothing else
 * changes. The namespace is a column, so one file holds every namespace.
 *
 * Keys follow the key grammar (ASCII only), so SQLite's BINARY collation (UTF-8 byte order) is
 * the same as JavaScript's UTF-16 code-unit order that `list` promises. (It would differ for
 * characters above U+FFFF against U+E000–U+FFFF, which keys cannot contain.)
 */
import type Database from 'better-sqlite3';
import { BackendUnavailableError } from '@agent-state/core';
import { BACKEND_NAME } from './errors.js';

/** Migration `i` moves the database from `user_version` i to i + 1. */
export const MIGRATIONS: readonly string[] = [
  // 1: entries, locks and fencing counters.
  `
  CREATE TABLE entries (
    namespace  TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    value      TEXT    NOT NULL,          -- the JSON text
    version    INTEGER NOT NULL,          -- 1 on create, +1 per write while the key lives
    checksum   INTEGER,                   -- CRC-32 of value's UTF-8 bytes; NULL = not checked
    updated_at INTEGER NOT NULL,          -- epoch ms
    expires_at INTEGER,                   -- epoch ms; the row reads as absent from then on
    PRIMARY KEY (namespace, key)
  ) WITHOUT ROWID;
  CREATE INDEX entries_expiry ON entries (namespace, expires_at) WHERE expires_at IS NOT NULL;
  CREATE TABLE locks (
    namespace  TEXT    NOT NULL,
    resource   TEXT    NOT NULL,
    owner      TEXT    NOT NULL,
    token      INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (namespace, resource)
  ) WITHOUT ROWID;
  -- The last fencing token issued per resource. Never reset (not on release, not on expiry),
  -- so tokens only grow.
  CREATE TABLE fencing (
    namespace  TEXT    NOT NULL,
    resource   TEXT    NOT NULL,
    last_token INTEGER NOT NULL,
    PRIMARY KEY (namespace, resource)
  ) WITHOUT ROWID;
  `,
];

/** The `user_version` this package writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the schema up to date in one `BEGIN IMMEDIATE` transaction, so two processes opening a
 * new file at once cannot both create it. Throws SQLITE_BUSY (retried by the caller) while
 * another process holds the write lock.
 */
export function migrate(db: Database.Database, path: string): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current === SCHEMA_VERSION) return;
  if (current > SCHEMA_VERSION) throw newerSchema(path, current);
  db.transaction(() => {
    // Read again under the write lock: another process may have migrated meanwhile.
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) throw newerSchema(path, version);
    for (let v = version; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

function newerSchema(path: string, found: number): BackendUnavailableError {
  return new BackendUnavailableError(
    BACKEND_NAME,
    path,
    `the database has schema version ${found}, newer than this @agent-state/backend-sqlite understands (${SCHEMA_VERSION}); upgrade the package`,
  );
}
