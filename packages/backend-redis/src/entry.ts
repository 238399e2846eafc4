/**
 * Decodes an entry hash (`v`, `ver`, `upd`, `exp`) into an `Entry`, refusing damaged ones: a
 * damaged entry is a `CorruptDataError`, never read as absent.
 */
import { makeEntry, type Entry, type JsonValue } from '@agent-state/core';
import { corruptEntry } from './errors.js';

/** The hash fields of an entry, in the order reads and `list-1.lua` fetch them. */
export const ENTRY_FIELDS = ['v', 'ver', 'upd', 'exp'] as const;

type Field = string | null | undefined;

/** The entry stored under `location`, or `null` when the hash does not exist (absent or expired). */
export function decodeEntry(key: string, location: string, fields: readonly Field[]): Entry | null {
  const [v, ver, upd, exp] = fields;
  if (v == null && ver == null && upd == null && exp == null) return null;
  if (v == null || ver == null || upd == null) throw corruptEntry(location);
  const version = Number(ver);
  const updatedAt = Number(upd);
  const expiresAt = exp == null ? undefined : Number(exp);
  if (!Number.isSafeInteger(version) || version < 1 || !Number.isFinite(updatedAt) || (expiresAt !== undefined && !Number.isFinite(expiresAt))) {
    throw corruptEntry(location, `unreadable metadata ver=${ver} upd=${upd} exp=${exp ?? ''}`);
  }
  let value: JsonValue;
  try {
    value = JSON.parse(v) as JsonValue;
  } catch (error) {
    throw corruptEntry(location, `the value is not JSON (${(error as Error).message})`, error);
  }
  return makeEntry(key, value, version, updatedAt, expiresAt);
}
