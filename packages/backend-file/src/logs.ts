/**
 * Native append-only logs on files: one file per record, named by its zero-padded seq, beside a
 * `meta` record `{ last, first }` (the last seq ever appended, the lowest seq that may still be
 * there). A log `l` lives in `logs/<l segments>/#log/`.
 *
 * Append (under the log's mutex `#append.lock`, a few file operations long): write each record
 * file (fsynced), fsync the directory, then rewrite `meta` with the new `last` (one pwrite +
 * fdatasync). `meta` is the commit point: readers never look past `meta.last`, so a record file
 * a crashed appender left beyond it was never seen by anyone and the next appender removes it and
 * reuses its seq, so readers never see a gap a crash made. Trims and removals unlink record
 * files (holes are skipped), so nothing of a trimmed record stays behind, and `last` survives
 * every trim in `meta`.
 *
 * Why not segment files with framed records: a record per file makes a trim, a mailbox ack or a
 * retention drop one `unlink` each, with nothing left to compact, and a reader at the tail costs
 * one read of `meta`; the price is a file per retained record.
 */
import { readFileSync, readdirSync, unlinkSync } from 'node:fs';
import { CorruptDataError, InvalidValueError, compareKeys, type LogRecord, type LogTrim, type NativeLogs } from '@agent-state/core';
import { errnoOf, ioError, writeFileDurable } from './fs-io.js';
import { mutexOwner, nonce } from './mutex.js';
import { dirOf, segmentOfDir } from './layout.js';
import { readRecord, writeRecord } from './record-file.js';
import type { Store } from './context.js';

const p16 = (n: number): string => String(n).padStart(16, '0');
const RECORD = /^\d{16}$/;

interface Meta {
  /** Last seq ever appended (0: none). */
  last: number;
  /** Lowest seq that may still have a record (everything below is trimmed). */
  first: number;
}

/** The files of one log. */
class LogDirs {
  readonly root: string;
  readonly meta: string;
  readonly mutex: string;
  constructor(store: Store, name: string) {
    this.root = store.layout.family(store.layout.logsDir, name, '#log');
    this.meta = `${this.root}/meta`;
    this.mutex = `${this.root}/#append.lock`;
  }
  record(seq: number): string {
    return `${this.root}/${p16(seq)}`;
  }
}

function readMeta(dirs: LogDirs): Meta {
  const meta = readRecord<Partial<Meta>>(dirs.meta, 'log head');
  const last = Number.isInteger(meta?.last) ? meta!.last! : 0;
  const first = Number.isInteger(meta?.first) ? meta!.first! : 1;
  return { last, first };
}

/** One record file: `<at>\n<json>`; undefined when it is not there (trimmed or removed). */
function readRecordFile(path: string, seq: number): LogRecord | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return undefined;
    throw ioError(path, 'read log record', error);
  }
  const cut = text.indexOf('\n');
  const at = Number(text.slice(0, cut));
  if (cut < 1 || !Number.isFinite(at)) throw new CorruptDataError(path, `not an agent-state log record (${text.length} bytes)`);
  return { seq, at, json: text.slice(cut + 1) };
}

/** Unlinks a record file; true when it was there. */
function drop(path: string): boolean {
  try {
    unlinkSync(path);
    return true;
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return false;
    throw ioError(path, 'remove log record', error);
  }
}

/** The `NativeLogs` of a file store. */
export class FileLogs implements NativeLogs {
  readonly #dirs = new Map<string, LogDirs>();

  constructor(private readonly store: () => Store) {}

