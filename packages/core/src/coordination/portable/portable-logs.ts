import type { StateClient } from '../../client.js';
import type { Entry, JsonValue, LogRecord, LogTrim, NativeLogs } from '../../types.js';
import { logKeys } from '../layout.js';
import type { PortableNotify } from './portable-notify.js';

const PAGE = 256;
/** With `retention.maxLen`, every this many appends also trim (amortized). */
const TRIM_EVERY = 32;

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
  #appends = 0;

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
    const maxLen = options?.retention?.maxLen;
    if (maxLen !== undefined && ++this.#appends % TRIM_EVERY === 0) await this.trim(log, { keepLast: maxLen });
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

  async trim(log: string, trim: LogTrim): Promise<number> {
    const keys = logKeys(log);
    const wrapped = !isFirstWaveLog(log);
    const doomed: string[] = [];
    if ('keepLast' in trim) {
      const all: string[] = [];
      for await (const entry of this.state.list({ prefix: keys.messages })) all.push(entry.key);
      doomed.push(...all.slice(0, Math.max(0, all.length - trim.keepLast)));
    } else {
      const cutoff = 'olderThanMs' in trim ? Date.now() - trim.olderThanMs : undefined;
      for await (const entry of this.state.list({ prefix: keys.messages })) {
        const record = toRecord(entry, keys.messages.length, wrapped);
        if ('before' in trim ? record.seq >= trim.before : record.at >= cutoff!) break;
        doomed.push(entry.key);
      }
    }
    let removed = 0;
    for (const key of doomed) if (await this.state.delete(key)) removed++;
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
