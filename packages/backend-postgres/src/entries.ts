/**
 * Reads, writes, deletes, list pages, increments and repairs of entries.
 *
 * Reads are one autocommit SELECT (one snapshot, so `readMany` never mixes two commits). A plain
 * write is one INSERT … ON CONFLICT statement (sql.ts `upsertFast`), a compare-and-set on a version
 * one UPDATE (`updateIfVersion`); when either finds nothing to do it falls through to the checked path. Everything with a check
 * (ifVersion, fence, increment, delete, repair, and a plain write over a row the fast path would
 * not touch) is one READ COMMITTED transaction that first takes the key's advisory lock, then
 * locks the row (FOR UPDATE), checks, writes and NOTIFYs: all or nothing, and nobody changes the
 * key in between (the advisory lock also covers a key that does not exist yet).
 */
import {
  InvalidValueError,
  assertLeaseHeld,
  assertVersion,
  makeEntry,
  type BackendDeleteOptions,
  type BackendWriteOptions,
  type Entry,
  type JsonValue,
  type ListPageRequest,
  type LockLease,
  type RepairReport,
} from '@agent-state/core';
import { assertIntact, checksumOf, damageOf, rowLocation, rowToEntry, type EntryRow } from './codec.js';
import type { Query } from './connection.js';
import { entryLockName, keyPayload, type Context } from './context.js';

/** Above every character a key may hold (keys are ASCII), so `prefix + HIGH` bounds a prefix range. */
const HIGH = '\u{10FFFF}';

const where = (c: Context, key: string) => () => rowLocation(c.target, c.namespace, key);

export async function readEntry(c: Context, key: string): Promise<Entry | null> {
  const rows = await c.db.query<EntryRow & { key: string }>(c.sql.read, [c.namespace, key]);
  const row = rows[0];
  return row === undefined ? null : rowToEntry(key, row, where(c, key));
}

export async function readEntries(c: Context, keys: readonly string[]): Promise<(Entry | null)[]> {
  if (keys.length === 1) return [await readEntry(c, keys[0]!)];
  const rows = await c.db.query<EntryRow & { key: string }>(c.sql.readMany, [c.namespace, [...new Set(keys)]]);
  const byKey = new Map(rows.map((row) => [row.key, row]));
  return keys.map((key) => {
    const row = byKey.get(key);
    return row === undefined ? null : rowToEntry(key, row, where(c, key));
  });
}

export async function listEntries(c: Context, request: ListPageRequest): Promise<Entry[]> {
  const prefix = request.prefix ?? '';
  const rows = await c.db.query<EntryRow & { key: string }>(c.sql.list, [c.namespace, request.after ?? '', prefix, prefix + HIGH, request.limit]);
  return rows.map((row) => rowToEntry(row.key, row, where(c, row.key)));
}

/** The state of one key inside a transaction that holds its advisory lock. */
export interface Current {
  row: EntryRow | undefined;
  live: boolean;
  /** The namespace's version floor, read with the row. */
  floor: number;
}

/** Locks the advisory names (sorted by hash) and returns the server's now. */
export async function lockNames(q: Query, c: Context, names: string[]): Promise<number> {
  const rows = await q<{ now: number }>(c.sql.lockNames, [names]);
  return rows[0]!.now;
}

/** The stored rows of `keys`, row-locked, with the version floor (one statement); `live` per the transaction's now. */
export async function currentRows(q: Query, c: Context, keys: string[], now: number): Promise<Map<string, Current>> {
  const rows = await q<Omit<EntryRow, 'version'> & { key: string; version: number | null; floor: number }>(c.sql.rowsForUpdate, [c.namespace, keys]);
  const out = new Map<string, Current>();
  for (const { floor, ...row } of rows) {
    if (row.version === null) out.set(row.key, { row: undefined, live: false, floor });
    else out.set(row.key, { row: row as EntryRow, live: row.expires_at === null || row.expires_at > now, floor });
  }
  return out;
}

/** The version a write gives a key: +1 over a live row, else above both the old row and the floor. */
export function nextVersion(current: Current): number {
  if (current.live) return current.row!.version + 1;
  return Math.max((current.row?.version ?? 0) + 1, current.floor + 1);
}

/** Throws LockLostError unless `fence` is the live lease of its resource (share-locks the lease row). */
export async function assertFence(q: Query, c: Context, fence: LockLease, now: number): Promise<void> {
  const rows = await q<{ owner: string; token: number; expires_at: number }>(c.sql.lockRowShare, [c.namespace, fence.resource]);
  const row = rows[0];
  assertLeaseHeld(fence, row && { resource: fence.resource, owner: row.owner, token: row.token, expiresAt: row.expires_at }, now);
}

