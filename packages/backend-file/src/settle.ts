/**
 * Readers never build on a commit that is still being applied. Readers take no mutex, and a
 * multi-key commit renames its documents one by one, so a reader could see some keys new and
 * others old (a subscriber would read a channel's new counter before the message it counts).
 *
 * Every document written by a multi-key commit carries the commit's id (`"tx"`), and the commit's
 * intent file exists until every key of it is in place. So a reader that meets a `tx` checks
 * once whether that intent still exists: if not, the commit is complete (remembered, so later
 * reads pay nothing); if so, it waits for it (or rolls it forward when its process is dead) and
 * reads again. An absent key may be a delete of a commit under way: its lock file tells.
 */
import { lstatSync } from 'node:fs';
import { Backoff, sleep } from '@agent-state/core';
import type { StoredDoc } from './codec.js';
import { readIfExists } from './fs-io.js';
import { holderIsDead, monotonicMs, readHolder, txOfOwner, waitTimeout } from './mutex.js';
import type { KeyFiles } from './layout.js';
import type { Store } from './context.js';
import { intentPath, recoverTransaction } from './transaction.js';

const SETTLED_CACHE_LIMIT = 10_000;

/** The document of a key as of a moment when no commit touching it was half-applied. */
export async function readSettled(store: Store, files: KeyFiles): Promise<StoredDoc | undefined> {
  for (;;) {
    const doc = store.readDoc(files);
    if (doc === undefined) {
      const holder = deletingCommit(files);
      if (holder === undefined) return undefined;
      await store.mutexes.waitWhileHeld(files.mutex, holder);
      continue;
    }
    if (doc.tx === undefined || commitSettled(store, doc.tx)) return doc;
    await waitForCommit(store, doc.tx);
  }
}

/** True when commit `id` is fully applied (its intent is gone). */
export function commitSettled(store: Store, id: string): boolean {
  if (store.settledCommits.has(id)) return true;
  if (lstatSync(intentPath(store, id), { throwIfNoEntry: false }) !== undefined) return false;
  if (store.settledCommits.size >= SETTLED_CACHE_LIMIT) store.settledCommits.clear();
  store.settledCommits.add(id);
  return true;
}

/**
 * Waits until commit `id` is applied, rolling it forward if its process died; `TimeoutError`
 * naming the intent after the store's wait bound (`connect_timeout_ms`) while its holder lives.
 */
export async function waitForCommit(store: Store, id: string): Promise<void> {
  let backoff: Backoff | undefined;
  const path = intentPath(store, id);
  const waitMs = store.mutexes.waitMs;
  const deadline = monotonicMs() + waitMs;
  while (!commitSettled(store, id)) {
    const owner = ownerOf(readIfExists(path));
    if (owner !== undefined && holderIsDead(owner) && recoverTransaction(store, id)) continue;
    const left = deadline - monotonicMs();
    if (left <= 0) throw waitTimeout('waiting for the commit', path, owner, waitMs);
    await sleep(Math.min(left, (backoff ??= new Backoff(1, 10)).next()));
  }
}

function ownerOf(intent: string | undefined): string | undefined {
  try {
    const owner = intent === undefined ? undefined : (JSON.parse(intent) as { owner?: unknown }).owner;
    return typeof owner === 'string' ? owner : undefined;
  } catch {
    return undefined;
  }
}

/** The holder of an absent key's lock file when a transaction holds it. */
function deletingCommit(files: KeyFiles): string | undefined {
  if (lstatSync(files.mutex, { throwIfNoEntry: false }) === undefined) return undefined;
  const holder = readHolder(files.mutex);
  return holder !== undefined && txOfOwner(holder) !== undefined ? holder : undefined;
}
