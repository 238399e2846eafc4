/**
 * Every SQL statement the backend runs, prepared once per connection. Each operation on the hot
 * path is one statement (an UPSERT or UPDATE with its version check in the WHERE clause and
 * RETURNING), so a plain write or compare-and-set costs one lock acquisition and one WAL append.
 * `?` parameters are positional; the comment above each statement lists them.
 */
import type Database from 'better-sqlite3';

/** An entry row as the SELECTs return it (raw mode): value, version, checksum, updated_at, expires_at. */
export type EntryRow = [value: string, version: number, checksum: number | null, updatedAt: number, expiresAt: number | null];
/** A list row: the key, then an {@link EntryRow}. */
export type KeyedEntryRow = [key: string, ...EntryRow];
/** A lock row: owner, token, expires_at, waiting (1 once a tryLock found it taken). */
export type LockRow = [owner: string, token: number, expiresAt: number, waiting: number];

// "Live" = not expired at the caller's `now`.
const LIVE = '(expires_at IS NULL OR expires_at > ?)';
// The same, in an UPSERT's DO UPDATE, for the row already stored.
const LIVE_OLD = '(entries.expires_at IS NULL OR entries.expires_at > excluded.updated_at)';
const ENTRY_COLUMNS = 'value, version, checksum, updated_at, expires_at';
// A new key's version: one above the namespace's floor (parameter: the namespace).
const FLOOR_PLUS_ONE = 'coalesce((SELECT version_floor FROM namespaces WHERE namespace = ?), 0) + 1';
// True for an expired or undamaged row; throws CorruptDataError for a live damaged one
// (functions.ts), so a statement never overwrites or deletes damaged data. Parameter: now.
const INTACT = 'agent_state_intact(namespace, key, value, checksum, expires_at, ?)';
// The same in an UPSERT's DO UPDATE, for the row already stored.
const INTACT_OLD = 'agent_state_intact(entries.namespace, entries.key, entries.value, entries.checksum, entries.expires_at, excluded.updated_at)';

/**
 * A write with RETURNING, as the job modules use it: `get` steps the statement to its end
 * (`all`) and gives its first row. better-sqlite3's own `get` resets the statement after the
 * first row, so an autocommit write commits inside that reset, where SQLite's automatic
 * checkpoint cannot finish: the WAL file then never starts over and grows without bound, and
 * every read and checkpoint slows as it grows (measured: 121 MB of WAL after ten seconds of
 * updates, a 2-key read 60 ms; read to the end, it stays under 1,000 pages).
 */
export interface Returning<R> {
  get(...params: unknown[]): R | undefined;
}

/** Wraps a RETURNING write so that {@link Returning.get} reads it to its end. */
export function returning<R>(statement: Database.Statement<unknown[], R>): Returning<R> {
  return { get: (...params: unknown[]) => statement.all(...params)[0] };
}

/** See {@link statementMakers}. */
export interface StatementMakers {
  row<R>(sql: string): Database.Statement<unknown[], R>;
  one<R>(sql: string): Database.Statement<unknown[], R>;
  rowBack<R>(sql: string): Returning<R>;
  oneBack<R>(sql: string): Returning<R>;
}

/**
 * The statement makers every job module prepares with: `row` (raw arrays), `one` (the first
 * column), and `rowBack` / `oneBack`, the same for RETURNING writes (read to their end, see
 * {@link returning}).
 */
export function statementMakers(db: Database.Database): StatementMakers {
  const row = <R>(sql: string): Database.Statement<unknown[], R> => db.prepare<unknown[], R>(sql).raw(true) as unknown as Database.Statement<unknown[], R>;
  const one = <R>(sql: string): Database.Statement<unknown[], R> => db.prepare<unknown[], R>(sql).pluck(true);
  return {
    row,
    one,
    rowBack: <R>(sql: string): Returning<R> => returning<R>(row<R>(sql)),
    oneBack: <R>(sql: string): Returning<R> => returning<R>(one<R>(sql)),
  };
}

