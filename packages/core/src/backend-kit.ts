/**
 * Small pieces every backend needs, written once: version checks, fence checks, lease rules,
 * entry construction and key order. Backends that run their logic in JavaScript (memory, file,
 * SQLite) call these; backends that run it server-side (Redis Lua) mirror them.
 */
import { ConflictError, LockLostError } from './errors.js';
import type { JobRecord } from './coordination/portable/portable-queues.js';
import type { Entry, ExpectedVersion, JsonValue, LockLease } from './types.js';

/** Throws `ConflictError` unless `actual` (null = absent) satisfies `expected`. */
export function assertVersion(key: string, expected: ExpectedVersion | undefined, actual: number | null): void {
  if (expected === undefined) return;
  if (expected === 'absent' ? actual === null : actual === expected) return;
  throw new ConflictError(key, expected, actual ?? 'absent');
}

/** True when a stored lease is held by someone: present and not expired at `now`. */
export function leaseIsLive(lease: Pick<LockLease, 'expiresAt'> | undefined | null, now = Date.now()): boolean {
  return lease !== undefined && lease !== null && lease.expiresAt > now;
}

/**
 * Throws `LockLostError` unless `current` (the stored lease of `fence.resource`) is the very
 * lease `fence` names and is still live.
 */
export function assertLeaseHeld(fence: LockLease, current: LockLease | undefined | null, now = Date.now()): void {
  if (!current || current.owner !== fence.owner || current.token !== fence.token) {
    throw new LockLostError(fence.resource, fence.token, 'it was taken over or released');
  }
  if (current.expiresAt <= now) throw new LockLostError(fence.resource, fence.token, 'its lease expired');
}

/** Builds an entry, leaving `expiresAt` out when there is none. */
export function makeEntry(key: string, value: JsonValue, version: number, updatedAt: number, expiresAt?: number | null): Entry {
  const entry: Entry = { key, value, version, updatedAt };
  if (expiresAt !== undefined && expiresAt !== null) entry.expiresAt = expiresAt;
  return entry;
}

/** Key order used by `list` on every backend: UTF-16 code-unit order (what `<` does on strings). */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** True when `key` belongs on a list page for `prefix`/`after`. */
export function keyInPage(key: string, prefix: string | undefined, after: string | undefined): boolean {
  return (prefix === undefined || key.startsWith(prefix)) && (after === undefined || key > after);
}

/**
 * A queue job as the first wave stored it under `@q/<queue>/j/<id>` (and `/dead/<id>`): the
 * portable queues' record (the same layout), of whose lease an upgrade needs only id and end.
 */
export type FirstWaveJob = Omit<JobRecord, 'lease'> & { lease: Pick<NonNullable<JobRecord['lease']>, 'id' | 'until'> | null };

/** What a first-wave job becomes in a native queue. */
export type FirstWaveJobState = 'waiting' | 'delayed' | 'in-flight' | 'dead';

const isInt = (x: unknown): x is number => Number.isSafeInteger(x);

/**
 * Reads a first-wave job record for a store-format upgrade: the record, or `undefined` when it is
 * not one (the upgrade then leaves the entry where it is, for a read to report).
 */
export function firstWaveJob(value: unknown): FirstWaveJob | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const v = value as Record<string, unknown>;
  if (!isInt(v.priority) || !isInt(v.sequence) || v.sequence < 1 || !isInt(v.attempts) || !isInt(v.enqueuedAt) || !isInt(v.visibleAt)) return undefined;
  const l = v.lease as Record<string, unknown> | null | undefined;
  const lease = typeof l === 'object' && l !== null && typeof l.id === 'string' && isInt(l.until) ? { id: l.id, until: l.until } : null;
  return { payload: (v.payload ?? null) as JsonValue, priority: v.priority, sequence: v.sequence, attempts: v.attempts, enqueuedAt: v.enqueuedAt, visibleAt: v.visibleAt, lease };
}

/**
 * The native state of a first-wave job at `now`, and when that state ends (`dueAt`: the lease's
 * end for a job in flight, the delay's for a delayed one): dead letters stay dead, a live lease
 * stays in flight, a future `visibleAt` is a delay, anything else is waiting.
 */
export function firstWaveJobState(job: FirstWaveJob, dead: boolean, now: number): { state: FirstWaveJobState; dueAt: number | null } {
  if (dead) return { state: 'dead', dueAt: null };
  if (job.lease && job.lease.until > now) return { state: 'in-flight', dueAt: job.lease.until };
  if (job.visibleAt > now) return { state: 'delayed', dueAt: job.visibleAt };
  return { state: 'waiting', dueAt: null };
}

/**
 * What is wrong with a stored value kept as JSON text beside a checksum (`null`: none was
 * stored, then the text must parse), or undefined when it is sound. `checksumOf` is the
 * backend's own checksum function.
 */
export function storedValueDamage(json: unknown, checksum: unknown, checksumOf: (json: string) => unknown): string | undefined {
  if (typeof json !== 'string') return 'the value is not text';
  if (checksum !== null) return checksumOf(json) === checksum ? undefined : 'the value does not match its checksum';
  try {
    JSON.parse(json);
    return undefined;
  } catch {
    return 'the value is not valid JSON';
  }
}
