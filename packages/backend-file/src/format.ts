/**
 * The namespace's version floor: versions never repeat for a key (contract.md, "Versions never
 * repeat"). When an entry goes (delete, a transaction's delete, repair) the floor is raised to
 * its version first; a key written while it has no live document starts above
 * `max(floor, version of the expired document still there)`. One 512-byte record per namespace
 * (`<namespace>/floor`), rewritten under its own mutex, which is always the LAST mutex a caller
 * takes (after every key mutex), so it can never be part of a wait cycle.
 *
 * The store's format marker (`<namespace>/store.json`) lives here too: a first-wave store has no
 * floor, so the first open of the new code sets the floor above every version on disk (live or
 * expired documents and backups), then writes the marker: an idempotent in-place upgrade.
 */
import { readdirSync } from 'node:fs';
import { InvalidConfigError } from '@agent-state/core';
import { errnoOf, ioError, readIfExists, replaceFile } from './fs-io.js';
import { mutexOwner, nonce } from './mutex.js';
import { readRecord, writeRecord } from './record-file.js';
import type { Store } from './context.js';

/** The on-disk format this code writes. 1 = first wave (no marker, no floor). */
export const STORE_FORMAT = 2;

interface FloorRecord {
  floor: number;
}

/** The current floor (0 when none was ever recorded). */
export function readFloor(store: Store): number {
  const record = readRecord<FloorRecord>(store.layout.floorFile, 'version floor');
  return record && Number.isInteger(record.floor) ? record.floor : 0;
}

/** Raises the floor to at least `version` (never lowers it); durable before it returns. */
export async function raiseFloor(store: Store, version: number): Promise<void> {
  if (version <= 0) return;
  const { floorFile, floorMutex, namespaceDir } = store.layout;
  if (readFloor(store) >= version) return; // the floor only grows: no mutex needed to see it is high enough
  await store.mutexes.acquireOrWait(floorMutex, namespaceDir, mutexOwner(nonce()));
  try {
    if (readFloor(store) < version) writeRecord(floorFile, { floor: version }, store.durable, 'version floor');
  } finally {
    store.mutexes.release(floorMutex);
  }
}

/** The version for a key that has no live document: above the floor and the expired document. */
export function freshVersion(store: Store, expiredVersion: number | undefined): number {
  return Math.max(readFloor(store), expiredVersion ?? 0) + 1;
}

/**
 * Checks the format marker and upgrades a first-wave store in place. Returns a message for
 * stderr when it upgraded, `undefined` otherwise.
 */
export async function openFormat(store: Store, moveCoordination: () => number): Promise<string | undefined> {
  if (checkFormat(store) === 'current') return undefined;
  // One upgrader at a time: a second opener waits, then finds the marker written.
  const mutex = `${store.layout.namespaceDir}/#upgrade.lock`;
  await store.mutexes.acquireOrWait(mutex, store.layout.namespaceDir, mutexOwner(nonce()));
  try {
    const found = checkFormat(store);
    if (found === 'current') return undefined;
    const fresh = found === 'none' && !hasEntries(store.layout.dataDir) && !hasEntries(store.layout.backupsDir);
    const highest = fresh ? 0 : highestVersionOnDisk(store);
    await raiseFloor(store, highest);
    const moved = fresh ? 0 : moveCoordination();
    const marker = store.layout.formatFile;
    try {
      replaceFile(`${marker}#${nonce()}.tmp`, marker, store.layout.namespaceDir, `${JSON.stringify({ format: STORE_FORMAT })}\n`, store.durable);
    } catch (error) {
      throw ioError(marker, 'write format marker', error);
    }
    if (fresh) return undefined;
    return (
      `agent-state file backend: upgraded ${store.layout.namespaceDir} to format ${STORE_FORMAT} ` +
      `(version floor set to ${highest}, above every version on disk; ${moved} queue, channel, mailbox and log entries moved into the native layout)`
    );
  } finally {
    store.mutexes.release(mutex);
  }
}

/** `current`, `none` (no marker: new or first-wave), or `older`; a newer format is refused. */
function checkFormat(store: Store): 'current' | 'none' | 'older' {
  const text = readIfExists(store.layout.formatFile);
  if (text === undefined) return 'none';
  let format: unknown;
  try {
    format = (JSON.parse(text) as { format?: unknown }).format;
  } catch {
    format = undefined;
  }
  if (typeof format === 'number' && format > STORE_FORMAT) {
    throw new InvalidConfigError(
      'file backend',
      'communication.settings.directory',
      `the store ${store.layout.namespaceDir} has format ${format}, newer than this version understands (${STORE_FORMAT}); upgrade @agent-state/backend-file`,
    );
  }
  return format === STORE_FORMAT ? 'current' : 'older';
}

/** The highest version of any document, staged document or backup of the namespace. */
export function highestVersionOnDisk(store: Store): number {
  return Math.max(highestVersionUnder(store.layout.dataDir, 'data'), highestVersionUnder(store.layout.backupsDir, 'backups'));
}

function hasEntries(dir: string): boolean {
  try {
    return readdirSync(dir).length > 0;
  } catch {
    return false;
  }
}

/** The highest version of any document (data) or backup (`…json#<v>`) under `dir`. */
function highestVersionUnder(dir: string, kind: 'data' | 'backups'): number {
  let highest = 0;
  const walk = (path: string): void => {
    let names;
    try {
      names = readdirSync(path, { withFileTypes: true });
    } catch (error) {
      if (errnoOf(error) === 'ENOENT' || errnoOf(error) === 'ENOTDIR') return;
      throw ioError(path, 'read directory', error);
    }
    for (const entry of names) {
      const full = `${path}/${entry.name}`;
      if (entry.isDirectory()) {
        walk(full);
        continue;
      }
      if (kind === 'backups') {
        const m = /\.json#(\d+)$/.exec(entry.name);
        if (m) highest = Math.max(highest, Number(m[1]));
        continue;
      }
      if (!entry.name.endsWith('.json') && !entry.name.endsWith('.tmp')) continue;
      const text = readIfExists(full) ?? '';
      // Read the number straight from the text: a damaged document still shows its version.
      const m = /"version":(\d+)/.exec(text);
      if (m) highest = Math.max(highest, Number(m[1]));
    }
  };
  walk(dir);
  return highest;
}