/** The prepared statements of one connection. */
export interface Statements {
  /** (namespace, key, now) → EntryRow of the live entry. */
  readEntry: Database.Statement<unknown[], EntryRow>;
  /** (namespace, key, now) → version of the live entry. */
  readVersion: Database.Statement<unknown[], number>;
  /** (namespace, after, prefixLow, prefixHigh, now, limit) → KeyedEntryRow[] in key order. */
  listEntries: Database.Statement<unknown[], KeyedEntryRow>;
  /**
   * (namespace, key, value, namespace, checksum, now, expiresAt) → new version. Creates (above
   * the namespace's version floor) or overwrites; CorruptDataError over a live damaged row.
   */
  upsert: Returning<number>;
  /** Same parameters → new version (1), or nothing when a live entry exists. */
  insertIfAbsent: Returning<number>;
  /** (value, checksum, now, expiresAt, namespace, key, expectedVersion, now, now) → new version, or nothing. */
  updateIfVersion: Returning<number>;
  /**
   * (namespace, key, byJson, namespace, byChecksum, now, by, by) → the new value's JSON text. Adds
   * `by` to a live number (keeping its TTL and version + 1), or creates the key with `by` above
   * the version floor.
   */
  increment: Returning<string>;
  /** (namespace, key, now) → expires_at of the deleted row; CorruptDataError for a live damaged row. */
  deleteEntry: Returning<[expiresAt: number | null]>;
  /** (namespace, key, expectedVersion, now, now) → 1 when the live entry of that version was deleted. */
  deleteIfVersion: Returning<number>;
  /** (namespace, key) → the stored row, live or not, unchecked: for repair. */
  rawEntry: Database.Statement<unknown[], [value: string, checksum: number | null, expiresAt: number | null]>;
  /** (namespace, key): removes the row whatever it holds (repair). */
  removeEntry: Database.Statement<unknown[]>;
  /** (namespace, now, limit): removes up to `limit` expired entries. */
  sweepEntries: Database.Statement<unknown[]>;
  /** (namespace, now): removes expired lock rows (their fencing counters stay). */
  sweepLocks: Database.Statement<unknown[]>;

  /** (namespace, resource) → LockRow, expired or not. */
  readLock: Database.Statement<unknown[], LockRow>;
  /** (namespace, resource) → the next fencing token (the counter is bumped and kept). */
  nextToken: Returning<number>;
  /** (namespace, resource, owner, token, expiresAt): the new lease replaces any old row. */
  putLock: Database.Statement<unknown[]>;
  /** (expiresAt, namespace, resource, owner, token, now) → 1 when the live lease was extended. */
  extendLock: Returning<number>;
  /** (namespace, resource): marks the lease as waited for (a tryLock found it taken). */
  markWaiting: Database.Statement<unknown[]>;
  /** (namespace, resource, owner, token, now) → the lease's `waiting` mark when the live lease was deleted. */
  releaseLock: Returning<number>;
  /** () → number of schema objects: a round trip that reads the file, for health. */
  ping: Database.Statement<unknown[], number>;
}

