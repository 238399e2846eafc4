/**
 * Locks: one node per resource, `{ c, o?, x? }`, changed only by transactions on that node. `c`
 * is the fencing counter: it only grows and is kept when the lease ends, so tokens strictly
 * increase per resource across every holder and process. A lease is live while `x` (server
 * time, as estimated by each client from `.info/serverTimeOffset`) is in the future. While a
 * fenced write's commit holds the lock node's marker (transaction.ts), the lease does not change:
 * these steps wait for the commit, so a fenced write is never overtaken by a new holder.
 */
import { assertLeaseHeld, leaseIsLive, type LockLease } from '@agent-state/core';
import type { Connection } from './connection.js';
import { asLockNode, leaseOf, unmarked, type LockNode } from './nodes.js';
import type { NamespacePaths } from './paths.js';
import type { Nodes } from './transaction.js';

/** One attempt to take `resource`: a new lease, or `null` while a live one exists. */
export function tryLock(
  nodes: Nodes,
  connection: Connection,
  paths: NamespacePaths,
  resource: string,
  options: { ttlMs: number; owner: string },
): Promise<LockLease | null> {
  const path = paths.lock(resource);
  return nodes.onNode<LockLease | null>(path, (raw, now) => {
    const location = `${connection.target}/${path}`;
    const node = asLockNode(unmarked(raw, path, location), location);
    if (leaseIsLive(leaseOf(resource, node), now)) return { keep: true, result: null };
    const next: LockNode = { c: (node?.c ?? 0) + 1, o: options.owner, x: now + options.ttlMs };
    return { next, result: { resource, owner: options.owner, token: next.c, expiresAt: next.x! } };
  });
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