export async function writeEntry(c: Context, key: string, value: JsonValue, options: BackendWriteOptions): Promise<Entry> {
  const { json, ifVersion, fence, ttlMs } = options;
  const checksum = checksumOf(json);
  if (ifVersion === undefined && fence === undefined) {
    const rows = await c.db.query<{ version: number; updated_at: number; expires_at: number | null }>(c.sql.upsertFast, [
      c.namespace,
      key,
      json,
      checksum,
      ttlMs ?? null,
      c.channel,
      keyPayload(key),
      entryLockName(c.namespace, key),
    ]);
    const row = rows[0];
    if (row) return makeEntry(key, value, row.version, row.updated_at, row.expires_at);
  } else if (typeof ifVersion === 'number' && fence === undefined) {
    const rows = await c.db.query<{ version: number; updated_at: number; expires_at: number | null }>(c.sql.updateIfVersion, [
      c.namespace,
      key,
      json,
      checksum,
      ttlMs ?? null,
      ifVersion,
      c.channel,
      keyPayload(key),
    ]);
    const row = rows[0];
    if (row) return makeEntry(key, value, row.version, row.updated_at, row.expires_at);
  }
  return c.db.tx(async (q) => {
    const now = await lockNames(q, c, [entryLockName(c.namespace, key)]);
    if (fence) await assertFence(q, c, fence, now);
    const current = (await currentRows(q, c, [key], now)).get(key)!;
    if (current.live) assertIntact(current.row!, where(c, key));
    assertVersion(key, ifVersion, current.live ? current.row!.version : null);
    const version = nextVersion(current);
    const expiresAt = ttlMs === undefined ? null : now + ttlMs;
    await q(c.sql.put, [c.namespace, key, json, checksum, version, now, expiresAt]);
    await q(c.sql.notify, [c.channel, keyPayload(key)]);
    return makeEntry(key, value, version, now, expiresAt);
  });
}

export async function deleteEntry(c: Context, key: string, options: BackendDeleteOptions): Promise<boolean> {
  const { ifVersion, fence } = options;
  return c.db.tx(async (q) => {
    const now = await lockNames(q, c, [entryLockName(c.namespace, key)]);
    if (fence) await assertFence(q, c, fence, now);
    const current = (await currentRows(q, c, [key], now)).get(key)!;
    if (current.live) assertIntact(current.row!, where(c, key));
    assertVersion(key, ifVersion, current.live ? current.row!.version : null);
    if (current.row === undefined) return false;
    // An expired row goes too (the trigger raises the version floor above it).
    await q(c.sql.remove, [c.namespace, key]);
    if (current.live) await q(c.sql.notify, [c.channel, keyPayload(key)]);
    return current.live;
  });
}

/** Adds `by` to the number at `key` (absent or expired = 0), keeping its TTL; returns the new value. */
export async function incrementEntry(c: Context, key: string, by: number): Promise<number> {
  return c.db.tx(async (q) => {
    const now = await lockNames(q, c, [entryLockName(c.namespace, key)]);
    const current = (await currentRows(q, c, [key], now)).get(key)!;
    let base = 0;
    let expiresAt: number | null = null;
    if (current.live) {
      const row = current.row!;
      const entry = rowToEntry(key, row, where(c, key));
      if (typeof entry.value !== 'number') throw new InvalidValueError(key, entry.value, 'increment expected the key to hold a number');
      base = entry.value;
      expiresAt = row.expires_at;
    }
    const next = base + by;
    if (!Number.isFinite(next)) throw new InvalidValueError('by', by, `increment of ${key} would leave a number JSON cannot hold`);
    const json = JSON.stringify(next);
    const version = nextVersion(current);
    await q(c.sql.put, [c.namespace, key, json, checksumOf(json), version, now, expiresAt]);
    await q(c.sql.notify, [c.channel, keyPayload(key)]);
    return next;
  });
}

/** Removes the entry of `key` if it is damaged (the only way past one), raising the floor; a sound or absent key is left alone. */
export async function repairEntry(c: Context, key: string): Promise<RepairReport> {
  return c.db.tx(async (q) => {
    const now = await lockNames(q, c, [entryLockName(c.namespace, key)]);
    const row = (await currentRows(q, c, [key], now)).get(key)!.row;
    if (row === undefined) return { key, removed: false };
    const damage = damageOf(row.value, row.checksum);
    if (damage === undefined) return { key, removed: false };
    await q(c.sql.remove, [c.namespace, key]);
    await q(c.sql.notify, [c.channel, keyPayload(key)]);
    return { key, removed: true, damage: `${rowLocation(c.target, c.namespace, key)}: ${damage}` };
  });
}

/** Deletes up to `limit` expired entries and the expired lock rows of the namespace. */
export async function sweepExpired(c: Context, limit: number): Promise<void> {
  await c.db.query(c.sql.sweep, [c.namespace, limit]);
  await c.db.query(c.sql.sweepLocks, [c.namespace]);
}

