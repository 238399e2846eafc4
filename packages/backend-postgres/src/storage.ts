/**
 * What a namespace occupies, counted (not in bytes): rows of every table. For retention checks
 * ("trimmed records, acked jobs and expired rows leave nothing behind") and for operators.
 */
import { clientConfig, loadDriver } from './connection.js';
import { resolveOptions, type PostgresBackendOptions } from './options.js';

/** Bound on connecting for these tools (every statement is bounded by statement_timeout_ms too). */
const TOOL_CONNECT_TIMEOUT_MS = 10_000;

export interface StorageCounts {
  entries: number;
  locks: number;
  fencing: number;
  /** The version floor row (at most one). */
  namespaces: number;
  /** One row per queue ever used (its sequence counter). */
  queues: number;
  queueJobs: number;
  /** One row per log ever used (its last seq). */
  logs: number;
  logRecords: number;
  total: number;
}

const TABLES = { entries: 'entries', locks: 'locks', fencing: 'fencing', namespaces: 'namespaces', queues: 'queues', queueJobs: 'queue_jobs', logs: 'logs', logRecords: 'log_records' } as const;

/** Counts the rows namespace `namespace` holds in the store `options` names (its own connection). */
export async function storageCounts(options: PostgresBackendOptions, namespace: string): Promise<StorageCounts> {
  const o = resolveOptions(options);
  const pg = await loadDriver();
  const client = new pg.Client(clientConfig(pg, o, TOOL_CONNECT_TIMEOUT_MS));
  client.on('error', () => undefined);
  await client.connect();
  try {
    const parts = Object.values(TABLES).map((t) => `(SELECT count(*) FROM "${o.schema}".${t} WHERE namespace = $1)::int AS ${t}`);
    const row = (await client.query<Record<string, number>>(`SELECT ${parts.join(', ')}`, [namespace])).rows[0]!;
    const counts = Object.fromEntries(Object.entries(TABLES).map(([name, table]) => [name, row[table]!])) as Omit<StorageCounts, 'total'>;
    return { ...counts, total: Object.values(counts).reduce((a, b) => a + b, 0) };
  } finally {
    await client.end();
  }
}

/** Deletes every row of `namespace` (tests and tools; the version floor goes too). */
export async function dropNamespace(options: PostgresBackendOptions, namespace: string): Promise<void> {
  const o = resolveOptions(options);
  const pg = await loadDriver();
  const client = new pg.Client(clientConfig(pg, o, TOOL_CONNECT_TIMEOUT_MS));
  client.on('error', () => undefined);
  await client.connect();
  try {
    const exists = (await client.query(`SELECT to_regclass($1) IS NOT NULL AS found`, [`"${o.schema}".meta`])).rows[0].found as boolean;
    if (!exists) return;
    await client.query('BEGIN');
    for (const t of Object.values(TABLES)) await client.query(`DELETE FROM "${o.schema}".${t} WHERE namespace = $1`, [namespace]);
    // Deleting entries raised the floor again through the trigger.
    await client.query(`DELETE FROM "${o.schema}".namespaces WHERE namespace = $1`, [namespace]);
    await client.query('COMMIT');
  } finally {
    await client.end();
  }
}
