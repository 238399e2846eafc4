/**
 * Repair of a damaged document (the only way past its `CorruptDataError`): the damaged file is
 * moved aside, never destroyed, and the version floor raised above whatever version it held.
 */
import { readdirSync, renameSync } from 'node:fs';
import { basename } from 'node:path';
import { errnoOf, ioError, readIfExists } from './fs-io.js';
import { highestVersionOnDisk, raiseFloor } from './format.js';
import { nonce } from './mutex.js';
import type { KeyFiles } from './layout.js';
import type { Store } from './context.js';

/** Moves the damaged document of `files` aside (caller holds its mutex); returns where it went. */
export async function removeDamaged(store: Store, files: KeyFiles): Promise<string> {
  const text = readIfExists(files.file) ?? '';
  const shown = /"version":(\d+)/.exec(text);
  let version = Math.max(shown ? Number(shown[1]) : 0, highestBackup(store, files.key));
  // Nothing tells which version the damaged entry had: stay above every version on disk.
  if (version === 0) version = highestVersionOnDisk(store);
  await raiseFloor(store, version);
  const target = store.layout.backup(files.key, 0);
  const kept = target.file.replace(/#0$/, `#damaged-${nonce()}`);
  try {
    store.dirs.ensure(target.dir);
    renameSync(files.file, kept);
  } catch (error) {
    throw ioError(files.file, 'move the damaged document aside', error);
  }
  if (store.durable) {
    store.syncDir(files.dir);
    store.syncDir(target.dir);
  }
  return kept;
}

/** The highest version among the backups of `key` (0 when none). */
function highestBackup(store: Store, key: string): number {
  const { dir, file } = store.layout.backup(key, 0);
  const prefix = `${basename(file).replace(/#0$/, '')}#`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return 0;
    throw ioError(dir, 'read backups', error);
  }
  let highest = 0;
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const v = Number(name.slice(prefix.length));
    if (Number.isInteger(v)) highest = Math.max(highest, v);
  }
  return highest;
}
