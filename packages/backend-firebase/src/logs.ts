/**
 * Native append-only logs on the Realtime Database.
 *
 * One node per log (`/<ns>~g/~<log>`, see layout.ts):
 *
 * ```
 * n     { s: last seq, lo: every seq <= lo is trimmed, b: { s<seq>: { j, at } } the newest records,
 *         fl?: { by, until } the current flush claim }
 * r/s<seq>  { j, at }   older records
 * ```
 *
 * **Append is one transaction on `n`**: it takes the next seqs and stores the records in the
 * buffer `b` in the same atomic step, so a seq is never handed out without its record (no gap a
 * reader could see, nothing to recover after a crash) and the record is durable once the server
 * accepted the transaction. `n` stays small: when `b` holds more than {@link BUFFER_MAX}
 * records, the append that noticed takes the flush claim `fl` (in the same transaction) and
 * then moves the oldest records to `r/`: first it writes them there, then a second transaction
 * on `n` drops them from `b`. A record is in `b`, in `r`, or briefly in both (readers merge by
 * seq), never in neither. The claim makes the flusher the only client that copies records out
 * of `b`, so a flushed record missing from `b` by the time it drops them was trimmed or removed
 * meanwhile, and the flusher deletes its copy in `r/`. A crashed flusher's claim runs out after
 * {@link FLUSH_CLAIM_MS} and the next append takes over.
 *
 * **Trim** raises `lo` in one transaction on `n` (dropping buffered records at or below it), then
 * deletes the `r/` records at or below it; readers ignore anything at or below `lo` in between.
 * `s` never goes down, so `lastSeq` survives trims. Trimmed and removed records leave nothing.
 */
import { randomBytes } from 'node:crypto';
import type { LogRecord, LogTrim, NativeLogs } from '@agent-state/core';
import type { DataSnapshot } from 'firebase-admin/database';
import type { Connection } from './connection.js';
import type { Mirror, Mirrors } from './mirror.js';
import { childName, keyOfChild, pad, type NativePaths } from './layout.js';
import { runTransaction } from './run-transaction.js';

/** Records kept in `n/b` before the oldest are flushed to `r/`. */
export const BUFFER_MAX = 24;
/** Records left in `b` by a flush. */
const BUFFER_KEEP = 8;
/** Trimmed records an append leaves in `r/` before it deletes them in one update. */
const DELETE_BATCH = 16;
/** How long a flush claim holds. */
export const FLUSH_CLAIM_MS = 10_000;

interface Rec {
  j: string;
  at: number;
}

interface HeadNode {
  s: number;
  lo: number;
  b?: Record<string, Rec>;
  fl?: { by: string; until: number };
}

const recKey = (seq: number): string => `s${pad(seq, 15)}`;
const seqOfKey = (key: string): number => Number(key.slice(1));

function asHead(raw: unknown): HeadNode {
  const h = (raw ?? {}) as Partial<HeadNode>;
  const head: HeadNode = { s: typeof h.s === 'number' ? h.s : 0, lo: typeof h.lo === 'number' ? h.lo : 0 };
  if (h.b && typeof h.b === 'object') head.b = { ...h.b };
  if (h.fl) head.fl = h.fl;
  return head;
}

export class FirebaseLogs implements NativeLogs {
  readonly #connection: Connection;
  readonly #paths: NativePaths;
  readonly #mirrors: Mirrors;
  readonly #registered = new Set<string>();

  constructor(connection: Connection, paths: NativePaths, mirrors: Mirrors) {
    this.#connection = connection;
    this.#paths = paths;
    this.#mirrors = mirrors;
  }

  path(log: string): string {
    return `${this.#paths.logs}/${childName(log)}`;
  }

  /**
   * The listener on the log's head node `n` (every append changes it: `notify` uses it).
   * Heads and records have a listener each, rather than one on the log node: a transaction on
   * `n` then starts from that node's own listener, which firebase-server keeps up to date
   * before it acknowledges a write (with a listener on the parent it may acknowledge first, and
   * the next append would re-run once on stale data).
   */
  mirror(log: string): Mirror {
    return this.#mirrors.get(`${this.path(log)}/n`);
  }

