/**
 * One page of `list`: a depth-first walk of the data tree in key order, stopping at `limit`.
 *
 * Siblings are visited sorted by their key text (a document by its segment, a directory by its
 * segment plus `/`), which is exactly the order of the full keys under them, so the walk yields
 * keys already sorted and never reads past the page. Subtrees that cannot hold keys matching
 * `prefix` or greater than `after` are skipped without being read.
 */
import { lstatSync, readdirSync, type Dirent } from 'node:fs';
import { compareKeys, isExpired, keyInPage, makeEntry, type Entry, type ListPageRequest } from '@agent-state/core';
import { errnoOf, ioError } from './fs-io.js';
import { dirOf, segmentOfDir, segmentOfFile } from './paths.js';
import type { Store } from './store.js';

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
    for (const item of sortedItems(dir)) {
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

function sortedItems(dir: string): Item[] {
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
