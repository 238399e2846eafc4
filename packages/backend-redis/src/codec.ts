/**
 * Decodes a stored entry string, `<version>:<updatedAt>:<expiresAt or empty>:<digest>:<json>`
 * (format 3; format 2 had no `<digest>:`), into an `Entry`. One string per entry makes a read one
 * GET (readMany one MGET) and lets the scripts read the version with GETRANGE without copying
 * the value. The digest (the first 16 hex digits of the SHA-1 of the JSON text) lets a write,
 * delete or commit script check that the old value is undamaged with one SHA-1 instead of a JSON
 * parse. A damaged entry is a `CorruptDataError`, never read as absent.
 */
import { hash } from 'node:crypto';
import { makeEntry, type Entry, type JsonValue } from '@agent-state/core';
import { corruptEntry } from './errors.js';

/** Hex digits of the SHA-1 kept in the header (64 bits: against damage, not against an attacker with write access). */
const DIGEST_LENGTH = 16;
/** `<digest>:` right after the third colon (sticky: tested at one position, no scan). */
const DIGEST_FIELD = /[0-9a-f]{16}:/y;

/** The digest a format-3 header carries for `json` (what `lib/entry.lua`'s `entryDigest` computes). */
export function entryDigest(json: string): string {
  return hash('sha1', json, 'hex').slice(0, DIGEST_LENGTH);
}

/** The string stored for an entry (what the scripts write). */
export function encodeEntry(version: number, updatedAt: number, expiresAt: number | undefined, json: string): string {
  return `${version}:${updatedAt}:${expiresAt ?? ''}:${entryDigest(json)}:${json}`;
}

/** The string a format-2 release stored (no digest): for the upgrade's tests. */
export function encodeEntryV2(version: number, updatedAt: number, expiresAt: number | undefined, json: string): string {
  return `${version}:${updatedAt}:${expiresAt ?? ''}:${json}`;
}

/**
 * The entry stored under `location`, or `null` when the key does not exist (absent or expired).
 * `checkDigest` (repair's inspection) also refuses a format-3 value that no longer has its
 * header's digest, as the scripts do; a read leaves that to the scripts (its JSON parse is its
 * check, a SHA-1 per read would cost about as much again).
 */
export function decodeEntry(key: string, location: string, stored: string | null | undefined, checkDigest = false): Entry | null {
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
  // A format-2 entry has no digest: a JSON text never starts with 16 hex digits and a colon.
  // The read does not hash the value (JSON.parse is its check; the scripts compare the digest).
  DIGEST_FIELD.lastIndex = c3 + 1;
  const hasDigest = DIGEST_FIELD.test(stored);
  const body = hasDigest ? c3 + 2 + DIGEST_LENGTH : c3 + 1;
  if (checkDigest && hasDigest && entryDigest(stored.slice(body)) !== stored.slice(c3 + 1, c3 + 1 + DIGEST_LENGTH)) {
    throw corruptEntry(location, 'the value no longer has the digest its header was written with');
  }
  let value: JsonValue;
  try {
    value = JSON.parse(stored.slice(body)) as JsonValue;
  } catch (error) {
    throw corruptEntry(location, `the value is not JSON (${(error as Error).message})`, error);
  }
  return makeEntry(key, value, version, updatedAt, expiresAt);
}