  /**
   * The head and the records as one state of the database: both listeners are on one
   * connection, which applies the server's pushes in order, so together they are always a
   * prefix of the server's changes. `fresh` adds a read barrier.
   */
  async #view(log: string, fresh = true): Promise<View> {
    const head = this.mirror(log);
    const records = this.#mirrors.get(`${this.path(log)}/r`);
    await Promise.all([head.local(), records.local()]);
    if (fresh) await this.#connection.sync();
    return { head: head.current().val(), r: records.current() };
  }

  async append(
    log: string,
    records: string[],
    options?: { retention?: { maxAgeMs?: number; maxLen?: number } },
  ): Promise<{ seq: number; at: number }[]> {
    await this.#register(log);
    const mirror = this.mirror(log);
    await mirror.local();
    const token = randomBytes(6).toString('hex');
    const maxLen = options?.retention?.maxLen;
    const maxAgeMs = options?.retention?.maxAgeMs;
    // Flushed records past the age, as this client knows them: folded into the same transaction.
    const agedUpTo = maxAgeMs === undefined ? 0 : newestFlushedBefore((await this.#view(log, false)).r, this.#connection.now() - maxAgeMs);
    const result = await runTransaction(this.#connection, `${this.path(log)}/n`, (raw, now) => {
      const head = asHead(raw);
      const buffer = head.b ?? {};
      const out: { seq: number; at: number }[] = [];
      for (const json of records) {
        head.s++;
        buffer[recKey(head.s)] = { j: json, at: now };
        out.push({ seq: head.s, at: now });
      }
      const oldLo = head.lo;
      if (maxLen !== undefined) head.lo = Math.max(head.lo, head.s - maxLen);
      // Age retention in the same step, from the buffer: records are appended in seq order at
      // (about) increasing times, so every record up to the newest too-old buffered one is too old.
      if (maxAgeMs !== undefined) head.lo = Math.max(head.lo, Math.min(agedUpTo, head.s), newestBefore(buffer, now - maxAgeMs));
      dropUpTo(buffer, head.lo);
      let flush: string[] = [];
      const keys = Object.keys(buffer).sort();
      if (keys.length > BUFFER_MAX && (!head.fl || head.fl.until <= now)) {
        flush = keys.slice(0, keys.length - BUFFER_KEEP);
        head.fl = { by: token, until: now + FLUSH_CLAIM_MS };
      }
      head.b = buffer;
      return { next: head, result: { out, oldLo, newLo: head.lo, flush: flush.map((k) => [k, buffer[k]!] as const) } };
    });
    // Batched: records at or below lo are invisible already; `trim` always deletes them all.
    if (result.newLo > result.oldLo) await this.#deleteUpTo(log, result.newLo, DELETE_BATCH);
    if (result.flush.length > 0) await this.#flush(log, token, result.flush);
    return result.out;
  }

  async read(log: string, options: { after: number; limit: number }): Promise<LogRecord[]> {
    return recordsOf(await this.#view(log), options.after, options.limit);
  }

  async lastSeq(log: string): Promise<number> {
    return asHead((await this.mirror(log).fresh()).val()).s;
  }

  async trim(log: string, trim: LogTrim): Promise<number> {
    const snapshot = await this.#view(log);
    const head = asHead(snapshot.head);
    let target: number;
    if ('before' in trim) target = trim.before - 1;
    else if ('keepLast' in trim) target = head.s - trim.keepLast;
    else {
      const cutoff = this.#connection.now() - trim.olderThanMs;
      target = head.lo;
      for (const record of recordsOf(snapshot, head.lo, Number.MAX_SAFE_INTEGER)) {
        if (record.at >= cutoff) break;
        target = record.seq;
      }
    }
    if (target <= head.lo) {
      // Nothing new to trim; records an append left below the mark still go.
      await this.#deleteUpTo(log, head.lo);
      return 0;
    }
    const dropped = recordsOf(snapshot, head.lo, Number.MAX_SAFE_INTEGER).filter((r) => r.seq <= target).length;
    const { oldLo, newLo } = await runTransaction(this.#connection, `${this.path(log)}/n`, (raw) => {
      const current = asHead(raw);
      const oldLo = current.lo;
      if (target <= current.lo) return { keep: true, result: { oldLo, newLo: oldLo } };
      current.lo = Math.min(target, current.s);
      if (current.b) dropUpTo(current.b, current.lo);
      return { next: current, result: { oldLo, newLo: current.lo } };
    });
    if (newLo > oldLo) await this.#deleteUpTo(log, newLo);
    return dropped;
  }

  async remove(log: string, seqs: readonly number[]): Promise<number> {
    if (seqs.length === 0) return 0;
    const snapshot = await this.#view(log);
    const head = asHead(snapshot.head);
    const wanted = new Set(seqs.filter((s) => s > head.lo));
    const inBuffer = await runTransaction(this.#connection, `${this.path(log)}/n`, (raw) => {
      const current = asHead(raw);
      const found: number[] = [];
      for (const seq of wanted) {
        const key = recKey(seq);
        if (current.b?.[key]) {
          delete current.b[key];
          found.push(seq);
        }
      }
      return found.length > 0 ? { next: current, result: found } : { keep: true, result: found };
    });
    const deletes: Record<string, null> = {};
    const existed = new Set(inBuffer);
    for (const seq of wanted) {
      if (snapshot.r.child(recKey(seq)).exists()) {
        deletes[recKey(seq)] = null;
        existed.add(seq);
      }
    }
    if (Object.keys(deletes).length > 0) await this.#update(`${this.path(log)}/r`, deletes);
    return existed.size;
  }

  async names(prefix: string): Promise<string[]> {
    const registry = await this.#mirrors.get(`${this.#paths.names}/g`).fresh();
    const names: string[] = [];
    registry.forEach((child) => {
      const name = child.key === null ? undefined : keyOfChild(child.key);
      if (name !== undefined && name.startsWith(prefix)) names.push(name);
    });
    const held: string[] = [];
    for (const name of names.sort()) {
      if (recordsOf(await this.#view(name), 0, 1).length > 0) held.push(name);
    }
    return held;
  }

  /** Copies buffered records to `r/`, then drops them from `b`; copies of records gone meanwhile are deleted. */
  async #flush(log: string, token: string, records: readonly (readonly [string, Rec])[]): Promise<void> {
    const base = this.path(log);
    await this.#update(`${base}/r`, Object.fromEntries(records));
    const gone = await runTransaction(this.#connection, `${base}/n`, (raw) => {
      const head = asHead(raw);
      const missing: string[] = [];
      for (const [key] of records) {
        if (head.b?.[key]) delete head.b[key];
        else missing.push(key);
      }
      if (head.fl?.by === token) delete head.fl;
      return { next: head, result: missing };
    });
    if (gone.length > 0) await this.#update(`${base}/r`, Object.fromEntries(gone.map((k) => [k, null])));
  }

  /**
   * Deletes every `r/` record at or below `lo` that this client knows of (a prefix of `r`, so the
   * cost is the number deleted). One a lagging copy missed goes with the next trim.
   */
  async #deleteUpTo(log: string, lo: number, atLeast = 1): Promise<void> {
    const { r } = await this.#view(log, false);
    const deletes: Record<string, null> = {};
    r.forEach((child) => {
      if (child.key === null) return false;
      if (seqOfKey(child.key) > lo) return true;
      deletes[child.key] = null;
      return false;
    });
    if (Object.keys(deletes).length >= atLeast) await this.#update(`${this.path(log)}/r`, deletes);
  }

  async #register(log: string): Promise<void> {
    if (this.#registered.has(log)) return;
    await this.#update(`${this.#paths.names}/g`, { [childName(log)]: true });
    this.#registered.add(log);
  }

  async #update(path: string, values: Record<string, unknown>): Promise<void> {
    await this.#connection.bounded(this.#connection.ref(path).update(values), `update of ${path}`);
  }
}

