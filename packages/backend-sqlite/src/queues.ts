/**
 * Native queues on two tables (layout.ts): `queue_jobs`, one row per job not yet acked, and
 * `queues`, one row per queue with its sequence counter and its wake counter.
 *
 * A claim is one `BEGIN IMMEDIATE` transaction whose cost does not depend on the backlog or on
 * the jobs in flight: (1) return up to {@link RETURN_LIMIT} due timed jobs (delayed jobs whose time
 * came, leases that ran out) to waiting, a range at the start of the `queue_timed` index that is
 * empty most of the time; (2) take the first member of the `queue_ready` index (priority desc,
 * sequence asc), moving jobs that used up `maxAttempts` to the dead letters on the way. The job id
 * is its sequence, so settling is one primary-key statement that also checks the lease id.
 */
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { ClaimedJob, NativeQueues, QueueCounts, QueueJobRecord, SettleAction, WakeTopic } from '@agent-state/core';
import type { Scope } from './context.js';
import { statementMakers, type Returning } from './statements.js';

/** Job states as stored. */
export const WAITING = 0;
export const DELAYED = 1;
export const IN_FLIGHT = 2;
export const DEAD = 3;

/** Due timed jobs one claim returns to waiting at most (the rest come back with later claims). */
export const RETURN_LIMIT = 64;

type JobRow = [seq: number, payload: string, priority: number, attempts: number, enqueuedAt: number, state: number, dueAt: number | null];

/** The queue statements of one connection. */
export interface QueueStatements {
  /** (namespace, queue) → the new sequence; bumps the wake counter too. */
  nextSeq: Returning<number>;
  /** (namespace, queue): bumps the wake counter (nack, retry of a dead letter). */
  bumpWake: Database.Statement<unknown[]>;
  /** (namespace, queue) → the wake counter. */
  wake: Database.Statement<unknown[], number>;
  /** (namespace, queue, seq, state, priority, dueAt, enqueuedAt, payload). */
  insert: Database.Statement<unknown[]>;
  /**
   * (namespace, queue, namespace, queue, now) → what a claim may find (a read, no write lock):
   * 0 nothing, +1 a waiting job, +2 a timed job that came due.
   */
  anyClaimable: Database.Statement<unknown[], number>;
  /** (namespace, queue, namespace, queue, now, limit): due timed jobs back to waiting. */
  returnDue: Database.Statement<unknown[]>;
  /** (namespace, queue) → [seq, attempts] of the best waiting job. */
  best: Database.Statement<unknown[], [number, number]>;
  /** (namespace, queue, seq): to the dead letters. */
  toDead: Database.Statement<unknown[]>;
  /** (leaseId, leaseUntil, namespace, queue, seq) → [payload, priority, attempts, enqueuedAt]. */
  take: Returning<[string, number, number, number]>;
  /** (namespace, queue, seq, leaseId) → 1 when the claim was current and the job is gone. */
  ack: Returning<number>;
  /** (state, dueAt, namespace, queue, seq, leaseId) → 1 when the claim was current. */
  nack: Returning<number>;
  /** (leaseUntil, namespace, queue, seq, leaseId) → 1 when the claim was current. */
  extend: Returning<number>;
  /** (namespace, queue) → waiting jobs (state 0). */
  countWaiting: Database.Statement<unknown[], number>;
  /** (now, namespace, queue) → [state, due, count] of timed jobs. */
  countTimed: Database.Statement<unknown[], [number, number, number]>;
  /** (namespace, queue) → dead letters. */
  countDead: Database.Statement<unknown[], number>;
  /** (namespace, queue, afterSeq, limit) → JobRow[] in sequence order. */
  page: Database.Statement<unknown[], JobRow>;
  /** (namespace, queue, afterSeq, limit) → dead JobRow[] in sequence order. */
  pageDead: Database.Statement<unknown[], JobRow>;
  /** (namespace, queue, seq) → 1 when a dead letter went back to waiting (attempts 0). */
  retryDead: Returning<number>;
  /** (namespace, queue, seq) → 1 when a dead letter was deleted. */
  deleteDead: Returning<number>;
  /** (namespace, after) → the next queue name holding a job (a skip scan, one probe per name). */
  nextName: Database.Statement<unknown[], string>;
  /** (namespace, queue, after) → the earliest due_at after `after` of the queue's timed jobs (for wakeup timers). */
  nextDue: Database.Statement<unknown[], number | null>;
}

