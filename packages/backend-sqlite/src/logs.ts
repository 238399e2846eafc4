/**
 * Native append-only logs on two tables (layout.ts): `log_records`, one row per record keyed by
 * (namespace, log, seq), and `logs`, one row per log with the last seq (kept across trims), the
 * time of the last append and the retention the appender asked for.
 *
 * An append is one `BEGIN IMMEDIATE` transaction: bump the log row's counter by the number of
 * records, insert them, trim by retention. The seq is handed out and the record written in the
 * same transaction, so a crash leaves both or neither: readers never see a gap. `at` never goes
 * backwards within a log (the later of the clock and the last append), so records in seq order
 * are in time order, and trimming by age is a range at the start of the log.
 */
import type Database from 'better-sqlite3';
import type { LogRecord, LogTrim, NativeLogs } from '@agent-state/core';
import type { LocalWake, Runner } from './queues.js';
import type { Scope } from './context.js';
import { statementMakers, type Returning } from './statements.js';

/** Above every character a name may hold (names follow the ASCII key grammar). */
const HIGH = '\u{10FFFF}';

/** The log statements of one connection. */
export interface LogStatements {
  /**
   * (namespace, log, count, now, maxAgeMs, maxLen, count, setRetention) → [lastSeq, at]: reserves
   * `count` seqs, ending at lastSeq.
   */
  reserve: Returning<[number, number]>;
  /** (namespace, log, seq, at, json). */
  insert: Database.Statement<unknown[]>;
  /** (namespace, log, after, limit) → [seq, at, json][]. */
  read: Database.Statement<unknown[], [number, number, string]>;
  /** (namespace, log) → last seq. */
  lastSeq: Database.Statement<unknown[], number>;
  /** (namespace, log, before) → records dropped: every seq < before. */
  trimBefore: Database.Statement<unknown[]>;
  /** (namespace, log, cutoff) → the first seq with at >= cutoff (everything before it is older). */
  firstSince: Database.Statement<unknown[], number>;
  /** (namespace, log, keep) → the seq of the newest record that does not fit in `keep`. */
  beyondNewest: Database.Statement<unknown[], number>;
  /** (namespace, log) → the oldest record's at. */
  oldestAt: Database.Statement<unknown[], number>;
  /** (namespace, log, seq) → 1 when the record existed. */
  remove: Returning<number>;
  /** (namespace, after, low, high) → the next log name holding a record within [low, high). */
  nextName: Database.Statement<unknown[], string>;
  /** (namespace) → [log, maxAgeMs] of logs that asked for an age retention. */
  aged: Database.Statement<unknown[], [string, number]>;
}

export function prepareLogStatements(db: Database.Database): LogStatements {
  const { row, one, oneBack, rowBack } = statementMakers(db);
  const log = 'namespace = ? AND log = ?';
  return {
    reserve: rowBack(
      `INSERT INTO logs (namespace, log, last_seq, last_at, max_age_ms, max_len) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (namespace, log) DO UPDATE SET
         last_seq = last_seq + ?,
         last_at = max(last_at, excluded.last_at),
         max_age_ms = CASE WHEN ? THEN excluded.max_age_ms ELSE max_age_ms END,
         max_len = CASE WHEN ? THEN excluded.max_len ELSE max_len END
       RETURNING last_seq, last_at`,
    ),
    insert: db.prepare(`INSERT INTO log_records (namespace, log, seq, at, json) VALUES (?, ?, ?, ?, ?)`),
    read: row(`SELECT seq, at, json FROM log_records WHERE ${log} AND seq > ? ORDER BY seq LIMIT ?`),
    lastSeq: one(`SELECT last_seq FROM logs WHERE ${log}`),
    trimBefore: db.prepare(`DELETE FROM log_records WHERE ${log} AND seq < ?`),
    firstSince: one(`SELECT seq FROM log_records WHERE ${log} AND at >= ? ORDER BY seq LIMIT 1`),
    beyondNewest: one(`SELECT seq FROM log_records WHERE ${log} ORDER BY seq DESC LIMIT 1 OFFSET ?`),
    oldestAt: one(`SELECT at FROM log_records WHERE ${log} ORDER BY seq LIMIT 1`),
    remove: oneBack(`DELETE FROM log_records WHERE ${log} AND seq = ? RETURNING 1`),
    nextName: one(`SELECT log FROM log_records WHERE namespace = ? AND log > ? AND log >= ? AND log < ? ORDER BY log LIMIT 1`),
    aged: row(`SELECT log, max_age_ms FROM logs WHERE namespace = ? AND max_age_ms IS NOT NULL`),
  };
}

/** Drops every record with seq < before; returns how many. */
function trimBefore(s: Scope, log: string, before: number): number {
  return s.ls.trimBefore.run(s.namespace, log, before).changes;
}

