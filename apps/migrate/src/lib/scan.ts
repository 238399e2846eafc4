import type { Entry, JsonValue } from '@agent-state/core';
import { jobLeaseIsLive, kindOf, type EntryKind } from './entries.js';

/** Counts and sizes of what a migration would copy (`--dry-run` prints exactly this). */
export interface ScanStats {
  /** Live entries to copy. */
  entries: number;
  /** Serialized size of their values, in bytes (UTF-8 JSON). */
  bytes: number;
  /** Entries with a time to live. */
  withTtl: number;
  /** The largest value, in bytes. */
  largestValueBytes: number;
  /** Entries per category: user keys, queue jobs, dead letters, counters, agents, mail, channel messages. */
  byKind: Record<EntryKind, number>;
  /** Queue jobs currently claimed (they are copied back to pending). */
  leasedJobs: number;
  /** Claimed jobs whose lease has not ended: a consumer is working on them right now. */
  liveJobLeases: number;
  /** The first few of those jobs' keys. */
  liveJobLeaseKeys: string[];
  /** Native queue jobs and log records (outside the keys; absent when the backend has none). */
  native?: { queues: number; jobs: number; deadLetters: number; logs: number; records: number };
}

/** An accumulator of {@link ScanStats}, fed entry by entry. */
export class Scanner {
  readonly stats: ScanStats = {
    entries: 0,
    bytes: 0,
    withTtl: 0,
    largestValueBytes: 0,
    byKind: { user: 0, job: 0, deadLetter: 0, counter: 0, agent: 0, mail: 0, channel: 0, otherCoordination: 0 },
    leasedJobs: 0,
    liveJobLeases: 0,
    liveJobLeaseKeys: [],
  };

  constructor(private readonly now = Date.now()) {}

  /** Counts one entry; `json` is its serialized value when the caller already has it. */
  add(entry: Pick<Entry, 'key' | 'value' | 'expiresAt'>, json?: string): void {
    const s = this.stats;
    const size = Buffer.byteLength(json ?? JSON.stringify(entry.value));
    s.entries++;
    s.bytes += size;
    if (size > s.largestValueBytes) s.largestValueBytes = size;
    if (entry.expiresAt !== undefined) s.withTtl++;
    const kind = kindOf(entry.key);
    s.byKind[kind]++;
    if (kind === 'job' && isClaimed(entry.value)) {
      s.leasedJobs++;
      if (jobLeaseIsLive(entry.key, entry.value, this.now) && s.liveJobLeases++ < 10) s.liveJobLeaseKeys.push(entry.key);
    }
  }
}

function isClaimed(value: JsonValue): boolean {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && value['lease'] != null;
}
