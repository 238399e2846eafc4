/**
 * Decodes a stored entry string, `<version>:<updatedAt>:<expiresAt or empty>:<json>`, into an
 * `Entry`. One string per entry makes a read one GET (readMany one MGET) and lets the scripts
 * read the version with GETRANGE without copying the value. A damaged entry is a
 * `CorruptDataError`, never read as absent.
 */
import { makeEntry, type Entry, type JsonValue } from '@agent-state/core';
import { corruptEntry } from './errors.js';

/** The string stored for an entry (what the scripts write). */
export function encodeEntry(version: number, updatedAt: number, expiresAt: number | undefined, json: string): string {
  return `${version}:${updatedAt}:${expiresAt ?? ''}:${json}`;
}

/** The entry stored under `location`, or `null` when the key does not exist (absent or expired). */
export function decodeEntry(key: string, location: string, stored: string | null | undefined): Entry | null {
  if (stored == null) return null;
  const c1 = stored.indexOf(':');
  const c2 = c1 < 0 ? -1 : stored.indexOf(':', c1 + 1);
  const c3 = c2 < 0 ? -1 : stored.indexOf(':', c2 + 1);
  if (c3 < 0) throw corruptEntry(location, 'no <version>:<updatedAt>:<expiresAt>: header');
  const version = Number(stored.slice(0, c1));
  const updatedAt = Number(stored.slice(c1 + 1, c2));
  const expiresAt = c3 === c2 + 1 ? undefined : Number(stored.slice(c2 + 1, c3));
  if (!Number.isSafeInteger(version) || version < 1 || !Number.isSafeInteger(updatedAt) || (expiresAt !== undefined && !Number.isSafeInteger(expiresAt))) {
    throw corruptEntry(location, `unreadable header ${JSON.stringify(stored.slice(0, c3 + 1))}`);
  }
  let value: JsonValue;
  try {
    value = JSON.parse(stored.slice(c3 + 1)) as JsonValue;
  } catch (error) {
    throw corruptEntry(location, `the value is not JSON (${(error as Error).message})`, error);
  }
  return makeEntry(key, value, version, updatedAt, expiresAt);
}
