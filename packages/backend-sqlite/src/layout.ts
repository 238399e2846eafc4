/**
 * The database schema, created and upgraded with `PRAGMA user_version` migrations (the store's
 * format version). A new format adds a migration at the end of {@link MIGRATIONS}; nothing else
 * changes. The namespace is a column, so one file holds every namespace.
 *
 * Keys follow the key grammar (ASCII only), so SQLite's BINARY collation (UTF-8 byte order) is
 * the same as JavaScript's UTF-16 code-unit order that `list` promises. (It would differ for
 * characters above U+FFFF against U+E000–U+FFFF, which keys cannot contain.)
 */
import type Database from 'better-sqlite3';
import { InvalidConfigError } from '@agent-state/core';
import { movePortableCoordination } from './upgrade.js';

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
  // 2: the version floor (versions never repeat per key) and the native coordination tables.
  `
  -- One row per namespace: the highest version any entry of the namespace had when it was
  -- deleted or expired away. A new key starts above it, so no key ever gets a version again.
  CREATE TABLE namespaces (
    namespace     TEXT    NOT NULL PRIMARY KEY,
    version_floor INTEGER NOT NULL
  ) WITHOUT ROWID;
  -- Every way a row leaves (delete, sweep of expired rows, a transaction's delete, repair, and
  -- any other tool's DELETE) raises the floor in the same statement.
  CREATE TRIGGER entries_version_floor AFTER DELETE ON entries BEGIN
    INSERT INTO namespaces (namespace, version_floor) VALUES (old.namespace, old.version)
    ON CONFLICT (namespace) DO UPDATE SET version_floor = excluded.version_floor
      WHERE excluded.version_floor > version_floor;
  END;
  -- A first-wave store does not know the versions of keys deleted before this upgrade; the best
  -- it can do is to start above every version it still holds.
  INSERT INTO namespaces (namespace, version_floor)
    SELECT namespace, max(version) FROM entries GROUP BY namespace;

  -- Native queues. state: 0 waiting, 1 delayed (due_at = visible at), 2 in flight (due_at =
  -- lease end), 3 dead. The partial indexes keep a claim off the in-flight, delayed and dead
  -- jobs: the best waiting job is the first member of queue_ready, and the timed jobs that are
  -- due are a range at the start of queue_timed. lease_id stays on a job whose lease ran out
  -- and that a claim returned to waiting, so its holder may still settle it until the next claim.
  CREATE TABLE queues (
    namespace TEXT    NOT NULL,
    queue     TEXT    NOT NULL,
    last_seq  INTEGER NOT NULL,           -- the last sequence handed out; never reset
    wake      INTEGER NOT NULL,           -- bumped by enqueue, nack, retry: what listeners watch
    PRIMARY KEY (namespace, queue)
  ) WITHOUT ROWID;
  CREATE TABLE queue_jobs (
    namespace   TEXT    NOT NULL,
    queue       TEXT    NOT NULL,
    seq         INTEGER NOT NULL,         -- the sequence, also the job id
    state       INTEGER NOT NULL,
    priority    INTEGER NOT NULL,
    due_at      INTEGER,
    lease_id    TEXT,
    attempts    INTEGER NOT NULL,
    enqueued_at INTEGER NOT NULL,
    payload     TEXT    NOT NULL,
    PRIMARY KEY (namespace, queue, seq)
  ) WITHOUT ROWID;
  CREATE INDEX queue_ready ON queue_jobs (namespace, queue, priority DESC, seq) WHERE state = 0;
  CREATE INDEX queue_timed ON queue_jobs (namespace, queue, due_at) WHERE state IN (1, 2);
  CREATE INDEX queue_dead ON queue_jobs (namespace, queue, seq) WHERE state = 3;

  -- Native logs: records keyed by their seq; the log row keeps the last seq across trims, the
  -- time of the last append (so at never goes backwards within a log) and the retention asked
  -- for by the last append (for the sweep).
  CREATE TABLE logs (
    namespace  TEXT    NOT NULL,
    log        TEXT    NOT NULL,
    last_seq   INTEGER NOT NULL,
    last_at    INTEGER NOT NULL,
    max_age_ms INTEGER,
    max_len    INTEGER,
    PRIMARY KEY (namespace, log)
  ) WITHOUT ROWID;
  CREATE TABLE log_records (
    namespace TEXT    NOT NULL,
    log       TEXT    NOT NULL,
    seq       INTEGER NOT NULL,
    at        INTEGER NOT NULL,
    json      TEXT    NOT NULL,
    PRIMARY KEY (namespace, log, seq)
  ) WITHOUT ROWID;
  `,
  // 3: entries become a rowid table. A WITHOUT ROWID table keeps the whole row in its key's
  // b-tree, and a row past ~1/20 of a page (a 1 KB value) spills into overflow pages there:
  // point reads ran at about half the speed of the same lookup on a rowid table (measured,
  // 1 KB values). The (namespace, key) primary key becomes a unique index; statements, the
  // expiry index and the floor trigger are the same. DROP TABLE fires no DELETE trigger, so
  // the floor is not touched by the move.
  `
  CREATE TABLE entries_v3 (
    namespace  TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    value      TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    checksum   INTEGER,
    updated_at INTEGER NOT NULL,
    expires_at INTEGER,
    PRIMARY KEY (namespace, key)
  );
  INSERT INTO entries_v3 (namespace, key, value, version, checksum, updated_at, expires_at)
    SELECT namespace, key, value, version, checksum, updated_at, expires_at FROM entries;
  DROP TABLE entries;
  ALTER TABLE entries_v3 RENAME TO entries;
  CREATE INDEX entries_expiry ON entries (namespace, expires_at) WHERE expires_at IS NOT NULL;
  CREATE TRIGGER entries_version_floor AFTER DELETE ON entries BEGIN
    INSERT INTO namespaces (namespace, version_floor) VALUES (old.namespace, old.version)
    ON CONFLICT (namespace) DO UPDATE SET version_floor = excluded.version_floor
      WHERE excluded.version_floor > version_floor;
  END;
  `,
  // 4: a lease row says whether anyone waits for it. A tryLock that finds the lease taken marks
  // it; the release reads the mark in its DELETE and rings the lock topic's bell only when set,
  // so a release nobody waits on costs no bell (an asynchronous utimes that fails with ENOENT
  // cost a quarter of an uncontended tryLock + release: measured, see lock.ts). A new lease
  // starts unmarked (its row is new); a waiter that is still waiting fails its next try on it
  // and marks it.
  `
  ALTER TABLE locks ADD COLUMN waiting INTEGER NOT NULL DEFAULT 0;
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
    // A first-wave store's portable queues, mailboxes and channels move into the native tables.
    const moved = version > 0 && version < 2 ? movePortableCoordination(db, Date.now()) : undefined;
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
    // Said once: the process that ran the upgrade (inside the transaction, so only one does).
    if (version > 0) {
      process.stderr.write(
        `agent-state: upgraded the SQLite store ${path} in place from format ${version} to ${SCHEMA_VERSION}` +
          (moved
            ? ` (version floor set above every existing version; ${moved.jobs} queued jobs and ${moved.records} mailbox/channel messages moved into the native tables)`
            : '') +
          '\n',
      );
    }
  }).immediate();
}

function newerSchema(path: string, found: number): InvalidConfigError {
  return new InvalidConfigError(
    path,
    '',
    `the database has format (schema) version ${found}, newer than this @agent-state/backend-sqlite understands (${SCHEMA_VERSION}); upgrade the package`,
  );
}
