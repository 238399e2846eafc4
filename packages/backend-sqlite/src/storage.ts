/**
 * What a namespace occupies, counted (not in bytes): rows of every table and members of every
 * index. For retention checks ("trimmed records, acked jobs and expired rows leave nothing
 * behind") and for operators; opens its own read-only connection.
 */
import { requireDriver, sharedMemoryDatabase } from './connection.js';
import { MEMORY_PATH } from './options.js';

/** Rows and index members of one namespace, per table or index. */
export interface StorageCounts {
  entries: number;
  /** Members of the partial expiry index (entries with a TTL). */
  entriesExpiryIndex: number;
  locks: number;
  fencing: number;
  /** The version floor row (at most one). */
  namespaces: number;
  /** One row per queue ever used (its sequence counter, kept so sequences never repeat). */
  queues: number;
  queueJobs: number;
  queueReadyIndex: number;
  queueTimedIndex: number;
  queueDeadIndex: number;
  /** One row per log ever used (its last seq, kept across trims). */
  logs: number;
  logRecords: number;
  /** Everything above added up. */
  total: number;
}

/**
 * Counts what namespace `namespace` holds in the database file at `databasePath` (`:memory:`:
 * the process's shared in-memory database, while a client has it open).
 */
export function storageCounts(databasePath: string, namespace: string): StorageCounts {
  const memory = databasePath === MEMORY_PATH ? sharedMemoryDatabase() : undefined;
  if (databasePath === MEMORY_PATH && !memory) throw new Error('no client of this process has the :memory: database open');
  const db = memory ?? new (requireDriver())(databasePath, { readonly: true, fileMustExist: true });
  try {
    const count = (sql: string) => db.prepare(sql).pluck().get(namespace) as number;
    const counts: Omit<StorageCounts, 'total'> = {
      entries: count(`SELECT count(*) FROM entries WHERE namespace = ?`),
      entriesExpiryIndex: count(`SELECT count(*) FROM entries WHERE namespace = ? AND expires_at IS NOT NULL`),
      locks: count(`SELECT count(*) FROM locks WHERE namespace = ?`),
      fencing: count(`SELECT count(*) FROM fencing WHERE namespace = ?`),
      namespaces: count(`SELECT count(*) FROM namespaces WHERE namespace = ?`),
      queues: count(`SELECT count(*) FROM queues WHERE namespace = ?`),
      queueJobs: count(`SELECT count(*) FROM queue_jobs WHERE namespace = ?`),
      queueReadyIndex: count(`SELECT count(*) FROM queue_jobs WHERE namespace = ? AND state = 0`),
      queueTimedIndex: count(`SELECT count(*) FROM queue_jobs WHERE namespace = ? AND state IN (1, 2)`),
      queueDeadIndex: count(`SELECT count(*) FROM queue_jobs WHERE namespace = ? AND state = 3`),
      logs: count(`SELECT count(*) FROM logs WHERE namespace = ?`),
      logRecords: count(`SELECT count(*) FROM log_records WHERE namespace = ?`),
    };
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    return { ...counts, total };
  } finally {
    if (!memory) db.close();
  }
}
