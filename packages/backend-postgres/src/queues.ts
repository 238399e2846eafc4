/**
 * Native queues on two tables (layout.ts): `queue_jobs`, one row per job not yet acked, and
 * `queues`, one row per queue with its sequence counter.
 *
 * A claim is ONE statement, whatever the backlog or the jobs in flight: it picks the best
 * candidate among (a) the first waiting job of the `queue_ready` index (priority desc, seq) and
 * (b) the best timed job that came due (a delayed job whose time came, a lease that ran out), each
 * `FOR UPDATE SKIP LOCKED` so concurrent claimers never wait on, nor take, the same row; then
 * updates it to in flight with a new lease id (or to the dead letters once it used up
 * `maxAttempts`, and the caller claims again). The job id is its sequence, so settling is one
 * primary-key statement that also checks the lease id. Enqueue is one statement too: bump the
 * queue's counter (its row lock orders enqueues, so sequences follow commit order), insert,
 * NOTIFY. Times are the server's clock.
 */
import { randomUUID } from 'node:crypto';
import type { ClaimedJob, NativeQueues, QueueCounts, QueueJobRecord, SettleAction } from '@agent-state/core';
import { queuePayload, type Context } from './context.js';
import { inSchema } from './layout.js';

const RAW = {
  /** ($1 ns, $2 queue, $3 priority, $4 delayMs, $5 payload, $6 channel, $7 notify payload) → seq. */
  enqueue: `WITH s AS (
      INSERT INTO S.queues AS q (namespace, queue, last_seq) VALUES ($1, $2, 1)
      ON CONFLICT (namespace, queue) DO UPDATE SET last_seq = q.last_seq + 1 RETURNING last_seq),
    t AS (SELECT S.now_ms() AS now),
    ins AS (
      INSERT INTO S.queue_jobs (namespace, queue, seq, state, priority, due_at, lease_id, attempts, enqueued_at, payload)
      SELECT $1, $2, s.last_seq, CASE WHEN $4::bigint > 0 THEN 1 ELSE 0 END, $3,
             CASE WHEN $4::bigint > 0 THEN t.now + $4::bigint ELSE NULL END, NULL, 0, t.now, $5 FROM s, t
      RETURNING seq)
    SELECT ins.seq FROM ins, (SELECT pg_notify($6, $7)::text AS n) AS nt`,
  /**
   * ($1 ns, $2 queue, $3 maxAttempts | null, $4 leaseId, $5 leaseMs) → the claimed (or
   * moved-to-dead) job. Every row it touches is found by an index condition, whatever the
   * planner's statistics say: the first entry of `queue_ready` (S.first_ready, planned with
   * sorting off so that no other index can serve it; layout.ts, migration 3), the
   * due part of `queue_timed` (the server time is one scalar computed once, so `due_at <= now` is
   * an index condition, not a filter over every job in flight), and the row to update by its full
   * primary key (`seq = (SELECT …)`, not a join, which stale statistics turned into a scan of the
   * queue's every row: 10,000 per claim behind a fresh backlog).
   */
  claim: `WITH t AS (SELECT S.now_ms() AS now),
    ready AS (SELECT job_seq AS seq, job_priority AS priority FROM S.first_ready($1, $2)),
    due AS (
      SELECT seq, priority FROM S.queue_jobs WHERE namespace = $1 AND queue = $2 AND state IN (1, 2) AND due_at <= (SELECT now FROM t)
      ORDER BY priority DESC, seq LIMIT 1 FOR UPDATE SKIP LOCKED),
    pick AS (SELECT seq FROM (SELECT * FROM ready UNION ALL SELECT * FROM due) AS c ORDER BY priority DESC, seq LIMIT 1)
    UPDATE S.queue_jobs AS j SET
      state = CASE WHEN $3::int IS NOT NULL AND j.attempts >= $3::int THEN 3 ELSE 2 END,
      attempts = CASE WHEN $3::int IS NOT NULL AND j.attempts >= $3::int THEN j.attempts ELSE j.attempts + 1 END,
      lease_id = CASE WHEN $3::int IS NOT NULL AND j.attempts >= $3::int THEN NULL ELSE $4 END,
      due_at = CASE WHEN $3::int IS NOT NULL AND j.attempts >= $3::int THEN NULL ELSE (SELECT now FROM t) + $5::bigint END
    WHERE j.namespace = $1 AND j.queue = $2 AND j.seq = (SELECT seq FROM pick)
    RETURNING j.seq, j.state, j.payload, j.priority, j.attempts, j.enqueued_at, j.due_at`,
  /** ($1 ns, $2 queue, $3 seq, $4 leaseId) → a row when the claim was current and the job is gone. */
  ack: `DELETE FROM S.queue_jobs WHERE namespace = $1 AND queue = $2 AND seq = $3 AND state = 2 AND lease_id = $4 RETURNING 1 AS done`,
  /** (…, $5 delayMs, $6 channel, $7 payload) → a row when the claim was current. */
  nack: `WITH u AS (
      UPDATE S.queue_jobs SET state = CASE WHEN $5::bigint > 0 THEN 1 ELSE 0 END,
        due_at = CASE WHEN $5::bigint > 0 THEN S.now_ms() + $5::bigint ELSE NULL END, lease_id = NULL
      WHERE namespace = $1 AND queue = $2 AND seq = $3 AND state = 2 AND lease_id = $4 RETURNING 1)
    SELECT 1 AS done FROM u, (SELECT pg_notify($6, $7)::text AS n) AS nt`,
  /** (…, $5 leaseMs) → the new lease end when the claim was current. */
  extend: `UPDATE S.queue_jobs SET due_at = S.now_ms() + $5::bigint
    WHERE namespace = $1 AND queue = $2 AND seq = $3 AND state = 2 AND lease_id = $4 RETURNING due_at`,
  /** ($1 ns, $2 queue) → counts. */
  counts: `SELECT
      count(*) FILTER (WHERE state = 0 OR (state IN (1, 2) AND due_at <= t.now)) AS waiting,
      count(*) FILTER (WHERE state = 2 AND due_at > t.now) AS in_flight,
      count(*) FILTER (WHERE state = 1 AND due_at > t.now) AS delayed,
      count(*) FILTER (WHERE state = 3) AS dead
    FROM S.queue_jobs, (SELECT S.now_ms() AS now) AS t WHERE namespace = $1 AND queue = $2`,
  /** ($1 ns, $2 queue, $3 afterSeq, $4 state | null, $5 limit) → job rows in sequence order. */
  jobs: `SELECT * FROM (
      SELECT seq, payload, priority, attempts, enqueued_at, due_at,
        CASE WHEN state = 3 THEN 'dead' WHEN state = 0 OR due_at <= t.now THEN 'waiting' WHEN state = 1 THEN 'delayed' ELSE 'in-flight' END AS st
      FROM S.queue_jobs, (SELECT S.now_ms() AS now) AS t WHERE namespace = $1 AND queue = $2 AND seq > $3) AS x
    WHERE $4::text IS NULL OR st = $4::text ORDER BY seq LIMIT $5`,
  /** ($1 ns, $2 queue, $3 seq, $4 channel, $5 payload) → a row when a dead letter went back to waiting. */
  retryDead: `WITH u AS (
      UPDATE S.queue_jobs SET state = 0, attempts = 0, due_at = NULL, lease_id = NULL
      WHERE namespace = $1 AND queue = $2 AND seq = $3 AND state = 3 RETURNING 1)
    SELECT 1 AS done FROM u, (SELECT pg_notify($4, $5)::text AS n) AS nt`,
  /** ($1 ns, $2 queue, $3 seq) → a row when a dead letter was deleted. */
  deleteDead: `DELETE FROM S.queue_jobs WHERE namespace = $1 AND queue = $2 AND seq = $3 AND state = 3 RETURNING 1 AS done`,
  /** ($1 ns) → names of queues holding a job: a skip scan of the primary key, one probe per name. */
  names: `WITH RECURSIVE n AS (
      (SELECT queue FROM S.queue_jobs WHERE namespace = $1 ORDER BY queue LIMIT 1)
      UNION ALL
      SELECT (SELECT queue FROM S.queue_jobs WHERE namespace = $1 AND queue > n.queue ORDER BY queue LIMIT 1) FROM n WHERE n.queue IS NOT NULL)
    SELECT queue FROM n WHERE queue IS NOT NULL`,
  /** ($1 ns, $2 queue) → the earliest due_at of the queue's timed jobs and now (for wakeup timers). */
  nextDue: `SELECT min(due_at) AS due, S.now_ms() AS now FROM S.queue_jobs WHERE namespace = $1 AND queue = $2 AND state IN (1, 2) AND due_at > $3`,
};

