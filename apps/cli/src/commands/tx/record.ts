/**
 * A transaction that spans several `agent-state` invocations, kept in the state store itself
 * under `@tx/<id>` (with a TTL, default 1 h). Why in the store and not in a file next to it:
 * it works the same on every backend, including Redis and Firebase where there is no "next to
 * the store" and the next command may run on another machine; it is namespaced like the data;
 * an abandoned transaction expires by itself; and its own version lets `commit` include it in
 * the atomic commit (read at version v, then deleted), so a transaction commits at most once
 * even if two processes commit the same id at the same time.
 *
 * The record holds the reads (key → version seen, `null` = absent) and the buffered writes, as
 * arrays of pairs (a key like `__proto__` is valid, so no plain-object maps). Each change to it
 * is a compare-and-set retried by `state.update`, so parallel `tx write`s to one id lose nothing.
 */
import { randomBytes } from 'node:crypto';
import type { Entry, JsonValue, StateClient } from '@agent-state/core';
import { InvalidKeyError, InvalidValueError, assertSegment } from '@agent-state/core';

/** Reserved top-level segment of transaction records. */
export const TX_PREFIX = '@tx/';
/** Default life of an uncommitted transaction. */
export const DEFAULT_TX_TTL_MS = 3_600_000;

/** A buffered write or delete. */
export type TxWrite = { kind: 'write'; key: string; value: JsonValue; ttlMs?: number } | { kind: 'delete'; key: string };

/** What `@tx/<id>` holds. */
export interface TxRecord {
  createdAt: number;
  /** `[key, version]` pairs, in first-read order. */
  reads: [string, number | null][];
  /** At most one per key, in first-write order. */
  writes: TxWrite[];
}

/** The key of transaction `id`. */
export function txKey(id: string): string {
  assertSegment(id, 'transaction');
  return `${TX_PREFIX}${id}`;
}

/** A new transaction id: 16 hex characters. */
export function newTxId(): string {
  return randomBytes(8).toString('hex');
}

/** The error for an unknown id: committed, rolled back, expired, or never begun. */
export function unknownTx(id: string): InvalidValueError {
  return new InvalidValueError('transaction', id, 'no open transaction with this id (committed, rolled back, expired or never begun)');
}

/** Refuses transaction ids that are not one key segment and data keys inside `@tx/`. */
export function assertTxKey(key: string): void {
  if (key.startsWith(TX_PREFIX)) throw new InvalidKeyError('key', key, `keys under ${TX_PREFIX} hold transactions and cannot be written by one`);
}

/** Reads the record of `id` (and its entry, for the version); `unknownTx` when absent. */
export async function loadTx(state: StateClient, id: string): Promise<{ entry: Entry; record: TxRecord }> {
  const entry = await state.read(txKey(id));
  if (!entry) throw unknownTx(id);
  return { entry, record: entry.value as unknown as TxRecord };
}

/**
 * Changes the record of `id` atomically with `fn` (retried on conflict, keeping its TTL).
 * `fn` may throw to refuse the change.
 */
export async function changeTx(state: StateClient, id: string, fn: (record: TxRecord) => void): Promise<TxRecord> {
  let out: TxRecord | undefined;
  await state.update(txKey(id), (current) => {
    if (!current) throw unknownTx(id);
    const record = structuredClone(current.value) as unknown as TxRecord;
    fn(record);
    out = record;
    return record as unknown as JsonValue;
  });
  return out!;
}

/** Replaces the buffered write of `write.key` (at most one per key, like the library's transaction). */
export function bufferWrite(record: TxRecord, write: TxWrite): void {
  const i = record.writes.findIndex((w) => w.key === write.key);
  if (i >= 0) record.writes[i] = write;
  else record.writes.push(write);
}