/** Drops records older than `cutoff` (a range at the start: `at` grows with seq). */
function trimOlder(s: Scope, log: string, cutoff: number): number {
  const first = s.ls.firstSince.get(s.namespace, log, cutoff);
  return trimBefore(s, log, first ?? Number.MAX_SAFE_INTEGER);
}

/** Keeps the newest `keep` records (by count, so removed seqs are not counted). */
function keepNewest(s: Scope, log: string, keep: number): number {
  const beyond = s.ls.beyondNewest.get(s.namespace, log, keep);
  return beyond === undefined ? 0 : trimBefore(s, log, beyond + 1);
}

export class SqliteLogs implements NativeLogs {
  constructor(
    private readonly run: Runner,
    private readonly wake: LocalWake,
    /** Called once a log asks for an age retention, so the client starts its sweep. */
    private readonly onAgeRetention: () => void,
  ) {}

  async append(
    log: string,
    records: string[],
    options?: { retention?: { maxAgeMs?: number; maxLen?: number } },
  ): Promise<{ seq: number; at: number }[]> {
    if (records.length === 0) return [];
    const retention = options?.retention;
    const out = await this.run((s) =>
      s.immediate(() => {
        const n = records.length;
        const set = retention !== undefined ? 1 : 0;
        const [last, at] = s.ls.reserve.get(s.namespace, log, n, Date.now(), retention?.maxAgeMs ?? null, retention?.maxLen ?? null, n, set, set)!;
        const first = last - n + 1;
        const result: { seq: number; at: number }[] = [];
        for (let i = 0; i < n; i++) {
          s.ls.insert.run(s.namespace, log, first + i, at, records[i]);
          result.push({ seq: first + i, at });
        }
        if (retention?.maxAgeMs !== undefined) trimOlder(s, log, at - retention.maxAgeMs);
        const maxLen = retention?.maxLen;
        if (maxLen !== undefined) {
          // Exact trims by count cost a walk of maxLen index entries, so they run when the seq
          // crosses a multiple of `every`: the log holds at most maxLen + every records.
          const every = Math.max(1, Math.floor(maxLen / 8));
          if (Math.floor(last / every) !== Math.floor((first - 1) / every)) keepNewest(s, log, maxLen);
        }
        return result;
      }),
    );
    if (retention?.maxAgeMs !== undefined) this.onAgeRetention();
    this.wake('log', log);
    return out;
  }

  read(log: string, options: { after: number; limit: number }): Promise<LogRecord[]> {
    return this.run((s) => s.ls.read.all(s.namespace, log, options.after, options.limit).map(([seq, at, json]) => ({ seq, at, json })));
  }

  lastSeq(log: string): Promise<number> {
    return this.run((s) => s.ls.lastSeq.get(s.namespace, log) ?? 0);
  }

  trim(log: string, trim: LogTrim): Promise<number> {
    return this.run((s) =>
      s.immediate(() => {
        if ('before' in trim) return trimBefore(s, log, trim.before);
        if ('keepLast' in trim) return keepNewest(s, log, trim.keepLast);
        return trimOlder(s, log, Date.now() - trim.olderThanMs);
      }),
    );
  }

  remove(log: string, seqs: readonly number[]): Promise<number> {
    if (seqs.length === 0) return Promise.resolve(0);
    return this.run((s) =>
      s.immediate(() => {
        let removed = 0;
        for (const seq of new Set(seqs)) if (s.ls.remove.get(s.namespace, log, seq) !== undefined) removed++;
        return removed;
      }),
    );
  }

  names(prefix: string): Promise<string[]> {
    return this.run((s) =>
      s.snapshot(() => {
        const names: string[] = [];
        const high = prefix + HIGH;
        for (let name = s.ls.nextName.get(s.namespace, '', prefix, high); name !== undefined; name = s.ls.nextName.get(s.namespace, name, prefix, high)) {
          names.push(name);
        }
        return names;
      }),
    );
  }
}

/**
 * The retention sweep: trims every log of the namespace that asked for an age retention and
 * holds a record past it. Reads first (one probe per log) and takes the write lock only when
 * something is due, so an idle store costs no writes. Returns the records dropped.
 */
export function sweepLogs(s: Scope, now: number): number {
  const due = s.ls.aged.all(s.namespace).filter(([log, maxAgeMs]) => {
    const oldest = s.ls.oldestAt.get(s.namespace, log);
    return oldest !== undefined && oldest < now - maxAgeMs;
  });
  if (due.length === 0) return 0;
  return s.immediate(() => due.reduce((n, [log, maxAgeMs]) => n + trimOlder(s, log, now - maxAgeMs), 0));
}
