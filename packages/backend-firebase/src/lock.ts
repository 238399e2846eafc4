/**
 * Locks: one node per resource, `{ c, o?, x? }`, changed only by transactions on that node. `c`
 * is the fencing counter: it only grows and is kept when the lease ends, so tokens strictly
 * increase per resource across every holder and process. A lease is live while `x` (server
 * time, as estimated by each client from `.info/serverTimeOffset`) is in the future.
 */
import { assertLeaseHeld, leaseIsLive, type LockLease } from '@agent-state/core';
import type { Connection } from './connection.js';
import { asLockNode, leaseOf, type LockNode } from './nodes.js';
import type { NamespacePaths } from './paths.js';
import { runTransaction } from './run-transaction.js';

/** One attempt to take `resource`: a new lease, or `null` while a live one exists. */
export function tryLock(
  connection: Connection,
  paths: NamespacePaths,
  resource: string,
  options: { ttlMs: number; owner: string },
): Promise<LockLease | null> {
  const path = paths.lock(resource);
  return runTransaction<LockLease | null>(connection, path, (raw, now) => {
    const node = asLockNode(raw, `${connection.target}/${path}`);
    if (leaseIsLive(leaseOf(resource, node), now)) return { keep: true, result: null };
    const next: LockNode = { c: (node?.c ?? 0) + 1, o: options.owner, x: now + options.ttlMs };
    return { next, result: { resource, owner: options.owner, token: next.c, expiresAt: next.x! } };
  });
}

/** Moves the lease end to now + ttlMs; `LockLostError` unless `lease` is the live lease. */
export function extendLock(connection: Connection, paths: NamespacePaths, lease: LockLease, ttlMs: number): Promise<LockLease> {
  const path = paths.lock(lease.resource);
  return runTransaction(connection, path, (raw, now) => {
    const node = asLockNode(raw, `${connection.target}/${path}`);
    assertLeaseHeld(lease, leaseOf(lease.resource, node), now);
    const next: LockNode = { ...node!, x: now + ttlMs };
    return { next, result: { ...lease, expiresAt: next.x! } };
  });
}

/** Ends the lease, keeping the counter; `LockLostError` (nothing freed) unless it is the live lease. */
export function releaseLock(connection: Connection, paths: NamespacePaths, lease: LockLease): Promise<void> {
  const path = paths.lock(lease.resource);
  return runTransaction(connection, path, (raw, now) => {
    const node = asLockNode(raw, `${connection.target}/${path}`);
    assertLeaseHeld(lease, leaseOf(lease.resource, node), now);
    return { next: { c: node!.c } satisfies LockNode, result: undefined };
  });
}