  dirsOf(log: string): LogDirs {
    let dirs = this.#dirs.get(log);
    if (!dirs) {
      dirs = new LogDirs(this.store(), log);
      if (this.#dirs.size > 10_000) this.#dirs.clear();
      this.#dirs.set(log, dirs);
    }
    return dirs;
  }

  async append(log: string, records: string[], options?: { retention?: { maxAgeMs?: number; maxLen?: number } }): Promise<{ seq: number; at: number }[]> {
    if (!Array.isArray(records) || records.some((r) => typeof r !== 'string')) throw new InvalidValueError('records', records, 'expected serialized records');
    const retention = options?.retention;
    if (retention?.maxLen !== undefined && (!Number.isInteger(retention.maxLen) || retention.maxLen < 0)) {
      throw new InvalidValueError('retention.maxLen', retention.maxLen, 'expected a whole number >= 0');
    }
    if (retention?.maxAgeMs !== undefined && (typeof retention.maxAgeMs !== 'number' || !(retention.maxAgeMs >= 0))) {
      throw new InvalidValueError('retention.maxAgeMs', retention.maxAgeMs, 'expected a number >= 0');
    }
    if (records.length === 0) return [];
    return this.#locked(log, (store, dirs) => {
      const meta = readMeta(dirs);
      // Record files past `last` were left by an appender that died before its commit point:
      // nobody ever saw them, so they go and their seqs are reused (no gap, no duplicate).
      for (let s = meta.last + 1; drop(dirs.record(s)); s++);
      const at = Date.now();
      const out: { seq: number; at: number }[] = [];
      for (const [i, json] of records.entries()) {
        const seq = meta.last + 1 + i;
        const path = dirs.record(seq);
        try {
          writeFileDurable(path, `${at}\n${json}`, store.durable);
        } catch (error) {
          throw ioError(path, 'write log record', error);
        }
        out.push({ seq, at });
      }
      if (store.durable) store.syncDir(dirs.root);
      const next: Meta = { last: meta.last + records.length, first: meta.first };
      if (retention?.maxLen !== undefined) next.first = this.#dropBelow(dirs, next, next.last - retention.maxLen + 1);
      if (retention?.maxAgeMs !== undefined) next.first = this.#dropOlder(dirs, next, at - retention.maxAgeMs);
      writeRecord(dirs.meta, next, store.durable, 'log head'); // the commit point (and the wakeup)
      return out;
    });
  }

  async read(log: string, options: { after: number; limit: number }): Promise<LogRecord[]> {
    const { after, limit } = options;
    if (!Number.isInteger(after) || after < 0) throw new InvalidValueError('after', after, 'expected a whole number >= 0');
    if (!Number.isInteger(limit) || limit < 1) throw new InvalidValueError('limit', limit, 'expected a whole number >= 1');
    const dirs = this.dirsOf(log);
    const meta = readMeta(dirs);
    const out: LogRecord[] = [];
    for (let seq = Math.max(after + 1, meta.first); seq <= meta.last && out.length < limit; seq++) {
      const record = readRecordFile(dirs.record(seq), seq);
      if (record) out.push(record);
    }
    return out;
  }

  async lastSeq(log: string): Promise<number> {
    return readMeta(this.dirsOf(log)).last;
  }

  async trim(log: string, trim: LogTrim): Promise<number> {
    const t = trim as Partial<{ before: number; keepLast: number; olderThanMs: number }>;
    const given = (['before', 'keepLast', 'olderThanMs'] as const).filter((k) => t[k] !== undefined);
    if (given.length !== 1) throw new InvalidValueError('trim', trim, 'expected exactly one of before, keepLast, olderThanMs');
    const field = given[0]!;
    const value = t[field]!;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (field !== 'olderThanMs' && !Number.isInteger(value))) {
      throw new InvalidValueError(`trim.${field}`, value, 'expected a whole number >= 0');
    }
    if (!(await this.#exists(log))) return 0;
    return this.#locked(log, (store, dirs) => {
      const meta = readMeta(dirs);
      let removed = 0;
      const count = (path: string): boolean => {
        const gone = drop(path);
        if (gone) removed++;
        return gone;
      };
      const next: Meta = { ...meta };
      if (field === 'olderThanMs') next.first = this.#dropOlder(dirs, meta, Date.now() - value, count);
      else next.first = this.#dropBelow(dirs, meta, field === 'before' ? value : meta.last - value + 1, count);
      if (next.first !== meta.first) writeRecord(dirs.meta, next, store.durable, 'log head');
      return removed;
    });
  }

  async remove(log: string, seqs: readonly number[]): Promise<number> {
    if (!Array.isArray(seqs) || seqs.some((s) => !Number.isInteger(s) || s < 1)) throw new InvalidValueError('seqs', seqs, 'expected whole numbers >= 1');
    if (seqs.length === 0 || !(await this.#exists(log))) return 0;
    return this.#locked(log, (store, dirs) => {
      const meta = readMeta(dirs);
      let removed = 0;
      for (const seq of new Set(seqs)) if (seq >= meta.first && seq <= meta.last && drop(dirs.record(seq))) removed++;
      // Skip the holes at the front, so a reader from the start does not probe them again.
      let first = meta.first;
      while (first <= meta.last && readRecordFile(dirs.record(first), first) === undefined) first++;
      if (first !== meta.first) writeRecord(dirs.meta, { ...meta, first }, store.durable, 'log head');
      return removed;
    });
  }

  async names(prefix: string): Promise<string[]> {
    const store = this.store();
    const out: string[] = [];
    const walk = (dir: string, keyPrefix: string): void => {
      let entries: string[];
      try {
        entries = readdirSync(dir);
      } catch (error) {
        if (errnoOf(error) === 'ENOENT' || errnoOf(error) === 'ENOTDIR') return;
        throw ioError(dir, 'read log directory', error);
      }
      for (const name of entries) {
        if (name === '#log') {
          if (keyPrefix !== '' && holdsRecord(`${dir}/#log`)) out.push(keyPrefix.slice(0, -1));
          continue;
        }
        const segment = name.includes('#') ? undefined : segmentOfDir(name);
        if (segment === undefined) continue;
        const under = `${keyPrefix}${segment}/`;
        if (!under.startsWith(prefix) && !prefix.startsWith(under)) continue;
        walk(`${dir}/${name}`, under);
      }
    };
    const cut = prefix.lastIndexOf('/');
    if (cut >= 0) walk(dirOf(store.layout.logsDir, prefix.slice(0, cut)), prefix.slice(0, cut + 1));
    else walk(store.layout.logsDir, '');
    return out.filter((n) => n.startsWith(prefix)).sort(compareKeys);
  }

  /**
   * Writes records taken over from the portable layout (the store upgrade, see upgrade.ts) under
   * their own seqs, and the head: `last` at least `lastSeq`. Idempotent.
   */
  importRecords(log: string, lastSeq: number, records: LogRecord[]): void {
    const store = this.store();
    const dirs = this.dirsOf(log);
    store.dirs.ensure(dirs.root);
    const meta = readMeta(dirs);
    for (const r of records) {
      const path = dirs.record(r.seq);
      try {
        writeFileDurable(path, `${r.at}\n${r.json}`, store.durable);
      } catch (error) {
        throw ioError(path, 'write log record', error);
      }
    }
    if (store.durable) store.syncDir(dirs.root);
    const last = Math.max(meta.last, lastSeq, ...records.map((r) => r.seq));
    const present = records.map((r) => r.seq);
    const first = meta.last === 0 ? (present.length > 0 ? Math.min(...present) : last + 1) : meta.first;
    writeRecord(dirs.meta, { last, first }, store.durable, 'log head');
  }

  /** Unlinks records below `before`; returns the new `first`. */
  #dropBelow(dirs: LogDirs, meta: Meta, before: number, onDrop: (path: string) => boolean = drop): number {
    const end = Math.min(before, meta.last + 1);
    for (let seq = meta.first; seq < end; seq++) onDrop(dirs.record(seq));
    return Math.max(meta.first, end);
  }

  /** Unlinks records appended before `cutoff` (epoch ms) from the front; returns the new `first`. */
  #dropOlder(dirs: LogDirs, meta: Meta, cutoff: number, onDrop: (path: string) => boolean = drop): number {
    let seq = meta.first;
    for (; seq <= meta.last; seq++) {
      const record = readRecordFile(dirs.record(seq), seq);
      if (record === undefined) continue;
      if (record.at >= cutoff) break;
      onDrop(dirs.record(seq));
    }
    return seq;
  }

  async #exists(log: string): Promise<boolean> {
    return readRecord(this.dirsOf(log).meta, 'log head') !== undefined;
  }

  async #locked<T>(log: string, fn: (store: Store, dirs: LogDirs) => T): Promise<T> {
    const store = this.store();
    const dirs = this.dirsOf(log);
    store.dirs.ensure(dirs.root);
    await store.mutexes.acquireOrWait(dirs.mutex, dirs.root, mutexOwner(nonce()));
    try {
      return fn(store, dirs);
    } finally {
      store.mutexes.release(dirs.mutex);
    }
  }
}

/** True when a log directory still holds a record file. */
function holdsRecord(root: string): boolean {
  try {
    return readdirSync(root).some((n) => RECORD.test(n));
  } catch {
    return false;
  }
}