/** Prepares every statement on `db` (once per connection; needs registerFunctions first). */
export function prepareStatements(db: Database.Database): Statements {
  const { row, one, oneBack, rowBack } = statementMakers(db);
  const newVersionOnConflict = `
    ON CONFLICT (namespace, key) DO UPDATE SET
      value = excluded.value,
      version = CASE WHEN ${LIVE_OLD} THEN entries.version + 1 ELSE max(entries.version + 1, excluded.version) END,
      checksum = excluded.checksum,
      updated_at = excluded.updated_at,
      expires_at = excluded.expires_at`;
  const insert = `INSERT INTO entries (namespace, key, value, version, checksum, updated_at, expires_at)
    VALUES (?, ?, ?, ${FLOOR_PLUS_ONE}, ?, ?, ?)`;
  return {
    readEntry: row(`SELECT ${ENTRY_COLUMNS} FROM entries WHERE namespace = ? AND key = ? AND ${LIVE}`),
    readVersion: one(`SELECT version FROM entries WHERE namespace = ? AND key = ? AND ${LIVE}`),
    listEntries: row(
      `SELECT key, ${ENTRY_COLUMNS} FROM entries
       WHERE namespace = ? AND key > ? AND key >= ? AND key < ? AND ${LIVE}
       ORDER BY key LIMIT ?`,
    ),
    upsert: oneBack(`${insert} ${newVersionOnConflict} WHERE ${INTACT_OLD} RETURNING version`),
    // An expired row may be replaced (above its old version); a live one makes it a no-op.
    insertIfAbsent: oneBack(
      `${insert} ${newVersionOnConflict}
       WHERE entries.expires_at IS NOT NULL AND entries.expires_at <= excluded.updated_at
       RETURNING version`,
    ),
    updateIfVersion: oneBack(
      `UPDATE entries SET value = ?, version = version + 1, checksum = ?, updated_at = ?, expires_at = ?
       WHERE namespace = ? AND key = ? AND version = ? AND ${LIVE} AND ${INTACT}
       RETURNING version`,
    ),
    increment: oneBack(
      `INSERT INTO entries (namespace, key, value, version, checksum, updated_at, expires_at)
       VALUES (?, ?, ?, ${FLOOR_PLUS_ONE}, ?, ?, NULL)
       ON CONFLICT (namespace, key) DO UPDATE SET
         value = CASE WHEN ${LIVE_OLD} THEN agent_state_add(entries.namespace, entries.key, entries.value, entries.checksum, ?)
                      ELSE excluded.value END,
         checksum = CASE WHEN ${LIVE_OLD}
                      THEN agent_state_checksum(agent_state_add(entries.namespace, entries.key, entries.value, entries.checksum, ?))
                      ELSE excluded.checksum END,
         version = CASE WHEN ${LIVE_OLD} THEN entries.version + 1 ELSE max(entries.version + 1, excluded.version) END,
         updated_at = excluded.updated_at,
         expires_at = CASE WHEN ${LIVE_OLD} THEN entries.expires_at ELSE NULL END
       RETURNING value`,
    ),
    deleteEntry: rowBack(`DELETE FROM entries WHERE namespace = ? AND key = ? AND ${INTACT} RETURNING expires_at`),
    deleteIfVersion: oneBack(`DELETE FROM entries WHERE namespace = ? AND key = ? AND version = ? AND ${LIVE} AND ${INTACT} RETURNING 1`),
    rawEntry: row(`SELECT value, checksum, expires_at FROM entries WHERE namespace = ? AND key = ?`),
    removeEntry: db.prepare(`DELETE FROM entries WHERE namespace = ? AND key = ?`),
    sweepEntries: db.prepare(
      `DELETE FROM entries WHERE (namespace, key) IN (
         SELECT namespace, key FROM entries
         WHERE namespace = ? AND expires_at IS NOT NULL AND expires_at <= ? LIMIT ?)`,
    ),
    sweepLocks: db.prepare(`DELETE FROM locks WHERE namespace = ? AND expires_at <= ?`),

    readLock: row(`SELECT owner, token, expires_at, waiting FROM locks WHERE namespace = ? AND resource = ?`),
    nextToken: oneBack(
      `INSERT INTO fencing (namespace, resource, last_token) VALUES (?, ?, 1)
       ON CONFLICT (namespace, resource) DO UPDATE SET last_token = last_token + 1
       RETURNING last_token`,
    ),
    putLock: db.prepare(`INSERT OR REPLACE INTO locks (namespace, resource, owner, token, expires_at) VALUES (?, ?, ?, ?, ?)`),
    extendLock: oneBack(
      `UPDATE locks SET expires_at = ? WHERE namespace = ? AND resource = ? AND owner = ? AND token = ? AND expires_at > ? RETURNING 1`,
    ),
    markWaiting: db.prepare(`UPDATE locks SET waiting = 1 WHERE namespace = ? AND resource = ?`),
    releaseLock: oneBack(`DELETE FROM locks WHERE namespace = ? AND resource = ? AND owner = ? AND token = ? AND expires_at > ? RETURNING waiting`),
    ping: one(`SELECT count(*) FROM sqlite_schema`),
  };
}
