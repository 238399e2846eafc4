/**
 * Locks: one node per resource, `{ c, o?, x? }`, changed only by transactions on that node. `c`
 * is the fencing counter: it only grows and is kept when the lease ends, so tokens strictly
 * increase per resource across every holder and process. A lease is live while `x` (server
 * time, as estimated by each client from `.info/serverTimeOffset`) is in the future. While a
 * fenced write's commit holds the lock node's marker (transaction.ts), the lease does not change:
 * these steps wait for the commit, so a fenced write is never overtaken by a new holder.
 *
 * Release wakeups (`lockWake`): a waiter listens to the lock node itself (the listener `tryLock`
 * already keeps, see {@link listenForRelease}), so a release anywhere is pushed to it by the
 * server; nothing is published, and a client that never waits listens to nothing more.
 */
import { assertLeaseHeld, leaseIsLive, type AcquiredLease, type LockLease } from '@agent-state/core';
import type { Connection } from './connection.js';
import { asLockNode, leaseOf, splitMarker, unmarked, type LockNode } from './codec.js';
import { keyOfChild, lockPath, type NamespacePaths } from './layout.js';
import type { Nodes } from './transaction.js';
import type { SyncCache } from './watch.js';

/** One attempt to take `resource`: a new lease, or `null` while a live one exists. */
export function tryLock(
  nodes: Nodes,
  connection: Connection,
  paths: NamespacePaths,
  resource: string,
  options: { ttlMs: number; owner: string },
): Promise<AcquiredLease | null> {
  const path = paths.lock(resource);
  return nodes.onNode<AcquiredLease | null>(path, (raw, now) => {
    const location = `${connection.target}/${path}`;
    const node = asLockNode(unmarked(raw, path, location), location);
    const current = leaseOf(resource, node);
    if (leaseIsLive(current, now)) return { keep: true, result: null };
    const next: LockNode = { c: (node?.c ?? 0) + 1, o: options.owner, x: now + options.ttlMs };
    const lease: AcquiredLease = { resource, owner: options.owner, token: next.c, expiresAt: next.x! };
    // The node still named a holder (a release clears it): its lease ran out. A takeover, audited by core.
    if (current && current.owner !== options.owner) lease.replaced = current;
    return { next, result: lease };
  });
}

/**
 * Every live lease of the namespace (estimated server time): one read of the locks node. A node
 * held by a commit's marker is read through it (the lease does not change while it is held).
 * Damaged nodes are skipped: the listing is for dashboards; `tryLock` reports them.
 */
export async function listLocks(connection: Connection, paths: NamespacePaths): Promise<LockLease[]> {
  const snapshot = await connection.bounded(connection.ref(paths.locks).once('value'), 'listLocks');
  const all = (snapshot.val() ?? {}) as Record<string, unknown>;
  const now = connection.now();
  const leases: LockLease[] = [];
  for (const [name, raw] of Object.entries(all)) {
    const resource = keyOfChild(name);
    if (resource === undefined) continue;
    const location = `${connection.target}/${paths.locks}/${name}`;
    try {
      const lease = leaseOf(resource, asLockNode(splitMarker(raw, location).body, location));
      if (lease && leaseIsLive(lease, now)) leases.push(lease);
    } catch {
      // A damaged node: not listed.
    }
  }
  return leases.sort((a, b) => (a.resource < b.resource ? -1 : a.resource > b.resource ? 1 : 0));
}

/** Moves the lease end to now + ttlMs; `LockLostError` unless `lease` is the live lease. */
export function extendLock(nodes: Nodes, connection: Connection, paths: NamespacePaths, lease: LockLease, ttlMs: number): Promise<LockLease> {
  const path = paths.lock(lease.resource);
  return nodes.onNode(path, (raw, now) => {
    const location = `${connection.target}/${path}`;
    const node = asLockNode(unmarked(raw, path, location), location);
    assertLeaseHeld(lease, leaseOf(lease.resource, node), now);
    const next: LockNode = { ...node!, x: now + ttlMs };
    return { next, result: { ...lease, expiresAt: next.x! } };
  });
}

/** Ends the lease, keeping the counter; `LockLostError` (nothing freed) unless it is the live lease. */
export function releaseLock(nodes: Nodes, connection: Connection, paths: NamespacePaths, lease: LockLease): Promise<void> {
  const path = paths.lock(lease.resource);
  return nodes.onNode(path, (raw, now) => {
    const location = `${connection.target}/${path}`;
    const node = asLockNode(unmarked(raw, path, location), location);
    assertLeaseHeld(lease, leaseOf(lease.resource, node), now);
    return { next: { c: node!.c } satisfies LockNode, result: undefined };
  });
}

/**
 * Calls `onWake` after each change of the lock node of `resource` that leaves it without a live
 * lease: a release from any process (or a node removed or damaged, which a re-try reports). An
 * acquire or extend also pushes the node, but shows a live lease, so it wakes nobody: each wakeup
 * costs the waiter a `tryLock`. The listener is the node's entry in this client's {@link SyncCache}
 * (the one `tryLock` warms), pinned while watched; a lease that merely runs out pushes nothing, so
 * core's re-check timer covers it. Resolves once the listener has its first value: a release the
 * server applies after that always calls `onWake`.
 */
export async function listenForRelease(
  cache: SyncCache,
  connection: Connection,
  resource: string,
  onWake: () => void,
): Promise<() => void> {
  const relPath = lockPath(resource);
  const location = `${connection.target}/${relPath}`;
  // The listener's first value is the state the caller re-checks after `listen` resolves (core
  // does), not a release: only changes pushed after it wake.
  let live = false;
  const stop = cache.watch(relPath, () => {
    if (live && isFree(cache.peek(relPath), resource, location, connection.now())) onWake();
  });
  try {
    await cache.ready(relPath);
  } catch (error) {
    stop();
    throw error;
  }
  live = true;
  return stop;
}

/** Whether a lock node holds no live lease at `now` (a damaged one counts as free: `tryLock` reports it). */
function isFree(raw: unknown, resource: string, location: string, now: number): boolean {
  try {
    return !leaseIsLive(leaseOf(resource, asLockNode(splitMarker(raw, location).body, location)), now);
  } catch {
    return true;
  }
}
