/**
 * Where everything lives on disk, and the mapping from a key to its files. The mapping keeps
 * keys inside the store: every segment is re-checked against the key grammar and the result
 * against the resolved store directory, whatever core already validated.
 *
 * A key `a/b/c` is the document `data/a/b/c.json`. The key `a` (file `a.json`) and the key
 * `a/b` (directory `a/`) coexist. A directory whose segment itself ends in `.json` gets a `~`
 * appended, so it can never take the name of a document. Every name the backend uses for its own
 * purposes (temp files, mutexes, backups) contains `#`, which no key segment may contain.
 */
import { createHash } from 'node:crypto';
import { join, resolve, sep } from 'node:path';
import { InvalidKeyError } from '@agent-state/core';

const SEGMENT = /^[A-Za-z0-9._\-:@+=,]{1,128}$/;
const CACHE_LIMIT = 20_000;

/** The files of one key (or one lock resource) under a tree. */
export interface KeyFiles {
  key: string;
  /** The directory that holds the document. */
  dir: string;
  /** The JSON document. */
  file: string;
  /** The per-key mutex (exists only while a process changes the key). */
  mutex: string;
  /** The temp file a write goes through before its rename. */
  tmp: string;
}

/** The directories of one namespace of a store. */
export class Layout {
  /** `<directory>/<namespace>`. */
  readonly namespaceDir: string;
  /** Key documents. */
  readonly dataDir: string;
  /** Lock leases with their fencing counters. */
  readonly locksDir: string;
  /** Previous versions of keys. */
  readonly backupsDir: string;
  /** Write-ahead intent records of transactions. */
  readonly txDir: string;
  /** The namespace's version floor (see format.ts) and its mutex. */
  readonly floorFile: string;
  readonly floorMutex: string;
  /** The store's format marker. */
  readonly formatFile: string;
  /** One file per open client, what its mutexes hard-link to (see mutex.ts). */
  readonly holdersDir: string;
  /** Native queues (see queues.ts) and logs (see logs.ts). */
  readonly queuesDir: string;
  readonly logsDir: string;
  readonly #data: Map<string, KeyFiles> = new Map();
  readonly #locks: Map<string, KeyFiles> = new Map();
  readonly #backups: Map<string, KeyFiles> = new Map();

  constructor(directory: string, namespace: string, transactionDir: string | undefined) {
    const root = resolve(directory);
    this.namespaceDir = join(root, checkedSegment(namespace, 'namespace', namespace));
    this.dataDir = join(this.namespaceDir, 'data');
    this.locksDir = join(this.namespaceDir, 'locks');
    this.backupsDir = join(this.namespaceDir, 'backups');
    this.floorFile = join(this.namespaceDir, 'floor');
    this.floorMutex = join(this.namespaceDir, '#floor.lock');
    this.formatFile = join(this.namespaceDir, 'store.json');
    this.holdersDir = join(this.namespaceDir, 'holders');
    this.queuesDir = join(this.namespaceDir, 'queues');
    this.logsDir = join(this.namespaceDir, 'logs');
    // A shared transaction directory holds one subfolder per store, so stores never replay
    // each other's intents.
    this.txDir = transactionDir
      ? join(resolve(transactionDir), createHash('sha256').update(`${this.namespaceDir}\0${namespace}`).digest('hex').slice(0, 16))
      : join(this.namespaceDir, 'tx');
  }

  /** The files of a key's document. */
  data(key: string): KeyFiles {
    return cached(this.#data, this.dataDir, key);
  }

  /** The files of a lock resource's lease. */
  lock(resource: string): KeyFiles {
    return cached(this.#locks, this.locksDir, resource);
  }

  /**
   * The directory of a native queue or log named `name` (key grammar) under `base`: its segments
   * as directories, then `#q` / `#log` (a name no segment can take, so the queue `a` and the
   * queue `a/b` never collide).
   */
  family(base: string, name: string, leaf: '#q' | '#log'): string {
    return `${dirOf(base, name)}/${leaf}`;
  }

  /** Where backup `version` of `key` goes. */
  backup(key: string, version: number): { dir: string; file: string } {
    const files = cached(this.#backups, this.backupsDir, key);
    return { dir: files.dir, file: `${files.file}#${version}` };
  }
}

/** The directory name of a key segment that has children. */
export function dirName(segment: string): string {
  return segment.endsWith('.json') ? `${segment}~` : segment;
}

/** The key segment a directory name stands for, or `undefined` for a name that is not ours. */
export function segmentOfDir(name: string): string | undefined {
  const segment = name.endsWith('.json~') ? name.slice(0, -1) : name;
  return SEGMENT.test(segment) && segment !== '.' && segment !== '..' && !segment.endsWith('~') ? segment : undefined;
}

/** The key segment a document file name stands for, or `undefined` for a name that is not a document. */
export function segmentOfFile(name: string): string | undefined {
  if (!name.endsWith('.json')) return undefined;
  const segment = name.slice(0, -5);
  return SEGMENT.test(segment) && segment !== '.' && segment !== '..' ? segment : undefined;
}

/** The directory that holds the documents of keys starting with `parent/` (parent = whole segments). */
export function dirOf(base: string, parentKey: string): string {
  if (parentKey === '') return base;
  let dir = base;
  for (const segment of parentKey.split('/')) dir += `/${dirName(checkedSegment(segment, 'key', parentKey))}`;
  return dir;
}

function cached(cache: Map<string, KeyFiles>, base: string, key: string): KeyFiles {
  let files = cache.get(key);
  if (!files) {
    files = filesUnder(base, key);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(key, files);
  }
  return files;
}

function filesUnder(base: string, key: string): KeyFiles {
  const segments = key.split('/');
  const last = checkedSegment(segments.pop() ?? '', 'key', key);
  let dir = base;
  for (const segment of segments) dir += `/${dirName(checkedSegment(segment, 'key', key))}`;
  const file = `${dir}/${last}.json`;
  // Belt and braces: whatever the grammar allows, the document must resolve inside the tree.
  if (resolve(file) !== file || !file.startsWith(base + sep)) {
    throw new InvalidKeyError('key', key, `resolves outside the store directory ${base}`);
  }
  return { key, dir, file, mutex: `${dir}/#${last}.lock`, tmp: `${dir}/#${last}.tmp` };
}

function checkedSegment(segment: string, field: string, whole: string): string {
  if (!SEGMENT.test(segment) || segment === '.' || segment === '..') {
    throw new InvalidKeyError(field, whole, `segment ${JSON.stringify(segment)} is not allowed in a file path`);
  }
  return segment;
}
