/**
 * Native append-only logs on two tables (layout.ts): `log_records`, one row per record keyed by
 * (namespace, log, seq), and `logs`, one row per log with the last seq (kept across trims), the
 * time of the last append and the age retention asked for.
 *
 * An append is ONE statement: bump the log row's counter by the number of records (an upsert,
 * so its row lock is held until the statement commits), insert the records under the seqs it
 * handed out, NOTIFY. No sequence object: a sequence's values survive a rollback and would leave
 * gaps; the counter row is rolled back with the records, and appends to one log commit in seq
 * order (each waits for the previous one's row lock), so a reader never sees a gap, not even
 * after a crash. `at` never goes backwards within a log (the later of the server's clock and the
 * last append), so records in seq order are in time order and an age trim is a range at the start.
 */
import type { LogRecord, LogTrim, NativeLogs } from '@agent-state/core';
import { logPayload, type Context } from './context.js';
import { inSchema } from './layout.js';

/** Above every character a name may hold (names follow the ASCII key grammar). */
const HIGH = '\u{10FFFF}';

const deleted = (where: string) => `WITH d AS (DELETE FROM S.log_records WHERE namespace = $1 AND log = $2 AND ${where} RETURNING 1) SELECT count(*) AS n FROM d`;

const RAW = {
  /** ($1 ns, $2 log, $3 count, $4 maxAgeMs | null, $5 set retention, $6 records[], $7 channel, $8 payload) → [seq, at]. */
  append: `WITH r AS (
      INSERT INTO S.logs AS l (namespace, log, last_seq, last_at, max_age_ms) VALUES ($1, $2, $3::bigint, S.now_ms(), $4::bigint)
      ON CONFLICT (namespace, log) DO UPDATE SET
        last_seq = l.last_seq + $3::bigint,
        last_at = greatest(l.last_at, EXCLUDED.last_at),
        max_age_ms = CASE WHEN $5::boolean THEN EXCLUDED.max_age_ms ELSE l.max_age_ms END
      RETURNING last_seq, last_at),
    ins AS (
      INSERT INTO S.log_records (namespace, log, seq, at, json)
      SELECT $1, $2, r.last_seq - $3::bigint + u.i, r.last_at, u.j FROM r, unnest($6::text[]) WITH ORDINALITY AS u(j, i)
      RETURNING seq, at)
    SELECT ins.seq, ins.at FROM ins, (SELECT pg_notify($7, $8)::text AS n) AS nt ORDER BY ins.seq`,
  /** ($1 ns, $2 log, $3 after, $4 limit). */
  read: `SELECT seq, at, json FROM S.log_records WHERE namespace = $1 AND log = $2 AND seq > $3 ORDER BY seq LIMIT $4`,
  lastSeq: `SELECT last_seq FROM S.logs WHERE namespace = $1 AND log = $2`,
  /** ($1, $2, $3 before) → n. */
  trimBefore: deleted('seq < $3'),
  /** ($1, $2, $3 maxAgeMs) → n. */
  trimOlder: deleted('at < S.now_ms() - $3::bigint'),
  /** ($1, $2, $3 keep) → n: everything but the newest `keep` records (by count). */
  keepNewest: deleted(`seq <= (SELECT seq FROM S.log_records WHERE namespace = $1 AND log = $2 ORDER BY seq DESC OFFSET $3 LIMIT 1)`),
  /** ($1, $2, $3 seqs[]) → n. */
  remove: deleted('seq = ANY($3::bigint[])'),
  /** ($1 ns, $2 low, $3 high) → names in [low, high) holding a record: a skip scan, one probe per name. */
  names: `WITH RECURSIVE n AS (
      (SELECT log FROM S.log_records WHERE namespace = $1 AND log >= $2 AND log < $3 ORDER BY log LIMIT 1)
      UNION ALL
      SELECT (SELECT log FROM S.log_records WHERE namespace = $1 AND log > n.log AND log < $3 ORDER BY log LIMIT 1) FROM n WHERE n.log IS NOT NULL)
    SELECT log FROM n WHERE log IS NOT NULL`,
  /** ($1 ns) → n: the age sweep of every log that asked for one. */
  sweep: `WITH d AS (
      DELETE FROM S.log_records AS r USING S.logs AS l
      WHERE l.namespace = $1 AND l.max_age_ms IS NOT NULL AND r.namespace = l.namespace AND r.log = l.log AND r.at < S.now_ms() - l.max_age_ms
      RETURNING 1)
    SELECT count(*) AS n FROM d`,
};

