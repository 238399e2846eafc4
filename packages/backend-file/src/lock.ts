/**
 * Lock leases with fencing tokens. One file per resource under `locks/` holds the current lease
 * (owner, token, expiry) and the last token issued; it is never deleted, so the fencing counter
 * only grows, across releases, expiries and processes. Every change happens under the
 * resource's mutex (see mutex.ts) and replaces the file by rename.
 *
 * Lease files are not fsynced: a lease means nothing after a power loss (every holder is gone),
 * and an fsync per lock and release would cost ~1 ms each on ext4. The counter survives any
 * process crash; after a power loss it may be as old as the last write-back (a few seconds).
 */
import { assertLeaseHeld, leaseIsLive, ownerIsDeadLocally, type LockLease } from '@agent-state/core';
import { decodeLease, encodeLease, leaseOf, type StoredLease } from './document.js';
import { ioError, readIfExists, replaceFile } from './fs-io.js';
import { mutexOwner, nonce } from './mutex.js';
import type { KeyFiles } from './paths.js';
import type { Store } from './store.js';

/** The stored lease file of a resource (the caller holds its mutex), or `undefined` if never locked. */
export function readLease(store: Store, files: KeyFiles): StoredLease | undefined {
  let text: string | undefined;
  try {
    text = readIfExists(files.file);
  } catch (error) {
    throw ioError(files.file, 'read lock file', error);
  }
  return text === undefined ? undefined : decodeLease(text, files.file);
}

function writeLease(store: Store, files: KeyFiles, lease: StoredLease): void {
  try {
    replaceFile(files.tmp, files.file, files.dir, encodeLease(lease), false);
  } catch (error) {
    throw ioError(files.file, 'write lock file', error);
  }
}

/** Runs `fn` holding the resource's mutex. `fn` is synchronous, so the hold is microseconds. */
export async function withLeaseMutex<T>(store: Store, resource: string, fn: (files: KeyFiles) => T): Promise<T> {
  const files = store.layout.lock(resource);
  await store.lockFiles(files, mutexOwner(nonce()));
  try {
    return fn(files);
  } finally {
    store.mutexes.release(files.mutex);
  }
}

/**
 * One attempt to take `resource`. A lease is free when released, expired, or held by a process
 * of this host that no longer exists (recovered before its ttl: it cannot use the lock anyway).
 */
export function tryLock(store: Store, resource: string, options: { ttlMs: number; owner: string }): Promise<LockLease | null> {
  return withLeaseMutex(store, resource, (files) => {
    const now = Date.now();
    const stored = readLease(store, files);
    const current = leaseOf(stored);
    if (current && leaseIsLive(current, now) && !ownerIsDeadLocally(current.owner)) return null;
    const lease: LockLease = { resource, owner: options.owner, token: (stored?.token ?? 0) + 1, expiresAt: now + options.ttlMs };
    writeLease(store, files, { ...lease });
    return lease;
  });
}

/** Pushes the lease end to now + ttlMs; `LockLostError` if the lease is no longer this one. */
export function extendLock(store: Store, lease: LockLease, ttlMs: number): Promise<LockLease> {
  return withLeaseMutex(store, lease.resource, (files) => {
    const now = Date.now();
    assertLeaseHeld(lease, leaseOf(readLease(store, files)), now);
    const next: LockLease = { ...lease, expiresAt: now + ttlMs };
    writeLease(store, files, { ...next });
    return next;
  });
}

/** Frees the lease, keeping the token counter; `LockLostError` (nothing freed) if not ours. */
export function releaseLock(store: Store, lease: LockLease): Promise<void> {
  return withLeaseMutex(store, lease.resource, (files) => {
    const stored = readLease(store, files);
    assertLeaseHeld(lease, leaseOf(stored));
    writeLease(store, files, { resource: lease.resource, owner: null, token: stored?.token ?? lease.token, expiresAt: 0 });
  });
}
