/**
 * Reads, writes, deletes, list pages and increments of entries. Each function is synchronous and
 * all-or-nothing (one statement or one transaction), so BusyRetry may run it again after
 * SQLITE_BUSY. The fast paths are one statement; the checks that need more (who won a
 * compare-and-set race, what the actual version is) run only when the fast path fails, under the
 * write lock, so the version a ConflictError reports is the one that made it fail.
 */
import {
  ConflictError,
  CorruptDataError,
  assertLeaseHeld,
  makeEntry,
  type BackendDeleteOptions,
  type BackendWriteOptions,
  type Entry,
  type ExpectedVersion,
  type JsonValue,
  type ListPageRequest,
  type LockLease,
  type RepairReport,
} from '@agent-state/core';
import { checksumOf, damageOf, rowLocation, rowToEntry } from './codec.js';
import type { Scope } from './context.js';

/** Above every character a key may hold (keys are ASCII), so `prefix + HIGH` bounds a prefix range. */
const HIGH = '\u{10FFFF}';

/** The live entry of `key`, or null. */
export function readEntry(s: Scope, key: string, now: number): Entry | null {
  const row = s.st.readEntry.get(s.namespace, key, now);
  return row === undefined ? null : rowToEntry(key, row, s.path, s.namespace);
}

/** Several entries from one snapshot. */
export function readEntries(s: Scope, keys: readonly string[], now: number): (Entry | null)[] {
  if (keys.length === 1) return [readEntry(s, keys[0]!, now)];
  return s.snapshot(() => keys.map((key) => readEntry(s, key, now)));
}

/** One page of live entries in key order (BINARY collation = code-unit order for ASCII keys). */
export function listEntries(s: Scope, request: ListPageRequest, now: number): Entry[] {
  const prefix = request.prefix ?? '';
  const rows = s.st.listEntries.all(s.namespace, request.after ?? '', prefix, prefix + HIGH, now, request.limit);
  return rows.map(([key, ...row]) => rowToEntry(key, row, s.path, s.namespace));
}

/** Throws `LockLostError` unless `fence` is the live lease of its resource. */
export function assertFence(s: Scope, fence: LockLease, now: number): void {
  const row = s.st.readLock.get(s.namespace, fence.resource);
  const current = row && { resource: fence.resource, owner: row[0], token: row[1], expiresAt: row[2] };
  assertLeaseHeld(fence, current, now);
}

/**
 * Writes `options.json` to `key` honoring `ifVersion`; `fence` is checked in the same
 * transaction. `locked` = already inside a write transaction. The returned entry holds `value`
 * itself (core has checked it is plain JSON and serialized it to `options.json`): parsing the
 * text back only to return a copy would cost every write a parse.
 */
export function writeEntry(s: Scope, key: string, value: JsonValue, options: BackendWriteOptions, now: number, locked = false): Entry {
  if (options.fence && !locked) {
    const fence = options.fence;
    return s.immediate(() => {
      assertFence(s, fence, now);
      return writeEntry(s, key, value, options, now, true);
    });
  }
  const { json, ifVersion } = options;
  const checksum = checksumOf(json);
  const expiresAt = options.ttlMs === undefined ? null : now + options.ttlMs;
  let version: number | undefined;
  if (ifVersion === undefined) version = s.st.upsert.get(s.namespace, key, json, s.namespace, checksum, now, expiresAt);
  else if (ifVersion === 'absent') version = s.st.insertIfAbsent.get(s.namespace, key, json, s.namespace, checksum, now, expiresAt);
  else version = s.st.updateIfVersion.get(json, checksum, now, expiresAt, s.namespace, key, ifVersion, now, now);
  if (version !== undefined) return makeEntry(key, value, version, now, expiresAt);
  // The check failed: look again under the write lock, where nothing can change in between.
  if (!locked) return s.immediate(() => writeEntry(s, key, value, options, now, true));
  throw conflict(s, key, ifVersion!, now);
}

/** Deletes `key` honoring `ifVersion` and `fence`; true when a live entry was deleted. */
export function deleteEntry(s: Scope, key: string, options: BackendDeleteOptions, now: number, locked = false): boolean {
  const { ifVersion, fence } = options;
  if ((fence || ifVersion === 'absent') && !locked) {
    return s.immediate(() => {
      if (fence) assertFence(s, fence, now);
      return deleteEntry(s, key, options, now, true);
    });
  }
  if (ifVersion === undefined) return deleteAny(s, key, now);
  if (ifVersion === 'absent') {
    // Succeeds only when there is nothing live; an expired row is removed on the way.
    if (s.st.readVersion.get(s.namespace, key, now) !== undefined) throw conflict(s, key, ifVersion, now);
    deleteAny(s, key, now);
    return false;
  }
  if (s.st.deleteIfVersion.get(s.namespace, key, ifVersion, now, now) !== undefined) return true;
  if (!locked) return s.immediate(() => deleteEntry(s, key, options, now, true));
  throw conflict(s, key, ifVersion, now);
}

function deleteAny(s: Scope, key: string, now: number): boolean {
  const row = s.st.deleteEntry.get(s.namespace, key, now);
  if (row === undefined) return false;
  const expiresAt = row[0];
  return expiresAt === null || expiresAt > now;
}

/**
 * The error of a compare-and-set that did not match (the slow path, under the write lock): a
 * `ConflictError` with the actual version, or `CorruptDataError` when the live row it met is
 * damaged (an `'absent'` check never reads the value, so it is checked here).
 */
function conflict(s: Scope, key: string, expected: ExpectedVersion, now: number): ConflictError {
  const actual = s.st.readVersion.get(s.namespace, key, now);
  if (actual !== undefined) {
    const row = s.st.rawEntry.get(s.namespace, key);
    const damage = row && damageOf(row[0], row[1]);
    if (damage !== undefined) throw new CorruptDataError(rowLocation(s.path, s.namespace, key), damage);
  }
  return new ConflictError(key, expected, actual ?? 'absent');
}

/**
 * Adds `by` to the number at `key` (absent or expired = 0), keeping its TTL; returns the new
 * value. One statement (see agent_state_add in functions.ts): no read-then-write round trip and
 * no compare-and-set retries under contention.
 */
export function incrementEntry(s: Scope, key: string, by: number, now: number): number {
  const json = JSON.stringify(by);
  return JSON.parse(s.st.increment.get(s.namespace, key, json, s.namespace, checksumOf(json), now, by, by)!) as number;
}

/**
 * Removes the entry of `key` if it is damaged (the only way past one) and says what was wrong
 * with it; a sound or absent key is left alone. The delete raises the version floor like any
 * delete (schema trigger).
 */
export function repairEntry(s: Scope, key: string): RepairReport {
  return s.immediate(() => {
    const row = s.st.rawEntry.get(s.namespace, key);
    if (row === undefined) return { key, removed: false };
    const [json, checksum] = row;
    const damage = damageOf(json, checksum);
    if (damage === undefined) return { key, removed: false };
    s.st.removeEntry.run(s.namespace, key);
    return { key, removed: true, damage: `${rowLocation(s.path, s.namespace, key)}: ${damage}` };
  });
}

/** Removes up to `limit` expired entries and the expired lock rows of the namespace. */
export function sweepExpired(s: Scope, now: number, limit: number): void {
  s.st.sweepEntries.run(s.namespace, now, limit);
  s.st.sweepLocks.run(s.namespace, now);
}