export function prepareQueueStatements(db: Database.Database): QueueStatements {
  const { row, one, oneBack, rowBack } = statementMakers(db);
  const job = 'namespace = ? AND queue = ? AND seq = ?';
  const cols = 'seq, payload, priority, attempts, enqueued_at, state, due_at';
  return {
    nextSeq: oneBack(
      `INSERT INTO queues (namespace, queue, last_seq, wake) VALUES (?, ?, 1, 1)
       ON CONFLICT (namespace, queue) DO UPDATE SET last_seq = last_seq + 1, wake = wake + 1
       RETURNING last_seq`,
    ),
    bumpWake: db.prepare(`UPDATE queues SET wake = wake + 1 WHERE namespace = ? AND queue = ?`),
    wake: one(`SELECT wake FROM queues WHERE namespace = ? AND queue = ?`),
    insert: db.prepare(
      `INSERT INTO queue_jobs (namespace, queue, seq, state, priority, due_at, lease_id, attempts, enqueued_at, payload)
       VALUES (?, ?, ?, ?, ?, ?, NULL, 0, ?, ?)`,
    ),
    anyClaimable: one(
      `SELECT EXISTS (SELECT 1 FROM queue_jobs WHERE namespace = ? AND queue = ? AND state = 0)
           + 2 * EXISTS (SELECT 1 FROM queue_jobs INDEXED BY queue_timed WHERE namespace = ? AND queue = ? AND state IN (1, 2) AND due_at <= ?)`,
    ),
    returnDue: db.prepare(
      `UPDATE queue_jobs SET state = 0, due_at = NULL
       WHERE namespace = ? AND queue = ? AND seq IN (
         SELECT seq FROM queue_jobs INDEXED BY queue_timed
         WHERE namespace = ? AND queue = ? AND state IN (1, 2) AND due_at <= ? ORDER BY due_at LIMIT ?)`,
    ),
    best: row(`SELECT seq, attempts FROM queue_jobs INDEXED BY queue_ready WHERE namespace = ? AND queue = ? AND state = 0 ORDER BY priority DESC, seq LIMIT 1`),
    toDead: db.prepare(`UPDATE queue_jobs SET state = 3, due_at = NULL, lease_id = NULL WHERE ${job}`),
    take: rowBack(
      `UPDATE queue_jobs SET state = 2, attempts = attempts + 1, lease_id = ?, due_at = ? WHERE ${job}
       RETURNING payload, priority, attempts, enqueued_at`,
    ),
    // A claim whose lease ran out stays current (its lease_id kept) until the next claim takes the job.
    ack: oneBack(`DELETE FROM queue_jobs WHERE ${job} AND state IN (0, 2) AND lease_id = ? RETURNING 1`),
    nack: oneBack(`UPDATE queue_jobs SET state = ?, due_at = ?, lease_id = NULL WHERE ${job} AND state IN (0, 2) AND lease_id = ? RETURNING 1`),
    extend: oneBack(`UPDATE queue_jobs SET state = 2, due_at = ? WHERE ${job} AND state IN (0, 2) AND lease_id = ? RETURNING 1`),
    countWaiting: one(`SELECT count(*) FROM queue_jobs INDEXED BY queue_ready WHERE namespace = ? AND queue = ? AND state = 0`),
    countTimed: row(
      `SELECT state, due_at <= ? AS due, count(*) FROM queue_jobs INDEXED BY queue_timed
       WHERE namespace = ? AND queue = ? AND state IN (1, 2) GROUP BY 1, 2`,
    ),
    countDead: one(`SELECT count(*) FROM queue_jobs INDEXED BY queue_dead WHERE namespace = ? AND queue = ? AND state = 3`),
    page: row(`SELECT ${cols} FROM queue_jobs WHERE namespace = ? AND queue = ? AND seq > ? ORDER BY seq LIMIT ?`),
    pageDead: row(`SELECT ${cols} FROM queue_jobs WHERE namespace = ? AND queue = ? AND state = 3 AND seq > ? ORDER BY seq LIMIT ?`),
    retryDead: oneBack(`UPDATE queue_jobs SET state = 0, attempts = 0, due_at = NULL, lease_id = NULL WHERE ${job} AND state = 3 RETURNING 1`),
    deleteDead: oneBack(`DELETE FROM queue_jobs WHERE ${job} AND state = 3 RETURNING 1`),
    nextName: one(`SELECT queue FROM queue_jobs WHERE namespace = ? AND queue > ? ORDER BY queue LIMIT 1`),
    nextDue: one(`SELECT min(due_at) FROM queue_jobs INDEXED BY queue_timed WHERE namespace = ? AND queue = ? AND state IN (1, 2) AND due_at > ?`),
  };
}

