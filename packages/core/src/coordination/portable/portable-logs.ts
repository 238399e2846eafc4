import type { StateClient } from '../../client.js';
import type { Entry, JsonValue, LogRecord, LogTrim, NativeLogs } from '../../types.js';
import { logKeys } from '../layout.js';
import type { PortableNotify } from './portable-notify.js';

const PAGE = 256;
/** With a retention, every this many appends to a log also sweep it (amortized). */
const TRIM_EVERY = 32;
/** Deletes in flight at once during a trim. */
const DELETE_BATCH = 16;

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}

/**
 * Logs built on the key contract: the counter `@<log>/seq` and each record `@<log>/m/<n>`
 * are written in one transaction, so every number up to the counter exists (until trimmed or
 * expired) and commit order is seq order: a reader never sees a gap that a later record fills.
 *
 * Channels (`ch/…`) and mailboxes (`mail/…`) keep the first-wave value shape (the record itself;
 * its time is the entry's `updatedAt`), so stores written by the first wave read unchanged.
 * Other logs store `{ at, record }` so that `at` is exactly what `append` returned.
 * Retention by age is the entry's TTL: the backend's own expiry sweeps it.
 */
export class PortableLogs implements NativeLogs {
  /** Appends per log since this client last swept it. */
  readonly #sinceSweep = new Map<string, number>();

  constructor(
    private readonly state: StateClient,
    private readonly notify: PortableNotify,
  ) {}

  async append(
    log: string,
    records: string[],
    options?: { retention?: { maxAgeMs?: number; maxLen?: number } },
  ): Promise<{ seq: number; at: number }[]> {
    const keys = logKeys(log);
    const wrapped = !isFirstWaveLog(log);
    const values = records.map((json) => JSON.parse(json) as JsonValue);
    const ttlMs = options?.retention?.maxAgeMs;
    const out = await this.state.transaction(
      async (tx) => {
        const head = ((await tx.read(keys.seq))?.value as number | undefined) ?? 0;
        const at = Date.now();
        tx.write(keys.seq, head + values.length);
        const appended = values.map((value, i) => {
          const seq = head + 1 + i;
          tx.write(keys.message(seq), wrapped ? { at, record: value } : value, ttlMs !== undefined ? { ttlMs } : undefined);
          return { seq, at };
        });
        return appended;
      },
      { maxRetries: 10_000 },
    );
    this.notify.wake({ kind: 'log', name: log });
    // Retention without a sweeper process: every TRIM_EVERY appends, the appender sweeps (one
    // page of reads when nothing is due), so expired records never pile up in storage.
    const retention = options?.retention;
    if (retention?.maxAgeMs !== undefined || retention?.maxLen !== undefined) {
      const since = (this.#sinceSweep.get(log) ?? 0) + records.length;
      if (since >= TRIM_EVERY) {
        this.#sinceSweep.delete(log);
        if (retention.maxAgeMs !== undefined) await this.trim(log, { olderThanMs: retention.maxAgeMs });
        if (retention.maxLen !== undefined) await this.trim(log, { keepLast: retention.maxLen });
      } else this.#sinceSweep.set(log, since);
    }
    return out;
  }

  async read(log: string, options: { after: number; limit: number }): Promise<LogRecord[]> {
    const keys = logKeys(log);
    const out: LogRecord[] = [];
    const wrapped = !isFirstWaveLog(log);
    for await (const entry of this.state.list({ prefix: keys.messages, after: keys.message(options.after), limit: options.limit })) {
      out.push(toRecord(entry, keys.messages.length, wrapped));
    }
    return out;
  }

  async lastSeq(log: string): Promise<number> {
    return ((await this.state.read(logKeys(log).seq))?.value as number | undefined) ?? 0;
  }

  /**
   * Sweeps by seq from the log's low-water mark (`@<log>/low`) rather than by listing, because
   * a record whose retention TTL ran out is invisible to `list` yet may still hold storage on
   * the backend: deleting it by key removes that storage. So one trim leaves nothing behind of
   * the records it covers, expired or not.
   */
  async trim(log: string, trim: LogTrim): Promise<number> {
    const keys = logKeys(log);
    const wrapped = !isFirstWaveLog(log);
    const last = await this.lastSeq(log);
    // Without a mark (a new log, or one written by the first wave) the sweep starts at 1, once.
    const stored = (await this.state.read(keys.low))?.value as number | undefined;
    const low = stored ?? 1;
    let end: number; // delete seqs in [low, end)
    if ('before' in trim) end = Math.min(trim.before, last + 1);
    else if ('keepLast' in trim) {
      // keepLast counts records that exist, newest first.
      end = last + 1;
      let kept = 0;
      for (let hi = last; hi >= low && kept < trim.keepLast; hi -= PAGE) {
        const from = Math.max(low, hi - PAGE + 1);
        const seqs = range(from, hi + 1).reverse();
        const entries = await this.state.readMany(seqs.map((n) => keys.message(n)));
        for (let i = 0; i < seqs.length && kept < trim.keepLast; i++) {
          if (entries[i]) {
            kept++;
            end = seqs[i]!;
          }
        }
      }
      if (kept < trim.keepLast) end = low; // fewer records than keepLast: nothing to drop
    } else {
      const cutoff = Date.now() - trim.olderThanMs;
      end = low;
      scan: for (let from = low; from <= last; from += PAGE) {
        const seqs = range(from, Math.min(last + 1, from + PAGE));
        const entries = await this.state.readMany(seqs.map((n) => keys.message(n)));
        for (let i = 0; i < seqs.length; i++) {
          const entry = entries[i];
          if (entry && toRecord(entry, keys.messages.length, wrapped).at >= cutoff) break scan;
          end = seqs[i]! + 1;
        }
      }
    }
    let removed = 0;
    for (let from = low; from < end; from += DELETE_BATCH) {
      const batch = range(from, Math.min(end, from + DELETE_BATCH));
      const done = await Promise.all(batch.map((n) => this.state.delete(keys.message(n))));
      removed += done.filter(Boolean).length;
    }
    if (end > low || stored === undefined) await this.state.write(keys.low, Math.max(low, end));
    return removed;
  }

  async remove(log: string, seqs: readonly number[]): Promise<number> {
    const keys = logKeys(log);
    let removed = 0;
    for (const seq of new Set(seqs)) if (await this.state.delete(keys.message(seq))) removed++;
    return removed;
  }

  async names(prefix: string): Promise<string[]> {
    const names = new Set<string>();
    let after: string | undefined;
    for (;;) {
      let n = 0;
      for await (const entry of this.state.list({ prefix: `@${prefix}`, limit: PAGE, ...(after !== undefined && { after }) })) {
        n++;
        after = entry.key;
        const at = entry.key.lastIndexOf('/m/');
        if (at > 0) names.add(entry.key.slice(1, at));
      }
      if (n < PAGE) break;
    }
    return [...names].sort();
  }
}

/** Channels and mailboxes keep the first-wave record shape. */
function isFirstWaveLog(log: string): boolean {
  return log.startsWith('ch/') || log.startsWith('mail/');
}

function toRecord(entry: Entry, prefixLength: number, wrapped: boolean): LogRecord {
  const seq = Number(entry.key.slice(prefixLength));
  if (wrapped) {
    const { at, record } = entry.value as { at: number; record: JsonValue };
    return { seq, at, json: JSON.stringify(record) };
  }
  return { seq, at: entry.updatedAt, json: JSON.stringify(entry.value) };
}
