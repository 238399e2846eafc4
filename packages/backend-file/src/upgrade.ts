/**
 * The coordination part of the upgrade from the first-wave format (see format.ts): queues,
 * channels, mailboxes and logs that a first-wave client (or core's portable path) kept as
 * ordinary `@q/…`, `@ch/…`, `@mail/…`, `@log/…` entries move into the native layout, so that
 * nothing waiting in them is lost when the native families take over. Each item is written
 * natively under a name made from its sequence (doing it twice puts it in the same place), then
 * its entry is deleted; a crash in between is finished by the next open, which runs this again
 * because the format marker is written only after it.
 */
import { isExpired, type JsonValue, type LogRecord } from '@agent-state/core';
import { firstWaveJob, firstWaveJobState } from '@agent-state/core/backend';
import { listPage } from './list.js';
import type { FileLogs } from './logs.js';
import type { FileQueues } from './queues.js';
import type { Store } from './context.js';

const PAGE = 500;
const JOB = /^@q\/(.+)\/(j|dead)\/[^/]+$/;
const QUEUE_SEQ = /^@q\/(.+)\/seq$/;
const MESSAGE = /^@((?:ch|mail|log)\/.+)\/m\/(\d+)$/;
const LOG_SEQ = /^@((?:ch|mail|log)\/.+)\/seq$/;

/** Moves portable coordination entries into the native layout; returns how many moved. */
export function moveCoordinationEntries(store: Store, queues: FileQueues, logs: FileLogs): number {
  let moved = 0;
  for (const prefix of ['@q/', '@ch/', '@mail/', '@log/']) {
    const logHeads = new Map<string, { last: number; records: LogRecord[]; keys: string[] }>();
    const done: string[] = [];
    let after: string | undefined;
    for (;;) {
      const { entries } = listPage(store, { prefix, ...(after !== undefined && { after }), limit: PAGE });
      if (entries.length === 0) break;
      after = entries[entries.length - 1]!.key;
      const now = Date.now();
      for (const entry of entries) {
        if (entry.expiresAt !== undefined && isExpired(entry.expiresAt, now)) continue;
        let m: RegExpExecArray | null;
        if ((m = JOB.exec(entry.key))) {
          const job = firstWaveJob(entry.value);
          if (!job) continue;
          const { state, dueAt } = firstWaveJobState(job, m[2] === 'dead', now);
          queues.importJob(m[1]!, {
            sequence: job.sequence,
            priority: job.priority,
            enqueuedAt: job.enqueuedAt,
            json: JSON.stringify(job.payload),
            attempts: job.attempts,
            state,
            visibleAt: dueAt ?? job.visibleAt,
          });
          done.push(entry.key);
        } else if ((m = QUEUE_SEQ.exec(entry.key))) {
          if (typeof entry.value === 'number') queues.importSequence(m[1]!, entry.value);
          done.push(entry.key);
        } else if ((m = MESSAGE.exec(entry.key))) {
          const head = logHeads.get(m[1]!) ?? { last: 0, records: [], keys: [] };
          logHeads.set(m[1]!, head);
          // Channels and mailboxes keep the record itself (its time is the entry's); user logs `{ at, record }`.
          const wrapped = m[1]!.startsWith('log/');
          const value = entry.value as { at?: number; record?: JsonValue };
          const record = wrapped ? value.record ?? null : entry.value;
          const at = wrapped && typeof value.at === 'number' ? value.at : entry.updatedAt;
          head.records.push({ seq: Number(m[2]), at, json: JSON.stringify(record) });
          head.keys.push(entry.key);
        } else if ((m = LOG_SEQ.exec(entry.key))) {
          const head = logHeads.get(m[1]!) ?? { last: 0, records: [], keys: [] };
          logHeads.set(m[1]!, head);
          if (typeof entry.value === 'number') head.last = entry.value;
          head.keys.push(entry.key);
        }
      }
    }
    for (const [log, head] of logHeads) {
      logs.importRecords(log, head.last, head.records);
      done.push(...head.keys);
    }
    for (const key of done) {
      const files = store.layout.data(key);
      store.removeDoc(files, undefined);
      moved++;
    }
  }
  return moved;
}
