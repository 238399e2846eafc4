/**
 * Leases with fencing tokens. The lease row and the per-resource counter live in separate tables
 * (`locks`, `fencing`): a released or expired lease row may go, the counter never does, so a
 * token is never issued twice for a resource.
 */
import { LockLostError, assertLeaseHeld, type AcquiredLease, type LockLease } from '@agent-state/core';
import type { Scope } from './context.js';

/**
 * Takes `resource` if no live lease holds it: one `BEGIN IMMEDIATE` transaction. A live lease
 * found here is marked as waited for (once per lease), so its release wakes the lock topic.
 */
export function tryLock(s: Scope, resource: string, ttlMs: number, owner: string, now: number): AcquiredLease | null {
  return s.immediate(() => {
    const row = s.st.readLock.get(s.namespace, resource);
    if (row !== undefined && row[2] > now) {
      if (row[3] === 0) s.st.markWaiting.run(s.namespace, resource);
      return null;
    }
    const token = s.st.nextToken.get(s.namespace, resource)!;
    const expiresAt = now + ttlMs;
    s.st.putLock.run(s.namespace, resource, owner, token, expiresAt);
    // An expired row not yet swept (released rows are deleted): a takeover, audited by core.
    if (row !== undefined && row[0] !== owner) return { resource, owner, token, expiresAt, replaced: { resource, owner: row[0], token: row[1], expiresAt: row[2] } };
    return { resource, owner, token, expiresAt };
  });
}

/** Moves the lease end to now + ttlMs: one statement that compares owner and token first. */
export function extendLock(s: Scope, lease: LockLease, ttlMs: number, now: number): LockLease {
  const expiresAt = now + ttlMs;
  const done = s.st.extendLock.get(expiresAt, s.namespace, lease.resource, lease.owner, lease.token, now);
  if (done === undefined) throw lost(s, lease, now);
  return { ...lease, expiresAt };
}

/**
 * Frees the lease if it is still this holder's; otherwise changes nothing. True when a tryLock
 * found the lease taken meanwhile (someone may wait: the caller wakes the lock topic). Ringing
 * on every release instead cost an uncontended tryLock + release about a quarter more (measured:
 * 54–58 µs without, 75–92 µs with, on a busy 2-core machine).
 */
export function releaseLock(s: Scope, lease: LockLease, now: number): boolean {
  const waiting = s.st.releaseLock.get(s.namespace, lease.resource, lease.owner, lease.token, now);
  if (waiting === undefined) throw lost(s, lease, now);
  return waiting !== 0;
}

/** The LockLostError that says why (taken over, released or expired). */
function lost(s: Scope, lease: LockLease, now: number): LockLostError {
  const row = s.st.readLock.get(s.namespace, lease.resource);
  try {
    assertLeaseHeld(lease, row && { resource: lease.resource, owner: row[0], token: row[1], expiresAt: row[2] }, now);
  } catch (error) {
    if (error instanceof LockLostError) return error;
    throw error;
  }
  return new LockLostError(lease.resource, lease.token);
}

/** Every live lease of the namespace, in resource order (dashboards; read-only, no transaction needed). */
export function listLocks(s: Scope, now: number): LockLease[] {
  const rows = s.db
    .prepare(`SELECT resource, owner, token, expires_at FROM locks WHERE namespace = ? AND expires_at > ?`)
    .raw()
    .all(s.namespace, now) as [string, string, number, number][];
  return rows.map(([resource, owner, token, expiresAt]) => ({ resource, owner, token, expiresAt })).sort((a, b) => (a.resource < b.resource ? -1 : a.resource > b.resource ? 1 : 0));
}
