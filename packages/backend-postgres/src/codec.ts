/**
 * Rows to entries, checking each value against its checksum (md5 of the JSON text, which
 * Postgres can compute too): a damaged value is a `CorruptDataError`, never absent, never garbage.
 */
import { createHash } from 'node:crypto';
import { CorruptDataError, makeEntry, type Entry, type JsonValue } from '@agent-state/core';
import { storedValueDamage } from '@agent-state/core/backend';

/** The checksum stored with a value: md5 of its UTF-8 bytes, hex (Postgres `md5(value)`). */
export function checksumOf(json: string): string {
  return createHash('md5').update(json, 'utf8').digest('hex');
}

/** A stored entry row. */
export interface EntryRow {
  key?: string;
  value: string;
  checksum: string | null;
  version: number;
  updated_at: number;
  expires_at: number | null;
}

/** Where a row lives, for messages: `<target> entries(<namespace>, <key>)`. */
export function rowLocation(target: string, namespace: string, key: string): string {
  return `${target} entries(${JSON.stringify(namespace)}, ${JSON.stringify(key)})`;
}

/** What is wrong with a stored value (checksum mismatch, not JSON), or undefined when it is sound. */
export function damageOf(json: unknown, checksum: string | null): string | undefined {
  return storedValueDamage(json, checksum, checksumOf);
}

/** Throws CorruptDataError when the row's value is damaged. */
export function assertIntact(row: Pick<EntryRow, 'value' | 'checksum'>, where: () => string): void {
  const damage = damageOf(row.value, row.checksum);
  if (damage !== undefined) throw new CorruptDataError(where(), damage);
}

/** The entry a row holds (checked). */
export function rowToEntry(key: string, row: EntryRow, where: () => string): Entry {
  if (row.checksum !== null && checksumOf(row.value) !== row.checksum) throw new CorruptDataError(where(), 'the value does not match its checksum');
  let value: JsonValue;
  try {
    value = JSON.parse(row.value) as JsonValue;
  } catch (error) {
    throw new CorruptDataError(where(), 'the value is not valid JSON', { cause: error });
  }
  return makeEntry(key, value, row.version, row.updated_at, row.expires_at);
}
