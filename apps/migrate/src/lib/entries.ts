import { createHash } from 'node:crypto';
import { ACTIVE_MARKER_KEY, type Entry, type JsonValue } from '@agent-state/core';

/**
 * What is copied and how. Every live entry of the namespace is copied with its value and its
 * remaining time to live; versions restart at 1 on the target (the contract has no way to set
 * a version, and none is needed: a version only orders writes within one store).
 */

/** Keys the migration itself keeps (source marker, target progress); never copied or compared. */
export const MIGRATION_PREFIX = '@migration/';
/** The lock resource a migration holds on its source. */
export const MIGRATION_LOCK = '@migration';
/** On the source while a migration runs (with a TTL, refreshed): `{ to, startedAt, runId }`. */
export const SOURCE_MARKER_KEY = ACTIVE_MARKER_KEY; // the key every client's migration fence reads
/** On the target until the copy is verified: `{ runId, from, cursor, copied }`, written in every batch. */
export const TARGET_PROGRESS_KEY = '@migration/progress';

const JOB_KEY = /^@q\/[^/]+\/j\/[^/]+$/;

/** The category an entry is counted under in reports. */
export type EntryKind = 'user' | 'job' | 'deadLetter' | 'counter' | 'agent' | 'mail' | 'channel' | 'otherCoordination';

/** Classifies a key by the coordination layout (see core's `coordination/layout.ts`). */
export function kindOf(key: string): EntryKind {
  if (!key.startsWith('@')) return 'user';
  if (JOB_KEY.test(key)) return 'job';
  if (/^@q\/[^/]+\/dead\//.test(key)) return 'deadLetter';
  if (/^@(q|ch|mail)\/[^/]+\/seq$/.test(key)) return 'counter';
  if (key.startsWith('@agents/')) return 'agent';
  if (key.startsWith('@mail/')) return 'mail';
  if (key.startsWith('@ch/')) return 'channel';
  return 'otherCoordination';
}

/** True for the migration's own bookkeeping keys. */
export function isMigrationKey(key: string): boolean {
  return key.startsWith(MIGRATION_PREFIX);
}

type JobLike = Record<string, JsonValue | undefined>;

/** True when `value` is a queue job currently claimed by a consumer whose lease has not ended. */
export function jobLeaseIsLive(key: string, value: JsonValue, now: number): boolean {
  if (!JOB_KEY.test(key) || value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const lease = (value as JobLike).lease as { until?: unknown } | null | undefined;
  return typeof lease?.until === 'number' && lease.until > now;
}

/**
 * The value as the target receives it. A claimed job belongs to a consumer of the old store
 * that can never ack it on the new one, so it goes back to pending: `lease: null` and visible
 * at once. `visibleAt` becomes the job's `enqueuedAt` (always in the past) rather than "now" so
 * the transformation is deterministic and `--verify` can recompute it; the claim stays counted
 * in `attempts`.
 */
export function prepareValue(key: string, value: JsonValue): JsonValue {
  if (!JOB_KEY.test(key) || value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const job = value as JobLike;
  if (job.lease === null || job.lease === undefined) return value;
  const enqueuedAt = typeof job.enqueuedAt === 'number' ? job.enqueuedAt : 0;
  return { ...(value as Record<string, JsonValue>), lease: null, visibleAt: enqueuedAt };
}

/** JSON with object keys sorted at every level: equal values give equal text on every backend. */
export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k] as JsonValue)}`).join(',')}}`;
}

/** Checksum of a value and whether it expires: what `--verify` compares on both sides. */
export function checksum(value: JsonValue, expires: boolean): string {
  return createHash('sha1')
    .update(canonicalJson(value))
    .update(expires ? '|ttl' : '|')
    .digest('hex');
}

/** Time left of an entry at `now`: `undefined` = no TTL, `<= 0` = already expired (skip it). */
export function remainingTtl(entry: Pick<Entry, 'expiresAt'>, now: number): number | undefined {
  return entry.expiresAt === undefined ? undefined : entry.expiresAt - now;
}
