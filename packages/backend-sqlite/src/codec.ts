/**
 * Rows to entries, checking each value against its checksum: a damaged value is a
 * `CorruptDataError`, never absent and never garbage.
 */
import { crc32 } from 'node:zlib';
import { CorruptDataError, makeEntry, type Entry, type JsonValue } from '@agent-state/core';
import { storedValueDamage } from '@agent-state/core/backend';
import type { EntryRow } from './statements.js';

/** The checksum stored with a value: CRC-32 of its UTF-8 bytes. */
export function checksumOf(json: string): number {
  return crc32(json);
}

/** Where a row lives, for error messages: `<path> entries(<namespace>, <key>)`. */
export function rowLocation(path: string, namespace: string, key: string): string {
  return `${path} entries(${JSON.stringify(namespace)}, ${JSON.stringify(key)})`;
}

/**
 * The entry a row holds. A NULL checksum (a row written by another tool) is not checked, but its
 * value must still parse.
 */
export function rowToEntry(key: string, row: EntryRow, path: string, namespace: string): Entry {
  const [json, version, checksum, updatedAt, expiresAt] = row;
  if (checksum !== null && checksumOf(json) !== checksum) {
    throw new CorruptDataError(rowLocation(path, namespace, key), 'the value does not match its checksum');
  }
  let value: JsonValue;
  try {
    value = JSON.parse(json) as JsonValue;
  } catch (error) {
    throw new CorruptDataError(rowLocation(path, namespace, key), 'the value is not valid JSON', { cause: error });
  }
  return makeEntry(key, value, version, updatedAt, expiresAt);
}

/** What is wrong with a stored value (checksum mismatch, not JSON), or undefined when it is sound. */
export function damageOf(json: unknown, checksum: unknown): string | undefined {
  return storedValueDamage(json, checksum, checksumOf);
}
