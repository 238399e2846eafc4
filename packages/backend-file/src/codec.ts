/**
 * The on-disk formats: one JSON document per key (value and metadata) and one per lock
 * resource (the lease and its fencing counter). Damaged files are `CorruptDataError`, never
 * "absent".
 */
import { CorruptDataError, type JsonValue, type LockLease } from '@agent-state/core';

/** A key's document as stored. */
export interface StoredDoc {
  key: string;
  version: number;
  updatedAt: number;
  expiresAt: number | null;
  /** Set on documents written by a multi-key commit: the id of that commit (see settle.ts). */
  tx?: string;
  value: JsonValue;
}

/**
 * The document text. Built by concatenation because core already serialized the value; metadata
 * comes first so a person (or `head`) sees it at once.
 */
export function encodeDoc(
  key: string,
  json: string,
  version: number,
  updatedAt: number,
  expiresAt: number | null,
  tx?: string,
): string {
  const commit = tx === undefined ? '' : `"tx":"${tx}",`;
  return `{"key":${JSON.stringify(key)},"version":${version},"updatedAt":${updatedAt},"expiresAt":${expiresAt ?? 'null'},${commit}"value":${json}}\n`;
}

/** Parses a document; `CorruptDataError` naming `path` if it is not one of ours, whole. */
export function decodeDoc(text: string, path: string): StoredDoc {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new CorruptDataError(path, `not valid JSON (${text.length} bytes; truncated or written by another program?)`, { cause: error });
  }
  const d = doc as Partial<StoredDoc> | null;
  if (
    d === null ||
    typeof d !== 'object' ||
    !Number.isInteger(d.version) ||
    (d.version as number) < 1 ||
    typeof d.updatedAt !== 'number' ||
    !(d.expiresAt === null || typeof d.expiresAt === 'number') ||
    !(d.tx === undefined || typeof d.tx === 'string') ||
    !('value' in d)
  ) {
    throw new CorruptDataError(path, 'not an agent-state document (expected version, updatedAt, expiresAt and value)');
  }
  return d as StoredDoc;
}

/** A lock resource's file: the current lease (owner `null` when free) and the last token issued. */
export interface StoredLease {
  resource: string;
  owner: string | null;
  /** The last fencing token issued for this resource; the next one is this + 1. */
  token: number;
  expiresAt: number;
  /**
   * The process that took the lease (a mutex holder string, see mutex.ts `mutexOwner`): lets a
   * lease whose owner died be freed before its ttl only when that process is provably gone.
   */
  holder?: string;
  /**
   * Tokens up to this one may have been handed out: it is fdatasynced before any token above the
   * previous reservation leaves the process (see lock.ts). Absent in first-wave records.
   */
  reserved?: number;
  /** Boot id of the process that last wrote the record (lock.ts: an earlier boot skips to `reserved`). */
  boot?: string;
}

/** The lease file text. */
export function encodeLease(lease: StoredLease): string {
  return `${JSON.stringify(lease)}\n`;
}

/** Parses a lease file; `CorruptDataError` naming `path` when damaged. */
export function decodeLease(text: string, path: string): StoredLease {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new CorruptDataError(path, `lock file is not valid JSON (${text.length} bytes)`, { cause: error });
  }
  const d = doc as Partial<StoredLease> | null;
  if (
    d === null ||
    typeof d !== 'object' ||
    !Number.isInteger(d.token) ||
    typeof d.expiresAt !== 'number' ||
    !(d.owner === null || typeof d.owner === 'string')
  ) {
    throw new CorruptDataError(path, 'not an agent-state lock file (expected owner, token, expiresAt)');
  }
  return d as StoredLease;
}

/** The live lease a lock file holds, or `undefined` when free. */
export function leaseOf(stored: StoredLease | undefined): LockLease | undefined {
  if (!stored || stored.owner === null) return undefined;
  return { resource: stored.resource, owner: stored.owner, token: stored.token, expiresAt: stored.expiresAt };
}
