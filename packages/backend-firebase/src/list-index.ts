/**
 * Key order for `list`. The database orders child names its own way (integers first, then
 * strings), and the escaped names do not sort like the keys (`!` and `|` stand for `.` and `/`),
 * so the keys of the mirrored namespace are sorted here in code-unit order, once per snapshot,
 * and pages are cut from that array with a binary search.
 */
import { compareKeys } from '@agent-state/core';
import type { DataSnapshot } from 'firebase-admin/database';
import { ENTRIES, keyOfChild } from './paths.js';

/** One stored key and the name of its node. */
export interface IndexedKey {
  key: string;
  name: string;
}

/** The sorted keys of the last entries snapshot seen. */
export class ListIndex {
  #snapshot: DataSnapshot | undefined;
  #keys: IndexedKey[] = [];

  /**
   * Keys under `root` (the namespace snapshot) in key order, cached while the snapshot is the same
   * object: the SDK hands out a new one on every change.
   */
  keys(root: DataSnapshot): IndexedKey[] {
    if (root !== this.#snapshot) {
      const keys: IndexedKey[] = [];
      root.child(ENTRIES).forEach((child) => {
        const key = child.key === null ? undefined : keyOfChild(child.key);
        if (key !== undefined && child.key !== null) keys.push({ key, name: child.key });
      });
      keys.sort((a, b) => compareKeys(a.key, b.key));
      this.#snapshot = root;
      this.#keys = keys;
    }
    return this.#keys;
  }
}

/** Index of the first key that can be on a page: `>= prefix` and `> after`. */
export function firstCandidate(keys: readonly IndexedKey[], prefix: string | undefined, after: string | undefined): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const key = keys[mid]!.key;
    const before = (prefix !== undefined && key < prefix) || (after !== undefined && key <= after);
    if (before) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