type Statements = typeof RAW;

export class PostgresLogs implements NativeLogs {
  readonly #sql: Statements;

  constructor(
    private readonly context: () => Context,
    schema: string,
    /** Called once a log asks for an age retention, so the client starts its sweep. */
    private readonly onAgeRetention: () => void,
  ) {
    this.#sql = Object.fromEntries(Object.entries(RAW).map(([k, v]) => [k, inSchema(v, schema)])) as Statements;
  }

  async append(log: string, records: string[], options?: { retention?: { maxAgeMs?: number; maxLen?: number } }): Promise<{ seq: number; at: number }[]> {
    if (records.length === 0) return [];
    const c = this.context();
    const retention = options?.retention;
    const n = records.length;
    const rows = await c.db.query<{ seq: number; at: number }>(this.#sql.append, [
      c.namespace,
      log,
      n,
      retention?.maxAgeMs ?? null,
      retention !== undefined,
      records,
      c.channel,
      logPayload(log),
    ]);
    const out = rows.map((r) => ({ seq: r.seq, at: r.at }));
    if (retention?.maxAgeMs !== undefined) {
      this.onAgeRetention();
      await this.#count(this.#sql.trimOlder, [c.namespace, log, retention.maxAgeMs]);
    }
    const maxLen = retention?.maxLen;
    if (maxLen !== undefined) {
      // An exact trim by count walks maxLen index entries, so it runs when the seq crosses a
      // multiple of `every`: the log holds at most maxLen + every records.
      const last = out[out.length - 1]!.seq;
      const every = Math.max(1, Math.floor(maxLen / 8));
      if (Math.floor(last / every) !== Math.floor((last - n) / every)) await this.#count(this.#sql.keepNewest, [c.namespace, log, maxLen]);
    }
    return out;
  }

  async read(log: string, options: { after: number; limit: number }): Promise<LogRecord[]> {
    const c = this.context();
    const rows = await c.db.query<{ seq: number; at: number; json: string }>(this.#sql.read, [c.namespace, log, options.after, options.limit]);
    return rows.map((r) => ({ seq: r.seq, at: r.at, json: r.json }));
  }

  async lastSeq(log: string): Promise<number> {
    const c = this.context();
    return (await c.db.query<{ last_seq: number }>(this.#sql.lastSeq, [c.namespace, log]))[0]?.last_seq ?? 0;
  }

  async trim(log: string, trim: LogTrim): Promise<number> {
    const ns = this.context().namespace;
    if ('before' in trim) return this.#count(this.#sql.trimBefore, [ns, log, trim.before]);
    if ('keepLast' in trim) return this.#count(this.#sql.keepNewest, [ns, log, trim.keepLast]);
    return this.#count(this.#sql.trimOlder, [ns, log, trim.olderThanMs]);
  }

  async remove(log: string, seqs: readonly number[]): Promise<number> {
    if (seqs.length === 0) return 0;
    return this.#count(this.#sql.remove, [this.context().namespace, log, [...new Set(seqs)]]);
  }

  async names(prefix: string): Promise<string[]> {
    const c = this.context();
    return (await c.db.query<{ log: string }>(this.#sql.names, [c.namespace, prefix, prefix + HIGH])).map((r) => r.log);
  }

  /** The age sweep of the namespace (every log that asked for one); returns the records dropped. */
  async sweep(): Promise<number> {
    return this.#count(this.#sql.sweep, [this.context().namespace]);
  }

  async #count(sql: string, values: unknown[]): Promise<number> {
    return (await this.context().db.query<{ n: number }>(sql, values))[0]!.n;
  }
}
