/**
 * Part of the format 1 → 2 upgrade: a first-wave store keeps its queues, mailboxes and channels
 * as ordinary entries under `@q/…`, `@mail/…` and `@ch/…` (core's portable layout). Format 2
 * serves them from the native tables, so the upgrade moves them there, in the migration's
 * transaction (crash-safe: all or nothing, and idempotent because it runs only once per store):
 *
 * - `@q/<queue>/j/<id>` and `@q/<queue>/dead/<id>` → `queue_jobs` (same sequence, attempts,
 *   priority, payload; a live lease stays in flight under its lease id, a future `visibleAt`
 *   without a lease is delayed); `@q/<queue>/seq` → `queues.last_seq`.
 * - `@mail/<agent>/m/<n>` → log `mail/<agent>` record n; `@ch/<channel>/m/<n>` → log
 *   `ch/<channel>` record n (live messages only, with their channel's retention); the `seq` keys
 *   → `logs.last_seq`, so numbering goes on where it was.
 *
 * A row that is damaged, expired or not in the expected shape is left where it is (damaged data
 * is never destroyed; an expired one is swept as usual). `@agents/…` stay entries.
 */
import type Database from 'better-sqlite3';
import { firstWaveJob, firstWaveJobState } from '@agent-state/core/backend';
import { DEAD, DELAYED, IN_FLIGHT, WAITING } from './queues.js';
import { damageOf } from './codec.js';

/** What the upgrade moved. */
export interface MovedCoordination {
  jobs: number;
  records: number;
}

type Row = { namespace: string; key: string; value: string; checksum: number | null; updated_at: number; expires_at: number | null };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);

export function movePortableCoordination(db: Database.Database, now: number): MovedCoordination {
  const rows = db
    .prepare(
      `SELECT namespace, key, value, checksum, updated_at, expires_at FROM entries
       WHERE (key >= '@q/' AND key < '@q0') OR (key >= '@mail/' AND key < '@mail0') OR (key >= '@ch/' AND key < '@ch0')
       ORDER BY namespace, key`,
    )
    .all() as Row[];
  const remove = db.prepare(`DELETE FROM entries WHERE namespace = ? AND key = ?`);
  const insertJob = db.prepare(
    `INSERT OR IGNORE INTO queue_jobs (namespace, queue, seq, state, priority, due_at, lease_id, attempts, enqueued_at, payload)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const queueSeq = db.prepare(
    `INSERT INTO queues (namespace, queue, last_seq, wake) VALUES (?, ?, ?, 1)
     ON CONFLICT (namespace, queue) DO UPDATE SET last_seq = max(last_seq, excluded.last_seq)`,
  );
  const insertRecord = db.prepare(`INSERT OR IGNORE INTO log_records (namespace, log, seq, at, json) VALUES (?, ?, ?, ?, ?)`);
  const logSeq = db.prepare(
    `INSERT INTO logs (namespace, log, last_seq, last_at, max_age_ms, max_len) VALUES (?, ?, ?, ?, ?, NULL)
     ON CONFLICT (namespace, log) DO UPDATE SET last_seq = max(last_seq, excluded.last_seq), last_at = max(last_at, excluded.last_at),
       max_age_ms = coalesce(excluded.max_age_ms, max_age_ms)`,
  );
  const moved: MovedCoordination = { jobs: 0, records: 0 };
  const lastAt = new Map<string, number>();

  for (const row of rows) {
    if (row.expires_at !== null && row.expires_at <= now) continue;
    if (damageOf(row.value, row.checksum) !== undefined) continue;
    let value: unknown;
    try {
      value = JSON.parse(row.value);
    } catch {
      continue; // not JSON although its checksum matches: leave it for a read to report
    }
    const parts = row.key.split('/');
    const [top, name, kind, id] = parts;
    if (!name) continue;
    if (top === '@q') {
      if (parts.length === 3 && kind === 'seq' && isInt(value)) {
        queueSeq.run(row.namespace, name, value);
        remove.run(row.namespace, row.key);
      } else if (parts.length === 4 && (kind === 'j' || kind === 'dead') && id && isObject(value)) {
        const job = firstWaveJob(value);
        if (!job) continue;
        const { payload, priority, sequence, attempts, enqueuedAt } = job;
        const leaseId = job.lease?.id ?? null;
        const native = firstWaveJobState(job, kind === 'dead', now);
        const state = native.state === 'dead' ? DEAD : native.state === 'in-flight' ? IN_FLIGHT : native.state === 'delayed' ? DELAYED : WAITING;
        const { dueAt } = native;
        const done = insertJob.run(row.namespace, name, sequence, state, priority, dueAt, state === DEAD ? null : leaseId, attempts, enqueuedAt, JSON.stringify(payload));
        if (done.changes === 0) continue; // a second job with this sequence: leave it where it is
        queueSeq.run(row.namespace, name, sequence);
        remove.run(row.namespace, row.key);
        moved.jobs++;
      }
    } else {
      const log = `${top === '@mail' ? 'mail' : 'ch'}/${name}`;
      if (parts.length === 3 && kind === 'seq' && isInt(value)) {
        logSeq.run(row.namespace, log, value, 0, null);
        remove.run(row.namespace, row.key);
      } else if (parts.length === 4 && kind === 'm' && id && /^[0-9]+$/.test(id) && isObject(value)) {
        const seq = Number(id);
        const stamp = top === '@mail' ? value.sentAt : value.publishedAt;
        const logKey = `${row.namespace}\u0000${log}`;
        // Rows come in key order = seq order (zero-padded), so `at` is kept non-decreasing.
        const at = Math.max(isInt(stamp) ? stamp : row.updated_at, lastAt.get(logKey) ?? 0);
        lastAt.set(logKey, at);
        if (insertRecord.run(row.namespace, log, seq, at, row.value).changes === 0) continue;
        // A channel's messages carried their retention as a TTL; the log keeps it as max_age_ms.
        const maxAge = top === '@ch' && row.expires_at !== null ? Math.max(1, row.expires_at - at) : null;
        logSeq.run(row.namespace, log, seq, at, maxAge);
        remove.run(row.namespace, row.key);
        moved.records++;
      }
    }
  }
  return moved;
}