/** Runs synchronous work on the client's scope, waiting out SQLITE_BUSY (the backend's #run). */
export type Runner = <T>(work: (s: Scope) => T) => Promise<T>;
/** Wakes this process's listeners of a topic at once (other processes learn it from the WAL). */
export type LocalWake = (kind: WakeTopic['kind'], name: string) => void;

/** The job id of a sequence, and back (null for an id this backend never issued). */
const idOf = (seq: number) => String(seq);
function seqOf(id: string): number | null {
  if (!/^[1-9][0-9]{0,15}$/.test(id)) return null;
  const seq = Number(id);
  return Number.isSafeInteger(seq) ? seq : null;
}

/** What a stored job is now: a timed job whose time came counts as waiting. */
function stateName(state: number, dueAt: number | null, now: number): QueueJobRecord['state'] {
  if (state === DEAD) return 'dead';
  if (state === WAITING || dueAt === null || dueAt <= now) return 'waiting';
  return state === DELAYED ? 'delayed' : 'in-flight';
}

export class SqliteQueues implements NativeQueues {
  constructor(
    private readonly run: Runner,
    private readonly wake: LocalWake,
  ) {}

  async enqueue(queue: string, job: { json: string; priority: number; delayMs?: number }): Promise<{ id: string; sequence: number }> {
    const sequence = await this.run((s) =>
      s.immediate(() => {
        const now = Date.now();
        const seq = s.qs.nextSeq.get(s.namespace, queue)!;
        const delayed = job.delayMs !== undefined && job.delayMs > 0;
        s.qs.insert.run(s.namespace, queue, seq, delayed ? DELAYED : WAITING, job.priority, delayed ? now + job.delayMs! : null, now, job.json);
        return seq;
      }),
    );
    this.wake('queue', queue);
    return { id: idOf(sequence), sequence };
  }

  claim(queue: string, options: { leaseMs: number; owner: string; maxAttempts?: number }): Promise<ClaimedJob | null> {
    return this.run((s) => {
      const now = Date.now();
      // Nothing waiting and nothing due: answer without taking the write lock (idle waiters).
      const found = s.qs.anyClaimable.get(s.namespace, queue, s.namespace, queue, now) ?? 0;
      if (found === 0) return null;
      // Nothing due a moment ago: the claim skips returning timed jobs (one statement fewer in the
      // write lock); one coming due meanwhile is returned by the next claim, woken by its timer.
      return s.immediate(() => claimIn(s, queue, options, Date.now(), (found & 2) !== 0));
    });
  }

  async settle(queue: string, id: string, leaseId: string, action: SettleAction): Promise<boolean> {
    const seq = seqOf(id);
    if (seq === null) return false;
    const done = await this.run((s) => {
      const now = Date.now();
      const q = s.qs;
      if (action.kind === 'ack') return q.ack.get(s.namespace, queue, seq, leaseId) !== undefined;
      if (action.kind === 'extend') return q.extend.get(now + action.leaseMs, s.namespace, queue, seq, leaseId) !== undefined;
      return s.immediate(() => {
        const delayed = action.delayMs > 0;
        const ok = q.nack.get(delayed ? DELAYED : WAITING, delayed ? now + action.delayMs : null, s.namespace, queue, seq, leaseId) !== undefined;
        if (ok) q.bumpWake.run(s.namespace, queue);
        return ok;
      });
    });
    if (done && action.kind === 'nack') this.wake('queue', queue);
    return done;
  }

