/**
 * Multi-key commits and fenced writes: one transaction on a common parent node.
 *
 * A commit runs `transaction()` on the namespace's entries node: the update function checks that
 * every key read still has the version the transaction saw (absent or expired = `null`) and
 * applies every write and delete to that one node. The server accepts the new node only if the
 * entries node is still exactly what the function saw (its hash), so validation and writes are
 * one atomic step: serializable, and all-or-nothing even if the client dies mid-commit (the
 * server applies a whole put or none of it). The cost is that the put carries the whole entries
 * node; fine for team-state sizes, and documented in the README.
 *
 * A fenced write needs the lock and the entry in one atomic step, so it runs on the namespace
 * node, the common parent of both.
 */
import {
  ConflictError,
  CorruptDataError,
  assertLeaseHeld,
  assertVersion,
  type BackendDeleteOptions,
  type BackendWriteOptions,
  type CommitRequest,
  type LockLease,
} from '@agent-state/core';
import type { Connection } from './connection.js';
import { asLockNode, baseVersion, leaseOf, liveEntryNode, liveForChange, nextEntryNode, tombOf, type EntryNode } from './nodes.js';
import { ENTRIES, LOCKS, childName, type NamespacePaths } from './paths.js';
import { runTransaction } from './run-transaction.js';

type Children = Record<string, unknown>;

/** A node's children as a plain object (absent = empty); anything else is damaged data. */
function childrenOf(raw: unknown, location: string): Children {
  if (raw === null || raw === undefined) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new CorruptDataError(location, 'expected an object of child nodes');
  return raw as Children;
}

/**
 * Throws `ConflictError` unless every read still has the version it saw. `nodeOf` gives the stored
 * entry node of a key, all from one state of the database.
 */
export function checkReads(connection: Connection, reads: CommitRequest['reads'], nodeOf: (name: string) => unknown, now: number): void {
  for (const read of reads) {
    const name = childName(read.key);
    const live = liveEntryNode(nodeOf(name), `${connection.target}/${ENTRIES}/${name}`, now);
    if ((live?.v ?? null) !== read.version) {
      throw new ConflictError(read.key, read.version ?? 'absent', live?.v ?? 'absent', 'changed since the transaction read it');
    }
  }
}

/** Applies a transaction's writes if all its reads still hold; else `ConflictError`, nothing written. */
export function commit(connection: Connection, paths: NamespacePaths, request: CommitRequest, floor: () => number): Promise<void> {
  const where = (key: string): string => `${connection.target}/${ENTRIES}/${childName(key)}`;
  return runTransaction(connection, paths.entries, (raw, now) => {
    const entries = { ...childrenOf(raw, `${connection.target}/${ENTRIES}`) };
    checkReads(connection, request.reads, (name) => entries[name], now);
    for (const write of request.writes) {
      const name = childName(write.key);
      const stored = entries[name];
      const live = liveForChange(stored, where(write.key), now);
      // A delete leaves a tombstone with the last version (format.ts).
      if (write.kind === 'delete') {
        if (live) entries[name] = tombOf(live.v, now);
      } else entries[name] = nextEntryNode(baseVersion(stored, live, floor()), write.json, now, write.ttlMs);
    }
    return { next: entries, result: undefined };
  });
}

/** Checks the fence and the version, then applies `change` to the entry, in one step on the namespace node. */
function fenced<R>(
  connection: Connection,
  paths: NamespacePaths,
  key: string,
  fence: LockLease,
  change: (live: EntryNode | null, stored: unknown, now: number) => { node: unknown; result: R },
): Promise<R> {
  const target = connection.target;
  return runTransaction(connection, paths.root, (raw, now) => {
    const ns = { ...childrenOf(raw, target) };
    const locks = childrenOf(ns[LOCKS], `${target}/${LOCKS}`);
    const lockName = childName(fence.resource);
    assertLeaseHeld(fence, leaseOf(fence.resource, asLockNode(locks[lockName], `${target}/${LOCKS}/${lockName}`)), now);
    const entries = { ...childrenOf(ns[ENTRIES], `${target}/${ENTRIES}`) };
    const name = childName(key);
    const stored = entries[name];
    const { node, result } = change(liveForChange(stored, `${target}/${ENTRIES}/${name}`, now), stored, now);
    if (node !== undefined) entries[name] = node;
    ns[ENTRIES] = entries;
    return { next: ns, result };
  });
}

/** A write that only happens while `options.fence` is the live lease of its resource. */
export function fencedWrite(
  connection: Connection,
  paths: NamespacePaths,
  key: string,
  options: BackendWriteOptions & { fence: LockLease },
  floor: () => number,
): Promise<EntryNode> {
  return fenced(connection, paths, key, options.fence, (live, stored, now) => {
    assertVersion(key, options.ifVersion, live?.v ?? null);
    const node = nextEntryNode(baseVersion(stored, live, floor()), options.json, now, options.ttlMs);
    return { node, result: node };
  });
}

/** A delete that only happens while `options.fence` is the live lease of its resource. */
export function fencedDelete(
  connection: Connection,
  paths: NamespacePaths,
  key: string,
  options: BackendDeleteOptions & { fence: LockLease },
): Promise<boolean> {
  return fenced(connection, paths, key, options.fence, (live, _stored, now) => {
    assertVersion(key, options.ifVersion, live?.v ?? null);
    // Nothing to delete leaves the node as it is; a delete leaves a tombstone (format.ts).
    return { node: live ? tombOf(live.v, now) : undefined, result: live !== null };
  });
}