function dropUpTo(buffer: Record<string, Rec>, lo: number): void {
  for (const key of Object.keys(buffer)) if (seqOfKey(key) <= lo) delete buffer[key];
}

/** A log as this client has it: the head node's value and the records node. */
interface View {
  head: unknown;
  r: DataSnapshot;
}

/** The live records of a log view with seq > after, oldest first, at most `limit`. */
function recordsOf(snapshot: View, after: number, limit: number): LogRecord[] {
  const head = asHead(snapshot.head);
  const from = Math.max(after, head.lo);
  const bySeq = new Map<number, LogRecord>();
  snapshot.r.forEach((child) => {
    if (child.key === null) return false;
    const seq = seqOfKey(child.key);
    if (seq <= from) return false;
    if (bySeq.size >= limit) return true;
    const rec = child.val() as Rec;
    bySeq.set(seq, { seq, at: rec.at, json: rec.j });
    return false;
  });
  for (const [key, rec] of Object.entries(head.b ?? {})) {
    const seq = seqOfKey(key);
    if (seq > from && seq <= head.s) bySeq.set(seq, { seq, at: rec.at, json: rec.j });
  }
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq).slice(0, limit);
}

/** The highest seq of the leading run of flushed records older than `cutoff` (0 when none). */
function newestFlushedBefore(r: DataSnapshot, cutoff: number): number {
  let seq = 0;
  r.forEach((child) => {
    const rec = child.val() as Rec | null;
    if (child.key === null || !rec || rec.at >= cutoff) return true;
    seq = seqOfKey(child.key);
    return false;
  });
  return seq;
}

/** The highest seq in `buffer` of a record older than `cutoff` (0 when none). */
function newestBefore(buffer: Record<string, Rec>, cutoff: number): number {
  let seq = 0;
  for (const [key, rec] of Object.entries(buffer)) if (rec.at < cutoff) seq = Math.max(seq, seqOfKey(key));
  return seq;
}
