/**
 * `list`: one page of entries in key order, read with `orderByKey()` / `startAt()` /
 * `limitToFirst()` on the entries node. Entry names keep key order (key-names.ts), so the database
 * cuts the page: a listing reads about `limit` nodes whatever the namespace holds, and nobody
 * mirrors the namespace. Tombstones, expired entries and names that are not ours take room in a
 * batch without being on the page, so a short page reads the next batch from the last name seen.
 *
 * Freshness: each batch is a new query listen, whose answer comes after every write the server
 * acknowledged before it was sent. A node that carries a commit's marker is not listed until the
 * commit ends (the caller waits or recovers it, transaction.ts), so a page never shows half a
 * commit. The `firebase-server` emulator ignores query parameters and sends the whole node; the
 * SDK applies the query to it on the client, so the results are the same, only not cheaper.
 */
import { isExpired, type Entry, type ListPageRequest } from '@agent-state/core';
import type { DataSnapshot, Query } from 'firebase-admin/database';
import { entryName, keyOfEntryName } from './key-names.js';
import type { Connection } from './connection.js';
import { TOMB_GRACE_MS } from './format.js';
import { asEntryNode, isTomb, MarkedError, splitMarker, toEntry } from './codec.js';
import { entryPath, type NamespacePaths } from './layout.js';

/** Nodes read beyond `limit` per batch, for the tombstones and expired entries among them. */
const SLACK = 16;
/** Largest batch asked for at once. */
const MAX_BATCH = 1_000;

/** What one page found: the entries, and housekeeping for the caller (expired entries, old tombstones). */
export interface ListResult {
  page: Entry[];
  expired: string[];
  tombs: string[];
}

/**
 * Reads one page. Throws {@link MarkedError} for the first node on it that a commit holds: the
 * caller settles that commit and asks again.
 */
export async function listPage(connection: Connection, paths: NamespacePaths, request: ListPageRequest): Promise<ListResult> {
  const { prefix, after, limit } = request;
  const result: ListResult = { page: [], expired: [], tombs: [] };
  if (limit <= 0) return result;
  // The first key that can be on the page: the larger of the prefix and `after` (the encoding keeps order).
  const fromAfter = after !== undefined && (prefix === undefined || after >= prefix);
  let start = fromAfter ? entryName(after) : prefix !== undefined ? entryName(prefix) : undefined;
  let skipStart = fromAfter;
  const batch = Math.min(MAX_BATCH, limit + SLACK);
  const now = connection.now();
  for (;;) {
    let query: Query = connection.ref(paths.entries).orderByKey();
    if (start !== undefined) query = query.startAt(start);
    // One more when the first name is the one to skip.
    const snapshot = await connection.bounded(query.limitToFirst(batch + (skipStart ? 1 : 0)).once('value'), 'list');
    const children: DataSnapshot[] = [];
    snapshot.forEach((child) => {
      children.push(child);
    });
    let seen = 0;
    for (const child of children) {
      const name = child.key!;
      if (skipStart && name === start) continue;
      seen++;
      const key = keyOfEntryName(name);
      if (key === undefined) continue;
      if (after !== undefined && key <= after) continue;
      if (prefix !== undefined && !key.startsWith(prefix)) {
        if (key > prefix) return result;
        continue;
      }
      const location = `${connection.target}/${entryPath(key)}`;
      const { body, marker } = splitMarker(child.val(), location);
      if (marker) throw new MarkedError(paths.entry(key), marker);
      const node = asEntryNode(body, location);
      if (!node) {
        if (isTomb(body) && now - body.d >= TOMB_GRACE_MS) result.tombs.push(key);
        continue;
      }
      if (isExpired(node.x, now)) result.expired.push(key);
      else result.page.push(toEntry(key, node, location));
      if (result.page.length >= limit) return result;
    }
    if (seen < batch || children.length === 0) return result;
    start = children[children.length - 1]!.key!;
    skipStart = true;
  }
}
