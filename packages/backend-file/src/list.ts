/**
 * One page of `list`: a depth-first walk of the data tree in key order, stopping at `limit`.
 *
 * Siblings are visited sorted by their key text (a document by its segment, a directory by its
 * segment plus `/`), which is exactly the order of the full keys under them, so the walk yields
 * keys already sorted and never reads past the page. Subtrees that cannot hold keys matching
 * `prefix` or greater than `after` are skipped without being read, and within a directory the
 * first item past `after` is found by binary search.
 *
 * Paging a big directory: the sorted names of a directory of at least {@link CACHE_MIN_ITEMS}
 * are kept per process ({@link SortedNames}), keyed by the directory's inode, mtime and ctime
 * (nanoseconds), so each further page costs one `stat` of the directory instead of a `readdir`
 * and a sort of all of it. Any create, rename or unlink in the directory changes its mtime.
 * A listing whose directory changed within {@link SETTLE_NS} of being read is not cached: file
 * timestamps come from the kernel's coarse clock (a few ms a tick), so a change in the same tick
 * as the one cached could leave the mtime equal.
 */
import { lstatSync, readdirSync, statSync, type Dirent } from 'node:fs';
import { compareKeys, isExpired, keyInPage, makeEntry, type Entry, type ListPageRequest } from '@agent-state/core';
import { errnoOf, ioError } from './fs-io.js';
import { dirOf, segmentOfDir, segmentOfFile } from './layout.js';
import type { Store } from './context.js';

interface Item {
  sortKey: string;
  segment: string;
  name: string;
  isDir: boolean;
}

/** An expired document a page walked past (for the sweep in file-backend.ts). */
export interface ExpiredDoc {
  key: string;
  version: number;
}

/**
 * The live entries of one page, in key order, the multi-key commits that wrote them, and the
 * expired documents walked past on the way.
 */
export function listPage(store: Store, request: ListPageRequest): { entries: Entry[]; commits: Set<string>; expired: ExpiredDoc[] } {
  const { prefix, after, limit } = request;
  const page: Entry[] = [];
  const commits = new Set<string>();
  const expired: ExpiredDoc[] = [];
  const now = Date.now();

  const walk = (dir: string, keyPrefix: string): boolean => {
    const items = sortedItems(store, dir);
    const rel = after !== undefined && after.startsWith(keyPrefix) ? after.slice(keyPrefix.length) : undefined;
    for (let i = rel === undefined ? 0 : firstNotBefore(items, rel); i < items.length; i++) {
      const item = items[i]!;
      if (item.isDir) {
        const under = `${keyPrefix}${item.segment}/`;
        if (prefix !== undefined && !under.startsWith(prefix) && !prefix.startsWith(under)) continue;
        if (after !== undefined && under < after && !after.startsWith(under)) continue;
        if (walk(`${dir}/${item.name}`, under)) return true;
        continue;
      }
      const key = keyPrefix + item.segment;
      if (!keyInPage(key, prefix, after)) continue;
      const doc = store.readDoc(store.layout.data(key));
      if (!doc) continue; // deleted meanwhile
      if (isExpired(doc.expiresAt, now)) {
        if (doc.tx === undefined) expired.push({ key, version: doc.version });
        continue;
      }
      page.push(makeEntry(key, doc.value, doc.version, doc.updatedAt, doc.expiresAt));
      if (doc.tx !== undefined) commits.add(doc.tx);
      if (page.length >= limit) return true;
    }
    return false;
  };

  // Start at the deepest directory the prefix names in whole segments.
  const cut = prefix?.lastIndexOf('/') ?? -1;
  if (prefix !== undefined && cut >= 0) walk(dirOf(store.layout.dataDir, prefix.slice(0, cut)), prefix.slice(0, cut + 1));
  else walk(store.layout.dataDir, '');
  return { entries: page, commits, expired };
}

/**
 * The index of the first item that may hold a key greater than `rel` (the `after` cursor made
 * relative to the directory). Items partition the key space in order (their sort keys are
 * segments, no two siblings one the prefix of the other except `a` before `a/`), so "entirely at
 * or before the cursor" holds for a prefix of the list.
 */
function firstNotBefore(items: Item[], rel: string): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const item = items[mid]!;
    const before = item.isDir ? item.sortKey < rel && !rel.startsWith(item.sortKey) : item.sortKey <= rel;
    if (before) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Directories with fewer names than this are read each time (it costs less than the cache). */
export const CACHE_MIN_ITEMS = 256;
/** A directory changed less than this long ago (ns, wall clock) is not cached. */
const SETTLE_NS = 50_000_000n;
/** At most this many directories' names are kept per store. */
const CACHE_DIRS = 64;

interface Cached {
  ino: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  items: Item[];
}

/** A store's cache of sorted directory listings (see the file comment). */
export type SortedNames = Map<string, Cached>;
const caches = new WeakMap<Store, SortedNames>();

function statDir(dir: string): { ino: bigint; mtimeNs: bigint; ctimeNs: bigint } | undefined {
  try {
    const st = statSync(dir, { bigint: true, throwIfNoEntry: false });
    return st && st.isDirectory() ? { ino: st.ino, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs } : undefined;
  } catch {
    return undefined;
  }
}

function sortedItems(store: Store, dir: string): Item[] {
  let cache = caches.get(store);
  if (cache === undefined) caches.set(store, (cache = new Map()));
  const before = statDir(dir);
  const hit = cache.get(dir);
  if (before && hit && hit.ino === before.ino && hit.mtimeNs === before.mtimeNs && hit.ctimeNs === before.ctimeNs) return hit.items;
  const items = readSorted(dir);
  if (hit) cache.delete(dir);
  if (before && items.length >= CACHE_MIN_ITEMS) {
    const afterRead = statDir(dir);
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    const settled = afterRead?.mtimeNs === before.mtimeNs && afterRead.ctimeNs === before.ctimeNs && nowNs - before.mtimeNs > SETTLE_NS && nowNs - before.ctimeNs > SETTLE_NS;
    if (settled) {
      if (cache.size >= CACHE_DIRS) cache.delete(cache.keys().next().value!);
      cache.set(dir, { ...before, items });
    }
  }
  return items;
}

function readSorted(dir: string): Item[] {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    const code = errnoOf(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw ioError(dir, 'read directory', error);
  }
  const items: Item[] = [];
  for (const entry of entries) {
    const name = entry.name;
    if (name.includes('#')) continue; // temp files, mutexes: never keys
    let isDir = entry.isDirectory();
    let isFile = entry.isFile();
    if (!isDir && !isFile && !entry.isSymbolicLink()) {
      // File systems that do not report types in readdir.
      try {
        const st = lstatSync(`${dir}/${name}`);
        isDir = st.isDirectory();
        isFile = st.isFile();
      } catch {
        continue;
      }
    }
    const segment = isDir ? segmentOfDir(name) : isFile ? segmentOfFile(name) : undefined;
    if (segment !== undefined) items.push({ sortKey: isDir ? `${segment}/` : segment, segment, name, isDir });
  }
  return items.sort((a, b) => compareKeys(a.sortKey, b.sortKey));
}