  counts(queue: string): Promise<QueueCounts> {
    return this.run((s) =>
      s.snapshot(() => {
        const now = Date.now();
        const counts: QueueCounts = { waiting: s.qs.countWaiting.get(s.namespace, queue)!, inFlight: 0, delayed: 0, dead: s.qs.countDead.get(s.namespace, queue)! };
        for (const [state, due, n] of s.qs.countTimed.all(now, s.namespace, queue)) {
          if (due) counts.waiting += n;
          else if (state === DELAYED) counts.delayed += n;
          else counts.inFlight += n;
        }
        return counts;
      }),
    );
  }

  jobs(queue: string, options: { state?: QueueJobRecord['state']; afterSequence?: number; limit: number }): Promise<QueueJobRecord[]> {
    return this.run((s) => {
      const now = Date.now();
      const out: QueueJobRecord[] = [];
      let after = options.afterSequence ?? 0;
      const page = options.state === 'dead' ? s.qs.pageDead : s.qs.page;
      const batch = Math.max(options.limit, 100);
      // Paged by sequence; a state filter other than dead reads pages until the limit is met.
      while (out.length < options.limit) {
        const rows = page.all(s.namespace, queue, after, batch);
        for (const [seq, payload, priority, attempts, enqueuedAt, stored, dueAt] of rows) {
          const state = stateName(stored, dueAt, now);
          if (options.state !== undefined && state !== options.state) continue;
          const job: QueueJobRecord = { id: idOf(seq), json: payload, priority, sequence: seq, attempts, enqueuedAt, state };
          if ((state === 'delayed' || state === 'in-flight') && dueAt !== null) job.visibleAt = dueAt;
          out.push(job);
          if (out.length >= options.limit) break;
        }
        if (rows.length < batch) break;
        after = rows[rows.length - 1]![0];
      }
      return out;
    });
  }

  async reviveDead(queue: string, id: string, action: 'retry' | 'delete'): Promise<boolean> {
    const seq = seqOf(id);
    if (seq === null) return false;
    const done = await this.run((s) => {
      if (action === 'delete') return s.qs.deleteDead.get(s.namespace, queue, seq) !== undefined;
      return s.immediate(() => {
        const ok = s.qs.retryDead.get(s.namespace, queue, seq) !== undefined;
        if (ok) s.qs.bumpWake.run(s.namespace, queue);
        return ok;
      });
    });
    if (done && action === 'retry') this.wake('queue', queue);
    return done;
  }

  names(): Promise<string[]> {
    return this.run((s) =>
      s.snapshot(() => {
        const names: string[] = [];
        for (let name = s.qs.nextName.get(s.namespace, ''); name !== undefined; name = s.qs.nextName.get(s.namespace, name)) names.push(name);
        return names;
      }),
    );
  }
}

/** The claim itself, inside the write transaction. */
function claimIn(s: Scope, queue: string, options: { leaseMs: number; maxAttempts?: number }, now: number, due = true): ClaimedJob | null {
  const q = s.qs;
  if (due) q.returnDue.run(s.namespace, queue, s.namespace, queue, now, RETURN_LIMIT);
  for (;;) {
    const best = q.best.get(s.namespace, queue);
    if (best === undefined) return null;
    const [seq, attempts] = best;
    if (options.maxAttempts !== undefined && attempts >= options.maxAttempts) {
      q.toDead.run(s.namespace, queue, seq);
      continue;
    }
    const leaseId = randomUUID();
    const leaseUntil = now + options.leaseMs;
    const [json, priority, claims, enqueuedAt] = q.take.get(leaseId, leaseUntil, s.namespace, queue, seq)!;
    return { id: idOf(seq), json, priority, sequence: seq, attempts: claims, leaseId, leaseUntil, enqueuedAt };
  }
}