type Statements = typeof RAW;

/** @internal The claim statement on `schema` (tests EXPLAIN it). */
export function claimStatement(schema: string): string {
  return inSchema(RAW.claim, schema);
}

interface JobRow {
  seq: number;
  payload: string;
  priority: number;
  attempts: number;
  enqueued_at: number;
  due_at: number | null;
}

const DEAD = 3;

/** The job id of a sequence, and back (null for an id this backend never issued). */
const idOf = (seq: number) => String(seq);
function seqOf(id: string): number | null {
  if (!/^[1-9][0-9]{0,15}$/.test(id)) return null;
  const seq = Number(id);
  return Number.isSafeInteger(seq) ? seq : null;
}

export class PostgresQueues implements NativeQueues {
  readonly #sql: Statements;

  constructor(
    private readonly context: () => Context,
    schema: string,
  ) {
    this.#sql = Object.fromEntries(Object.entries(RAW).map(([k, v]) => [k, inSchema(v, schema)])) as Statements;
  }

  async enqueue(queue: string, job: { json: string; priority: number; delayMs?: number }): Promise<{ id: string; sequence: number }> {
    const c = this.context();
    const rows = await c.db.query<{ seq: number }>(this.#sql.enqueue, [c.namespace, queue, job.priority, job.delayMs ?? 0, job.json, c.channel, queuePayload(queue)]);
    const sequence = rows[0]!.seq;
    return { id: idOf(sequence), sequence };
  }

  async claim(queue: string, options: { leaseMs: number; owner: string; maxAttempts?: number }): Promise<ClaimedJob | null> {
    const c = this.context();
    for (;;) {
      const leaseId = randomUUID();
      const rows = await c.db.query<JobRow & { state: number }>(this.#sql.claim, [c.namespace, queue, options.maxAttempts ?? null, leaseId, options.leaseMs]);
      const row = rows[0];
      if (row === undefined) return null;
      if (row.state === DEAD) continue;
      return {
        id: idOf(row.seq),
        json: row.payload,
        priority: row.priority,
        sequence: row.seq,
        attempts: row.attempts,
        leaseId,
        leaseUntil: row.due_at!,
        enqueuedAt: row.enqueued_at,
      };
    }
  }

  async settle(queue: string, id: string, leaseId: string, action: SettleAction): Promise<boolean> {
    const seq = seqOf(id);
    if (seq === null) return false;
    const c = this.context();
    const base = [c.namespace, queue, seq, leaseId];
    if (action.kind === 'ack') return (await c.db.query(this.#sql.ack, base)).length > 0;
    if (action.kind === 'extend') return (await c.db.query(this.#sql.extend, [...base, action.leaseMs])).length > 0;
    return (await c.db.query(this.#sql.nack, [...base, action.delayMs, c.channel, queuePayload(queue)])).length > 0;
  }

  async counts(queue: string): Promise<QueueCounts> {
    const c = this.context();
    const row = (await c.db.query<{ waiting: number; in_flight: number; delayed: number; dead: number }>(this.#sql.counts, [c.namespace, queue]))[0]!;
    return { waiting: row.waiting, inFlight: row.in_flight, delayed: row.delayed, dead: row.dead };
  }

  async jobs(queue: string, options: { state?: QueueJobRecord['state']; afterSequence?: number; limit: number }): Promise<QueueJobRecord[]> {
    const c = this.context();
    const rows = await c.db.query<JobRow & { st: QueueJobRecord['state'] }>(this.#sql.jobs, [
      c.namespace,
      queue,
      options.afterSequence ?? 0,
      options.state ?? null,
      options.limit,
    ]);
    return rows.map((row) => {
      const job: QueueJobRecord = {
        id: idOf(row.seq),
        json: row.payload,
        priority: row.priority,
        sequence: row.seq,
        attempts: row.attempts,
        enqueuedAt: row.enqueued_at,
        state: row.st,
      };
      if ((row.st === 'delayed' || row.st === 'in-flight') && row.due_at !== null) job.visibleAt = row.due_at;
      return job;
    });
  }

  async reviveDead(queue: string, id: string, action: 'retry' | 'delete'): Promise<boolean> {
    const seq = seqOf(id);
    if (seq === null) return false;
    const c = this.context();
    if (action === 'delete') return (await c.db.query(this.#sql.deleteDead, [c.namespace, queue, seq])).length > 0;
    return (await c.db.query(this.#sql.retryDead, [c.namespace, queue, seq, c.channel, queuePayload(queue)])).length > 0;
  }

  async names(): Promise<string[]> {
    const c = this.context();
    return (await c.db.query<{ queue: string }>(this.#sql.names, [c.namespace])).map((r) => r.queue);
  }

  /**
   * The queue's next delayed job or lease end after `after` (epoch ms on the server's clock) and
   * the milliseconds until it; undefined when there is none.
   */
  async nextDueIn(queue: string, after: number): Promise<{ due: number; inMs: number } | undefined> {
    const c = this.context();
    const row = (await c.db.query<{ due: number | string | null; now: number | string }>(this.#sql.nextDue, [c.namespace, queue, after]))[0]!;
    if (row.due === null) return undefined;
    const due = Number(row.due);
    return { due, inMs: Math.max(0, due - Number(row.now)) };
  }
}
